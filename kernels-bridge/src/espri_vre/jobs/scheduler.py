"""The one interface of the job back ends (Slurm, Torque, local processes) and the records they
exchange: what to run (`JobSpec`), what the scheduler says of a job (`JobInfo`), where jobs can go
(`Partition`), and a piece of a job's log (`LogChunk`).

Nothing here runs a command; the back ends do (slurm.py, torque.py, local.py). A scheduler that
cannot answer for a moment ("Socket timed out on send/recv operation") makes a job UNKNOWN, never
finished: see `TransientSchedulerError` and `retry_transient`."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .transport import LocalTransport, Transport, TransportError

if TYPE_CHECKING:
    from .store import JobRecord, JobStore

Stream = Literal["stdout", "stderr"]

LOG_DIR_NAME = ".espri-vre-jobs"
"""Where a job's stdout and stderr go, inside its working directory: on the cluster's shared file
system, where the compute nodes can write them and the server can read them."""

DEFAULT_LOG_LIMIT = 256 * 1024
"""Bytes of log returned by one `logs` call; a live tail asks again from the offset it got."""


class JobState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    HELD = "HELD"
    UNKNOWN = "UNKNOWN"
    """The scheduler did not answer, or no longer knows the job and left no final word."""

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT}
)


class JobKind(StrEnum):
    SCRIPT = "script"
    PYTHON = "python"
    NOTEBOOK = "notebook"


@dataclass(frozen=True)
class JobSpec:
    """What a user asks to run. Built from the submission form by `validation.spec_from_dict`;
    every value is checked by `validation.validate_spec` before any command sees it."""

    kind: JobKind
    path: str
    """The shell script, Python file or notebook; absolute, or relative to the user's root."""
    name: str | None = None
    """Job name; by default the file's name without its suffix."""
    cluster: str = "local"
    partition: str | None = None
    """Slurm partition or Torque queue; the cluster's default when None."""
    nodes: int | None = None
    tasks: int | None = None
    cpus: int | None = None
    """Cores per task (Slurm --cpus-per-task; Torque ppn)."""
    memory: str | None = None
    """Per node: '4G', '512M', '4096' (MB)."""
    walltime: str | None = None
    """'HH:MM:SS', 'D-HH:MM:SS' or minutes."""
    gpus: int | None = None
    gpu_type: str | None = None
    account: str | None = None
    array: str | None = None
    """Slurm/Torque array indices: '0-9', '1,3,5', '0-99%10'."""
    afterok: tuple[str, ...] = ()
    """Job ids that must complete successfully before this one starts."""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Notebook parameters, given to papermill."""
    arguments: tuple[str, ...] = ()
    """Command-line arguments of a script or Python file."""
    kernel: str | None = None
    """Jupyter kernel of a notebook job; the notebook's own when None."""
    conda_env: str | None = None
    """A conda environment (name or prefix) activated before the job runs."""
    working_dir: str | None = None
    """Where the job runs; the input file's directory when None."""
    hold: bool = False
    """Submit held: the job waits for `release`."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["afterok"] = list(self.afterok)
        data["arguments"] = list(self.arguments)
        data["parameters"] = dict(self.parameters)
        return data

    def with_defaults(self, defaults: Mapping[str, Any]) -> JobSpec:
        """Fills the fields left empty from a cluster's `defaults`; a value given wins."""
        names = {f.name for f in fields(self)} - {"kind", "path", "cluster", "parameters"}
        filled = {
            key: value
            for key, value in defaults.items()
            if key in names and getattr(self, key) in (None, (), False)
        }
        if "queue" in defaults and self.partition is None and "partition" not in filled:
            filled["partition"] = defaults["queue"]
        if "cores" in defaults and self.cpus is None and "cpus" not in filled:
            filled["cpus"] = defaults["cores"]
        return replace(self, **filled)


@dataclass(frozen=True)
class JobInfo:
    """One job as a scheduler reports it, normalised across back ends."""

    id: str
    name: str
    state: JobState
    raw_state: str
    """The scheduler's own word ('COMPLETING', 'NODE_FAIL', 'C')."""
    reason: str | None = None
    """Why it waits or why it ended ('Priority', 'JobHeldUser', 'NonZeroExitCode')."""
    cluster: str | None = None
    user: str | None = None
    partition: str | None = None
    nodes: str | None = None
    """Node list ('node[01-04]', 'denbi5-int/0+denbi5-int/1')."""
    node_count: int | None = None
    cpus: int | None = None
    memory: str | None = None
    submit_time: float | None = None
    """Seconds since the epoch, like start_time and end_time."""
    start_time: float | None = None
    end_time: float | None = None
    time_limit: int | None = None
    """Seconds."""
    exit_code: int | None = None
    signal: int | None = None
    gres: str | None = None
    gpus: int = 0
    array_job_id: str | None = None
    array_task_id: str | None = None
    """One task's index ('3'), or the indices still pending in one record ('0-9999')."""
    dependency: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    working_dir: str | None = None
    output_notebook: str | None = None

    @property
    def finished(self) -> bool:
        return self.state.finished

    def to_dict(self) -> dict[str, Any]:
        # Every field is a scalar: a dict of the attributes, not dataclasses.asdict, which
        # deep-copies and costs ten times more on a 10,000-job list.
        data = {name: getattr(self, name) for name in _JOB_INFO_FIELDS}
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobInfo:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = JobState(values.get("state", JobState.UNKNOWN))
        return cls(**values)


