"""A Torque queue's load through a real Jupyter server (issue 21), FROM RECORDED OUTPUTS (no Torque
or Moab runs here: tests/fake_torque replays them, see test_jobs_torque_queue_load_recorded.py).
POST /espri-vre/api/jobs/estimate answers Moab's estimate with each queue's load, the
`partitions` list the submit form (extensions/jobs/src/submit-form.tsx, StartEstimate) shows as
'<queue>: <busy> of <total> cores busy, <running> running, <waiting> waiting'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import api
from test_jobs_moab_api_torque_recorded import MOAB_TORQUE

from espri_vre.schema import validation_errors


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [dict(MOAB_TORQUE)]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any], fake_torque: Any) -> dict[str, Any]:
    return jobs_server_config  # fake_torque first: its PATH is the server's


async def test_the_estimate_answers_each_queues_load_recorded_documented_outputs(
    jp_fetch: Any, jp_root_dir: Path, fake_torque: Any
) -> None:
    (Path(jp_root_dir) / "run.sh").write_text("echo run\n")
    spec = {"kind": "script", "path": "run.sh", "cpus": 8, "walltime": "00:30:00"}
    code, held = await api(
        jp_fetch, "jobs", body={"cluster": "cpu", "spec": {**spec, "hold": True}}
    )
    assert code == 201, held

    code, estimate = await api(jp_fetch, "jobs", "estimate", body={"cluster": "cpu", "spec": spec})
    assert code == 200, estimate
    assert validation_errors("StartEstimateResponse", estimate) == []
    assert estimate["start_time"] is not None  # Moab's estimate is still answered beside it
    assert estimate["detail"].endswith("in partition 32Bit")
    # The recorded pbsnodes -x: 36 cores up, 24 of them held; the held job waits in batch.
    assert estimate["partitions"] == [
        {
            "name": "batch",
            "cpus_allocated": 24,
            "cpus_idle": 12,
            "cpus_total": 36,
            "jobs_running": 0,
            "jobs_pending": 1,
        },
        {
            "name": "long",
            "cpus_allocated": 24,
            "cpus_idle": 12,
            "cpus_total": 36,
            "jobs_running": 0,
            "jobs_pending": 0,
        },
    ]

    (fake_torque.state_dir / "qstat_qf_output").write_text("Queue: batch\n    total_jobs = 3\n")
    code, estimate = await api(jp_fetch, "jobs", "estimate", body={"cluster": "cpu", "spec": spec})
    assert code == 200, estimate
    assert validation_errors("StartEstimateResponse", estimate) == []
    assert estimate["partitions"] == []
    assert estimate["detail"].endswith(
        "in partition 32Bit; no queue load: qstat -Q -f printed no state_count for queue batch"
    )
