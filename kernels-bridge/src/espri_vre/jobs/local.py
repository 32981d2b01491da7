"""The embedded back end: jobs run as processes on this server, for the demo and for users with no
cluster. Same interface as Slurm's; its queue is the JobStore itself.

A job waits (PENDING) while `max_running` jobs run or while a job it depends on has not
completed, and can be held and released meanwhile. Each job that starts gets a small supervisor
process (`python -m espri_vre.jobs.local DATA_DIR CLUSTER JOB_ID`, in its own session) that runs
the batch script with bash, writes its stdout and stderr to the log files, stops it at its
walltime, and records its end in the store. Jobs therefore outlive a restart of the server, and
the state of a job whose supervisor vanished (the machine rebooted) is FAILED, with that reason,
rather than RUNNING forever.

There is no scheduling loop: the queue moves on each call (submit, list, status...), and the UI
polls."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from .scheduler import Scheduler
from .script import JOB_ID_PLACEHOLDER, PreparedJob, expand_job_paths
from .store import JobRecord, JobStore
from .types import (
    JobInfo,
    JobListing,
    JobNotFound,
    JobState,
    JobValidationError,
    Partition,
    SchedulerError,
)
from .validation import CheckedSpec, check_resources

KILL_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL when a job is cancelled or passes its walltime."""
POLL = 0.2
STARTING_GRACE = 60.0
"""Seconds a job may stay claimed without a supervisor before it counts as never started."""
PARTITION = "local"


