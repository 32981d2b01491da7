"""A pending Slurm job's expected start (issue 21): the StartTime Slurm gives a waiting job (set by
--begin or by the backfill scheduler) is kept as its start_time, read from real slurmrestd answers
of 24.05 and 25.11 (jobs pending with reason BeginTime), from squeue --json of 21.08 (a pending
job with no estimate: 0), and from a job deferred by one hour on the real Slurm."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta

import pytest

from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.parse import parse_squeue_json
from espri_vre.jobs.types import ClusterConfig, JobState

RACKSLAB = "slurmrestd/rackslab-slurm-web"


@pytest.mark.parametrize(
    ("answer", "job_id", "submitted", "expected"),
    [
        ("24.05/0.0.41/slurm-job-pending.json", "649730", 1747754494, 1747758094),
        ("25.11/0.0.44/slurm-job-pending.json", "5750", 1762942475, 1762946075),
        ("24.05/0.0.41/slurm-job-gpus-pending.json", "2", 1762529003, 1762532603),
        ("25.11/0.0.44/slurm-job-gpus-pending.json", "4965", 1762783691, 1762787291),
    ],
)
def test_a_pending_jobs_begin_time_is_its_expected_start(
    recorded, answer, job_id, submitted, expected
):
    (job,) = parse_squeue_json(recorded(f"{RACKSLAB}/{answer}").read_text())
    assert (job.id, job.state, job.reason) == (job_id, JobState.PENDING, "BeginTime")
    assert (job.submit_time, job.start_time, job.end_time) == (submitted, expected, None)


def test_a_pending_job_without_an_estimate_has_no_start(recorded):
    text = recorded("slurm/squeue/squeue_json_21.08.5_openapi-v0.0.37__rivosinc.json").read_text()
    pending = {j.id: j for j in parse_squeue_json(text)}["58948420"]
    assert (pending.state, pending.start_time) == (JobState.PENDING, None)  # Slurm said 0


@pytest.mark.anyio
async def test_a_job_deferred_by_an_hour_on_the_real_slurm_shows_when_it_starts(
    slurm, job_store, user_root
):
    sched = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    # An absolute --begin (the same as now+1hour) so that the expected start is known exactly.
    begin = (datetime.now() + timedelta(hours=1)).replace(microsecond=0)
    submitted = subprocess.run(
        [
            "sbatch",
            "--parsable",
            f"--begin={begin.isoformat()}",
            "--output=/dev/null",
            "--wrap=true",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=user_root,
        timeout=30,
    )
    job_id = submitted.stdout.strip()
    try:
        listed = {j.id: j for j in (await sched.list()).jobs}[job_id]
        shown = await sched.status(job_id)
    finally:
        subprocess.run(["scancel", job_id], check=False, capture_output=True, timeout=30)
    for job in (listed, shown):
        assert (job.state, job.reason) == (JobState.PENDING, "BeginTime")
        assert job.start_time == begin.timestamp()
