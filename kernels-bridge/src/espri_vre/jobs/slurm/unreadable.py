"""The jobs of a squeue answer that could not be read, and the listing's sentence about them:
one unexpected value in one row must not hide every user's jobs (docs/jobs.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

NAMED = 3
"""How many unreadable jobs the sentence names: the count says the rest."""


class BadRow(NamedTuple):
    """One job of a squeue answer that could not be read, left out of the jobs read."""

    job_id: str
    user: str | None
    why: str


def unreadable_problem(rows: Sequence[BadRow]) -> str | None:
    """'1 job of squeue's answer could not be read (job 123: time limit 'XYZ'); the others are
    shown'; None when every job was read."""
    if not rows:
        return None
    named = [f"job {r.job_id}: {r.why}" for r in rows[:NAMED]]
    if len(rows) > NAMED:
        named.append(f"and {len(rows) - NAMED} more")
    jobs = "1 job" if len(rows) == 1 else f"{len(rows)} jobs"
    return f"{jobs} of squeue's answer could not be read ({'; '.join(named)}); the others are shown"
