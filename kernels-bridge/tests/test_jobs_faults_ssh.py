"""The SSH login node dropping the connection in the middle of a command, against the real OpenSSH
server of sshd_fixture (the session's own sshd process is killed while the command runs) and the
real Slurm 22.05 behind it: a clear error, the command never run twice, no job lost or shown as
finished, and the next call opening a new connection.

To drop the connection while a Slurm command is in flight, the login node is made slow: the
tests put a waiting wrapper of `scontrol` and `sbatch` first on the login node's PATH, which
holds the command (its stdin read whole) while a file says so, then runs the real command. The
tests' names say so."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_job_handlers import FINISHED, call, job, submit

from espri_vre.jobs.ssh import SSHSettings, SSHTransport
from espri_vre.jobs.transport import TransportError

WRAPPER = """#!/bin/sh
# {name} on a slow login node: while $HOLD/{name} exists, the command waits (its stdin read
# whole first, as the real command would read it), then runs as the real one.
if [ -e "$HOLD/{name}" ]; then
  cat > "$HOLD/{name}.stdin.$$"
  echo $$ > "$HOLD/{name}.pid.new" && mv "$HOLD/{name}.pid.new" "$HOLD/{name}.pid"
  while [ -e "$HOLD/{name}" ]; do sleep 0.05; done
  exec {real} "$@" < "$HOLD/{name}.stdin.$$"
fi
exec {real} "$@"
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:  # the process has ended
        return ""


def drop_connection_of(pid: int) -> list[int]:
    """Kills the sshd processes of the session that runs `pid` (not the listening sshd), as a
    login node that reboots or kills idle sessions does: the connection breaks mid-command."""
    session = []
    parent = _parent(pid)
    while parent > 1:
        line = _command_line(parent)
        if not line.startswith("sshd:") or "[listener]" in line or " -f " in line:
            break
        session.append(parent)
        parent = _parent(parent)
    for killed in session:
        os.kill(killed, signal.SIGKILL)
    assert session, f"no sshd session above process {pid}"
    return session


async def wait_for_file(path: Path) -> str:
    for _ in range(400):
        if path.exists():
            return path.read_text().strip()
        await asyncio.sleep(0.05)
    pytest.fail(f"{path} never appeared")


@pytest.mark.anyio
async def test_a_connection_dropped_mid_command_is_an_error_the_command_is_not_run_again(
    sshd: Any, tmp_path: Path
) -> None:
    t = SSHTransport(SSHSettings.from_settings(sshd.settings()))
    ran, pid_file = tmp_path / "ran", tmp_path / "pid"
    try:
        first = await t.run(["true"], timeout=30)
        assert first.returncode == 0
        old = t._conn
        script = f"echo ran >> {ran}; echo $$ > {pid_file}; exec sleep 60"
        running = asyncio.ensure_future(t.run(["sh", "-c", script], timeout=60))
        pid = int(await wait_for_file(pid_file))
        drop_connection_of(pid)
        with pytest.raises(TransportError) as broke:
            await running
        assert str(broke.value) == (
            f"the connection to {sshd.user}@127.0.0.1:{sshd.port} broke while sh ran: "
            "whether it did its work is not known"
        )
        os.kill(pid, signal.SIGKILL)
        assert ran.read_text() == "ran\n"  # run once: never sent again on a new connection
        again = await t.run(["echo", "back"], timeout=30)
        assert (again.stdout_text, t._conn is not old) == ("back\n", True)
        # A command killed by a signal exits as a shell says it (128 + 15), on the same connection.
        killed = await t.run(["sh", "-c", "kill -TERM $$"], timeout=30)
        assert killed.returncode == 143
    finally:
        await t.close()


@pytest.fixture
def hold(tmp_path: Path) -> Path:
    folder = tmp_path / "hold"
    folder.mkdir()
    return folder


