"""Schedules on a batch scheduler (Slurm, Torque) as self-resubmitting jobs: the schedule is one
job waiting in the queue for its start time (`sbatch --begin`, `qsub -a`); when it starts, it
submits the same script again for the next time the cron expression fires, beside the notebook
or script it runs. The schedule therefore keeps firing while JupyterLab and this server are
closed, and the scheduler's queue is the truth of it: a waiting job of the schedule's name means
active, held means paused, none means the schedule is gone (cancelled outside the UI, or its last
resubmission failed).

Why not `scrontab`: Debian's slurm-client 22.05 ships no scrontab command (the controller
has the crontab RPCs, but no client reaches them), and Torque has no cron at all; one mechanism
serves both.

Each run appends to a small list of runs beside the script, on the cluster's file system:
`start JOB EPOCH`, `next OUTPUT WHEN` (the job it submitted, or `broken` when that failed) and,
from the shell's EXIT trap, `end JOB STATUS EPOCH`."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .cron import Cron, scheduler_time
from .probe import short_error
from .scheduler import CliScheduler
from .script import PreparedJob
from .types import JobInfo, JobSpec, JobState, SchedulerError, TransientSchedulerError
from .validation import check_resources

QUEUED = frozenset({JobState.PENDING, JobState.HELD, JobState.RUNNING})
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class Deferral:
    """How one batch scheduler submits a job that starts at a given time."""

    time_form: str
    """How `cron.scheduler_time` writes the start time for it ('slurm', 'torque')."""
    command: tuple[str, ...]
    """The submission command, reading the script on its stdin."""
    at: Callable[[str, str], list[str]]
    """The options that defer the start to a time (as the scheduler reads it) and give the job
    that firing's time in seconds (ESPRI_VRE_DUE), from which it counts the next one."""
    held: str
    """The option that submits held."""
    read_id: Callable[[str], str]
    """The new job's id (as the scheduler's list shows it) from what the command printed."""
    directive: str
    """The script's directive prefix ('#SBATCH', '#PBS')."""

    def argv(self, when: str, due: float, hold: bool) -> list[str]:
        return [*self.command, *self.at(when, str(int(due))), *([self.held] if hold else [])]


@dataclass(frozen=True)
class ChainRun:
    """One run of a schedule, from the list the runs write."""

    job_id: str
    started: float | None = None
    ended: float | None = None
    status: int | None = None


def chain_script(
    prepared: PreparedJob,
    deferral: Deferral,
    *,
    cron: str,
    zone: str,
    python: str,
    script_path: str,
    runs_path: str,
    job_id_variable: str,
) -> str:
    """The job's own script with the schedule's first step put after its directives: record
    the run, submit the next one while the work starts (the submission runs beside it, so that
    the work's first line is not late by a Python start and an sbatch call), then run the work.
    The work's last command is run, not `exec`'d, so that the EXIT trap records how it ended;
    the trap first waits for the submission, on every way out (a failed `cd` too): the job's
    end would otherwise kill it, and the schedule with it."""
    lines = prepared.script.rstrip("\n").split("\n")
    last = max(i for i, line in enumerate(lines) if line.startswith(deferral.directive))
    command = lines[-1].removeprefix("exec ")
    q = shlex.quote
    resubmit = " ".join(q(w) for w in deferral.command)
    at = " ".join(q(w) for w in deferral.at("@WHEN@", "@DUE@"))
    at = at.replace("@WHEN@", '"$espri_next"').replace("@DUE@", '"$espri_due"')
    step = [
        f"# espri-vre schedule: {q(cron)} in {zone}; each run submits the next one as it starts.",
        f"espri_runs={q(runs_path)}",
        f"espri_run={job_id_variable}",
        'echo "start $espri_run $(date +%s)" >> "$espri_runs"',
        f"{{ if espri_when=$({q(python)} -m espri_vre.jobs.cron next {q(cron)} {q(zone)}"
        f' {deferral.time_form} "${{ESPRI_VRE_DUE:-0}}") &&',
        "  espri_next=${espri_when% *} && espri_due=${espri_when#* } &&",
        f"  espri_new=$({resubmit} {at} < {q(script_path)}); then",
        '  echo "next $espri_new $espri_next" >> "$espri_runs"',
        "else",
        '  echo "broken $espri_run $(date +%s)" >> "$espri_runs"',
        "fi; } &",
        "espri_next_pid=$!",
        'trap \'espri_status=$?; wait "$espri_next_pid";'
        ' echo "end $espri_run $espri_status $(date +%s)" >> "$espri_runs"\' EXIT',
    ]
    return "\n".join([*lines[: last + 1], *step, *lines[last + 1 : -1], command]) + "\n"


