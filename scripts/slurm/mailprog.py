"""Slurm's MailProg for the one-node Slurm of the demo and the tests: delivers the e-mail that
slurmctld sends at a job's begin or end (`--mail-type`) to an SMTP server.

slurmctld runs MailProg as `mail -s SUBJECT ADDRESS` (the subject carries everything: 'Slurm
Job_id=42 Name=work Ended, Run time 00:00:01, COMPLETED, ExitCode 0'), with stdin, stdout and
stderr on /dev/null and an environment of its own that holds only SLURM_JOB_* variables (no PATH:
start.sh's wrapper, $ESPRI_SLURM_DIR/mailprog, sets one and calls this file with --state-dir).

Where the mail goes: the SMTP server named in <state dir>/mail-relay ('host:port', written by
whoever wants the mail, e.g. the delivery test with its own SMTP server), else the machine's
own mail server on localhost:25. Every delivery and every failure is one line of
<state dir>/mailprog.log; a failure (no server listening, as in the demo) exits 0 all the same, so
that slurmctld neither retries nor logs an error for a mail nobody can receive.

Only the standard library (smtplib, email): slurmctld runs this with the system's python3,
outside the project's virtual environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import smtplib
import socket
import sys
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

DEFAULT_RELAY = ("localhost", 25)
TIMEOUT = 10.0
"""Seconds for the whole delivery: slurmctld waits for MailProg in one of its few mail threads."""


def relay(state_dir: Path) -> tuple[str, int]:
    """The SMTP server to deliver to: <state dir>/mail-relay, else localhost:25."""
    try:
        text = (state_dir / "mail-relay").read_text().strip()
    except OSError:
        return DEFAULT_RELAY
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"mail-relay should say host:port, not {text!r}")
    return host, int(port)


def message(subject: str, recipients: list[str], env: dict[str, str]) -> EmailMessage:
    """The e-mail: Slurm's subject, and the job's SLURM_* variables as the body (job id, state,
    exit code, run time), which Slurm itself leaves empty."""
    # Lines up to RFC 5322's limit: the default folding of 78 moves Slurm's subject, made of
    # 'Job_id=42'-like words, whole onto a continuation line, which readers see as a leading blank.
    mail = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    mail["From"] = f"slurm@{socket.getfqdn()}"
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    lines = [subject, ""] + [f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("SLURM_")]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def log(state_dir: Path, text: str) -> None:
    # The log is the only trace MailProg can leave: its stderr is /dev/null. A log that cannot
    # be written is no reason to fail the mail either.
    with contextlib.suppress(OSError), (state_dir / "mailprog.log").open("a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {text}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Slurm's MailProg: deliver over SMTP")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("-s", dest="subject", default="Slurm")
    parser.add_argument("recipients", nargs="+")
    args = parser.parse_args(argv)
    job = os.environ.get("SLURM_JOB_ID", "?")
    try:
        host, port = relay(args.state_dir)
        mail = message(args.subject, args.recipients, dict(os.environ))
        with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:
            smtp.send_message(mail)
    except (OSError, ValueError, smtplib.SMTPException) as e:
        log(args.state_dir, f"job {job}: not delivered to {', '.join(args.recipients)}: {e}")
        return 0
    log(args.state_dir, f"job {job}: delivered to {', '.join(args.recipients)} via {host}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
