"""Pipelines (espri_vre.jobs.pipelines) through /espri-vre/api/pipelines/runs of a real Jupyter
server and the real Slurm 22.05 of the `slurm` fixture: a YAML file next to the scripts, steps
chained with `sbatch --dependency=afterok`, a branch that fails and the step after it that never
runs and says why, another step's output passed as an argument; wrong files refused with their
fields, nothing submitted."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import JOB_CLUSTERS, api

from espri_vre.jobs.pipelines import PipelineRefused, parse_pipeline
from espri_vre.schema import validation_errors

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}

PIPELINE = """\
name: monthly
steps:
  - id: fetch
    path: fetch.sh
    resources: {cpus: 1, walltime: "2"}
  - id: check
    path: check.sh
    after: [fetch]
    arguments: ["{steps.fetch.stdout}"]
  - id: broken
    path: broken.sh
    after: [fetch]
  - id: report
    path: report.sh
    after: [broken]
"""


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [c for c in JOB_CLUSTERS if c["kind"] == "slurm"]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


async def runs(jp_fetch: Any, *parts: str, body: Any = None) -> tuple[int, Any]:
    """A request to /espri-vre/api/pipelines/runs/<parts>."""
    return await api(jp_fetch, "pipelines", "runs", *parts, body=body)


def test_a_pipeline_file_is_read_in_dependency_order_and_wrong_ones_say_which_field():
    pipeline = parse_pipeline(PIPELINE, "work/monthly.pipeline.yaml", "slurm")
    order = [s.id for s in pipeline.steps]
    assert order[0] == "fetch" and order.index("broken") < order.index("report")
    assert pipeline.steps[0].spec["path"] == "work/fetch.sh"
    for wrong, field in [
        ("steps: [{id: a, path: a.sh, after: [b]}]", "a.after"),
        ("steps: [{id: a, path: a.sh, after: [b]}, {id: b, path: b.sh, after: [a]}]", "steps"),
        ("steps: [{id: a, path: a.sh}, {id: a, path: b.sh}]", "steps[1].id"),
        ("steps: [{id: a, path: a.sh, arguments: ['{steps.b.stdout}']}, {id: b, path: b.sh}]", "a"),
        ("name: [unclosed", "pipeline"),
    ]:
        with pytest.raises(PipelineRefused) as refused:
            parse_pipeline(wrong, "p.yaml", "slurm")
        assert field in refused.value.fields, refused.value.problems


async def test_a_pipeline_runs_on_slurm_and_the_step_after_a_failed_branch_never_runs(
    jp_fetch, jp_root_dir, poll
):
    work = Path(jp_root_dir) / "work"
    work.mkdir()
    (work / "fetch.sh").write_text("echo fetched\n")
    (work / "check.sh").write_text('cat "$1"\n')
    (work / "broken.sh").write_text("exit 3\n")
    (work / "report.sh").write_text("echo report\n")
    (work / "monthly.pipeline.yaml").write_text(PIPELINE)

    code, run = await runs(jp_fetch, body={"path": "work/monthly.pipeline.yaml"})
    assert code == 201, run
    assert validation_errors("PipelineRun", run) == []
    ids = {s["id"]: s["job_id"] for s in run["steps"]}
    shown = subprocess.run(
        ["scontrol", "show", "job", "--oneliner", ids["report"]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Dependency=afterok:{ids['broken']}" in shown

    async def current() -> dict[str, Any]:
        code, body = await runs(jp_fetch, run["id"])
        assert code == 200, body
        return body

    done = await poll(current, lambda r: r["state"] != "running", timeout=60)
    steps = {s["id"]: s for s in done["steps"]}
    assert done["state"] == "failed"
    assert [(k, steps[k]["state"]) for k in ("fetch", "check", "broken", "report")] == [
        ("fetch", "COMPLETED"),
        ("check", "COMPLETED"),
        ("broken", "FAILED"),
        ("report", "CANCELLED"),
    ]
    assert steps["report"]["reason"] == "DependencyNeverSatisfied: step broken ended FAILED"
    # The output of fetch (its log's path) was check's argument: check printed it.
    log = next((work / ".espri-vre-jobs").glob(f"monthly-check-{ids['check']}.out"))
    assert log.read_text() == "fetched\n"
    code, listed = await runs(jp_fetch)
    assert [r["id"] for r in listed["runs"]] == [run["id"]]


async def test_a_wrong_pipeline_submits_nothing(jp_fetch, jp_root_dir):
    (Path(jp_root_dir) / "bad.pipeline.yaml").write_text(
        "steps:\n  - {id: a, path: missing.sh}\n  - {id: b, path: ../../etc/passwd, after: [a]}\n"
    )
    code, refused = await runs(jp_fetch, body={"path": "bad.pipeline.yaml"})
    assert code == 400
    assert {p["field"] for p in refused["problems"]} == {"a.path", "b.path"}
    assert (await runs(jp_fetch, body={"path": "nowhere.yaml"}))[0] == 400
    assert (await runs(jp_fetch, "99"))[0] == 404
    assert (await runs(jp_fetch))[1] == {"runs": []}