class LocalScheduler(Scheduler):
    kind = "local"
    job_id_variable = '"${ESPRI_VRE_JOB_ID}"'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_running = self.cluster.max_running or _cpu_count()
        self.jobs_dir = self.store.data_dir / "local-jobs" / self.cluster.id
        self._supervisors: dict[str, subprocess.Popen[bytes]] = {}

    def log_patterns(self, checked: CheckedSpec, log_dir: Path) -> tuple[str, str]:
        stem = f"{log_dir}/{checked.name}-{JOB_ID_PLACEHOLDER}"
        return f"{stem}.out", f"{stem}.err"

    async def submit_prepared(self, prepared: PreparedJob) -> JobInfo:
        checked = prepared.checked
        if checked.spec.array:
            raise JobValidationError(
                "the local back end runs no job arrays: submit the array to a cluster", "array"
            )
        check_resources(checked, self.cluster.limits, await self.partitions())
        for dep in checked.spec.afterok:
            if self.store.get(self.cluster.id, dep) is None:
                raise JobValidationError(f"there is no job {dep} to wait for", "afterok")
        job_id = str(self.store.next_id(f"local:{self.cluster.id}"))
        paths = expand_job_paths(prepared, job_id)
        script_path = self.jobs_dir / f"{job_id}.sh"

        def write() -> None:
            prepared.log_dir.mkdir(parents=True, exist_ok=True)
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            script_path.write_text(prepared.script)

        try:
            await asyncio.to_thread(write)
        except OSError as e:
            raise SchedulerError(f"cannot write the job's files: {e}") from e
        state = JobState.HELD if checked.spec.hold else JobState.PENDING
        info = JobInfo(
            id=job_id,
            name=checked.name,
            state=state,
            raw_state=state.value,
            reason="JobHeldUser" if checked.spec.hold else None,
            cluster=self.cluster.id,
            user=self.cluster.user_name,
            partition=PARTITION,
            cpus=checked.cores,
            memory=f"{checked.memory_mb}M" if checked.memory_mb else None,
            submit_time=time.time(),
            time_limit=checked.walltime,
            dependency=",".join(f"afterok:{d}" for d in checked.spec.afterok) or None,
            working_dir=str(checked.working_dir),
            **paths,
        )
        self.store.add(
            self.cluster.id,
            info,
            checked.spec,
            prepared.script,
            process={"script": str(script_path)},
        )
        await self._advance()
        return await self.status(job_id)

    async def list(
        self, *, mine: bool = True, states: Collection[JobState] | None = None
    ) -> JobListing:
        await self._advance()
        jobs = [r.info for r in self.store.list(self.cluster.id, states)]
        return JobListing(jobs)

    async def status(self, job_id: str) -> JobInfo:
        await self._advance()
        return self._record(job_id).info

    async def cancel(self, job_id: str) -> None:
        record = self._record(job_id)
        if record.info.finished:
            return
        self.store.request_cancel(self.cluster.id, job_id)
        for waiting in (JobState.PENDING, JobState.HELD):
            cancelled = _ended(record.info, JobState.CANCELLED, "cancelled before it started")
            if self.store.update_info(self.cluster.id, job_id, cancelled, only_from=waiting):
                return
        # Running: the supervisor stops the job's processes and records CANCELLED. A job still
        # starting is stopped by its supervisor, which reads cancel_requested before it starts.
        record = self._record(job_id)
        pid = _live_supervisor(record)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    async def hold(self, job_id: str) -> None:
        record = self._record(job_id)
        held = replace(record.info, state=JobState.HELD, raw_state="HELD", reason="JobHeldUser")
        if record.state is JobState.HELD:
            return
        if not self.store.update_info(self.cluster.id, job_id, held, only_from=JobState.PENDING):
            state = self._record(job_id).state.value.lower()
            raise SchedulerError(f"job {job_id} is {state}: only a pending job can be held")

    async def release(self, job_id: str) -> None:
        record = self._record(job_id)
        pending = replace(record.info, state=JobState.PENDING, raw_state="PENDING", reason=None)
        if not self.store.update_info(self.cluster.id, job_id, pending, only_from=JobState.HELD):
            state = self._record(job_id).state.value.lower()
            raise SchedulerError(f"job {job_id} is {state}, not held")
        await self._advance()

    async def partitions(self) -> list[Partition]:
        cpus = _cpu_count()
        return [
            Partition(
                name=PARTITION,
                default=True,
                nodes=1,
                cpus=cpus,
                max_cpus_per_node=cpus,
                max_memory=_memory_mb(),
                max_nodes=1,
            )
        ]

    def _record(self, job_id: str) -> JobRecord:
        record = self.store.get(self.cluster.id, job_id)
        if record is None:
            raise JobNotFound(job_id, self.cluster.id)
        return record

    async def _advance(self) -> None:
        await asyncio.to_thread(self._advance_sync)

    def _advance_sync(self) -> None:
        """Moves the queue: notices supervisors that vanished, starts what may start."""
        for job_id, proc in list(self._supervisors.items()):
            if proc.poll() is not None:
                del self._supervisors[job_id]
        live = self.store.list(self.cluster.id, {JobState.PENDING, JobState.RUNNING})
        running = 0
        for record in live:
            if record.state is not JobState.RUNNING:
                continue
            starting = record.process.get("supervisor_pid") is None
            if _live_supervisor(record) or (
                starting and time.time() - record.updated_at < STARTING_GRACE
            ):
                running += 1
                continue
            why = (
                "it was never started (the server stopped while starting it)"
                if starting
                else "its process ended without reporting how"
            )
            lost = _ended(record.info, JobState.FAILED, why)
            self.store.update_info(self.cluster.id, record.job_id, lost, only_from=JobState.RUNNING)
        for record in sorted(
            (r for r in live if r.state is JobState.PENDING), key=lambda r: r.submitted_at
        ):
            waiting_for = self._dependencies(record)
            if waiting_for is not None:
                self._set_reason(record, waiting_for)
                continue
            if running >= self.max_running:
                self._set_reason(record, "Resources")
                continue
            if self._start(record):
                running += 1

    def _dependencies(self, record: JobRecord) -> str | None:
        """None when the job may start; else why it waits. A dependency that ended other than
        COMPLETED cancels the job (Slurm would keep it pending forever)."""
        for dep in record.spec.afterok:
            other = self.store.get(self.cluster.id, dep)
            dep_state = other.state if other is not None else JobState.UNKNOWN
            if dep_state is JobState.COMPLETED:
                continue
            if dep_state.finished or other is None:
                why = f"DependencyNeverSatisfied: job {dep} ended {dep_state.value}"
                cancelled = _ended(record.info, JobState.CANCELLED, why)
                self.store.update_info(
                    self.cluster.id, record.job_id, cancelled, only_from=JobState.PENDING
                )
                return why
            return "Dependency"
        return None

    def _set_reason(self, record: JobRecord, reason: str) -> None:
        if record.info.reason != reason and record.state is JobState.PENDING:
            waiting = replace(record.info, reason=reason)
            self.store.update_info(
                self.cluster.id, record.job_id, waiting, only_from=JobState.PENDING
            )

    def _start(self, record: JobRecord) -> bool:
        starting = replace(
            record.info, state=JobState.RUNNING, raw_state="RUNNING", reason="starting"
        )
        if not self.store.update_info(
            self.cluster.id, record.job_id, starting, only_from=JobState.PENDING
        ):
            return False  # another server started it, or it was held or cancelled meanwhile
        package_parent = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        argv = [
            sys.executable,
            "-m",
            "espri_vre.jobs.local",
            str(self.store.data_dir),
            self.cluster.id,
            record.job_id,
        ]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as e:
            failed = _ended(starting, JobState.FAILED, f"could not start: {e}")
            self.store.update_info(self.cluster.id, record.job_id, failed)
            return False
        self._supervisors[record.job_id] = proc
        self.store.update_process(
            self.cluster.id,
            record.job_id,
            supervisor_pid=proc.pid,
            supervisor_start=_process_start(proc.pid),
        )
        return True


