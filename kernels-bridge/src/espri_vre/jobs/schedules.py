"""Schedules: a job (notebook with its parameters, script or Python file, with its resources) run
at the times of a cron expression read in a time zone, with its runs listed under it; paused,
resumed, run at once, edited and deleted from the Jobs panel.

Where they live:
- on Slurm and Torque, in the scheduler's own queue, as a job waiting for its start time that
  submits the next one when it starts (`chain`): they fire while this server is down, and the
  queue is the truth (a schedule whose job was cancelled outside JupyterLab shows as gone);
- on the local back end, in this module's embedded scheduler: the next firing of each schedule
  is kept in `schedule_store`, and a task of the server submits the job when it is due. A
  firing missed while the server was down fires once when it starts again (as anacron does),
  and the next is counted from then.

Every run is a job of the JobStore (the ones a cluster started on its own are adopted when the
schedule is next read), so that it is in the Jobs list, its logs can be read, and its end is
notified like any other job's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import EspriVreError
from .chain import ChainDriver, ChainRun
from .cron import Cron, CronError
from .schedule_store import ScheduleRecord, ScheduleStore
from .scheduler import CliScheduler, Scheduler
from .service import JobService
from .slurm.defer import SLURM_DEFERRAL
from .torque.defer import TORQUE_DEFERRAL
from .types import (
    JobInfo,
    JobNotFound,
    JobSpec,
    JobState,
    JobValidationError,
    SchedulerError,
    TransientSchedulerError,
)
from .validation import check_name, default_name, spec_from_dict

DEFERRALS = {"slurm": SLURM_DEFERRAL, "torque": TORQUE_DEFERRAL}
MAX_WAIT = 30.0
"""Seconds the embedded scheduler sleeps at most between two looks at the schedules: a
schedule made by another server on the same record is seen within that time."""
RUNS_SHOWN = 20
GONE = (
    "The scheduler no longer holds this schedule's job: it was cancelled outside JupyterLab, "
    "or its last run could not submit the next one. Resume it to submit it again."
)


class ScheduleRefused(JobValidationError):
    """A schedule refused before anything was submitted: `problems` names each wrong field."""

    code = "invalid-schedule"

    def __init__(self, problems: list[tuple[str, str]] | str, field: str = "schedule") -> None:
        super().__init__(problems, field)
        said = "; ".join(message for _, message in self.problems)
        self.detail = f"The schedule was refused: {said}."


class UnknownSchedule(EspriVreError):
    status = 404
    code = "unknown-schedule"

    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"There is no schedule {schedule_id!r}.")


@dataclass(frozen=True)
class Definition:
    """A schedule as the user defines it, checked."""

    name: str
    cluster: str
    spec: Mapping[str, Any]
    cron: str
    timezone: str


@dataclass
class ScheduleService:
    jobs: JobService
    store: ScheduleStore
    clock: Callable[[], float] = time.time
    log: logging.Logger = field(default_factory=lambda: logging.getLogger(__name__))
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None

    @classmethod
    def open(cls, jobs: JobService, log: logging.Logger) -> ScheduleService | None:
        """None when the job record or the schedules' record cannot be opened: the API then
        says that schedules cannot be used, and the rest of the server runs."""
        if jobs.store is None:
            return None
        try:
            return cls(jobs=jobs, store=ScheduleStore(jobs.store.data_dir), log=log)
        except (OSError, sqlite3.Error) as e:
            log.error("espri-vre: the schedules' record cannot be opened: %s", e)
            return None

    # The embedded scheduler of the local back end.

    def start(self) -> None:
        """Starts the embedded scheduler's task (once), in the running event loop."""
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.fire_due()
            except Exception:
                self.log.exception("espri-vre: the local schedules could not be fired")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sleep())

    def _sleep(self) -> float:
        now = self.clock()
        dues = [s.next_due for s in self._local() if not s.paused and s.next_due is not None]
        return min([MAX_WAIT, *(max(d - now, 0.2) for d in dues)])

    def _local(self) -> list[ScheduleRecord]:
        return [s for s in self.store.list() if self._kind(s.cluster) == "local"]

    async def fire_due(self) -> list[str]:
        """Submits the local schedules that are due (once each, whatever was missed); the new
        jobs' ids."""
        fired = []
        now = self.clock()
        for schedule in self._local():
            due = schedule.next_due
            if schedule.paused or due is None or due > now:
                continue
            following = Cron.parse(schedule.cron).next_after(now, schedule.timezone)
            if not self.store.claim_firing(schedule.id, due, following):
                continue  # another server fired it
            try:
                info = await self.jobs.scheduler(schedule.cluster).submit(self._spec(schedule))
            except EspriVreError as e:
                self.log.error("espri-vre: schedule %s could not run: %s", schedule.id, e)
                continue
            self.store.add_run(schedule.id, info.id, due, "cron")
            fired.append(info.id)
        return fired

    # The use cases of the handlers.

    async def list(self) -> list[dict[str, Any]]:
        """Every schedule as its scheduler holds it: each cluster's queue asked once, afresh."""
        records = self.store.list()
        for cluster in {r.cluster for r in records}:
            if cluster in self.jobs.schedulers:
                self.jobs.schedulers[cluster].invalidate()
        return [await self._observe(s, runs=False, fresh=False) for s in records]

    async def get(self, schedule_id: str) -> dict[str, Any]:
        return await self._observe(self._record(schedule_id), runs=True)

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        definition = self._definition(body)
        scheduler = self.jobs.scheduler(definition.cluster)
        spec = self._job_spec(definition.spec, definition.cluster, definition.name)
        scheduler.prepare(spec)  # refuses a wrong spec before anything is recorded
        record = self.store.add(
            definition.name,
            definition.cluster,
            definition.spec,
            definition.cron,
            definition.timezone,
        )
        try:
            await self._install(record, paused=False)
        except BaseException:
            self.store.delete(record.id)
            raise
        return await self.get(record.id)

    async def update(self, schedule_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Edits the definition: on a cluster the waiting job is replaced by one of the new
        definition (held when the schedule is paused)."""
        old = self._record(schedule_id)
        definition = self._definition(body)
        if definition.cluster != old.cluster:
            raise ScheduleRefused(
                [("cluster", "a schedule stays on its cluster: delete it and make a new one")]
            )
        scheduler = self.jobs.scheduler(old.cluster)
        scheduler.prepare(self._job_spec(definition.spec, old.cluster, definition.name))
        await self._uninstall(old)
        self.store.update(
            schedule_id,
            name=definition.name,
            spec=definition.spec,
            cron=definition.cron,
            timezone=definition.timezone,
        )
        await self._install(self._record(schedule_id), paused=old.paused)
        return await self.get(schedule_id)

    async def pause(self, schedule_id: str) -> dict[str, Any]:
        record = self._record(schedule_id)
        driver = self._driver(record.cluster)
        if driver is not None:
            with _answering(record.cluster):
                await driver.pause(record.job_name)
        self.store.update(schedule_id, paused=True)
        return await self.get(schedule_id)

    async def resume(self, schedule_id: str) -> dict[str, Any]:
        """Active again from the next firing: on a cluster a new waiting job replaces the held
        one (or the one that is gone)."""
        record = self._record(schedule_id)
        await self._uninstall(record)
        self.store.update(schedule_id, paused=False)
        await self._install(self._record(schedule_id), paused=False)
        return await self.get(schedule_id)

    async def run_now(self, schedule_id: str) -> JobInfo:
        """Submits the schedule's job at once, outside its times; the new job."""
        record = self._record(schedule_id)
        scheduler = self.jobs.scheduler(record.cluster)
        spec = self._job_spec(record.spec, record.cluster, record.name)
        with _answering(record.cluster):
            info = await scheduler.submit(spec)
        self.store.add_run(record.id, info.id, self.clock(), "now")
        return info

    async def delete(self, schedule_id: str) -> None:
        """Cancels the schedule's waiting job (a run under way finishes) and forgets it; its runs
        stay in the job list."""
        record = self._record(schedule_id)
        await self._uninstall(record)
        self.store.delete(schedule_id)

    async def adopt_runs(self) -> None:
        """Records the runs the clusters started since last asked, for every schedule on a
        cluster: what makes their ends notified while nobody opens the schedule."""
        for record in self.store.list():
            if self._kind(record.cluster) not in DEFERRALS:
                continue
            driver = self._driver(record.cluster)
            assert driver is not None
            try:
                runs = await driver.runs(str(record.files.get("runs", "")))
            except EspriVreError:
                continue
            scheduler = self.jobs.scheduler(record.cluster)
            for run in runs[:RUNS_SHOWN]:
                if scheduler.store.get(record.cluster, run.job_id) is None:
                    await self._adopt(scheduler, record, run)

    # Inside.

    def _record(self, schedule_id: str) -> ScheduleRecord:
        record = self.store.get(schedule_id)
        if record is None:
            raise UnknownSchedule(schedule_id)
        return record

    def _kind(self, cluster: str) -> str | None:
        scheduler = self.jobs.schedulers.get(cluster)
        return scheduler.kind if scheduler is not None else None

    def _driver(self, cluster: str) -> ChainDriver | None:
        """The cluster's chain driver; None for the local back end (the embedded scheduler)."""
        scheduler = self.jobs.scheduler(cluster)
        deferral = DEFERRALS.get(scheduler.kind)
        if deferral is None or not isinstance(scheduler, CliScheduler):
            return None
        return ChainDriver(scheduler, deferral)

    def _definition(self, body: Mapping[str, Any]) -> Definition:
        problems: list[tuple[str, str]] = []
        cluster = body.get("cluster")
        spec = body.get("spec")
        if not isinstance(cluster, str) or not cluster:
            problems.append(("cluster", "choose the cluster the schedule runs on"))
        if not isinstance(spec, Mapping):
            problems.append(("spec", "the job's description (spec) must be an object"))
        cron = str(body.get("cron") or "")
        zone = str(body.get("timezone") or "UTC")
        try:
            Cron.parse(cron).next_after(self.clock(), zone)
        except CronError as e:
            problems.append(("timezone" if "time zone" in str(e) else "cron", str(e)))
        name = body.get("name")
        if not name and isinstance(spec, Mapping):
            name = spec.get("name") or default_name(str(spec.get("path") or "schedule"))
        try:
            check_name(str(name))
        except JobValidationError as e:
            problems.append(("name", str(e)))
        if problems:
            raise ScheduleRefused(problems)
        assert isinstance(cluster, str) and isinstance(spec, Mapping)
        return Definition(str(name), cluster, dict(spec), cron, zone)

    def _job_spec(self, data: Mapping[str, Any], cluster: str, name: str) -> JobSpec:
        spec = spec_from_dict({**data, "cluster": cluster, "name": name})
        return replace(spec, hold=False)

    def _spec(self, record: ScheduleRecord) -> JobSpec:
        """The job of one firing: on a cluster, named after the schedule so that the queue tells
        its jobs apart."""
        spec = self._job_spec(record.spec, record.cluster, record.name)
        return replace(spec, name=record.job_name) if record.job_name else spec

    async def _install(self, record: ScheduleRecord, paused: bool) -> None:
        driver = self._driver(record.cluster)
        if driver is None:
            due = Cron.parse(record.cron).next_after(self.clock(), record.timezone)
            self.store.update(record.id, next_due=due, paused=paused)
            self._poke()
            return
        job_name = f"{record.name}-s{record.id}"
        self.store.update(record.id, job_name=job_name)
        spec = self._spec(replace(record, job_name=job_name))
        with _answering(record.cluster):
            files = await driver.install(record.id, spec, record.cron, record.timezone, paused)
        self.store.update(record.id, files=files)

    async def _uninstall(self, record: ScheduleRecord) -> None:
        if record.cluster not in self.jobs.schedulers:
            return  # a cluster no longer configured holds nothing of ours that we could reach
        driver = self._driver(record.cluster)
        if driver is not None and record.job_name:
            with _answering(record.cluster):
                await driver.remove(record.job_name)

    async def _observe(
        self, record: ScheduleRecord, runs: bool, fresh: bool = True
    ) -> dict[str, Any]:
        """The schedule as its scheduler holds it now: state (active, paused, gone, unknown),
        next run, the job waiting for it, and its runs when asked."""
        body: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "cluster": record.cluster,
            "spec": dict(record.spec),
            "cron": record.cron,
            "timezone": record.timezone,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "state": "paused" if record.paused else "active",
            "next_run": None if record.paused else record.next_due,
            "job_id": None,
            "problem": None,
        }
        if record.cluster not in self.jobs.schedulers:
            body.update(state="unknown", next_run=None)
            body["problem"] = self.jobs.problems.get(record.cluster) or (
                f"the cluster {record.cluster!r} is no longer configured"
            )
            return body
        driver = self._driver(record.cluster)
        chain_runs: list[ChainRun] = []
        if driver is not None:
            try:
                queued = await driver.queued(record.job_name, fresh)
            except (TransientSchedulerError, SchedulerError) as e:
                body.update(state="unknown", next_run=None, problem=str(e))
                queued = None
            if queued is not None:
                body.update(_queue_state(record, queued, self.clock()))
            if runs:
                chain_runs = await driver.runs(str(record.files.get("runs", "")))
        if runs:
            body["runs"] = await self._runs(record, chain_runs)
        return body

    async def _runs(self, record: ScheduleRecord, chain_runs: list[ChainRun]) -> list[Any]:
        """The runs, newest first: the cluster's own (adopted into the job record) and those of
        Run now and of the embedded scheduler."""
        scheduler = self.jobs.scheduler(record.cluster)
        store = scheduler.store
        rows: list[tuple[float, str, str]] = [
            (r.fired_at, r.job_id, r.how) for r in self.store.runs(record.id)
        ]
        for run in chain_runs[:RUNS_SHOWN]:
            if store.get(record.cluster, run.job_id) is None:
                await self._adopt(scheduler, record, run)
            rows.append((run.started or 0.0, run.job_id, "cron"))
        listed = []
        for fired_at, job_id, how in sorted(rows, reverse=True)[:RUNS_SHOWN]:
            kept = store.get(record.cluster, job_id)
            info = kept.info if kept is not None else None
            listed.append(
                {
                    "job_id": job_id,
                    "fired_at": fired_at,
                    "how": how,
                    "state": info.state.value if info else JobState.UNKNOWN.value,
                    "exit_code": info.exit_code if info else None,
                    "end_time": info.end_time if info else None,
                    "output_notebook": info.output_notebook if info else None,
                }
            )
        return listed

    async def _adopt(self, scheduler: Scheduler, record: ScheduleRecord, run: ChainRun) -> None:
        """Records a run the cluster started on its own as a job submitted here: in the job list,
        its logs readable, its end notified."""
        try:
            info = await scheduler.status(run.job_id)
        except SchedulerError:
            info = JobInfo(run.job_id, record.job_name, JobState.UNKNOWN, "")
        if info.state is JobState.UNKNOWN and run.status is not None:
            state = JobState.COMPLETED if run.status == 0 else JobState.FAILED
            info = replace(info, state=state, raw_state=state.value, exit_code=run.status)
        info = replace(
            info,
            cluster=record.cluster,
            submit_time=info.submit_time or run.started,
            start_time=info.start_time or run.started,
            end_time=info.end_time or run.ended,
        )
        script = str(record.files.get("script", ""))
        # Another page may have recorded it a moment before: the record is kept as it is.
        with contextlib.suppress(sqlite3.IntegrityError):
            scheduler.store.add(record.cluster, info, self._spec(record), script)


