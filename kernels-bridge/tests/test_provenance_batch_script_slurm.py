"""A job submitted through the suite to the real Slurm (slurm_fixture) runs the reviewer's
sample; its crate holds the script our server submitted, which the job's kernel took from the
job store before asking scontrol (provenance/batch_script.py). Apart from
test_provenance_batch_script.py so that the modules that need Slurm, run one after another,
do not carry its Torque and local tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import needs_shared
from test_provenance_batch_script import RUN_SAMPLE, assert_the_crate_holds, session_of

from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.types import ClusterConfig, JobKind, JobSpec, JobState
from espri_vre.provenance.batch_script import batch_script


@needs_shared
async def test_a_slurm_job_s_crate_holds_the_script_we_submitted(
    slurm, user_root: Path, tmp_path: Path, poll, monkeypatch: pytest.MonkeyPatch
):
    data = tmp_path / "jupyter-data"
    store = JobStore(data / "espri-vre")
    cluster = ClusterConfig(id="slurm", kind="slurm", python=sys.executable)
    sched = SlurmScheduler(cluster, store, [user_root])
    (user_root / "run_sample.py").write_text(RUN_SAMPLE)
    spec = JobSpec(kind=JobKind.PYTHON, path="run_sample.py", name="sample", arguments=("out",))
    # sbatch passes the server's environment on: the job finds this store
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    info = await sched.submit(spec)
    try:
        done = await poll(lambda: sched.status(info.id), lambda j: j.finished, timeout=180)
    finally:
        if not (await sched.status(info.id)).finished:
            await sched.cancel(info.id)
    log = Path(done.stdout_path).read_text() if done.stdout_path else ""
    assert done.state is JobState.COMPLETED, log + Path(done.stderr_path).read_text()
    submitted = store.get("slurm", info.id).script
    assert submitted.startswith("#!/bin/bash\n# espri-vre python job sample: ")
    crate = user_root / "out" / "crate"
    assert_the_crate_holds(crate, f"#job/slurm/espri-vre/{info.id}", info.id, submitted)

    # the kept copy comes first: the same record with no scontrol to ask
    session = session_of(crate)
    ids = {"SLURM_JOB_ID": info.id, "SLURM_JOB_NAME": "sample", "PATH": ""}
    assert batch_script(ids, data / "espri-vre") == session["job_script"]
    # another job name under the same id is not this job: nothing rather than a wrong script
    assert batch_script({**ids, "SLURM_JOB_NAME": "other"}, data / "espri-vre") is None