_JOB_INFO_FIELDS = tuple(f.name for f in fields(JobInfo))


@dataclass(frozen=True)
class Partition:
    """A Slurm partition or a Torque queue, with what a job may ask of it."""

    name: str
    default: bool = False
    available: bool = True
    max_time: int | None = None
    """Seconds; None is unlimited."""
    default_time: int | None = None
    max_nodes: int | None = None
    """Nodes per job; None is unlimited."""
    nodes: int = 0
    cpus: int = 0
    """Cores in the partition."""
    max_cpus_per_node: int | None = None
    max_memory: int | None = None
    """MB per node."""
    gpus: int = 0
    gpus_used: int | None = None
    gres: tuple[str, ...] = ()
    """Distinct gres of its nodes ('gpu:a100:4(S:0-3)')."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gres"] = list(self.gres)
        return data


@dataclass(frozen=True)
class LogChunk:
    """Part of a log file, from `offset` to `next_offset`: a live tail asks again from
    `next_offset` until the job has finished and `next_offset == size`."""

    stream: Stream
    path: str | None
    offset: int
    next_offset: int
    size: int
    text: str
    exists: bool = True
    """False while the job has not started writing (or the path is not known)."""


@dataclass(frozen=True)
class JobListing:
    jobs: list[JobInfo]
    problem: str | None = None
    """Set when the scheduler did not answer: the jobs are then the recorded ones, with the
    unfinished ones UNKNOWN."""


@dataclass(frozen=True)
class ResourceLimits:
    """A cluster's ceilings from its configuration (`limits`), checked before submission on top
    of what the scheduler itself reports for each partition."""

    nodes: int | None = None
    tasks: int | None = None
    cpus: int | None = None
    memory: str | None = None
    walltime: str | None = None
    gpus: int | None = None
    partitions: tuple[str, ...] | None = None
    """Partitions or queues users may choose; all when None."""

    @classmethod
    def from_settings(cls, limits: Mapping[str, Any] | None) -> ResourceLimits:
        limits = limits or {}
        parts = limits.get("partitions", limits.get("queues"))
        return cls(
            nodes=_int_or_none(limits.get("nodes")),
            tasks=_int_or_none(limits.get("tasks")),
            cpus=_int_or_none(limits.get("cpus", limits.get("cores"))),
            memory=None if limits.get("memory") is None else str(limits["memory"]),
            walltime=None if limits.get("walltime") is None else str(limits["walltime"]),
            gpus=_int_or_none(limits.get("gpus")),
            partitions=tuple(str(p) for p in parts) if parts is not None else None,
        )


@dataclass(frozen=True)
class ClusterConfig:
    """One entry of the server's `clusters` configuration, as the back ends use it."""

    id: str
    kind: str
    title: str = ""
    transport: str = "local"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    python: str | None = None
    """The Python that runs Python files and papermill on the nodes; by default this server's
    own interpreter when commands run here, else `python3` (or the conda env's `python`)."""
    user: str | None = None
    """Whose jobs are 'mine': the SSH user, or the user running this server."""
    max_running: int | None = None
    """Local back end only: jobs run at once (the others wait, PENDING)."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ClusterConfig:
        ssh = settings.get("ssh") if isinstance(settings.get("ssh"), Mapping) else {}
        return cls(
            id=str(settings.get("id", settings.get("kind", "local"))),
            kind=str(settings.get("kind", "local")),
            title=str(settings.get("title", "")),
            transport=str(settings.get("transport", "local")),
            defaults=dict(settings.get("defaults") or {}),
            limits=ResourceLimits.from_settings(settings.get("limits")),
            python=settings.get("python"),
            user=ssh.get("user") if ssh else None,
            max_running=_int_or_none(settings.get("max_running")),
        )

    @property
    def python_command(self) -> str:
        if self.python:
            return self.python
        return sys.executable if self.transport == "local" else "python3"

    @property
    def user_name(self) -> str:
        return self.user or getpass.getuser()


class SchedulerError(Exception):
    """The scheduler refused or failed a request; the message is its own words, made short."""


class TransientSchedulerError(SchedulerError):
    """The scheduler did not answer (time-out, controller unreachable): nothing is known, try
    again. A job's state read through such an error is UNKNOWN, never finished."""


class JobNotFound(SchedulerError):
    def __init__(self, job_id: str, cluster: str | None = None) -> None:
        where = f" on {cluster}" if cluster else ""
        super().__init__(f"job {job_id} is not known{where}")
        self.job_id = job_id


