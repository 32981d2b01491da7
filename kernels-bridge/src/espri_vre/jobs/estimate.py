"""When a job would start, asked before it is submitted (the submission form), with the current
load of the cluster's partitions: Slurm answers with `sbatch --test-only` (`slurm.start`); the
local back end from its own queue; a Torque cluster whose configuration says `moab: true` with
Moab's `showstart <cores>@<walltime>` (`torque.moab`); other Torque clusters give no estimate and
say so. A Torque cluster's queues come with their load (`torque.queues`: qstat -Q -f, pbsnodes -x),
with or without Moab."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .local import LocalScheduler
from .scheduler import CliScheduler
from .service import JobService
from .slurm.start import test_only
from .torque.moab import request_argv, showstart
from .torque.queues import queue_load
from .types import JobState, JobValidationError, SchedulerError
from .validation import CheckedSpec, spec_from_dict


@dataclass(frozen=True)
class PartitionLoad:
    name: str
    cpus_allocated: int
    cpus_idle: int
    cpus_total: int
    jobs_running: int
    jobs_pending: int


@dataclass(frozen=True)
class StartEstimate:
    start_time: float | None
    """Seconds since the epoch; None when the scheduler gives no estimate."""
    detail: str
    partitions: list[PartitionLoad] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def estimate_start(jobs: JobService, cluster: str, data: Mapping[str, Any]) -> StartEstimate:
    """The estimate for the job described by `data` (the submission form's spec) on `cluster`;
    JobValidationError for a spec the cluster refuses, as submission would."""
    scheduler = jobs.scheduler(cluster)
    if data.get("cluster") not in (None, cluster):
        raise JobValidationError([("cluster", f"the spec names another cluster than {cluster!r}")])
    spec = replace(spec_from_dict(data), cluster=cluster)
    if isinstance(scheduler, LocalScheduler):
        return await _local(scheduler, spec)
    if scheduler.kind == "slurm" and isinstance(scheduler, CliScheduler):
        try:
            found, why, loads = await test_only(scheduler, spec)
        except SchedulerError as e:
            return StartEstimate(None, f"Slurm did not answer: {e}")
        partitions = [PartitionLoad(*load) for load in loads]
        if found is None:
            return StartEstimate(None, f"Slurm gives no start time: {why}", partitions)
        where = f"on {found.nodes} in partition {found.partition} with {found.cores} cores"
        return StartEstimate(found.start, f"Slurm would start it {where}", partitions)
    prepared = scheduler.prepare(spec)
    if scheduler.kind == "torque" and isinstance(scheduler, CliScheduler):
        estimate, (partitions, note) = await asyncio.gather(
            _moab(scheduler, prepared.checked), _torque_load(scheduler)
        )
        return replace(estimate, detail=estimate.detail + note, partitions=partitions)
    return StartEstimate(None, f"{cluster} gives no start estimate")


async def _moab(scheduler: CliScheduler, checked: CheckedSpec) -> StartEstimate:
    cluster = scheduler.cluster.id
    if not scheduler.cluster.moab:
        return StartEstimate(
            None, f"{cluster} gives no start estimate (Torque alone has none; no Moab here)"
        )
    try:
        found, answered = await showstart(scheduler.transport, request_argv(checked))
    except SchedulerError as e:
        return StartEstimate(None, f"Moab gives no start time: {e}")
    unsure = "" if checked.walltime else " (no walltime given: Moab counted 1 s)"
    return StartEstimate(answered + found.start_in, found.describe() + unsure)


async def _torque_load(scheduler: CliScheduler) -> tuple[list[PartitionLoad], str]:
    """Each queue's load and a note for the detail saying what of it is missing ('' when nothing
    is); a failure leaves the estimate answered, with no load or no cores."""
    try:
        queues, nodes, missing = await queue_load(scheduler.transport)
    except SchedulerError as e:
        return [], f"; no queue load: {e}"
    cores, busy = (nodes.cores_total, nodes.cores_busy) if nodes else (0, 0)
    loads = [
        PartitionLoad(q.name, busy, cores - busy, cores, q.jobs_running, q.jobs_waiting)
        for q in queues
    ]
    return loads, f"; {missing}" if missing else ""


async def _local(scheduler: LocalScheduler, spec: Any) -> StartEstimate:
    scheduler.prepare(spec)
    listing = await scheduler.list()
    running = sum(j.state is JobState.RUNNING for j in listing.jobs)
    pending = sum(j.state is JobState.PENDING for j in listing.jobs)
    # The local back end counts job slots (max_running), not cores: its jobs share the machine.
    slots = scheduler.max_running
    load = PartitionLoad("local", running, max(slots - running, 0), slots, running, pending)
    if running + pending < scheduler.max_running:
        return StartEstimate(time.time(), "It would start at once on this server", [load])
    ahead = running + pending - scheduler.max_running + 1
    return StartEstimate(None, f"It would start when {ahead} of the jobs before it end", [load])
