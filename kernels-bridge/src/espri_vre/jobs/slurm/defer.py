"""Slurm's deferred submission, for the schedules (`espri_vre.jobs.chain`): `sbatch --parsable
--begin=TIME`, the script on stdin, the firing's time in the job's environment (`--export=ALL,
ESPRI_VRE_DUE=...`), held with `--hold` when the schedule is paused."""

from __future__ import annotations

from ..chain import Deferral
from .parse import parse_sbatch_parsable

SLURM_DEFERRAL = Deferral(
    time_form="slurm",
    command=("sbatch", "--parsable"),
    at=lambda when, due: [f"--begin={when}", f"--export=ALL,ESPRI_VRE_DUE={due}"],
    held="--hold",
    read_id=lambda stdout: parse_sbatch_parsable(stdout)[0],
    directive="#SBATCH",
)