T = TypeVar("T")

RETRY_DELAYS = (0.3, 1.0)
"""Seconds between attempts at a read-only scheduler query (three attempts in all)."""


async def retry_transient(
    call: Callable[[], Awaitable[T]], delays: Sequence[float] | None = None
) -> T:
    """Runs a read-only query again after a TransientSchedulerError, then gives up with the last
    error. Never used for submissions, which must not run twice."""
    for delay in RETRY_DELAYS if delays is None else delays:
        try:
            return await call()
        except TransientSchedulerError:
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
    `validation.JobValidationError` for a spec it refuses before running anything. Jobs submitted
    here are recorded in the JobStore, so that their history survives a restart of the server and
    a scheduler that forgets finished jobs."""

    kind: str

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

    @abstractmethod
    async def submit(self, spec: JobSpec) -> JobInfo:
        """Validates, checks resources against the cluster's limits, submits, records."""

    def preview(self, spec: JobSpec) -> str:
        """The batch script `submit` would send, for the form's preview; raises
        JobValidationError as `submit` would."""
        from .script import prepare_job  # script.py builds on this module's types

        return prepare_job(spec, self.cluster, self.roots).script

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
        path = info.stdout_path if stream == "stdout" else info.stderr_path
        return await read_log(self.transport, stream, path, offset, limit)

    def merge_recorded(
        self,
        seen: Mapping[str, JobInfo],
        states: Collection[JobState] | None,
        *,
        forgotten: Callable[[JobRecord], JobInfo] | None = None,
    ) -> list[JobInfo]:
        """The scheduler's jobs completed with what the store knows (output notebook, paths),
        the store updated with what the scheduler says, and the recorded jobs the scheduler no
        longer lists added with their last known state."""
        recorded = {r.job_id: r for r in self.store.list(self.cluster.id)}
        jobs: list[JobInfo] = []
        for job_id, info in seen.items():
            record = recorded.pop(job_id, None)
            if record is not None:
                info = complete_from_record(info, record)
                if info != record.info:  # a refresh writes only what changed
                    self.store.update_info(self.cluster.id, job_id, info)
            jobs.append(info)
        for record in recorded.values():
            jobs.append(forgotten(record) if forgotten else record.info)
        return [j for j in jobs if states is None or j.state in states]


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


async def read_log(
    transport: Transport, stream: Stream, path: str | None, offset: int, limit: int
) -> LogChunk:
    if offset < 0 or limit <= 0:
        raise ValueError("offset must be >= 0 and limit > 0")
    if not path:
        return LogChunk(stream, None, offset, offset, 0, "", exists=False)
    if isinstance(transport, LocalTransport):
        return await asyncio.to_thread(_read_local_log, stream, path, offset, limit)
    return await _read_remote_log(transport, stream, path, offset, limit)


def _read_local_log(stream: Stream, path: str, offset: int, limit: int) -> LogChunk:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(min(offset, size))
            data = f.read(limit)
    except FileNotFoundError:
        return LogChunk(stream, path, offset, offset, 0, "", exists=False)
    except OSError as e:
        raise SchedulerError(f"cannot read {path}: {e.strerror}") from e
    start = min(offset, size)
    return _chunk(stream, path, start, data, size)


async def _read_remote_log(
    transport: Transport, stream: Stream, path: str, offset: int, limit: int
) -> LogChunk:
    try:
        stat = await transport.run(["stat", "-c", "%s", "--", path], timeout=15)
        if not stat.ok:
            return LogChunk(stream, path, offset, offset, 0, "", exists=False)
        size = int(stat.stdout_text.strip() or 0)
        start = min(offset, size)
        ran = await transport.run(
            [
                "dd",
                f"if={path}",
                "iflag=skip_bytes,count_bytes",
                f"skip={start}",
                f"count={limit}",
                "status=none",
            ],
            timeout=30,
        )
    except TransportError as e:
        raise TransientSchedulerError(f"cannot read {path}: {e}") from e
    if not ran.ok:
        raise SchedulerError(f"cannot read {path}: {ran.stderr_text.strip()}")
    return _chunk(stream, path, start, ran.stdout, size)


def _chunk(stream: Stream, path: str, start: int, data: bytes, size: int) -> LogChunk:
    # Stop before a UTF-8 sequence cut at the end of the chunk: the next call starts with it.
    cut = len(data)
    if start + cut < size:
        cut = _utf8_boundary(data)
    return LogChunk(
        stream=stream,
        path=path,
        offset=start,
        next_offset=start + cut,
        size=size,
        text=data[:cut].decode("utf-8", errors="replace"),
    )


def _utf8_boundary(data: bytes) -> int:
    """Length of data without a trailing incomplete UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:
            continue
        if byte & 0x80 == 0:
            return len(data)
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4
        return len(data) if back >= need else len(data) - back
    return len(data)


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
