"""Schedules (espri_vre.jobs.schedules) through /espri-vre/api/schedules of a real Jupyter server:
on the real Slurm 22.05 of the `slurm` fixture as a self-resubmitting `sbatch --begin` job, and on
the local back end with the embedded scheduler, across a restart of the server. Also the cron
expressions the schedules read, and the refusals of wrong definitions.

Slurm's firings: the waiting job's begin time is checked to be the cron's next minute, then the
job is started at once (`scontrol update StartTime=now`) rather than waited for, so that two runs
take seconds, not two minutes; what runs is the schedule's own job and its own resubmission."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import api

from espri_vre.jobs.chain import parse_runs
from espri_vre.jobs.cron import Cron, CronError
from espri_vre.jobs.schedule_store import ScheduleStore
from espri_vre.jobs.store import JobStore
from espri_vre.schema import validation_errors
from espri_vre.server.app import EspriVreApp

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


@pytest.fixture(autouse=True)
def no_job_left_behind(store_dir: Path) -> Iterator[None]:
    """Cancels the Slurm jobs this test's schedules left waiting, by their names (the cluster is
    shared by the whole session)."""
    yield
    if (store_dir / "schedules.sqlite").exists():
        for schedule in ScheduleStore(store_dir).list("slurm"):
            if schedule.job_name:
                subprocess.run(["scancel", f"--name={schedule.job_name}"], check=False, timeout=30)


async def schedule(jp_fetch: Any, schedule_id: str) -> dict[str, Any]:
    code, body = await api(jp_fetch, "schedules", schedule_id)
    assert code == 200, body
    assert validation_errors("ScheduleInfo", body) == []
    return body


def scontrol_start_now(job_id: str) -> None:
    """The waiting job of a schedule starts at once instead of at its minute."""
    subprocess.run(
        ["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True, timeout=30
    )


def scontrol_job(job_id: str) -> dict[str, str]:
    shown = subprocess.run(
        ["scontrol", "show", "job", "--oneliner", job_id],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return dict(w.split("=", 1) for w in shown.split() if "=" in w)


def eligible(job_id: str) -> float:
    """The time Slurm lets the job start (its --begin), a whole minute."""
    begin = scontrol_job(job_id)["EligibleTime"]
    assert begin.endswith(":00"), begin
    return time.mktime(time.strptime(begin, "%Y-%m-%dT%H:%M:%S"))


def test_cron_expressions_fire_at_their_wall_clock_times_in_their_zone():
    # 2026-03-28 12:00 UTC: Paris switches to summer time on the 29th at 02:00.
    saturday = 1774699200.0
    every_day_at_6 = Cron.parse("0 6 * * *").next_after(saturday, "Europe/Paris")
    assert time.strftime("%Y-%m-%d %H:%M", time.gmtime(every_day_at_6)) == "2026-03-29 04:00"
    weekdays = Cron.parse("30 7 * * mon-fri").next_after(saturday, "UTC")
    assert time.strftime("%a %H:%M", time.gmtime(weekdays)) == "Mon 07:30"
    # 02:30 does not exist in Paris on the 29th: the firing is the next day's.
    skipped = Cron.parse("30 2 * * *").next_after(saturday, "Europe/Paris")
    assert time.strftime("%d %H:%M", time.gmtime(skipped)) == "30 00:30"
    assert Cron.parse("*/15 * * * *").minutes == frozenset({0, 15, 30, 45})
    assert Cron.parse("@daily").hours == frozenset({0})
    assert Cron.parse("0 0 * * 7").weekdays == frozenset({0})
    for wrong, said in [
        ("* * * *", "five fields"),
        ("60 * * * *", "minute 60 is outside 0-59"),
        ("* * * * 8", "day of week 8"),
        ("*/0 * * * *", "step"),
        ("0 0 31 2 *", "never fires"),
    ]:
        with pytest.raises(CronError, match=said):
            Cron.parse(wrong).next_after(saturday, "UTC")
    with pytest.raises(CronError, match="not a known time zone"):
        Cron.parse("* * * * *").next_after(saturday, "Mars/Olympus")


def test_the_runs_list_a_schedules_jobs_write_is_read_newest_first_and_a_cut_line_skipped():
    runs = parse_runs(
        "start 11 100\nnext 12 2026-12-07T06:00:00\nend 11 0 160\nstart 12 200\nend 12 3 2\nend 1"
    )
    assert [(r.job_id, r.started, r.status) for r in runs] == [("12", 200.0, 3), ("11", 100.0, 0)]


async def test_wrong_schedules_are_refused_with_their_fields_and_nothing_is_recorded(
    jp_fetch, jp_root_dir
):
    (Path(jp_root_dir) / "daily.sh").write_text("echo daily\n")
    spec = {"kind": "script", "path": "daily.sh"}
    for body, field in [
        ({"cluster": "local", "spec": spec, "cron": "61 * * * *"}, "cron"),
        (
            {"cluster": "local", "spec": spec, "cron": "0 6 * * *", "timezone": "Nowhere"},
            "timezone",
        ),
        ({"cluster": "local", "spec": {**spec, "path": "../etc/passwd"}, "cron": "@daily"}, "path"),
        ({"cluster": "local", "spec": spec, "cron": "@daily", "name": "a b;c"}, "name"),
    ]:
        code, error = await api(jp_fetch, "schedules", method="POST", body=body)
        assert code == 400, error
        assert field in [p["field"] for p in error["problems"]], error
    code, error = await api(jp_fetch, "schedules", method="POST", body={"cluster": "local"})
    assert code == 400 and "spec" in error["detail"]
    code, error = await api(
        jp_fetch,
        "schedules",
        method="POST",
        body={"cluster": "nowhere", "spec": spec, "cron": "@daily"},
    )
    assert (code, error["error"]) == (404, "unknown-cluster")
    assert (await api(jp_fetch, "schedules", "99"))[0] == 404
    assert (await api(jp_fetch, "schedules", "99", "pause", method="POST"))[0] == 404
    assert (await api(jp_fetch, "schedules"))[1] == {"schedules": []}


async def test_a_slurm_schedule_fires_twice_lists_its_runs_and_shows_gone_after_scancel(
    jp_fetch, jp_root_dir, poll
):
    root = Path(jp_root_dir)
    (root / "tick.sh").write_text('echo "tick $SLURM_JOB_ID"\n')
    body = {
        "cluster": "slurm",
        "spec": {"kind": "script", "path": "tick.sh", "walltime": "2"},
        "cron": "* * * * *",
        "timezone": "Europe/Paris",
    }
    code, made = await api(jp_fetch, "schedules", method="POST", body=body)
    assert code == 201, made
    assert validation_errors("ScheduleInfo", made) == []
    assert (made["name"], made["state"], made["runs"]) == ("tick", "active", [])
    first = made["job_id"]
    # Slurm holds it: a job of the schedule's name, not eligible before the cron's next minute.
    fields = scontrol_job(first)
    assert (fields["JobName"], fields["JobState"]) == (f"tick-s{made['id']}", "PENDING")
    minute = eligible(first)
    assert minute == made["next_run"]
    assert 0 < minute - time.time() <= 61

    # Two firings: each run records itself and submits the next, for the minute after its own.
    seen, due = [first], minute
    for count in (1, 2):
        scontrol_start_now(seen[-1])

        def fired_again(s: dict[str, Any], count: int = count) -> bool:
            done = len(s["runs"]) == count and s["runs"][0]["state"] in FINISHED
            return done and s["job_id"] not in seen

        fired = await poll(lambda: schedule(jp_fetch, made["id"]), fired_again, timeout=60)
        seen.append(fired["job_id"])
        due += 60
        assert eligible(fired["job_id"]) == due
    runs = fired["runs"]
    assert [r["job_id"] for r in runs] == [seen[1], seen[0]]
    assert {(r["how"], r["state"], r["exit_code"]) for r in runs} == {("cron", "COMPLETED", 0)}
    assert fired["state"] == "active" and fired["next_run"] > time.time()
    # Each run is a job of the job list, with its own log.
    for run in runs:
        code, chunk = await api(jp_fetch, "jobs", "slurm", run["job_id"], "logs")
        assert chunk["text"] == f"tick {run['job_id']}\n"

    # Pause holds the waiting job; resume submits a new one for the next minute.
    code, paused = await api(jp_fetch, "schedules", made["id"], "pause", method="POST")
    assert (code, paused["state"], paused["next_run"]) == (200, "paused", None)
    code, resumed = await api(jp_fetch, "schedules", made["id"], "resume", method="POST")
    assert resumed["state"] == "active" and resumed["job_id"] not in (None, paused["job_id"])

    # Removed outside JupyterLab: the scheduler's queue is the truth.
    subprocess.run(["scancel", resumed["job_id"]], check=True, timeout=30)
    gone = await schedule(jp_fetch, made["id"])
    assert (gone["state"], gone["next_run"], gone["job_id"]) == ("gone", None, None)
    assert "cancelled outside JupyterLab" in gone["problem"]

    code, _ = await api(jp_fetch, "schedules", made["id"], method="DELETE")
    assert code == 204
    assert (await api(jp_fetch, "schedules"))[1] == {"schedules": []}


async def test_a_local_schedule_survives_a_server_restart_and_fires_what_it_missed(
    jp_fetch, jp_serverapp, jp_root_dir, poll, store_dir
):
    root = Path(jp_root_dir)
    (root / "report.sh").write_text("echo report >> runs.txt\n")
    body = {
        "cluster": "local",
        "spec": {"kind": "script", "path": "report.sh"},
        "cron": "0 6 * * *",
        "timezone": "Europe/Paris",
    }
    code, made = await api(jp_fetch, "schedules", method="POST", body=body)
    assert code == 201, made
    paris_6 = Cron.parse("0 6 * * *").next_after(time.time(), "Europe/Paris")
    assert (made["state"], made["next_run"]) == ("active", paris_6)
    code, now_job = await api(jp_fetch, "schedules", made["id"], "run", method="POST")
    assert code == 201 and now_job["cluster"] == "local"
    first = jp_serverapp.web_app.settings["espri_vre"]
    await first.stop_extension()

    # The server restarts the day after, past 06:00: the missed firing runs once, at start.
    second = EspriVreApp()
    second._link_jupyter_server_extension(jp_serverapp)
    second._prepare_config()
    second._prepare_settings()
    assert second.schedules is not None and second.schedules is not first.schedules
    second.schedules.clock = lambda: paris_6 + 3600
    await second._start_jupyter_server_extension(jp_serverapp)
    try:
        done = await poll(
            lambda: schedule(jp_fetch, made["id"]),
            lambda s: len(s["runs"]) == 2 and all(r["state"] in FINISHED for r in s["runs"]),
            timeout=60,
        )
    finally:
        await second.stop_extension()
    assert [(r["how"], r["state"]) for r in done["runs"]] == [
        ("cron", "COMPLETED"),
        ("now", "COMPLETED"),
    ]
    assert done["runs"][0]["fired_at"] == paris_6
    assert done["next_run"] == paris_6 + 86400
    assert (root / "runs.txt").read_text() == "report\nreport\n"
    # Fired once only, however often the embedded scheduler looks.
    assert await second.schedules.fire_due() == []

    # Edit, then delete: the record keeps the runs' jobs.
    code, edited = await api(
        jp_fetch, "schedules", made["id"], method="PUT", body={**body, "cron": "15 7 * * 1"}
    )
    assert code == 200 and edited["cron"] == "15 7 * * 1"
    assert time.strftime("%a", time.localtime(edited["next_run"])) == "Mon"
    assert (await api(jp_fetch, "schedules", made["id"], method="DELETE"))[0] == 204
    assert len(JobStore(store_dir).list("local")) == 2
