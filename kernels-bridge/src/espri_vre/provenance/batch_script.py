"""The batch script of the job a kernel runs in, kept in the session record so that the crate of
a batch run holds the script that ran it (crate_job.py).

First the copy our server kept when it submitted the job (jobs/store.py: every back end keeps
the script it submitted with the job's record, in the user's data folder, which the compute
nodes share with the notebook server). That is the only way for Torque, which keeps a job's
script in the MOM's spool where its user cannot read it. The job's record is found by the ids
the scheduler sets in the job's environment, and used only when exactly one record matches.

For a Slurm job not submitted through us (sbatch in a terminal), Slurm gives the job's own
script back to its owner with `scontrol write batch_script <job id> -` (checked on Slurm 22.05:
the script as submitted, `--wrap` included). It is asked once, when recording starts; any
failure (no scontrol on the node, a slow controller) leaves the record without it, never the
kernel waiting longer than the timeout.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..jobs.store import MAX_SCRIPT_BYTES, JobRecord, submitted_scripts

TIMEOUT = 10.0
_JOB_ID = re.compile(r"[0-9]+(_[0-9]+)?")
_TORQUE_TASK = re.compile(r"\[[0-9]+\]")
"""'123[4].server', a task of array '123[].server' as qsub named it."""


def batch_script(
    environ: Mapping[str, str], store_dir: Path | None = None
) -> dict[str, Any] | None:
    """{scheduler, job_id, sha256, size, text, truncated} of the job's script, or None outside
    a job or when neither our record nor Slurm gives it. `store_dir`: the job store's folder
    (the user's by default)."""
    return _kept(environ, store_dir) or _from_scontrol(environ)


def _kept(environ: Mapping[str, str], store_dir: Path | None) -> dict[str, Any] | None:
    """The script our server submitted, from the record of the job the environment names."""
    if (job := environ.get("ESPRI_VRE_JOB_ID")) and (cluster := environ.get("ESPRI_VRE_CLUSTER")):
        scheduler, own_id = "local", job

        def matches(r: JobRecord) -> bool:
            return r.cluster == cluster and "script" in r.process

        lookup = job
    elif job := environ.get("SLURM_JOB_ID"):
        scheduler, own_id = "slurm", job
        # an array's tasks run under their own ids; sbatch answered the array's
        lookup = environ.get("SLURM_ARRAY_JOB_ID") or job
        name = environ.get("SLURM_JOB_NAME")

        def matches(r: JobRecord) -> bool:
            # not a Torque or local job of the same number, and the same job name
            return not ({"torque_id", "script"} & set(r.process)) and name in (None, r.info.name)

    elif job := environ.get("PBS_JOBID"):
        scheduler, own_id = "torque", job
        full = _TORQUE_TASK.sub("[]", job, count=1)
        lookup = full.split(".", 1)[0]

        def matches(r: JobRecord) -> bool:
            return r.process.get("torque_id") == full

    else:
        return None
    # A schedule's runs are recorded with the path of their script (jobs/schedules.py), not its
    # text: a batch script starts with '#!', as sbatch requires and as ours are all written.
    found = [
        r for r in submitted_scripts(lookup, store_dir) if matches(r) and r.script.startswith("#!")
    ]
    if len(found) != 1 or found[0].script_sha256 is None or found[0].script_size is None:
        return None  # none, or two clusters' jobs alike: never a script that may not be its own
    record = found[0]
    return {
        "scheduler": scheduler,
        "job_id": own_id,
        "sha256": record.script_sha256,
        "size": record.script_size,
        "text": record.script,
        "truncated": record.script_truncated,
    }


def _from_scontrol(environ: Mapping[str, str]) -> dict[str, Any] | None:
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
