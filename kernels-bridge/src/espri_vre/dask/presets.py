"""Dask presets from the clusters' configuration: one source of truth for clusters.

A cluster entry of `EspriVreApp.clusters` (the job launcher's list) may carry a `dask` object:

    "dask": {
      "interface": "ib0",            # the interface the scheduler listens on, that nodes reach
      "contact_address": null,       # or an explicit tcp://host:port the workers dial
      "scheduler_port": 0,           # 0: any free port (set one when a firewall needs it)
      "max_workers": 8,              # the cap of one Dask cluster (teachers set it for a class)
      "connect_timeout": 60,         # seconds a running worker job may take to connect back
      "presets": [{"id": "small", "title": "2 workers, 1 core", "workers": 2, "cores": 1,
                   "memory": "2G", "walltime": "01:00:00", "gpus": 0, "partition": "debug"}]
    }

This module is pure: it checks presets against the cluster's `limits` with the job launcher's
own checks (`jobs.validation.check_resources`) and turns them into dask-jobqueue's keyword
arguments. What dask-jobqueue already does (job scripts, worker commands, scaling) is left to it;
only what it gets wrong for the centre is set here: Torque's `-l nodes=1:ppn=N` instead of PBS
Pro's `select=` (dask-jobqueue's PBSJob default), GPUs as Slurm gres, and the address the
workers dial back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EspriVreError
from ..jobs.types import ClusterConfig, JobKind, JobSpec, JobValidationError, ResourceLimits
from ..jobs.validation import (
    CheckedSpec,
    check_name,
    check_resources,
    check_word,
    format_walltime,
    parse_memory_mb,
    parse_walltime,
)

DEFAULT_PRESET: dict[str, Any] = {
    "id": "default",
    "title": "1 worker, 1 core, 2 GiB",
    "workers": 1,
    "cores": 1,
    "memory": "2G",
    "walltime": "01:00:00",
}
INTERFACE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
ADDRESS_RE = re.compile(r"(tcp|tls)://[A-Za-z0-9_.:\[\]-]{1,255}")
HARD_MAX_WORKERS = 1000
"""No configuration can ask for more workers than this in one Dask cluster."""


class DaskConfigError(EspriVreError, ValueError):
    """A `dask` entry or a request that cannot be used; the message says what to change."""

    status = 400
    code = "invalid-dask"

    def __init__(self, problems: list[tuple[str, str]] | str, field: str = "dask") -> None:
        self.problems = [(field, problems)] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.problems))


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    workers: int
    cores: int
    memory: str
    walltime: str
    gpus: int = 0
    partition: str | None = None
    account: str | None = None
    processes: int = 1
    adapt_min: int | None = None
    adapt_max: int | None = None

    @property
    def memory_mb(self) -> int:
        return parse_memory_mb(self.memory)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "workers": self.workers,
            "cores": self.cores,
            "memory": self.memory,
            "walltime": self.walltime,
            "gpus": self.gpus,
            "processes": self.processes,
        }
        for key in ("partition", "account"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.adapt_max is not None:
            out["adapt"] = {"minimum": self.adapt_min or 0, "maximum": self.adapt_max}
        return out


@dataclass(frozen=True)
class DaskSettings:
    cluster: ClusterConfig
    presets: tuple[Preset, ...]
    interface: str | None = None
    contact_address: str | None = None
    scheduler_port: int = 0
    max_workers: int = HARD_MAX_WORKERS
    connect_timeout: float = 60.0
    """Seconds a running worker job may take to connect before the address is blamed."""
    problems: tuple[str, ...] = field(default_factory=tuple)
    """Presets left out, one sentence each (the others stay usable)."""

    def preset(self, preset_id: str | None) -> Preset:
        if preset_id is None:
            return self.presets[0]
        for p in self.presets:
            if p.id == preset_id:
                return p
        known = ", ".join(p.id for p in self.presets)
        raise DaskConfigError(
            f"there is no preset {preset_id!r} on cluster {self.cluster.id!r} (there is {known})",
            "preset",
        )


def parse_settings(settings: Mapping[str, Any]) -> DaskSettings:
    """The Dask settings of one cluster entry (its `dask` object, or the defaults). Raises
    DaskConfigError for an entry that cannot be used at all; a bad preset is left out and said
    in `problems`."""
    cluster = ClusterConfig.from_settings(settings)
    raw = settings.get("dask") or {}
    if not isinstance(raw, Mapping):
        raise DaskConfigError(f"cluster {cluster.id!r}: `dask` must be an object")
    problems: list[str] = []
    interface = raw.get("interface")
    if interface is not None and not (
        isinstance(interface, str) and INTERFACE_RE.fullmatch(interface)
    ):
        raise DaskConfigError(f"cluster {cluster.id!r}: dask.interface {interface!r} is not a name")
    contact = raw.get("contact_address")
    if contact is not None and not (isinstance(contact, str) and ADDRESS_RE.fullmatch(contact)):
        raise DaskConfigError(
            f"cluster {cluster.id!r}: dask.contact_address {contact!r} is not tcp://host:port"
        )
    port = raw.get("scheduler_port", 0)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 65536:
        raise DaskConfigError(f"cluster {cluster.id!r}: dask.scheduler_port must be 0..65535")
    max_workers = raw.get("max_workers", HARD_MAX_WORKERS)
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise DaskConfigError(f"cluster {cluster.id!r}: dask.max_workers must be a positive int")
    max_workers = min(max_workers, HARD_MAX_WORKERS)
    connect_timeout = raw.get("connect_timeout", 60)
    if (
        not isinstance(connect_timeout, int | float)
        or isinstance(connect_timeout, bool)
        or not 1 <= connect_timeout <= 3600
    ):
        raise DaskConfigError(f"cluster {cluster.id!r}: dask.connect_timeout must be 1..3600 s")
    presets: list[Preset] = []
    raw_presets = raw.get("presets") or [DEFAULT_PRESET]
    if not isinstance(raw_presets, list):
        raise DaskConfigError(f"cluster {cluster.id!r}: dask.presets must be a list")
    for i, item in enumerate(raw_presets):
        try:
            preset = parse_preset(item, cluster, max_workers)
        except (DaskConfigError, JobValidationError) as e:
            problems.append(f"cluster {cluster.id!r}, dask.presets[{i}]: {e}")
            continue
        if any(p.id == preset.id for p in presets):
            problems.append(f"cluster {cluster.id!r}: two presets are named {preset.id!r}")
            continue
        presets.append(preset)
    if not presets:
        raise DaskConfigError(
            f"cluster {cluster.id!r}: no usable Dask preset ({'; '.join(problems)})"
        )
    return DaskSettings(
        cluster=cluster,
        presets=tuple(presets),
        interface=interface,
        contact_address=contact,
        scheduler_port=port,
        max_workers=max_workers,
        connect_timeout=float(connect_timeout),
        problems=tuple(problems),
    )


def _int(item: Mapping[str, Any], key: str, default: int | None, low: int) -> int | None:
    value = item.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise DaskConfigError(f"{key} must be an integer >= {low}, not {value!r}", key)
    return value


def parse_preset(item: Any, cluster: ClusterConfig, max_workers: int) -> Preset:
    """One preset, checked like a job submission: words and names as the job launcher checks
    them, resources against the cluster's limits, workers against the Dask cap."""
    if not isinstance(item, Mapping):
        raise DaskConfigError("a preset must be an object")
    preset_id = check_name(str(item.get("id", "")))
    merged = {**DEFAULT_PRESET, **cluster.defaults, **item}
    workers = _int(merged, "workers", 1, 0) or 0
    cores = _int(merged, "cores", 1, 1) or 1
    gpus = _int(merged, "gpus", 0, 0) or 0
    processes = _int(merged, "processes", 1, 1) or 1
    if processes > cores:
        raise DaskConfigError(f"processes ({processes}) cannot be more than cores ({cores})")
    memory = str(merged.get("memory"))
    walltime = str(merged.get("walltime"))
    memory_mb = parse_memory_mb(memory)
    seconds = parse_walltime(walltime)
    partition = merged.get("partition", merged.get("queue"))
    account = merged.get("account")
    if partition is not None:
        partition = check_word("partition", str(partition))
    if account is not None:
        account = check_word("account", str(account))
    adapt = item.get("adapt")
    adapt_min = adapt_max = None
    if adapt is not None:
        if not isinstance(adapt, Mapping):
            raise DaskConfigError("adapt must be an object {minimum, maximum}", "adapt")
        adapt_min = _int(adapt, "minimum", 0, 0)
        adapt_max = _int(adapt, "maximum", None, 1)
        if adapt_max is None or (adapt_min or 0) > adapt_max:
            raise DaskConfigError("adapt needs 0 <= minimum <= maximum", "adapt")
    top = max(workers, adapt_max or 0)
    if top > max_workers:
        raise DaskConfigError(
            f"{top} workers is more than the {max_workers} allowed for one Dask cluster here",
            "workers",
        )
    check_worker_job(cluster, cores, gpus, memory_mb, seconds, partition)
    return Preset(
        id=preset_id,
        title=str(item.get("title") or preset_id),
        workers=workers,
        cores=cores,
        memory=memory,
        walltime=format_walltime(seconds),
        gpus=gpus,
        partition=partition,
        account=account,
        processes=processes,
        adapt_min=adapt_min,
        adapt_max=adapt_max,
    )


