"""Schedules on Torque, REPLAYED FROM RECORDED OUTPUTS: no Torque server can be installed here. The
fake `qsub/qstat/qdel/qhold/qrls` of tests/fake_torque replays recorded real outputs and defers a
job submitted with `qsub -a` (state W until its time, then its script run for real); its clock is
moved ahead instead of waiting for the minute. The schedule is a self-resubmitting job, as on
Slurm (espri_vre.jobs.chain)."""

from __future__ import annotations

import logging
import subprocess
import time

import pytest

from espri_vre.jobs.cron import Cron
from espri_vre.jobs.schedule_store import ScheduleStore
from espri_vre.jobs.schedules import ScheduleService


@pytest.fixture
def service(torque_jobs, job_store) -> ScheduleService:
    store = ScheduleStore(job_store.data_dir)
    return ScheduleService(torque_jobs, store, log=logging.getLogger("t"))


async def test_recorded_torque_schedule_waits_with_qsub_a_fires_and_resubmits_itself(
    service, fake_torque, user_root
):
    (user_root / "daily.sh").write_text("echo daily\n")
    made = await service.create(
        {
            "cluster": "cpu",
            "spec": {"kind": "script", "path": "daily.sh"},
            "cron": "*/5 * * * *",
            "timezone": "Europe/Paris",
        }
    )
    assert (made["state"], made["runs"]) == ("active", [])
    waiting = fake_torque.jobs()[made["job_id"]]
    assert (waiting["state"], waiting["name"]) == ("W", f"daily-s{made['id']}")
    due = Cron.parse("*/5 * * * *").next_after(time.time(), "Europe/Paris")
    assert waiting["execution_time"] == due == made["next_run"]

    # Five minutes later by the fake server's clock: the job starts, runs, submits the next.
    (fake_torque.state_dir / "clock_offset").write_text(str(due - time.time() + 1))
    fired = await service.get(made["id"])
    fired = await service.get(made["id"])
    assert [(r["job_id"], r["how"]) for r in fired["runs"]] == [(made["job_id"], "cron")]
    assert fired["runs"][0]["state"] == "COMPLETED"
    following = fake_torque.jobs()[fired["job_id"]]
    assert following["state"] in ("W", "Q") and fired["job_id"] != made["job_id"]
    # Counted from its own firing, not from the clock it started by.
    assert following["execution_time"] == due + 300
    log = user_root / ".espri-vre-jobs" / f"daily-s{made['id']}.o{made['job_id']}.pbsserver"
    assert log.read_text() == "daily\n"

    # The fake server's clock back to this machine's: the next firings are ahead again.
    (fake_torque.state_dir / "clock_offset").unlink()
    paused = await service.pause(made["id"])
    assert (paused["state"], fake_torque.jobs()[fired["job_id"]]["state"]) == ("paused", "H")

    # qdel outside JupyterLab: the schedule is gone, as Torque says.
    subprocess.run(["qdel", fired["job_id"]], check=True)
    gone = await service.get(made["id"])
    assert (gone["state"], gone["job_id"], gone["next_run"]) == ("gone", None, None)
    await service.delete(made["id"])
    assert await service.list() == []
