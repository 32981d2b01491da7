"""Pipelines on Torque, REPLAYED FROM RECORDED OUTPUTS: no Torque server can be installed here.
The fake `qsub/qstat/qdel` of tests/fake_torque replays recorded real Torque outputs and keeps a
job with `-W depend=afterok:...` queued until the jobs it names completed with 0. Checked: the
chain of `qsub -W depend=afterok` options a pipeline builds, its depend read back from qstat -x
(and from a real server's recorded qstat -x), the step after a failing branch cancelled with its
reason, and injection attempts in step ids, names and arguments refused or kept inert."""

from __future__ import annotations

import logging
import shlex

import pytest
from jobs_fixtures import recorded_path

from espri_vre.jobs.pipelines import PipelineRefused, PipelineService
from espri_vre.jobs.torque.parse import parse_qstat_xml

PIPELINE = """\
name: chain
cluster: cpu
steps:
  - id: fetch
    path: fetch.sh
    resources: {walltime: "10"}
  - id: plot
    path: plot.sh
    after: [fetch]
    arguments: ["$(touch pwned); rm -rf ~ `id`", "{steps.fetch.job_id}"]
  - id: broken
    path: broken.sh
    after: [fetch]
  - id: report
    path: plot.sh
    after: [broken, plot]
"""


@pytest.fixture
def pipelines(torque_jobs) -> PipelineService:
    service = PipelineService.open(torque_jobs, logging.getLogger("t"))
    assert service is not None
    return service


def last_line_words(script: str) -> list[str]:
    return shlex.split(script.rstrip("\n").split("\n")[-1])


async def test_recorded_torque_pipeline_chains_qsub_depend_afterok_and_cancels_after_a_failure(
    pipelines, fake_torque, user_root
):
    for name in ("fetch", "plot", "broken"):
        (user_root / f"{name}.sh").write_text(f"echo {name}\n")
    (user_root / "chain.pipeline.yaml").write_text(PIPELINE)
    fake_torque.set_outcome("chain-broken", 3)

    run = await pipelines.run("chain.pipeline.yaml", None)
    ids = {s["id"]: s["job_id"] for s in run["steps"]}
    queued = {step: fake_torque.jobs()[job_id.split(".")[0]] for step, job_id in ids.items()}
    assert queued["fetch"]["depend"] is None
    assert queued["plot"]["depend"] == f"afterok:{ids['fetch']}"
    assert queued["broken"]["depend"] == f"afterok:{ids['fetch']}"
    assert queued["report"]["depend"] == f"afterok:{ids['broken']}:{ids['plot']}"
    # The arguments reach bash as two words, the shell's syntax in the first inert.
    words = last_line_words(queued["plot"]["script"])
    assert words[-2:] == ["$(touch pwned); rm -rf ~ `id`", ids["fetch"]]
    assert queued["plot"]["name"] == "chain-plot"

    # The depend Torque prints back is read as the step's dependency.
    report = await pipelines.jobs.status("cpu", ids["report"])
    assert report.dependency == f"afterok:{ids['broken']}:{ids['plot']}"

    # qstat moves each job on (Q -> R -> C); broken ends 3, report then waits forever.
    for _ in range(4):
        shown = await pipelines.get(run["id"])
    steps = {s["id"]: s for s in shown["steps"]}
    assert {k: s["state"] for k, s in steps.items()} == {
        "fetch": "COMPLETED",
        "plot": "COMPLETED",
        "broken": "FAILED",
        "report": "CANCELLED",
    }
    assert steps["report"]["reason"] == "DependencyNeverSatisfied: step broken ended FAILED"
    assert fake_torque.jobs()[ids["report"].split(".")[0]]["state"] == "C"  # qdel'd
    assert shown["state"] == "failed"
    assert not (user_root / "pwned").exists()


def test_recorded_torque_qstat_x_of_a_real_server_reads_its_afterok_chain():
    text = recorded_path("torque/qstat_x__torque__batcheuphoria__outputFinished.xml").read_text()
    (job,) = [j for j in parse_qstat_xml(text) if j.id.startswith("4564045")]
    assert job.dependency == (
        "afterok:6059780.pbsserver@pbsserver:6059781.pbsserver@pbsserver,"
        "beforeok:6059788.pbsserver@pbsserver"
    )


@pytest.mark.parametrize(
    ("step", "field"),
    [
        # A step id is a name: no shell, no option, no colon that would split a depend list.
        ("{id: 'a;qdel all', path: a.sh}", "steps[1].id"),
        ("{id: '-W', path: a.sh}", "steps[1].id"),
        ("{id: 'a:1', path: a.sh}", "steps[1].id"),
        # A job name that would be a new #PBS directive or an option of its own.
        ('{id: b, path: a.sh, name: "x\\n#PBS -W depend=afterany:1"}', "b.name"),
        ("{id: b, path: a.sh, name: '-W depend=afterany:1'}", "b.name"),
        # A resource that would smuggle an option in.
        ("{id: b, path: a.sh, resources: {walltime: '10 -W depend=afterany:1'}}", "b.walltime"),
        # A path out of the user's files.
        ("{id: b, path: ../../etc/passwd}", "b.path"),
    ],
)
async def test_recorded_torque_pipeline_refuses_injection_and_submits_nothing(
    pipelines, fake_torque, user_root, step, field
):
    (user_root / "a.sh").write_text("echo a\n")
    (user_root / "bad.pipeline.yaml").write_text(
        f"cluster: cpu\nsteps:\n  - {{id: first, path: a.sh}}\n  - {step}\n"
    )
    with pytest.raises(PipelineRefused) as refused:
        await pipelines.run("bad.pipeline.yaml", None)
    assert field in refused.value.fields, refused.value.problems
    assert fake_torque.jobs() == {}
    assert await pipelines.list() == []
