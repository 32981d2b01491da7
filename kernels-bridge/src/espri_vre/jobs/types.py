"""The records the job back ends exchange, and the errors they raise: what to run (`JobSpec`),
what a scheduler says of a job (`JobInfo`, `JobState`), where jobs can go (`Partition`,
`ClusterConfig`), a piece of a job's log (`LogChunk`).

The bottom of `espri_vre.jobs`: it imports nothing of the package but the error base, so that
every other module (validation, the store, the schedulers, the service) can build on it. Each
error carries the HTTP status and code it answers with (`espri_vre.errors.EspriVreError`); `str()`
of an error is the scheduler's or the check's own words, `detail` the sentence for the user."""

from __future__ import annotations

import getpass
import os
import pwd
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Literal

from ..errors import EspriVreError

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


class MailWhen(StrEnum):
    """When the scheduler sends the job's owner an e-mail."""

    END = "end"
    """At the job's end, whatever its outcome (Slurm END,FAIL; Torque `-m ae`)."""
    FAIL = "fail"
    """Only when it fails or is aborted (Slurm FAIL; Torque `-m a`)."""
    ALL = "all"
    """When it starts and when it ends (Slurm BEGIN,END,FAIL; Torque `-m abe`)."""


@dataclass(frozen=True)
class JobMail:
    """E-mail at a job's end, sent by the scheduler's own mail (Slurm's MailProg, Torque's
    pbs_server): the address is checked by `validation.check_mail_address`."""

    address: str
    when: MailWhen = MailWhen.END

    def to_dict(self) -> dict[str, str]:
        return {"address": self.address, "when": self.when.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobMail:
        """From a record written by `to_dict` (the store's); the form's JSON goes through
        `validation.spec_from_dict`, which names each wrong value."""
        return cls(address=str(data["address"]), when=MailWhen(data.get("when", "end")))


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
    mail: JobMail | None = None
    """E-mail the user at the job's end (Slurm and Torque only)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["mail"] = self.mail.to_dict() if self.mail else None
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
    """For a job still waiting, when the scheduler expects it to start (Slurm's StartTime, set by
    --begin or the backfill scheduler); None when it gives no estimate."""
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
    default_memory: int | None = None
    """MB a job gets when it asks for none (Slurm's DefMemPerNode, or DefMemPerCPU when
    default_memory_per_cpu); None when the partition sets none (a job may use all of a node's)."""
    default_memory_per_cpu: bool = False
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
    partial: bool = False
    """The scheduler answered, but `problem` names jobs of its answer it could not read: the
    jobs are the others, as it said them, not recorded ones made UNKNOWN."""


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
            nodes=int_or_none(limits.get("nodes")),
            tasks=int_or_none(limits.get("tasks")),
            cpus=int_or_none(limits.get("cpus", limits.get("cores"))),
            memory=None if limits.get("memory") is None else str(limits["memory"]),
            walltime=None if limits.get("walltime") is None else str(limits["walltime"]),
            gpus=int_or_none(limits.get("gpus")),
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

    mail: bool | None = None
    """The configuration's `mail` switch: false refuses jobs that ask for e-mail; unset, Torque
    allows it (pbs_server mails) and Slurm when its MailProg is set (`SlurmScheduler`)."""
    moab: bool = False
    """Torque only: Moab schedules this cluster, whose `showstart` estimates when jobs start."""

    @property
    def mail_refusal(self) -> str | None:
        """Why jobs here may not ask for e-mail, from the configuration alone; None when they
        may: Slurm and Torque send it with their own mail program, the local back end has none."""
        if self.kind not in ("slurm", "torque"):
            return "only Slurm and Torque clusters do"
        if self.mail is False:
            return f"the configuration of {self.title or self.id} says mail = false"
        return None

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
            max_running=int_or_none(settings.get("max_running")),
            mail=settings["mail"] if isinstance(settings.get("mail"), bool) else None,
            moab=settings.get("moab") is True and settings.get("kind") == "torque",
        )

    @property
    def python_command(self) -> str:
        if self.python:
            return self.python
        return sys.executable if self.transport == "local" else "python3"

    @property
    def user_name(self) -> str:
        """The account jobs run as: the SSH user, or this process's own (its uid, not $USER,
        which the environment may set to anyone)."""
        if self.user:
            return self.user
        try:
            return pwd.getpwuid(os.getuid()).pw_name
        except KeyError:  # a uid without a passwd entry (some containers)
            return getpass.getuser()


class SchedulerError(EspriVreError):
    """The scheduler refused or failed a request; the message is its own words, made short."""

    status = 502
    code = "scheduler-error"


class TransientSchedulerError(SchedulerError):
    """The scheduler did not answer (time-out, controller unreachable): nothing is known, try
    again. A job's state read through such an error is UNKNOWN, never finished."""

    status = 503
    code = "scheduler-unavailable"


class JobNotFound(SchedulerError):
    status = 404
    code = "unknown-job"

    def __init__(self, job_id: str, cluster: str | None = None) -> None:
        where = f" on {cluster}" if cluster else ""
        super().__init__(f"job {job_id} is not known{where}")
        self.detail = f"There is no job {job_id}{where}."
        self.job_id = job_id


class JobValidationError(EspriVreError, ValueError):
    """A job refused before submission. `problems` holds (field, sentence) pairs, one for each
    wrong field; str() joins the sentences, the error body lists them as `problems`.

    A ValueError too: the parsers of scheduler output read sizes and times with the same checks
    and take any ValueError as a value they cannot read."""

    status = 400
    code = "invalid-job"

    def __init__(self, problems: Sequence[tuple[str, str]] | str, field: str = "job") -> None:
        if isinstance(problems, str):
            problems = [(field, problems)]
        self.problems = list(problems)
        said = "; ".join(message for _, message in self.problems)
        listed = [{"field": f, "message": m} for f, m in self.problems]
        super().__init__(said, extra={"problems": listed})
        self.detail = f"The job was refused: {said}."

    @property
    def fields(self) -> list[str]:
        return [f for f, _ in self.problems]


class TransportError(EspriVreError):
    """The command could not be run or did not finish; nothing is known of its effect."""

    status = 503
    code = "cluster-unreachable"


class CommandNotFound(TransportError):
    def __init__(self, command: str) -> None:
        super().__init__(f"{command}: command not found")
        self.command = command


class CommandTimeout(TransportError):
    def __init__(self, argv: Sequence[str], timeout: float, stdout: bytes, stderr: bytes) -> None:
        super().__init__(f"{argv[0]} did not finish within {timeout:g} s and was killed")
        self.argv = tuple(argv)
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr


class UnknownCluster(EspriVreError):
    status = 404
    code = "unknown-cluster"

    def __init__(self, cluster: str, configured: Sequence[str]) -> None:
        known = ", ".join(configured) or "none"
        super().__init__(f"There is no cluster {cluster!r} (configured: {known}).")
        self.cluster = cluster


class ClusterUnavailable(EspriVreError):
    """A configured cluster that cannot be used: its configuration or its transport is wrong."""

    status = 409
    code = "cluster-unavailable"

    def __init__(self, cluster: str, why: str) -> None:
        super().__init__(f"The cluster {cluster!r} cannot be used: {why}.")
        self.cluster = cluster


class NotRecorded(EspriVreError):
    """A job asked to be resubmitted that was not submitted here: its spec is not known."""

    status = 404
    code = "not-recorded"

    def __init__(self, cluster: str, job_id: str) -> None:
        super().__init__(
            f"Job {job_id} on {cluster!r} was not submitted from here: only those can be "
            "resubmitted (their parameters are recorded)."
        )
        self.job_id = job_id


class NotYourJob(EspriVreError):
    """A job of another user: this server neither controls it nor reads its logs, whatever
    account it runs as (root included)."""

    status = 403
    code = "forbidden"

    def __init__(self, cluster: str, job_id: str, owner: str, user: str) -> None:
        super().__init__(
            f"Job {job_id} on {cluster!r} belongs to {owner}, not to {user}: only your own "
            "jobs can be held, released, cancelled or have their logs read."
        )
        self.job_id = job_id


class LogOutsideRoots(EspriVreError):
    """A log path, as the scheduler reports it, outside the folders this server may read."""

    status = 403
    code = "forbidden"

    def __init__(self, job_id: str, path: str) -> None:
        super().__init__(
            f"The log of job {job_id} is at {path}, outside the server's folder and the data "
            "roots: it is not read from here."
        )
        self.job_id = job_id


def int_or_none(value: Any) -> int | None:
    """A whole number from configuration or a scheduler's text; None for none or a non-number."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
