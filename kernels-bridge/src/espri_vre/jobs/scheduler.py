"""The one interface of the job back ends (Slurm, Torque, local processes): `Scheduler`, and
`CliScheduler`, the base of the back ends driven by their command-line tools through a transport.

A scheduler prepares a job (`prepare`: the checked spec, its options and its batch script), shows
what it would submit (`preview`, `preview_submission`) and submits it; each back end writes its own
options, directives and submission command, in one place. A scheduler that cannot answer for a
moment ("Socket timed out on send/recv operation") makes a job UNKNOWN, never finished: see
`TransientSchedulerError` and `retry_transient`."""

from __future__ import annotations

import asyncio
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .logs import read_log
from .probe import short_error
from .script import JOB_ID_PLACEHOLDER, PreparedJob, expand_job_paths, render_script
from .store import JobRecord, JobStore
from .transport import CommandResult, LocalTransport, Transport
from .types import (
    DEFAULT_LOG_LIMIT,
    LOG_DIR_NAME,
    ClusterConfig,
    JobInfo,
    JobKind,
    JobListing,
    JobSpec,
    JobState,
    LogChunk,
    LogOutsideRoots,
    NotYourJob,
    Partition,
    SchedulerError,
    Stream,
    TransientSchedulerError,
    TransportError,
)
from .validation import CheckedSpec, check_resources, validate_spec

Options = list[tuple[str, str | None]]
"""A scheduler's options as (flag, value) pairs: ('--partition', 'gpu'), ('-h', None)."""

QUERY_TIMEOUT = 30.0
SUBMIT_TIMEOUT = 60.0

T = TypeVar("T")

RETRY_DELAYS = (0.3, 1.0)
"""Seconds between attempts at a read-only scheduler query (three attempts in all)."""
RETRY_WHEN_FAILED_WITHIN = 1.0
"""A failure slower than this is not tried again: the scheduler's client already retried for
that long (squeue gives up on a stopped slurmctld after about 9 s of its own retries), and a
second and third wait would only delay saying so (issue 19's fault tests)."""


async def retry_transient(
    call: Callable[[], Awaitable[T]], delays: Sequence[float] | None = None
) -> T:
    """Runs a read-only query again after a TransientSchedulerError, then gives up with the last
    error. Never used for submissions, which must not run twice."""
    loop = asyncio.get_running_loop()
    for delay in RETRY_DELAYS if delays is None else delays:
        started = loop.time()
        try:
            return await call()
        except TransientSchedulerError:
            if loop.time() - started > RETRY_WHEN_FAILED_WITHIN:
                raise
            await asyncio.sleep(delay)
    return await call()


def unknown(info: JobInfo, why: str) -> JobInfo:
    """The job as last seen, but UNKNOWN unless that was final: what is shown of a job when the
    scheduler is silent, or has forgotten a job whose end was not seen."""
    if info.finished:
        return info
    return replace(info, state=JobState.UNKNOWN, reason=why)


