"""Moab's `showstart` on a Torque cluster whose configuration says `moab: true`: when a job would
start, for the submission form (`showstart <procs>@<seconds>`, a resource request before anything
is submitted) and for the user's waiting jobs (`showstart <job id>`). Torque alone gives no
estimate; Moab, the scheduler many Torque sites run over it, computes one from its reservations.

showstart runs through the cluster's transport (locally or over SSH) like qsub and qstat, with
its own time-out, and its output is read by `parse_showstart`, which says what it could not read.
The layout is the one Moab's documentation prints (Administrator's Guide, "showstart"):

    job 12@3600 requires 12 procs for 1:00:00
    Earliest start in         00:01:39 on Wed Aug 31 16:30:45
    Earliest completion in     1:01:39 on Wed Aug 31 17:30:45
    Best Partition: 32Bit

A start is read from its relative duration ("in 00:01:39"), not its date: the date has neither a
year nor a time zone, the duration needs neither (it counts from when showstart answered)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..probe import short_error
from ..transport import Transport
from ..types import (
    CommandTimeout,
    JobInfo,
    JobState,
    SchedulerError,
    TransientSchedulerError,
    TransportError,
)
from ..validation import CheckedSpec, check_job_id

log = logging.getLogger(__name__)

SHOWSTART_TIMEOUT = 15.0
"""Seconds a showstart may take: Moab answers from its last scheduling iteration, at once when it
is well; a busy Moab server makes the form wait, not hang."""
PENDING_TTL = 60.0
"""Seconds a waiting job's estimate is kept: the panel lists jobs every few seconds, and one
showstart per waiting job each time would load Moab's server for an estimate that moves slowly."""
PENDING_MAX = 20
"""Waiting jobs asked about in one listing; the others show no estimate until a later one."""
PENDING_AT_ONCE = 4
"""showstart commands run at the same time for one listing."""

BASES = {"Rsv": "reservation", "Priority": "priority", "Historical": "historical"}
PREFERRED = ("reservation", "priority", "historical")
"""Which estimate to show when showstart prints several (-e all): Moab's default first."""

_REQUIRES = re.compile(r"job (?P<job>\S+) requires (?P<procs>\d+) procs? for (?P<for>\S+)")
_ESTIMATE = re.compile(
    r"(?:Estimated (?P<basis>Rsv|Priority|Historical) based|Earliest) "
    r"(?P<what>start|completion) in\s+(?P<in>\S+) on (?P<on>.+)"
)
_PARTITION = re.compile(r"Best Partition: (?P<partition>\S+)")


class MoabOutputError(SchedulerError):
    """showstart answered, but not in a form this parser reads: the estimate is unknown."""

    code = "moab-output"


@dataclass(frozen=True)
class ShowStart:
    """What showstart said of one job or resource request."""

    basis: str
    """'reservation' (Moab's default: "Estimated Rsv based", "Earliest"), 'priority' or
    'historical'."""
    start_in: int
    """Seconds from showstart's answer to the estimated start (0 or less: it could start now)."""
    completion_in: int | None = None
    job: str | None = None
    """The job or request as showstart names it ('orion.13762', '12@3600')."""
    procs: int | None = None
    duration: int | None = None
    """Seconds, as Moab counts the job's walltime."""
    partition: str | None = None
    """Moab's best partition for it."""

    def describe(self) -> str:
        """The estimate in the words of the form and the job's details."""
        where = f" in partition {self.partition}" if self.partition else ""
        asked = ""
        if self.procs is not None and self.duration is not None:
            asked = f" for {self.procs} cores during {format_duration(self.duration)}"
        return f"Moab's {self.basis}-based estimate{asked}{where}"


def parse_duration(text: str) -> int:
    """Seconds from Moab's [[[DD:]HH:]MM:]SS ('1:04:55', '1:15:31:22', '-00:01:00').

    Written here: Moab's form puts days before hours with a colon, which neither Slurm's
    D-HH:MM:SS (validation.parse_walltime) nor ISO 8601 durations read."""
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
    parts = digits.split(":")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        raise MoabOutputError(f"showstart printed {text!r} where a [[[DD:]HH:]MM:]SS duration is")
    seconds = 0
    for part, unit in zip(reversed(parts), (1, 60, 3600, 86400), strict=False):
        seconds += int(part) * unit
    return sign * seconds


def format_duration(seconds: int) -> str:
    """Moab's own [DD:]HH:MM:SS, as showstart's answers write it."""
    days, rest = divmod(int(seconds), 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}:{clock}" if days else clock


