"""The SSH transport against a real OpenSSH server on the loopback (sshd_fixture): commands
as quoted argv lists, the script on stdin, one connection reused; the real Slurm driven over
SSH (submit, list, log, cancel) and the fake Torque CLI through it; clear errors for a refused
key, a host key that does not match known_hosts, an unreachable host and a missing command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.ssh import SSHSettings, SSHTransport
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.transport import CommandNotFound, TransportError
from espri_vre.jobs.types import ClusterConfig, JobKind, JobSpec, JobState

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def transport(sshd: Any, **overrides: Any) -> SSHTransport:
    return SSHTransport(SSHSettings.from_settings(sshd.settings(**overrides)))


async def test_commands_run_as_quoted_argv_with_stdin_over_one_connection(sshd: Any) -> None:
    t = transport(sshd)
    try:
        hostile = "a b; touch /tmp/espri-ssh-injected $(id) `id` 'q' \"d\""
        ran = await t.run(["printf", "%s|", hostile, "*"], timeout=30)
        assert (ran.returncode, ran.stdout_text) == (0, f"{hostile}|*|")
        assert not Path("/tmp/espri-ssh-injected").exists()
        ran = await t.run(["wc", "-c"], timeout=30, input=b"x" * 100_000)
        assert ran.stdout_text.strip() == "100000"
        first = t._conn
        ran = await t.run(["sh", "-c", "echo err >&2; exit 3"], timeout=30)
        assert (ran.returncode, ran.stderr_text, t._conn) == (3, "err\n", first)
        with pytest.raises(CommandNotFound, match="no-such-command: command not found"):
            await t.run(["no-such-command"], timeout=30)
    finally:
        await t.close()


async def test_refused_key_wrong_host_key_and_unreachable_host_say_what_to_do(
    sshd: Any, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with pytest.raises(TransportError, match="refused the login .*check ssh.user and ssh.key_file"):
        await transport(sshd, key_file=str(stranger)).run(["true"], timeout=30)
    with pytest.raises(TransportError, match="host key of .* is not the one in"):
        await transport(sshd, known_hosts=str(sshd.wrong_known_hosts)).run(["true"], timeout=30)
    with pytest.raises(TransportError, match="cannot reach .*127.0.0.1:9"):
        await transport(sshd, port=9).run(["true"], timeout=30)


async def test_the_real_slurm_over_ssh_submit_list_log_cancel(
    sshd: Any, slurm: Any, tmp_path: Path, poll: Any
) -> None:
    cluster = ClusterConfig.from_settings(
        {"id": "login", "kind": "slurm", "transport": "ssh", "ssh": sshd.settings()}
    )
    t = SSHTransport(
        SSHSettings.from_settings(sshd.settings()), env={"SLURM_CONF": str(slurm.conf)}
    )
    root = tmp_path / "home"
    root.mkdir()
    sched = SlurmScheduler(cluster, JobStore(tmp_path / "store"), [root], transport=t)
    try:
        (root / "hello.sh").write_text("echo hello over ssh\n")
        job = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path=str(root / "hello.sh")))
        done = await poll(lambda: sched.status(job.id), lambda i: i.finished)
        assert (done.state, done.exit_code) == (JobState.COMPLETED, 0)
        assert (await sched.logs(job.id)).text == "hello over ssh\n"
        listed = {j.id: j for j in (await sched.list()).jobs}
        assert listed[job.id].state is JobState.COMPLETED

        (root / "wait.sh").write_text("sleep 300\n")
        waiting = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path=str(root / "wait.sh")))
        await poll(lambda: sched.status(waiting.id), lambda i: i.state is JobState.RUNNING)
        await sched.cancel(waiting.id)
        gone = await poll(lambda: sched.status(waiting.id), lambda i: i.finished)
        assert gone.state is JobState.CANCELLED
    finally:
        await t.close()


async def test_the_fake_torque_cli_over_ssh_recorded_outputs(
    sshd: Any, fake_torque: Any, tmp_path: Path
) -> None:
    """Torque cannot be installed here: its recorded-output fake CLI, reached through SSH."""
    import os

    from espri_vre.jobs.torque import TorqueScheduler

    env = {k: os.environ[k] for k in ("PATH", "FAKE_TORQUE_DIR", "FAKE_TORQUE_FIXTURES")}
    t = SSHTransport(SSHSettings.from_settings(sshd.settings()), env=env)
    cluster = ClusterConfig.from_settings(
        {"id": "cpu", "kind": "torque", "transport": "ssh", "ssh": sshd.settings()}
    )
    root = tmp_path / "home"
    root.mkdir()
    (root / "run.sh").write_text("echo torque\n")
    sched = TorqueScheduler(cluster, JobStore(tmp_path / "store"), [root], transport=t)
    try:
        job = await sched.submit(
            JobSpec(kind=JobKind.SCRIPT, path=str(root / "run.sh"), name="viassh")
        )
        assert job.id.isdigit()  # '4499335.pbsserver' as qsub printed it, without the server
        assert fake_torque.jobs()[job.id]["name"] == "viassh"
        info = await sched.status(job.id)
        assert info.name == "viassh" and info.state in (JobState.PENDING, JobState.RUNNING)
        partitions = {p.name for p in await sched.partitions()}
        assert partitions == {"batch", "long"}
    finally:
        await t.close()