class Scheduler(ABC):
    """Submit, follow and control jobs on one cluster.

    Every method is a coroutine and raises SchedulerError (TransientSchedulerError when the
    scheduler did not answer, JobNotFound for an id it does not know); submission raises
    JobValidationError for a spec it refuses before running anything. Jobs submitted
    here are recorded in the JobStore, so that their history survives a restart of the server and
    a scheduler that forgets finished jobs."""

    kind: str
    job_id_variable: ClassVar[str]
    """Shell expression of the job's id inside its batch script (the output notebook's name)."""

    def __init__(
        self,
        cluster: ClusterConfig,
        store: JobStore,
        roots: Sequence[str | os.PathLike[str]],
        *,
        transport: Transport | None = None,
    ) -> None:
        self.cluster = cluster
        self.store = store
        self.roots = tuple(Path(r) for r in roots)
        """Directories the user's files may be in (the server root, the data roots)."""
        self.transport: Transport = transport if transport is not None else LocalTransport()
        self.known_mail_refusal: str | None = cluster.mail_refusal
        """Why jobs may not ask for e-mail here, as `mail_refusal` last found (None: they may);
        what `prepare` checks."""

    def prepare(self, spec: JobSpec) -> PreparedJob:
        """Validates the spec (with the cluster's defaults filled in) and writes its script."""
        checked = validate_spec(
            spec.with_defaults(self.cluster.defaults),
            self.roots,
            mail_refusal=self.known_mail_refusal,
        )
        log_dir = checked.working_dir / LOG_DIR_NAME
        stdout, stderr = self.log_patterns(checked, log_dir)
        options = self.options(checked, stdout, stderr)
        output = None
        if checked.spec.kind is JobKind.NOTEBOOK:
            output = str(checked.path.parent / f"{checked.name}-{JOB_ID_PLACEHOLDER}.ipynb")
        directives = self.directives(options)
        script = render_script(checked, self.cluster, directives, output, self.job_id_variable)
        return PreparedJob(
            checked=checked,
            options=tuple(options),
            script=script,
            log_dir=log_dir,
            stdout=stdout,
            stderr=stderr,
            output_notebook=output,
        )

    @abstractmethod
    def log_patterns(self, checked: CheckedSpec, log_dir: Path) -> tuple[str, str]:
        """The job's stdout and stderr paths as the scheduler reads them."""

    def options(self, checked: CheckedSpec, stdout: str, stderr: str) -> Options:
        """The scheduler options of the job; none for a back end without a scheduler."""
        return []

    def directives(self, options: Options) -> list[str]:
        """The options as batch script lines (`#SBATCH ...`)."""
        return []

    def submission_argv(self, prepared: PreparedJob) -> list[str]:
        """The command `submit` runs, the script going to its stdin; none for the local back
        end, which runs no scheduler command."""
        return []

    def preview(self, spec: JobSpec) -> str:
        """The batch script `submit` would send; raises JobValidationError as `submit` would."""
        return self.prepare(spec).script

    async def mail_refusal(self) -> str | None:
        """Why jobs may not ask for e-mail here (None when they may): the configuration's word;
        a back end may ask its scheduler too. Kept for `prepare`."""
        return self.known_mail_refusal

    async def preview_submission(self, spec: JobSpec) -> tuple[str, list[str]]:
        """The script and the command a submission would run, nothing submitted. Resources are
        checked as `submit` checks them, against the partitions when the scheduler answers."""
        if spec.mail is not None:
            await self.mail_refusal()
        prepared = self.prepare(spec)
        try:
            partitions: list[Partition] | None = await self.partitions()
        except SchedulerError:
            # The preview still shows the script; submission checks the partition again.
            partitions = None
        check_resources(prepared.checked, self.cluster.limits, partitions)
        return prepared.script, self.submission_argv(prepared)

    async def submit(self, spec: JobSpec) -> JobInfo:
        """Validates, checks resources against the cluster's limits, submits, records."""
        if spec.mail is not None:
            await self.mail_refusal()
        return await self.submit_prepared(self.prepare(spec))

    @abstractmethod
    async def submit_prepared(self, prepared: PreparedJob) -> JobInfo:
        """`submit` of a job already prepared, whose script a caller may have completed (a
        pipeline step that reads another step's values when it starts)."""

    def invalidate(self) -> None:  # noqa: B027 - most back ends keep no snapshot
        """Forget any shared snapshot of the queue: the next list asks the scheduler."""

    @abstractmethod
    async def list(
        self, *, mine: bool = True, states: Collection[JobState] | None = None
    ) -> JobListing:
        """The cluster's jobs (the user's only when `mine`), with the recorded jobs the scheduler
        has forgotten, filtered by normalised state."""

    @abstractmethod
    async def status(self, job_id: str) -> JobInfo:
        """One job; UNKNOWN (not an error) when the scheduler does not answer."""

    @abstractmethod
    async def cancel(self, job_id: str) -> None: ...

    @abstractmethod
    async def hold(self, job_id: str) -> None: ...

    @abstractmethod
    async def release(self, job_id: str) -> None: ...

    @abstractmethod
    async def partitions(self) -> list[Partition]:
        """Partitions or queues with their limits and GPUs."""

    async def logs(
        self,
        job_id: str,
        stream: Stream = "stdout",
        offset: int = 0,
        limit: int = DEFAULT_LOG_LIMIT,
    ) -> LogChunk:
        """A job's stdout or stderr from byte `offset`, at most `limit` bytes."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be stdout or stderr, not {stream!r}")
        record = self.store.get(self.cluster.id, job_id)
        info = record.info if record is not None else None
        if info is None or (info.stdout_path is None and info.stderr_path is None):
            info = await self.status(job_id)
        self.check_owner(job_id, info)
        path = info.stdout_path if stream == "stdout" else info.stderr_path
        if path:
            self.check_log_path(job_id, path)
        return await read_log(self.transport, stream, path, offset, limit)

    def check_owner(self, job_id: str, info: JobInfo) -> None:
        """NotYourJob when the scheduler names another owner than the account this server's
        jobs run as: a server running as root must not act for every user."""
        user = self.cluster.user_name
        if info.user is not None and info.user != user:
            raise NotYourJob(self.cluster.id, job_id, info.user, user)

    def check_log_path(self, job_id: str, path: str) -> None:
        """LogOutsideRoots unless the log is inside the server's root or a data root. On this
        server the real path is compared (a symlink does not lead out); a login node's files
        are not ours to resolve, so its path is compared as written, made normal."""
        local = isinstance(self.transport, LocalTransport)
        where = os.path.realpath(path) if local else os.path.normpath(path)
        for root in self.roots:
            top = os.path.realpath(root) if local else os.path.normpath(root)
            if os.path.isabs(where) and os.path.commonpath([top, where]) == top:
                return
        raise LogOutsideRoots(job_id, path)

    def merge_recorded(
        self,
        seen: Mapping[str, JobInfo],
        states: Collection[JobState] | None,
        *,
        forgotten: Callable[[JobRecord], JobInfo] | None = None,
        records: Sequence[JobRecord] | None = None,
    ) -> list[JobInfo]:
        """The scheduler's jobs completed with what the store knows (output notebook, paths),
        the store updated with what the scheduler says, and the recorded jobs the scheduler no
        longer lists added with their last known state. `records`: the cluster's records, when
        the caller has just read them."""
        if records is None:
            records = self.store.list(self.cluster.id)
        # The records are few and the scheduler's jobs many (10,000 queued tasks): the loop runs
        # over the records, the jobs are copied whole.
        merged = dict(seen)
        gone: list[JobInfo] = []
        for record in records:
            info = merged.get(record.job_id)
            if info is None:
                gone.append(forgotten(record) if forgotten else record.info)
                continue
            info = complete_from_record(info, record)
            if info != record.info:  # a refresh writes only what changed
                self.store.update_info(self.cluster.id, record.job_id, info)
            merged[record.job_id] = info
        jobs = [*merged.values(), *gone]
        if states is None:
            return jobs
        return [j for j in jobs if j.state in states]


class CliScheduler(Scheduler):
    """A back end driven by its command-line tools (sbatch, squeue...; qsub, qstat...) through
    the cluster's transport: the commands run here or on a login node, and a transport that
    fails or a scheduler that says it is unreachable raises TransientSchedulerError."""

    submit_command: ClassVar[tuple[str, ...]]
    """The submission command before its options: ('sbatch', '--parsable'), ('qsub',)."""
    title: ClassVar[str]
    """The scheduler's name in what the user reads: 'Slurm did not answer: ...'."""

    @abstractmethod
    def is_transient(self, said: str) -> bool:
        """Whether the scheduler's words say it did not answer (time-out, unreachable)."""

    @abstractmethod
    def option_argv(self, options: Options) -> list[str]:
        """The options as argv words of the submission command."""

    @abstractmethod
    def submitted(
        self, prepared: PreparedJob, stdout: str
    ) -> tuple[JobInfo, Mapping[str, Any] | None]:
        """The new job, from what the submission command printed, and the bookkeeping to record
        with it."""

    def submission_argv(self, prepared: PreparedJob) -> list[str]:
        return [*self.submit_command, *self.option_argv(list(prepared.options))]

    async def _run(
        self, argv: Sequence[str], *, timeout: float = QUERY_TIMEOUT, input: bytes | None = None
    ) -> CommandResult:
        try:
            return await self.transport.run(argv, timeout=timeout, input=input)
        except TransportError as e:
            raise TransientSchedulerError(f"{argv[0]}: {e}") from e

    async def _query(self, argv: Sequence[str]) -> CommandResult:
        """A read-only command: its transient failures raise TransientSchedulerError."""
        ran = await self._run(argv)
        if not ran.ok and self.is_transient(ran.stderr_text + ran.stdout_text):
            raise TransientSchedulerError(short_error(ran.stderr_text) or "no answer")
        return ran

    def _silent_listing(
        self, error: TransientSchedulerError, states: Collection[JobState] | None
    ) -> JobListing:
        """The recorded jobs, the unfinished ones UNKNOWN, when the scheduler did not answer."""
        why = f"{self.title} did not answer: {error}"
        recorded = [unknown(r.info, why) for r in self.store.list(self.cluster.id)]
        return JobListing([j for j in recorded if states is None or j.state in states], problem=why)

    def _silent_status(
        self, error: TransientSchedulerError, job_id: str, record: JobRecord | None
    ) -> JobInfo:
        """The job as last recorded, UNKNOWN unless that was final, when the scheduler did not
        answer."""
        why = f"{self.title} did not answer: {error}"
        if record is not None:
            return unknown(record.info, why)
        return JobInfo(job_id, "", JobState.UNKNOWN, "", reason=why, cluster=self.cluster.id)

    def _failure(self, command: str, ran: CommandResult) -> SchedulerError:
        """The error of a command that failed: transient when the scheduler says so."""
        said = short_error(ran.stderr_text) or f"{command} failed with exit code {ran.returncode}"
        if self.is_transient(ran.stderr_text):
            return TransientSchedulerError(said)
        return SchedulerError(said)

    async def submit_prepared(self, prepared: PreparedJob) -> JobInfo:
        self.invalidate()
        check_resources(prepared.checked, self.cluster.limits, await self.partitions())
        mkdir = await self._run(["mkdir", "-p", "--", str(prepared.log_dir)])
        if not mkdir.ok:
            said = short_error(mkdir.stderr_text)
            raise SchedulerError(f"cannot create {prepared.log_dir}: {said}")
        argv = self.submission_argv(prepared)
        try:
            ran = await self.transport.run(
                argv, timeout=SUBMIT_TIMEOUT, input=prepared.script.encode()
            )
        except TransportError as e:
            raise TransientSchedulerError(
                f"{argv[0]} did not finish ({e}): the job may have been submitted, look at the list"
            ) from e
        if not ran.ok:
            raise self._failure(argv[0], ran)
        info, process = self.submitted(prepared, ran.stdout_text)
        self.store.add(self.cluster.id, info, prepared.spec, prepared.script, process=process)
        return info

    def new_job(
        self, prepared: PreparedJob, job_id: str, paths_id: str, raw_state: str, **values: Any
    ) -> JobInfo:
        """The record of a job just submitted; `paths_id` is the id the scheduler expands in the
        log paths (Torque's full id)."""
        checked = prepared.checked
        return JobInfo(
            id=job_id,
            name=checked.name,
            state=JobState.HELD if checked.spec.hold else JobState.PENDING,
            raw_state=raw_state,
            cluster=self.cluster.id,
            user=self.cluster.user_name,
            partition=checked.spec.partition,
            submit_time=time.time(),
            time_limit=checked.walltime,
            gpus=checked.gpus * checked.nodes,
            dependency=",".join(checked.spec.afterok) or None,
            working_dir=str(checked.working_dir),
            **values,
            **expand_job_paths(prepared, paths_id),
        )