def parse_showstart(text: str) -> ShowStart:
    """The estimate of showstart's output; MoabOutputError saying what is wrong when it holds no
    start that can be read. Lines it does not know (notes, blank lines) are passed over, so that a
    Moab that adds a line is still read; a line that starts like an estimate must be one."""
    starts: dict[str, int] = {}
    completions: dict[str, int] = {}
    job = procs = duration = partition = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.upper().startswith("ERROR"):
            raise MoabOutputError(f"showstart said: {short_error(line).strip() or line}")
        if m := _REQUIRES.fullmatch(line):
            job, procs, duration = m["job"], int(m["procs"]), parse_duration(m["for"])
        elif m := _ESTIMATE.fullmatch(line):
            basis = BASES.get(m["basis"] or "Rsv", "reservation")
            seen = starts if m["what"] == "start" else completions
            seen.setdefault(basis, parse_duration(m["in"]))
        elif line.startswith(("Estimated ", "Earliest ")):
            raise MoabOutputError(f"showstart printed an estimate that cannot be read: {line!r}")
        elif m := _PARTITION.fullmatch(line):
            partition = m["partition"]
    basis = next((b for b in PREFERRED if b in starts), None)
    if basis is None:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "nothing")
        raise MoabOutputError(f"showstart printed no start estimate (it began with {first!r})")
    return ShowStart(
        basis=basis,
        start_in=starts[basis],
        completion_in=completions.get(basis),
        job=job,
        procs=procs,
        duration=duration,
        partition=partition,
    )


def request_argv(checked: CheckedSpec) -> list[str]:
    """showstart's argv for a job not yet submitted: its cores and walltime, `<procs>@<seconds>`.
    Both are numbers that validate_spec computed, so no word of the user reaches the command. The
    duration is always written, one second (Moab's own default) for a job without a walltime: a
    bare number is also how showstart is given a job id."""
    return ["showstart", f"{int(checked.cores)}@{int(checked.walltime or 1)}"]


def job_argv(job_id: str) -> list[str]:
    """showstart's argv for a submitted job; the id is checked as every id given to a command is,
    so that '-e all' or '$(reboot)' is refused, never run."""
    return ["showstart", check_job_id(job_id, "job_id")]


async def showstart(
    transport: Transport, argv: Sequence[str], *, timeout: float = SHOWSTART_TIMEOUT
) -> tuple[ShowStart, float]:
    """Runs showstart through the cluster's transport: its estimate and when it answered (seconds
    since the epoch, which `start_in` counts from). TransientSchedulerError when it did not answer
    in time or could not be run, SchedulerError when it refused, MoabOutputError when its output
    cannot be read."""
    try:
        ran = await transport.run(argv, timeout=timeout)
    except CommandTimeout as e:
        raise TransientSchedulerError(f"showstart did not answer within {e.timeout:g} s") from e
    except TransportError as e:
        raise TransientSchedulerError(f"showstart could not be run: {e}") from e
    answered = time.time()
    if not ran.ok:
        said = short_error(ran.stderr_text) or short_error(ran.stdout_text)
        raise SchedulerError(f"showstart failed: {said or f'exit status {ran.returncode}'}")
    return parse_showstart(ran.stdout_text), answered


class PendingStarts:
    """The expected start of a user's waiting Torque jobs, asked of Moab with showstart and kept
    PENDING_TTL seconds. A showstart that fails leaves the job without an estimate (the listing
    itself never fails for it) and is logged."""

    def __init__(self, transport: Transport, *, timeout: float = SHOWSTART_TIMEOUT) -> None:
        self.transport = transport
        self.timeout = timeout
        self._known: dict[str, tuple[float, float | None]] = {}

    async def fill(self, jobs: list[JobInfo], user: str) -> list[JobInfo]:
        """The jobs, each waiting job of `user` with Moab's expected start as its start_time."""
        now = time.monotonic()
        self._known = {k: v for k, v in self._known.items() if now - v[0] < PENDING_TTL}
        wanted = [
            j.id
            for j in jobs
            if j.state is JobState.PENDING
            and j.start_time is None
            and j.user in (None, user)
            and not j.id.endswith("[]")  # an array's summary: Moab knows its tasks
        ]
        asked = [i for i in wanted if i not in self._known][:PENDING_MAX]
        gate = asyncio.Semaphore(PENDING_AT_ONCE)

        async def ask(job_id: str) -> None:
            async with gate:
                self._known[job_id] = (time.monotonic(), await self._start(job_id))

        await asyncio.gather(*(ask(i) for i in asked))
        waiting = set(wanted)
        return [
            replace(j, start_time=self._known[j.id][1])
            if j.id in waiting and j.id in self._known
            else j
            for j in jobs
        ]

    async def _start(self, job_id: str) -> float | None:
        try:
            argv = job_argv(job_id)
            found, answered = await showstart(self.transport, argv, timeout=self.timeout)
        except (SchedulerError, ValueError) as e:
            log.warning("no Moab estimate for job %s: %s", job_id, e)
            return None
        return answered + found.start_in