def parse_runs(text: str) -> list[ChainRun]:
    """The runs written by a schedule's jobs, newest first; lines that cannot be read (a run
    cut while writing) are left out."""
    runs: dict[str, ChainRun] = {}
    for line in text.splitlines():
        words = line.split()
        try:
            if words[0] == "start" and len(words) == 3:
                runs[words[1]] = replace(
                    runs.get(words[1], ChainRun(words[1])), started=float(words[2])
                )
            elif words[0] == "end" and len(words) == 4:
                runs[words[1]] = replace(
                    runs.get(words[1], ChainRun(words[1])),
                    status=int(words[2]),
                    ended=float(words[3]),
                )
        except (IndexError, ValueError):
            continue
    return sorted(runs.values(), key=lambda r: r.started or 0, reverse=True)


class ChainDriver:
    """A schedule's life on one batch scheduler: install (write the script, submit the waiting
    job), find its jobs in the queue, pause (hold), resume (submit anew), remove (cancel)."""

    def __init__(self, scheduler: CliScheduler, deferral: Deferral) -> None:
        self.scheduler = scheduler
        self.deferral = deferral

    async def install(
        self, schedule_id: str, spec: JobSpec, cron: str, zone: str, paused: bool
    ) -> dict[str, Any]:
        """Writes the schedule's script and submits its first run for the next firing (held when
        `paused`); the files' paths and that job's id."""
        scheduler = self.scheduler
        prepared = scheduler.prepare(spec)
        check_resources(prepared.checked, scheduler.cluster.limits, await scheduler.partitions())
        folder = prepared.log_dir / "schedules"
        files = {
            "script": str(folder / f"{schedule_id}.sh"),
            "runs": str(folder / f"{schedule_id}.runs"),
        }
        script = chain_script(
            prepared,
            self.deferral,
            cron=cron,
            zone=zone,
            python=scheduler.cluster.python_command,
            script_path=files["script"],
            runs_path=files["runs"],
            job_id_variable=scheduler.job_id_variable,
        )
        await self._command(["mkdir", "-p", "--", str(folder)])
        await self._command(["tee", "--", files["script"]], script.encode())
        job_id = await self.submit(files["script"], script, cron, zone, paused)
        return {**files, "job": job_id}

    async def submit(self, path: str, script: str, cron: str, zone: str, paused: bool) -> str:
        due = Cron.parse(cron).next_after(time.time(), zone)
        argv = self.deferral.argv(scheduler_time(due, self.deferral.time_form), due, paused)
        ran = await self._command(argv, script.encode())
        try:
            return self.deferral.read_id(ran.stdout_text)
        except ValueError as e:
            raise SchedulerError(str(e)) from e

    async def queued(self, job_name: str, fresh: bool = True) -> list[JobInfo]:
        """The schedule's jobs the scheduler holds now (waiting, held, running), asked afresh
        unless `fresh` is False (a list of schedules asks once for all)."""
        if fresh:
            self.scheduler.invalidate()
        listing = await self.scheduler.list(mine=True)
        if listing.problem is not None:
            raise TransientSchedulerError(listing.problem)
        return [j for j in listing.jobs if j.name == job_name and j.state in QUEUED]

    async def pause(self, job_name: str) -> None:
        for job in await self.queued(job_name):
            if job.state is JobState.PENDING:
                await self.scheduler.hold(job.id)

    async def remove(self, job_name: str) -> None:
        """Cancels the schedule's waiting jobs; a run under way finishes."""
        for job in await self.queued(job_name):
            if job.state is not JobState.RUNNING:
                await self.scheduler.cancel(job.id)

    async def runs(self, runs_path: str) -> list[ChainRun]:
        if not runs_path:
            return []
        ran = await self.scheduler.transport.run(["cat", "--", runs_path], timeout=COMMAND_TIMEOUT)
        return parse_runs(ran.stdout_text) if ran.ok else []

    async def read_script(self, path: str) -> str:
        ran = await self._command(["cat", "--", path])
        return ran.stdout_text

    async def _command(self, argv: Sequence[str], input: bytes | None = None) -> Any:
        ran = await self.scheduler.transport.run(argv, timeout=COMMAND_TIMEOUT, input=input)
        if not ran.ok:
            said = short_error(ran.stderr_text) or f"{argv[0]} exited {ran.returncode}"
            raise SchedulerError(f"{Path(argv[0]).name}: {said}")
        return ran
