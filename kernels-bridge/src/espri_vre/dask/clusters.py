"""Dask clusters on the configured clusters, started by dask-labextension's cluster manager.

dask-labextension has one factory (`labextension.factory` in Dask's config). The server
extension points it at `start_cluster` here. Which cluster and preset a start uses comes from a
context variable that our REST route sets around its call into dask-labextension's manager (so
that the cluster still goes through that manager and shows in its panel, with its dashboards);
a start from dask-labextension's own "New" button gets the first configured cluster's first
preset.

The worker jobs are dask-jobqueue's, with two changes: they are submitted and cancelled through
the job launcher's transport for that cluster (so that a Torque login node reached over SSH works
as well as a local Slurm), and each submitted job id is kept by cluster name, so that the Jobs
panel can tag the jobs and the status can say when jobs were killed outside Dask.
"""

from __future__ import annotations

import contextvars
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..jobs.scheduler import Scheduler
from ..jobs.transport import LocalTransport, Transport
from .presets import DaskConfigError, DaskSettings, Preset, cluster_kwargs, parse_settings

log = logging.getLogger("espri_vre.dask")

SUBMIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Selection:
    cluster: str
    preset: str | None = None
    name: str | None = None


SELECTION: contextvars.ContextVar[Selection | None] = contextvars.ContextVar(
    "espri_vre_dask_selection", default=None
)


@dataclass
class Started:
    """What we know of one Dask cluster that was started here."""

    name: str
    cluster: str
    preset: Preset
    kind: str
    started: float = field(default_factory=time.time)
    job_ids: list[str] = field(default_factory=list)
    """Every worker job submitted for it, in order (cancelled ones stay listed)."""
    dask_cluster: Any = None


@dataclass
class Registry:
    """The clusters with Dask settings, their schedulers, and the Dask clusters started."""

    settings: dict[str, DaskSettings] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    schedulers: dict[str, Scheduler] = field(default_factory=dict)
    log_dir: Path | None = None
    started: dict[str, Started] = field(default_factory=dict)
    """By Dask cluster name."""
    counter: int = 0

    def configure(
        self,
        clusters: list[tuple[str, Mapping[str, Any], str | None]],
        schedulers: Mapping[str, Scheduler],
        log_dir: Path | None,
    ) -> None:
        """clusters: (id, settings, problem) for every configured cluster."""
        self.settings.clear()
        self.problems.clear()
        self.schedulers = dict(schedulers)
        self.log_dir = log_dir
        for cluster_id, settings, problem in clusters:
            if problem is not None:
                self.problems[cluster_id] = problem
                continue
            try:
                parsed = parse_settings(settings)
            except DaskConfigError as e:
                self.problems[cluster_id] = str(e)
                continue
            self.settings[cluster_id] = parsed
            for p in parsed.problems:
                log.warning("espri-vre dask configuration: %s", p)

    def resolve(self, selection: Selection | None) -> tuple[DaskSettings, Preset]:
        if not self.settings:
            why = "; ".join(f"{k}: {v}" for k, v in self.problems.items()) or "none configured"
            raise DaskConfigError(f"no cluster can start Dask workers ({why})", "cluster")
        if selection is None:
            settings = next(iter(self.settings.values()))
            return settings, settings.preset(None)
        if selection.cluster not in self.settings:
            if selection.cluster in self.problems:
                raise DaskConfigError(
                    f"cluster {selection.cluster!r} cannot start Dask workers: "
                    f"{self.problems[selection.cluster]}",
                    "cluster",
                )
            known = ", ".join(self.settings) or "none"
            raise DaskConfigError(
                f"there is no cluster {selection.cluster!r} (there is {known})", "cluster"
            )
        settings = self.settings[selection.cluster]
        return settings, settings.preset(selection.preset)

    def next_name(self, settings: DaskSettings, preset: Preset) -> str:
        """`<cluster>-<preset>-<n>-<4 hex>`: the worker jobs are named after it, and the
        suffix keeps the names of a restarted server apart from the jobs still listed."""
        self.counter += 1
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{settings.cluster.id}-{preset.id}")[:44]
        return f"{base}-{self.counter}-{secrets.token_hex(2)}"

    def transport(self, cluster_id: str) -> Transport:
        scheduler = self.schedulers.get(cluster_id)
        return scheduler.transport if scheduler is not None else LocalTransport()


REGISTRY = Registry()


