"""Moab's start estimates through a real Jupyter server (issue 21): a Torque cluster configured with
`moab: true`, FROM RECORDED DOCUMENTED OUTPUTS (no Moab or Torque runs here: tests/fake_torque
replays what Moab's documentation prints, see test_jobs_moab_torque_recorded.py). The submit
form's POST /espri-vre/api/jobs/estimate answers Moab's estimate, refuses a bad spec with 400
before showstart runs, and GET /espri-vre/api/jobs gives the user's waiting job its expected
start, which the Jobs panel shows as "starts in ..."."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import api

from espri_vre.schema import validation_errors

MOAB_TORQUE = {
    "id": "cpu",
    "title": "CPU (Torque + Moab)",
    "kind": "torque",
    "moab": True,
    "defaults": {"queue": "batch"},
}
"""The Torque cluster with Moab these tests configure (also the queue-load API test's)."""


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [dict(MOAB_TORQUE)]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any], fake_torque: Any) -> dict[str, Any]:
    return jobs_server_config  # fake_torque first: its PATH is the server's


def showstart_calls(fake_torque: Any) -> list[list[str]]:
    path = fake_torque.state_dir / "showstart.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_the_form_and_the_panel_get_moab_estimates_recorded_documented_moab_output(
    jp_fetch: Any, jp_root_dir: Path, fake_torque: Any
) -> None:
    root = Path(jp_root_dir)
    for name in ("run.sh", "first.sh", "then.sh"):
        (root / name).write_text(f"echo {name}\n")
    spec = {"kind": "script", "path": "run.sh", "cpus": 8, "walltime": "00:30:00"}
    before = time.time()
    code, estimate = await api(jp_fetch, "jobs", "estimate", body={"cluster": "cpu", "spec": spec})
    assert code == 200, estimate
    assert validation_errors("StartEstimateResponse", estimate) == []
    assert before + 99 <= estimate["start_time"] <= time.time() + 99
    assert estimate["detail"].endswith("in partition 32Bit")
    assert showstart_calls(fake_torque) == [["8@1800"]]

    bad = {**spec, "walltime": "00:30:00 -e all"}
    code, refused = await api(jp_fetch, "jobs", "estimate", body={"cluster": "cpu", "spec": bad})
    assert (code, refused["error"]) == (400, "invalid-job")
    assert [p["field"] for p in refused["problems"]] == ["walltime"]
    assert showstart_calls(fake_torque) == [["8@1800"]]  # nothing more reached showstart

    first = {"kind": "script", "path": "first.sh", "hold": True}
    code, held = await api(jp_fetch, "jobs", body={"cluster": "cpu", "spec": first})
    assert code == 201, held
    then = {"kind": "script", "path": "then.sh", "afterok": [held["id"]]}
    code, waiting = await api(jp_fetch, "jobs", body={"cluster": "cpu", "spec": then})
    assert code == 201, waiting
    before = time.time()
    code, listing = await api(jp_fetch, "jobs", params={"cluster": "cpu", "fresh": "true"})
    assert code == 200, listing
    jobs = {j["id"]: j for j in listing["jobs"]}
    assert jobs[waiting["id"]]["state"] == "PENDING"
    assert before + 3895 <= jobs[waiting["id"]]["start_time"] <= time.time() + 3895
    assert "start_time" not in jobs[held["id"]]  # held: no estimate (null fields are left out)
    assert showstart_calls(fake_torque)[1:] == [[waiting["id"]]]
