"""Job-end notifications (espri_vre.jobs.notifications) through /espri-vre/api/jobs/notifications
of a real Jupyter server and real local jobs: an end is told until a page says it was shown, also
after a restart of the server (the page was closed when the job ended); ends told are not told
again; a wrong acknowledgement is refused and loses nothing. Records of told ends, schedules and
pipelines that cannot be opened leave the rest of the server running."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import JOB_CLUSTERS, api

from espri_vre.jobs.notifications import Notifications
from espri_vre.jobs.pipelines import PipelineService
from espri_vre.jobs.schedules import ScheduleService
from espri_vre.jobs.service import JobService
from espri_vre.jobs.store import JobStore
from espri_vre.schema import validation_errors
from espri_vre.server.app import EspriVreApp


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [c for c in JOB_CLUSTERS if c["kind"] == "local"]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


async def untold(jp_fetch: Any) -> list[tuple[str, str]]:
    code, body = await api(jp_fetch, "jobs", "notifications")
    assert code == 200 and validation_errors("JobNotificationsResponse", body) == []
    return [(j["name"], j["state"]) for j in body["jobs"]]


async def test_an_ended_job_is_told_until_seen_also_after_a_restart_and_never_twice(
    jp_fetch, jp_serverapp, jp_root_dir, poll
):
    root = Path(jp_root_dir)
    (root / "fine.sh").write_text("echo fine\n")
    (root / "broken.sh").write_text("exit 3\n")
    for path in ("fine.sh", "broken.sh"):
        code, _ = await api(
            jp_fetch, "jobs", body={"cluster": "local", "spec": {"kind": "script", "path": path}}
        )
        assert code == 201
    ended = await poll(lambda: untold(jp_fetch), lambda jobs: len(jobs) == 2, timeout=60)
    assert sorted(ended) == [("broken", "FAILED"), ("fine", "COMPLETED")]

    # The page was closed before it showed them: a restarted server still tells both.
    second = EspriVreApp()
    second._link_jupyter_server_extension(jp_serverapp)
    second._prepare_config()
    second._prepare_settings()
    assert sorted(await untold(jp_fetch)) == sorted(ended)

    # A wrong acknowledgement is refused and marks nothing.
    for wrong in ('{"jobs": [{"id": "1"}]}', "[]", "not json"):
        code, error = await api(jp_fetch, "jobs", "notifications", body=wrong)
        assert code == 400, error
    assert len(await untold(jp_fetch)) == 2

    code, body = await api(jp_fetch, "jobs", "notifications")
    seen = {"jobs": [{"cluster": j["cluster"], "id": j["id"]} for j in body["jobs"]]}
    assert await api(jp_fetch, "jobs", "notifications", body=seen) == (200, {"told": 2})
    assert await api(jp_fetch, "jobs", "notifications", body=seen) == (200, {"told": 0})
    assert await untold(jp_fetch) == []


def test_records_that_cannot_be_opened_leave_the_server_running_without_them(tmp_path, caplog):
    store = JobStore(tmp_path / "job-store")
    jobs = JobService(clusters=[("local", "Local", "local", "local")], store=store)
    for name in ("schedules.sqlite", "notifications.sqlite", "pipelines.sqlite"):
        (store.data_dir / name).mkdir()  # not a database: sqlite cannot open it
    log = logging.getLogger("espri-vre-test")
    with caplog.at_level(logging.ERROR, logger="espri-vre-test"):
        assert ScheduleService.open(jobs, log) is None
        assert Notifications.open(jobs, log) is None
        assert PipelineService.open(jobs, log) is None
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3 and all("cannot be opened" in s for s in said)
    # The job record itself is untouched.
    assert store.list() == []
