"""Job e-mail delivered for real: jobs submitted with mail through the Slurm back end to the real
Slurm 22.05 of the `slurm` fixture, whose MailProg (scripts/slurm/mailprog.py, behind the wrapper
start.sh writes) hands slurmctld's message to an SMTP server this test starts (aiosmtpd on the
loopback); the test reads the messages that server received. And MailProg with no SMTP server
listening (the demo): it logs why and exits 0.

The Slurm is shared by the session: its MailProg is pointed at this test's server through
<state dir>/mail-relay, under a lock and for this test only."""

from __future__ import annotations

import fcntl
import socket
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from slurm_fixture import REPO_ROOT

from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.types import ClusterConfig, JobKind, JobMail, JobSpec, MailWhen

MAILPROG = REPO_ROOT / "scripts" / "slurm" / "mailprog.py"
ADDRESS = "ada.lovelace@climate-lab.example.org"


class Inbox:
    """aiosmtpd handler: keeps every message it is given, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def free_port() -> int:
    # aiosmtpd's Controller connects to its own port once started, so it needs the number
    # before it starts: the kernel's choice of a free one, released just before.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def slurm_mail_to(slurm: Any, smtp: tuple[Inbox, int]) -> Iterator[Inbox]:
    """The shared Slurm's MailProg delivers to this test's SMTP server until the test ends."""
    inbox, port = smtp
    relay = slurm.state_dir / "mail-relay"
    with (slurm.state_dir / "mail-relay.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        relay.write_text(f"127.0.0.1:{port}\n")
        try:
            yield inbox
        finally:
            relay.unlink(missing_ok=True)


@pytest.mark.anyio
async def test_the_real_slurm_mails_the_end_of_a_job_through_mailprog_to_smtp(
    slurm, slurm_mail_to, job_store, user_root, poll
):
    (user_root / "fine.sh").write_text("echo fine\n")
    (user_root / "broken.sh").write_text("exit 3\n")
    sched = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    mail = JobMail(ADDRESS, MailWhen.END)  # --mail-type=END,FAIL
    fine = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="fine.sh", mail=mail))
    broken = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="broken.sh", mail=mail))

    async def received() -> dict[str, EmailMessage]:
        """The messages for our two jobs, by job id (others' jobs may send mail too)."""
        return {
            job: message
            for rcpt, message in slurm_mail_to.messages
            for job in (fine.id, broken.id)
            if rcpt == [ADDRESS] and f"Job_id={job} " in message["Subject"]
        }

    mails = await poll(received, lambda got: len(got) == 2, timeout=60)
    subject = mails[fine.id]["Subject"]
    assert subject.startswith(f"Slurm Job_id={fine.id} Name=fine Ended, Run time ")
    assert subject.endswith(", COMPLETED, ExitCode 0")
    assert mails[broken.id]["Subject"].endswith(", FAILED, ExitCode 3")
    assert mails[fine.id]["To"] == ADDRESS
    body = mails[fine.id].get_content().splitlines()
    assert body[0] == subject
    assert {f"SLURM_JOB_ID={fine.id}", "SLURM_JOB_STATE=COMPLETED", "SLURM_JOB_NAME=fine"} <= set(
        body
    )
    assert "SLURM_JOB_STATE=FAILED" in mails[broken.id].get_content().splitlines()

    # MailProg logs the delivery after the SMTP session ends, a moment after the server has the
    # message: wait for the log lines too (CI once read the log in between).
    async def delivered() -> set[str]:
        log = slurm.state_dir / "mailprog.log"
        logged = log.read_text().splitlines() if log.exists() else []
        return {
            job
            for job in (fine.id, broken.id)
            if any(f"job {job}: delivered to {ADDRESS} via 127.0.0.1:" in line for line in logged)
        }

    assert await poll(delivered, lambda got: len(got) == 2, timeout=30) == {fine.id, broken.id}


def run_mailprog(state_dir: Path, *recipients: str) -> subprocess.CompletedProcess[str]:
    """MailProg as slurmctld runs it: `-s SUBJECT ADDRESS`, stdin closed, only SLURM_* set."""
    return subprocess.run(
        [sys.executable, str(MAILPROG), "--state-dir", str(state_dir), "-s", SUBJECT, *recipients],
        env={"SLURM_JOB_ID": "77", "SLURM_JOB_STATE": "COMPLETED"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SUBJECT = "Slurm Job_id=77 Name=demo Ended, Run time 00:00:01, COMPLETED, ExitCode 0"


def test_mailprog_with_no_smtp_server_listening_logs_why_and_exits_0(tmp_path):
    closed = free_port()  # nothing listens there any more
    (tmp_path / "mail-relay").write_text(f"127.0.0.1:{closed}\n")
    done = run_mailprog(tmp_path, ADDRESS)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (line,) = (tmp_path / "mailprog.log").read_text().splitlines()
    assert f"job 77: not delivered to {ADDRESS}: " in line
    assert "Connection refused" in line
    # A relay file that says nothing usable: logged the same way, never an error for Slurm.
    (tmp_path / "mail-relay").write_text("smtp.example.org\n")
    assert run_mailprog(tmp_path, ADDRESS).returncode == 0
    last = (tmp_path / "mailprog.log").read_text().splitlines()[-1]
    assert "mail-relay should say host:port, not 'smtp.example.org'" in last


def test_mailprog_delivers_to_every_recipient_it_is_given(tmp_path, smtp):
    inbox, port = smtp
    (tmp_path / "mail-relay").write_text(f"127.0.0.1:{port}\n")
    done = run_mailprog(tmp_path, ADDRESS, "grace@example.org")
    assert done.returncode == 0, done.stderr
    ((rcpt, message),) = inbox.messages
    assert rcpt == [ADDRESS, "grace@example.org"]
    assert message["Subject"] == SUBJECT
    assert message.get_content().splitlines() == [
        SUBJECT,
        "",
        "SLURM_JOB_ID=77",
        "SLURM_JOB_STATE=COMPLETED",
    ]