def complete_from_record(info: JobInfo, record: JobRecord) -> JobInfo:
    """Fills what the scheduler does not say (or says unexpanded, like Slurm's '%j') from the
    record made at submission; a CANCELLED asked for here stays CANCELLED."""
    updates: dict[str, Any] = {}
    for name in ("stdout_path", "stderr_path", "output_notebook", "working_dir"):
        mine, theirs = getattr(record.info, name), getattr(info, name)
        if mine and (not theirs or "%" in theirs):
            updates[name] = mine
    if record.cancel_requested and info.state is JobState.FAILED and info.signal:
        updates["state"] = JobState.CANCELLED
    # A list form without exit codes (Slurm's `squeue -O`): the one read by `status` stays.
    if (
        info.finished
        and info.exit_code is None
        and record.info.state is info.state
        and record.info.exit_code is not None
    ):
        updates["exit_code"] = record.info.exit_code
        updates["signal"] = record.info.signal
    return replace(info, **updates) if updates else info


def array_summary(parent: JobInfo, tasks: Sequence[JobInfo]) -> JobInfo:
    """One state for a whole array from its tasks: running while one runs or waits, COMPLETED
    when all completed, else the first final state that is not COMPLETED."""
    states = [t.state for t in tasks]
    if any(not s.finished for s in states):
        live = next(s for s in states if not s.finished)
        return replace(parent, state=live, raw_state=live.value, reason="array in progress")
    bad = next((s for s in states if s is not JobState.COMPLETED), None)
    state = bad or JobState.COMPLETED
    return replace(
        parent,
        state=state,
        raw_state=state.value,
        reason=f"{sum(s is JobState.COMPLETED for s in states)} of {len(states)} tasks completed",
        end_time=max((t.end_time or 0 for t in tasks), default=None) or None,
    )