def _ended(info: JobInfo, state: JobState, reason: str | None, **values: Any) -> JobInfo:
    return replace(
        info, state=state, raw_state=state.value, reason=reason, end_time=time.time(), **values
    )


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), which tells
    a reused pid from the original; None when there is no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def _live_supervisor(record: JobRecord) -> int | None:
    pid = record.process.get("supervisor_pid")
    if pid is None:
        return None
    started = _process_start(int(pid))
    if started is None or started != record.process.get("supervisor_start"):
        return None
    return int(pid)


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _memory_mb() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


# The supervisor: one process per running job, started by LocalScheduler._start.


def supervise(data_dir: str, cluster: str, job_id: str) -> int:
    store = JobStore(data_dir)
    record = store.get(cluster, job_id)
    if record is None or record.state is not JobState.RUNNING:
        return 1
    info = record.info
    if record.cancel_requested:
        cancelled = _ended(info, JobState.CANCELLED, "cancelled before it started")
        store.update_info(cluster, job_id, cancelled, only_from=JobState.RUNNING)
        return 0
    stop = {"cancelled": False}

    def on_term(signum: int, frame: Any) -> None:
        stop["cancelled"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    env = {**os.environ, "ESPRI_VRE_JOB_ID": job_id, "ESPRI_VRE_CLUSTER": cluster}
    started = time.time()
    try:
        with (
            open(info.stdout_path or os.devnull, "ab") as out,
            open(info.stderr_path or os.devnull, "ab") as err,
        ):
            proc = subprocess.Popen(
                ["/bin/bash", record.process["script"]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=info.working_dir,
                env=env,
                start_new_session=True,
            )
    except OSError as e:
        failed = _ended(info, JobState.FAILED, f"could not start: {e}")
        store.update_info(cluster, job_id, failed, only_from=JobState.RUNNING)
        return 1
    running = replace(
        info,
        state=JobState.RUNNING,
        raw_state="RUNNING",
        reason=None,
        start_time=started,
        nodes=socket.gethostname(),
        node_count=1,
    )
    store.update_info(cluster, job_id, running, only_from=JobState.RUNNING)
    store.update_process(cluster, job_id, pgid=proc.pid)
    deadline = started + info.time_limit if info.time_limit else None
    stopping_since: float | None = None
    timed_out = False
    while proc.poll() is None:
        now = time.time()
        if stopping_since is None and (stop["cancelled"] or (deadline and now >= deadline)):
            timed_out = not stop["cancelled"]
            stopping_since = now
            _signal_group(proc.pid, signal.SIGTERM)
        elif stopping_since is not None and now - stopping_since > KILL_GRACE:
            _signal_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=POLL)
    # What the script left running in the background goes with it, as under a batch scheduler.
    _signal_group(proc.pid, signal.SIGKILL)
    code = proc.returncode
    exit_code, sig = (code, None) if code >= 0 else (None, -code)
    latest = store.get(cluster, job_id)
    if stop["cancelled"] or (latest is not None and latest.cancel_requested):
        state, reason = JobState.CANCELLED, "cancelled"
    elif timed_out:
        state, reason = JobState.TIMEOUT, "it ran past its walltime"
    elif code == 0:
        state, reason = JobState.COMPLETED, None
    elif sig is not None:
        state, reason = JobState.FAILED, f"killed by signal {sig}"
    else:
        state, reason = JobState.FAILED, "NonZeroExitCode"
    final = _ended(running, state, reason, exit_code=exit_code, signal=sig)
    store.update_info(cluster, job_id, final, only_from=JobState.RUNNING)
    return 0


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m espri_vre.jobs.local DATA_DIR CLUSTER JOB_ID")
    sys.exit(supervise(*sys.argv[1:]))