@pytest.fixture
def jp_server_config(slurm: Any, sshd: Any, tmp_path: Path, hold: Path) -> dict[str, Any]:
    """One Slurm cluster reached over SSH, its login node slowed by the waiting wrappers."""
    bindir = tmp_path / "login-bin"
    bindir.mkdir()
    for name in ("scontrol", "sbatch"):
        real = shutil.which(name)
        assert real is not None, f"{name} is not installed"
        (bindir / name).write_text(WRAPPER.format(name=name, real=real))
        (bindir / name).chmod(0o755)
    env = {
        "SLURM_CONF": str(slurm.conf),
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "HOLD": str(hold),
    }
    cluster = {
        "id": "login",
        "title": "Slurm over SSH",
        "kind": "slurm",
        "transport": "ssh",
        "ssh": {**sshd.settings(), "env": env},
    }
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {"clusters": [cluster], "job_store_dir": str(tmp_path / "job-store")},
    }


@pytest.fixture(autouse=True)
def no_job_left_behind(slurm: Any) -> Iterator[None]:
    yield
    for name in ("ssh-long", "ssh-lost"):
        subprocess.run(
            ["scancel", f"--name={name}"],
            check=False,
            capture_output=True,
            timeout=30,
            env=slurm.env,
        )


async def poll_list(jp_fetch: Any) -> dict[str, Any]:
    code, listed = await call(jp_fetch, params={"cluster": "all", "mine": "true", "fresh": "true"})
    assert code == 200, listed
    return listed


async def test_slow_login_node_drops_the_connection_mid_command_no_job_lost_nor_finished(
    jp_fetch, jp_root_dir, hold, sshd, poll
):
    root = Path(jp_root_dir)
    (root / "long.sh").write_text("exec sleep 300\n")
    long = await submit(jp_fetch, "login", kind="script", path="long.sh", name="ssh-long")
    await poll(lambda: job(jp_fetch, "login", long["id"]), lambda i: i["state"] == "RUNNING")

    # Reading a job's state: the connection breaks under scontrol; the read is tried again on a
    # new connection, and the job is still running.
    (hold / "scontrol").touch()
    reading = asyncio.ensure_future(call(jp_fetch, "login", long["id"]))
    drop_connection_of(int(await wait_for_file(hold / "scontrol.pid")))
    (hold / "scontrol").unlink()
    code, info = await reading
    assert (code, info["state"]) == (200, "RUNNING")

    # Submitting: the connection breaks under sbatch, which still submits on the login node. Not
    # sent twice; the answer says the job may exist, and the list shows it.
    def lost_jobs(listed: dict[str, Any]) -> list[dict[str, Any]]:
        """This test's job named ssh-lost (Slurm still lists those of earlier runs, ended)."""
        return [j for j in listed["jobs"] if j["name"] == "ssh-lost" and j["id"] not in earlier]

    earlier = {j["id"] for j in (await poll_list(jp_fetch))["jobs"] if j["name"] == "ssh-lost"}
    (hold / "sbatch").touch()
    spec = {"kind": "script", "path": "long.sh", "name": "ssh-lost"}
    submitting = asyncio.ensure_future(call(jp_fetch, body={"cluster": "login", "spec": spec}))
    drop_connection_of(int(await wait_for_file(hold / "sbatch.pid")))
    (hold / "sbatch").unlink()
    code, refused = await submitting
    where = f"{sshd.user}@127.0.0.1:{sshd.port}"
    assert (code, refused["error"]) == (503, "scheduler-unavailable")
    assert refused["detail"] == (
        f"The scheduler of login did not answer: sbatch did not finish (the connection to "
        f"{where} broke while sbatch ran: whether it did its work is not known): the job may "
        "have been submitted, look at the list."
    )
    seen: list[dict[str, Any]] = []
    listed = await poll(lambda: poll_list(jp_fetch), lost_jobs, seen=seen)
    [lost] = lost_jobs(listed)
    assert lost["state"] in ("PENDING", "RUNNING")
    assert listed["problems"] == []
    states = [j["state"] for a in seen for j in a["jobs"] if j["id"] == long["id"]]
    assert states and not set(states) & FINISHED
