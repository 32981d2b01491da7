"""Faults of the real Slurm 22.05 (slurm_fixture) while the Jobs panel's route polls, through a
real Jupyter server (pytest-jupyter): slurmctld stopped, and munged out of reach of this server's
Slurm commands. Jobs that were running show as UNKNOWN (never finished), the list says why and
what to do in its `problems` (what the panel shows), and everything comes back with Slurm.

slurmctld is really stopped (SIGTERM, as an administrator's restart does) and always started again
by scripts/slurm/start.sh before the test ends, which waits until the node is usable: the cluster
is shared by the whole session. munged itself is not stopped (slurmctld and slurmd need it, and
other tests use them): this server's commands are pointed at a munge socket path that is then
removed, which is what a Slurm client sees when munged is down on its machine ("Failed to access
...: No such file or directory (Did you start munged?)"), and put back."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from slurm_fixture import START_SCRIPT, START_TIMEOUT
from test_job_handlers import FINISHED, call, finished, job, submit

from espri_vre.jobs.probe import AUTH_ADVICE, NO_CONTROLLER_ADVICE

PANEL_QUERY = {"cluster": "all", "mine": "true"}
"""What the Jobs panel asks for on each poll."""
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
"""Debian's munged socket, where scripts/slurm/start.sh runs munged."""


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


# Cancels this test's unfinished Slurm jobs, once Slurm is back (the test restarts it).
pytestmark = pytest.mark.usefixtures("slurm_jobs_cancelled")


def stop_slurmctld(slurm: Any) -> None:
    """Stops the session's slurmctld as `kill` by an administrator does, and waits until it has
    exited (it saves its state first)."""
    pid = int((slurm.state_dir / "slurmctld.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


def restore_slurm(slurm: Any) -> None:
    """scripts/slurm/start.sh, which starts what is not running and returns once the node is
    usable: the later tests of the session find a healthy Slurm."""
    done = subprocess.run(
        ["bash", str(START_SCRIPT)],
        env={**os.environ, "ESPRI_SLURM_DIR": str(slurm.state_dir)},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def conf_variant(slurm: Any, tmp_path: Path, **settings: str) -> Path:
    """A copy of the session's slurm.conf with some keys replaced, for this server's commands
    only (the daemons keep theirs)."""
    lines = [ln for ln in slurm.conf.read_text().splitlines() if ln.split("=")[0] not in settings]
    path = tmp_path / "slurm.conf"
    path.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in settings.items())]) + "\n")
    return path


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def panel_poll(jp_fetch: Any, *, fresh: bool = False) -> dict[str, Any]:
    """The panel's poll; `fresh`: its Refresh button, past the shared 2-second snapshot."""
    code, listed = await call(jp_fetch, params={**PANEL_QUERY, "fresh": str(fresh).lower()})
    assert code == 200, listed
    return listed


def state_of(listed: dict[str, Any], job_id: str) -> str:
    return next(j["state"] for j in listed["jobs"] if j["cluster"] == "slurm" and j["id"] == job_id)


async def running_and_completed(jp_fetch: Any, root: Path, poll: Any) -> tuple[str, str]:
    """A Slurm job that runs until cancelled and one that has completed: their ids."""
    (root / "long.sh").write_text("exec sleep 300\n")
    (root / "quick.sh").write_text("echo quick\n")
    long = await submit(jp_fetch, "slurm", kind="script", path="long.sh")
    quick = await submit(jp_fetch, "slurm", kind="script", path="quick.sh")
    await poll(lambda: job(jp_fetch, "slurm", long["id"]), lambda i: i["state"] == "RUNNING")
    await poll(lambda: job(jp_fetch, "slurm", quick["id"]), finished)
    return long["id"], quick["id"]


async def test_slurmctld_stopped_while_the_panel_polls_jobs_are_unknown_then_come_back(
    jp_fetch, root, slurm, poll
):
    long, quick = await running_and_completed(jp_fetch, root, poll)
    seen: list[dict[str, Any]] = []
    try:
        stop_slurmctld(slurm)
        # The panel's poll and the job's details at once, as the panel asks them.
        listed, (code, info) = await asyncio.gather(
            panel_poll(jp_fetch), call(jp_fetch, "slurm", long)
        )
        seen.append(listed)
        assert state_of(listed, long) == "UNKNOWN"
        assert state_of(listed, quick) == "COMPLETED"  # a job seen ending stays ended
        [problem] = listed["problems"]
        assert problem["cluster"] == "slurm"
        assert problem["detail"].startswith("Slurm has not answered within 4 s: it may be busy")
        assert "Jobs show as unknown until it answers; they keep running." in problem["detail"]
        assert (code, info["state"], info["reason"]) == (200, "UNKNOWN", problem["detail"])
    finally:
        restore_slurm(slurm)
    back = await poll(
        lambda: panel_poll(jp_fetch), lambda a: state_of(a, long) == "RUNNING", seen=seen
    )
    assert back["problems"] == []
    assert state_of(back, quick) == "COMPLETED"
    assert not [a for a in seen if state_of(a, long) in FINISHED]