def _job_class(
    base: type, transport: Transport, record: Callable[[str], None], contact: str | None = None
) -> type:
    """dask-jobqueue's job class whose submit and cancel go through our transport (argv lists,
    the script on stdin: nothing is run through a shell), and whose workers dial `contact`
    when one is configured (dask-jobqueue writes the scheduler's listening address into the
    worker command, even with a contact_address among the scheduler's options)."""
    submit = {"SLURMJob": ["sbatch", "--parsable"], "PBSJob": ["qsub"]}[base.__name__]
    cancel = {"SLURMJob": ["scancel"], "PBSJob": ["qdel"]}[base.__name__]

    class CentreJob(base):  # type: ignore[misc, valid-type]
        def __init__(self, scheduler: Any = None, *args: Any, **kwargs: Any) -> None:
            super().__init__(contact or scheduler, *args, **kwargs)

        async def _submit_job(self, script_filename: str) -> str:
            script = Path(script_filename).read_bytes()
            ran = await transport.run(submit, timeout=SUBMIT_TIMEOUT, input=script)
            if not ran.ok:
                raise RuntimeError(
                    f"{submit[0]} refused the Dask worker job: {ran.stderr_text.strip()}"
                )
            out = ran.stdout_text.strip()
            job_id = re.match(r"[0-9]+(\.[A-Za-z0-9.-]+)?", out)
            if job_id:
                record(job_id.group(0))
            return out

        @classmethod
        async def _close_job(cls, job_id: str, cancel_command: str) -> None:
            if job_id:
                ran = await transport.run([*cancel, job_id], timeout=SUBMIT_TIMEOUT)
                if not ran.ok:  # a job that already ended: nothing to cancel
                    log.info("espri-vre dask: %s %s: %s", cancel[0], job_id, ran.stderr_text)

    CentreJob.__name__ = f"Centre{base.__name__}"
    return CentreJob


def _capped(base: type, max_workers: int) -> type:
    """The cluster class with its scale and adapt capped: dask-labextension's own scale route
    reaches `scale` directly, so the cap is kept here, not only in our route."""

    class Capped(base):  # type: ignore[misc, valid-type]
        def scale(self, n: int | None = None, *args: Any, **kwargs: Any) -> Any:
            if n is not None and n > max_workers:
                log.warning("espri-vre dask: scale to %d capped at %d workers", n, max_workers)
                n = max_workers
            return super().scale(n, *args, **kwargs)

        def adapt(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("maximum") is not None and kwargs["maximum"] > max_workers:
                kwargs["maximum"] = max_workers
            kwargs.setdefault("maximum", max_workers)
            return super().adapt(*args, **kwargs)

    Capped.__name__ = base.__name__
    return Capped


async def start_cluster(*args: Any, asynchronous: bool = True, **kwargs: Any) -> Any:
    """The factory dask-labextension calls (`labextension.factory`): a Dask cluster with no
    workers yet (dask-labextension scales it afterwards to the configuration's `workers`)."""
    settings, preset = REGISTRY.resolve(SELECTION.get())
    selection = SELECTION.get()
    name = (selection.name if selection else None) or REGISTRY.next_name(settings, preset)
    started = Started(name=name, cluster=settings.cluster.id, preset=preset, kind="")
    options = cluster_kwargs(settings, preset, name)
    kind = settings.cluster.kind
    if kind == "local":
        from dask.distributed import LocalCluster

        cls: type = _capped(LocalCluster, settings.max_workers)
        dask_cluster = await cls(asynchronous=True, name=name, **options)
    else:
        from dask_jobqueue import PBSCluster, SLURMCluster
        from dask_jobqueue.pbs import PBSJob
        from dask_jobqueue.slurm import SLURMJob

        base_cluster, base_job = (
            (SLURMCluster, SLURMJob) if kind == "slurm" else (PBSCluster, PBSJob)
        )
        job_cls = _job_class(
            base_job,
            REGISTRY.transport(settings.cluster.id),
            started.job_ids.append,
            settings.contact_address,
        )
        if REGISTRY.log_dir is not None and settings.cluster.transport == "local":
            log_dir = REGISTRY.log_dir / name
            log_dir.mkdir(parents=True, exist_ok=True)
            options["log_directory"] = str(log_dir)
        cls = _capped(base_cluster, settings.max_workers)
        dask_cluster = await cls(job_cls=job_cls, asynchronous=True, name=name, **options)
    started.kind = type(dask_cluster).__name__
    started.dask_cluster = dask_cluster
    REGISTRY.started[name] = started
    return dask_cluster


def worker_jobs(preset: Preset, workers: int) -> int:
    return math.ceil(workers / preset.processes) if workers else 0


FACTORY = {"module": "espri_vre.dask.clusters", "class": "start_cluster", "args": [], "kwargs": {}}


def install_factory() -> bool:
    """Points dask-labextension's factory at `start_cluster`, unless the administrator set
    another factory in Dask's configuration (left as it is, and said). True when installed."""
    import dask

    current = dask.config.get("labextension.factory", default=None) or {}
    default = (current.get("module"), current.get("class")) in {
        (None, None),
        ("dask.distributed", "LocalCluster"),
        (FACTORY["module"], FACTORY["class"]),
    }
    if not default:
        log.warning(
            "espri-vre dask: labextension.factory is %s.%s in Dask's configuration: left as it "
            "is, so dask-labextension's New button does not use the configured clusters",
            current.get("module"),
            current.get("class"),
        )
        return False
    dask.config.set({"labextension.factory": FACTORY})
    return True
