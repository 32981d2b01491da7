"""When a job would start (espri_vre.jobs.estimate, slurm.start), through
/espri-vre/api/jobs/estimate of a real Jupyter server and the real Slurm 22.05 of the `slurm`
fixture: with the node's cores taken by a running job and a held job queued in front,
`sbatch --test-only` puts the start at the running job's time limit, and the partition's load says
so; nothing is submitted. The local back end answers from its own queue; a job too large for the
partition is refused as submission would refuse it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import api

from espri_vre.jobs.slurm.start import parse_load, parse_test_only
from espri_vre.schema import validation_errors


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


async def post(jp_fetch: Any, *parts: str, body: Any) -> tuple[int, Any]:
    return await api(jp_fetch, "jobs", *parts, body=body)


def squeue_ids() -> set[str]:
    ran = subprocess.run(
        ["squeue", "--noheader", "--format=%i"], capture_output=True, text=True, check=True
    )
    return set(ran.stdout.split())


def test_sbatch_test_only_and_the_load_are_read():
    said = "sbatch: Job 100663 to start at 2026-12-07T12:52:28 using 1 processors on nodes n1"
    assert parse_test_only(said + " in partition debug")[1:] == (1, "n1", "debug")
    assert parse_test_only("sbatch: error: Batch job submission failed") is None
    loads = parse_load("debug|2/0/0/2\ngpu|0/2/0/2\nbroken|x\n", "debug|RUNNING\ndebug,gpu|PENDING")
    assert [tuple(load) for load in loads] == [("debug", 2, 0, 2, 1, 1), ("gpu", 0, 2, 2, 0, 1)]


async def test_a_busy_partition_puts_the_start_at_the_running_jobs_limit_and_submits_nothing(
    jp_fetch, jp_root_dir, poll
):
    root = Path(jp_root_dir)
    (root / "busy.sh").write_text("sleep 120\n")
    (root / "next.sh").write_text("echo next\n")
    code, busy = await post(
        jp_fetch,
        body={
            "cluster": "slurm",
            "spec": {"kind": "script", "path": "busy.sh", "cpus": 2, "walltime": "3"},
        },
    )
    assert code == 201
    code, held = await post(
        jp_fetch,
        body={"cluster": "slurm", "spec": {"kind": "script", "path": "next.sh", "hold": True}},
    )
    assert code == 201
    try:

        async def state() -> dict[str, Any]:
            response = await jp_fetch("espri-vre", "api", "jobs", "slurm", busy["id"])
            return json.loads(response.body)

        running = await poll(state, lambda j: j["state"] == "RUNNING", timeout=60)
        before = squeue_ids()
        request = {
            "cluster": "slurm",
            "spec": {"kind": "script", "path": "next.sh", "cpus": 2, "walltime": "5"},
        }
        code, estimate = await post(jp_fetch, "estimate", body=request)
        assert code == 200, estimate
        assert validation_errors("StartEstimateResponse", estimate) == []
        assert estimate["start_time"] == running["start_time"] + running["time_limit"]
        assert "partition debug" in estimate["detail"]
        debug = next(p for p in estimate["partitions"] if p["name"] == "debug")
        assert (debug["cpus_allocated"], debug["cpus_idle"], debug["cpus_total"]) == (2, 0, 2)
        assert debug["jobs_running"] >= 1 and debug["jobs_pending"] >= 1
        assert squeue_ids() == before  # --test-only submitted nothing

        # Too large for the partition: refused as submission refuses it.
        code, refused = await post(
            jp_fetch, "estimate", body={**request, "spec": {**request["spec"], "cpus": 64}}
        )
        assert code == 400 and "cpus" in [p["field"] for p in refused["problems"]]
    finally:
        subprocess.run(["scancel", busy["id"], held["id"]], check=False, timeout=30)


async def test_the_local_back_end_starts_a_job_at_once_when_a_slot_is_free(jp_fetch, jp_root_dir):
    (Path(jp_root_dir) / "now.sh").write_text("echo now\n")
    code, estimate = await post(
        jp_fetch,
        "estimate",
        body={"cluster": "local", "spec": {"kind": "script", "path": "now.sh"}},
    )
    assert code == 200, estimate
    assert estimate["detail"] == "It would start at once on this server"
    assert estimate["start_time"] is not None
    assert estimate["partitions"] == [
        {
            "name": "local",
            "cpus_allocated": 0,
            "cpus_idle": 2,
            "cpus_total": 2,
            "jobs_running": 0,
            "jobs_pending": 0,
        }
    ]
