"""The batch script of the Slurm job a kernel runs in, kept in the session record so that the
crate of a batch run holds the script that ran it (crate_job.py).

Inside a job, Slurm gives the job's own script back to its owner with `scontrol write
batch_script <job id> -` (checked on Slurm 22.05: the script as submitted, `--wrap` included).
It is asked once, when recording starts, only when SLURM_JOB_ID is set; any failure (no
scontrol on the node, a slow controller) leaves the record without it, never the kernel waiting
longer than the timeout. Torque keeps a job's script in the MOM's spool, which its user cannot
read: a Torque job's crate links the job without its script.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

MAX_SCRIPT_BYTES = 1 << 20
"""A longer script is kept cut there (its hash and size are of the whole)."""
TIMEOUT = 10.0
_JOB_ID = re.compile(r"[0-9]+(_[0-9]+)?")


def batch_script(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """{scheduler, job_id, sha256, size, text, truncated} of the job's script, or None outside
    a Slurm job or when Slurm does not give it."""
    job = environ.get("SLURM_JOB_ID") or ""
    scontrol = shutil.which("scontrol", path=environ.get("PATH"))
    if not _JOB_ID.fullmatch(job) or scontrol is None:
        return None
    try:
        done = subprocess.run(
            [scontrol, "write", "batch_script", job, "-"],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout:
        return None
    data = done.stdout
    return {
        "scheduler": "slurm",
        "job_id": job,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "text": data[:MAX_SCRIPT_BYTES].decode("utf-8", "replace"),
        "truncated": len(data) > MAX_SCRIPT_BYTES,
    }