def _queue_state(record: ScheduleRecord, queued: list[JobInfo], now: float) -> dict[str, Any]:
    waiting = [j for j in queued if j.state is JobState.PENDING]
    held = [j for j in queued if j.state is JobState.HELD]
    running = [j for j in queued if j.state is JobState.RUNNING]
    computed = Cron.parse(record.cron).next_after(now, record.timezone)
    if waiting:
        job = waiting[0]
        start = job.start_time if job.start_time and job.start_time > now else computed
        return {"state": "active", "next_run": start, "job_id": job.id}
    if held:
        return {"state": "paused", "next_run": None, "job_id": held[0].id}
    if running:
        return {"state": "active", "next_run": computed, "job_id": running[0].id}
    return {"state": "gone", "next_run": None, "job_id": None, "problem": GONE}


@contextlib.contextmanager
def _answering(cluster: str) -> Any:
    """The scheduler's refusals as the API says them, naming the cluster."""
    try:
        yield
    except (JobValidationError, JobNotFound):
        raise
    except TransientSchedulerError as e:
        raise TransientSchedulerError(
            f"The scheduler of {cluster} did not answer: {e}. Try again."
        ) from e
    except SchedulerError as e:
        raise SchedulerError(f"The scheduler of {cluster} refused: {e}.") from e
