"""Values passed between pipeline steps (espri_vre.jobs.step_values): a notebook step records a
value in its output notebook, a later notebook step receives it as a papermill parameter, read
when that step starts. On the real Slurm 22.05 of the `slurm` fixture through a real Jupyter
server; a value that was not recorded fails its step with a sentence naming it, before the
notebook runs; wrong references are refused before anything is submitted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jobs_server_fixtures import JOB_CLUSTERS
from tornado.httpclient import HTTPClientError

from espri_vre.jobs.pipelines import PipelineRefused, parse_pipeline
from espri_vre.jobs.step_values import MissingValue, fill, main, read_outputs

PIPELINE = """\
name: values
steps:
  - id: count
    path: count.ipynb
  - id: report
    path: report.ipynb
    after: [count]
    parameters: {n: "{steps.count.outputs.n}", label: "n={steps.count.outputs.n}"}
  - id: lost
    path: report.ipynb
    after: [count]
    parameters: {n: "{steps.count.outputs.absent}"}
"""
RECORD = "from espri_vre.jobs.step_values import record\nrecord('n', len(years))"


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [c for c in JOB_CLUSTERS if c["kind"] == "slurm"]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


def recorded_notebook(path: Path, values: dict[str, Any]) -> Path:
    """An output notebook as papermill writes one after record(name, value) ran."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record(...)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/json": value},
            metadata={"espri_vre": {"output": name}},
        )
        for name, value in values.items()
    ]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def test_a_value_keeps_its_type_and_a_missing_one_is_named(tmp_path, capsys):
    made = recorded_notebook(tmp_path / "count-7.ipynb", {"n": 3, "where": "/data/x.nc"})
    assert read_outputs(str(made)) == {"n": 3, "where": "/data/x.nc"}
    filled = fill(
        {"n": "{steps.c.outputs.n}", "say": "{steps.c.outputs.where} has {steps.c.outputs.n}"},
        {"c": str(made)},
    )
    assert filled == {"n": 3, "say": "/data/x.nc has 3"}
    with pytest.raises(MissingValue, match="step c recorded no value 'm'"):
        fill({"m": "{steps.c.outputs.m}"}, {"c": str(made)})
    with pytest.raises(MissingValue, match="cannot be read"):
        fill({"m": "{steps.c.outputs.m}"}, {"c": str(tmp_path / "never-ran.ipynb")})
    assert main(["fill", '{"n": "{steps.c.outputs.n}"}', json.dumps({"c": str(made)})]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 3}
    assert main(["fill", "not json", "{}"]) == 1
    assert "cannot start" in capsys.readouterr().err


def test_a_value_is_read_by_a_notebook_from_a_notebook_and_named_in_after():
    for wrong, field in [
        # a script has no papermill to give a value to
        (
            "steps: [{id: a, path: a.ipynb}, {id: b, path: b.sh, after: [a],"
            " arguments: ['{steps.a.outputs.n}']}]",
            "b.arguments",
        ),
        # a script records no value
        (
            "steps: [{id: a, path: a.sh}, {id: b, path: b.ipynb, after: [a],"
            " parameters: {n: '{steps.a.outputs.n}'}}]",
            "b.parameters",
        ),
        # the step read must be waited for
        (
            "steps: [{id: a, path: a.ipynb}, {id: b, path: b.ipynb,"
            " parameters: {n: '{steps.a.outputs.n}'}}]",
            "b",
        ),
    ]:
        with pytest.raises(PipelineRefused) as refused:
            parse_pipeline(wrong, "p.pipeline.yaml", "slurm")
        assert field in refused.value.fields, refused.value.problems


async def test_a_recorded_value_is_the_next_steps_parameter_on_slurm(
    jp_fetch, jp_root_dir, poll, write_notebook, notebook_kernel
):
    work = Path(jp_root_dir) / "values"
    work.mkdir()
    write_notebook(work / "count.ipynb", [RECORD], parameters="years = [2000, 2001, 2002]")
    write_notebook(work / "report.ipynb", ["print(repr(n), label)"], parameters="n = 0\nlabel = ''")
    (work / "values.pipeline.yaml").write_text(PIPELINE)

    async def call(*parts: str, body: Any = None) -> dict[str, Any]:
        kwargs = {"method": "POST", "body": json.dumps(body)} if body is not None else {}
        try:
            answer = await jp_fetch("espri-vre", "api", "pipelines", "runs", *parts, **kwargs)
        except HTTPClientError as e:
            raise AssertionError(e.response.body if e.response else e) from e
        return json.loads(answer.body)

    run = await call(body={"path": "values/values.pipeline.yaml"})
    done = await poll(lambda: call(run["id"]), lambda r: r["state"] != "running", timeout=150)
    steps = {s["id"]: s for s in done["steps"]}
    assert {k: s["state"] for k, s in steps.items()} == {
        "count": "COMPLETED",
        "report": "COMPLETED",
        "lost": "FAILED",
    }
    report = nbformat.read(steps["report"]["output_notebook"], as_version=4)
    # The value as recorded (a number), alone and inside a longer string.
    assert report.metadata["papermill"]["parameters"] == {"n": 3, "label": "n=3"}
    printed = "".join(o.get("text", "") for c in report.cells for o in c.get("outputs", []))
    assert printed == "3 n=3\n"
    # The step reading a value never recorded stopped before papermill, saying which.
    err = next((work / ".espri-vre-jobs").glob(f"*-{steps['lost']['job_id']}.err")).read_text()
    assert "step count recorded no value 'absent'" in err
    assert not Path(steps["lost"]["output_notebook"]).exists()
