"""Torque's deferred submission, for the schedules (`espri_vre.jobs.chain`): `qsub -a TIME`
([[CC]YY]MMDDhhmm[.SS], the job waits in state W until then), the script on stdin, the firing's
time in the job's environment (`-v ESPRI_VRE_DUE=...`), held with `-h` when the schedule is
paused."""

from __future__ import annotations

from ..chain import Deferral
from .parse import parse_qsub, short_job_id

TORQUE_DEFERRAL = Deferral(
    time_form="torque",
    command=("qsub",),
    at=lambda when, due: ["-a", when, "-v", f"ESPRI_VRE_DUE={due}"],
    held="-h",
    read_id=lambda stdout: short_job_id(parse_qsub(stdout)),
    directive="#PBS",
)