async def test_munge_out_of_reach_says_authentication_failed_and_what_to_do_then_recovers(
    jp_fetch, root, slurm, poll, tmp_path, monkeypatch
):
    munge_socket = tmp_path / "munge.socket"
    munge_socket.symlink_to(MUNGE_SOCKET)
    # What this server's Slurm commands read.
    monkeypatch.setenv(
        "SLURM_CONF", str(conf_variant(slurm, tmp_path, AuthInfo=f"socket={munge_socket}"))
    )
    long, quick = await running_and_completed(jp_fetch, root, poll)
    seen: list[dict[str, Any]] = []
    try:
        munge_socket.unlink()

        def said_why(listed: dict[str, Any]) -> bool:
            return any(AUTH_ADVICE in p["detail"] for p in listed["problems"])

        # The panel polls while the job is cancelled: neither is answered as if all were well.
        listed, (code, refused) = await asyncio.gather(
            poll(lambda: panel_poll(jp_fetch), said_why, seen=seen),
            call(jp_fetch, "slurm", long, "cancel", body={}),
        )
        [problem] = listed["problems"]
        assert problem["detail"].startswith("Slurm did not answer: Munge encode failed")
        assert (
            "Authentication with the scheduler failed (munge): munged must run" in problem["detail"]
        )
        assert state_of(listed, long) == "UNKNOWN"
        assert state_of(listed, quick) == "COMPLETED"
        assert (code, refused["error"]) == (503, "scheduler-unavailable")
        assert refused["detail"].startswith("The scheduler of slurm did not answer: ")
        assert "Munge encode failed" in refused["detail"]
        assert refused["detail"].endswith(AUTH_ADVICE)
    finally:
        if not munge_socket.is_symlink():
            munge_socket.symlink_to(MUNGE_SOCKET)
    back = await poll(
        lambda: panel_poll(jp_fetch), lambda a: state_of(a, long) == "RUNNING", seen=seen
    )
    assert (back["problems"], state_of(back, quick)) == ([], "COMPLETED")
    assert not [a for a in seen if state_of(a, long) in FINISHED]  # the cancel never happened


async def test_a_controller_this_server_cannot_reach_is_named_with_what_to_do(
    jp_fetch, root, slurm, poll, tmp_path, monkeypatch
):
    """slurmctld runs, but this server's commands knock on a closed port (a firewall, a wrong
    SlurmctldPort); MessageTimeout=1 makes the real client give up at once rather than retry for
    9 s, so the scheduler's own words reach the list within its wait."""
    (root / "held.sh").write_text("echo held\n")
    held = (await submit(jp_fetch, "slurm", kind="script", path="held.sh", hold=True))["id"]
    assert state_of(await panel_poll(jp_fetch), held) == "HELD"
    away = conf_variant(slurm, tmp_path, SlurmctldPort=str(closed_port()), MessageTimeout="1")
    monkeypatch.setenv("SLURM_CONF", str(away))
    listed = await panel_poll(jp_fetch, fresh=True)
    [problem] = listed["problems"]
    assert problem["detail"] == (
        "Slurm did not answer: slurm_load_jobs error: Unable to contact slurm controller "
        "(connect failure). " + NO_CONTROLLER_ADVICE
    )
    assert state_of(listed, held) == "UNKNOWN"
    code, info = await call(jp_fetch, "slurm", held)
    assert (code, info["state"]) == (200, "UNKNOWN")
    monkeypatch.setenv("SLURM_CONF", str(slurm.conf))
    back = await panel_poll(jp_fetch, fresh=True)
    assert state_of(back, held) == "HELD"
    assert back["problems"] == []


@pytest.mark.parametrize(("takes", "attempts"), [(0.0, 3), (1.2, 1)])
async def test_a_read_is_tried_again_only_when_it_failed_quickly(takes, attempts):
    """A transient failure that came at once (a busy controller) is tried again; one that took
    longer than RETRY_WHEN_FAILED_WITHIN is not: the Slurm client already retried that long
    (9 s on a stopped slurmctld), and two more tries would make the panel wait 28 s to say so."""
    from espri_vre.jobs.scheduler import RETRY_WHEN_FAILED_WITHIN, retry_transient
    from espri_vre.jobs.types import TransientSchedulerError

    assert takes == 0.0 or takes > RETRY_WHEN_FAILED_WITHIN
    calls = []

    async def read() -> None:
        calls.append(1)
        await asyncio.sleep(takes)
        raise TransientSchedulerError("slurm_load_jobs error: Unable to contact slurm controller")

    with pytest.raises(TransientSchedulerError, match="Unable to contact"):
        await retry_transient(read, delays=(0.01, 0.01))
    assert len(calls) == attempts