def check_worker_job(
    cluster: ClusterConfig,
    cores: int,
    gpus: int,
    memory_mb: int,
    seconds: int,
    partition: str | None,
    limits: ResourceLimits | None = None,
) -> None:
    """One worker job against the cluster's limits, with the job launcher's own check."""
    spec = JobSpec(kind=JobKind.SCRIPT, path="dask-worker", cluster=cluster.id, partition=partition)
    checked = CheckedSpec(
        spec=spec,
        name="dask-worker",
        path=Path("/"),
        working_dir=Path("/"),
        nodes=1,
        tasks=1,
        cpus=cores,
        gpus=gpus,
        memory_mb=memory_mb,
        walltime=seconds,
    )
    check_resources(checked, limits or cluster.limits)


def requested_workers(settings: DaskSettings, preset: Preset, workers: int | None) -> int:
    """The number of workers a start asks for: the preset's unless given, within the cap."""
    n = preset.workers if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DaskConfigError(f"workers must be a non-negative integer, not {n!r}", "workers")
    if n > settings.max_workers:
        raise DaskConfigError(
            f"{n} workers is more than the {settings.max_workers} allowed for one Dask "
            f"cluster on {settings.cluster.id!r}",
            "workers",
        )
    return n


def torque_memory(memory_mb: int) -> str:
    """Torque's size unit: an integer with kb/mb/gb (Torque refuses 'G' or decimals)."""
    return f"{memory_mb // 1024}gb" if memory_mb % 1024 == 0 else f"{memory_mb}mb"


def cluster_kwargs(settings: DaskSettings, preset: Preset, name: str) -> dict[str, Any]:
    """dask-jobqueue's keyword arguments for one worker job of this preset (Slurm, Torque), or
    LocalCluster's for the local back end. `name` tags the worker jobs (`dask-<name>`)."""
    job_name = check_name(f"dask-{name}"[:64])
    cluster = settings.cluster
    scheduler_options: dict[str, Any] = {"port": settings.scheduler_port}
    if settings.contact_address:
        scheduler_options["contact_address"] = settings.contact_address
    if cluster.kind == "local":
        return {
            "n_workers": 0,
            "threads_per_worker": preset.cores,
            "memory_limit": f"{preset.memory_mb}MiB",
            "processes": True,
            "dashboard_address": ":0",
            "scheduler_port": settings.scheduler_port,
            **({"interface": settings.interface} if settings.interface else {"host": "127.0.0.1"}),
        }
    common: dict[str, Any] = {
        "cores": preset.cores,
        "processes": preset.processes,
        "memory": f"{preset.memory_mb}MiB",
        "walltime": preset.walltime,
        "job_name": job_name,
        "python": cluster.python_command,
        "scheduler_options": scheduler_options,
        "queue": preset.partition,
        "account": preset.account,
    }
    if settings.interface:
        common["interface"] = settings.interface
    if cluster.kind == "slurm":
        directives = [f"--gres=gpu:{preset.gpus}"] if preset.gpus else []
        extra_args = ["--resources", f"GPU={preset.gpus}"] if preset.gpus else []
        return {**common, "job_extra_directives": directives, "worker_extra_args": extra_args}
    if cluster.kind == "torque":
        # dask-jobqueue's PBSJob writes PBS Pro's `select=1:ncpus=N:mem=M` unless given a
        # resource_spec; Torque wants nodes/ppn and refuses select.
        spec = f"nodes=1:ppn={preset.cores},mem={torque_memory(preset.memory_mb)}"
        return {**common, "resource_spec": spec}
    raise DaskConfigError(f"cluster kind {cluster.kind!r} has no Dask back end")


def connect_code(address: str) -> str:
    """The two lines that connect a notebook to a running Dask cluster."""
    return f'from dask.distributed import Client\nclient = Client("{address}")\n'
