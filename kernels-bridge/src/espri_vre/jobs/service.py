"""What the server's job handlers call: the configured clusters, each with its scheduler (or the
reason it cannot be used), all sharing one JobStore so that the records outlive the server; the
job list across clusters; submission and its preview; one job, its control and its logs.

Errors are the jobs' own (`types`), each with its HTTP status and code: a refused job
(JobValidationError, with its problems), an unknown cluster or job, a cluster that cannot be used,
a scheduler that did not answer (TransientSchedulerError) or refused (SchedulerError). Their
`detail` names the cluster, as the user sees it."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from .local import LocalScheduler
from .scheduler import Scheduler
from .slurm import SlurmScheduler
from .ssh import transport_for
from .store import JobStore
from .torque import TorqueScheduler
from .types import (
    ClusterConfig,
    ClusterUnavailable,
    JobInfo,
    JobNotFound,
    JobSpec,
    JobState,
    JobValidationError,
    LogChunk,
    NotRecorded,
    Partition,
    SchedulerError,
    Stream,
    TransientSchedulerError,
    UnknownCluster,
)
from .validation import check_job_id, spec_from_dict

SCHEDULERS: dict[str, type[Scheduler]] = {
    "local": LocalScheduler,
    "slurm": SlurmScheduler,
    "torque": TorqueScheduler,
}

LIST_CHECKED = 20
"""Jobs of a list answer checked against the API schema: the first ones written anew for it
(rows made by one code path stand for the others; jsonschema takes 0.15 ms a job, 1.5 s for a
10,000-job list, and the tests check whole answers)."""

Action = Literal["cancel", "hold", "release"]

_encode = json.JSONEncoder(separators=(",", ":")).encode
"""Compact JSON, with one encoder for every job (json.dumps makes one a call when given
separators)."""


class ClusterEntry(Protocol):
    """A cluster of the server's validated configuration (`espri_vre.config.ClusterEntry`)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def transport(self) -> str: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def problem(self) -> str | None: ...


class DataRootEntry(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def problem(self) -> str | None: ...


class Configuration(Protocol):
    """The server's validated configuration (`espri_vre.config.Validated`), as read here."""

    @property
    def clusters(self) -> Sequence[ClusterEntry]: ...
    @property
    def data_roots(self) -> Sequence[DataRootEntry]: ...


@dataclass(frozen=True)
class ClusterPartitions:
    """A configured cluster with its partitions, or the reason they are missing."""

    id: str
    title: str
    kind: str
    transport: str
    partitions: list[Partition]
    problem: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "transport": self.transport,
            "partitions": [p.to_dict() for p in self.partitions],
            "problem": self.problem,
        }


@dataclass
class JobService:
    """The job back ends of one server: one Scheduler per usable cluster. Clusters that cannot be
    used keep their place in the list with the reason in `problems`."""

    clusters: list[tuple[str, str, str, str]]
    """(id, title, kind, transport) in configured order."""
    schedulers: dict[str, Scheduler] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    store: JobStore | None = None
    roots: tuple[str, ...] = ()
    log: logging.Logger = field(default_factory=lambda: logging.getLogger(__name__))
    last_list: tuple[Any, list[Any], bytes] | None = None
    """The last job list answer: (the listings' identity, the listings, the JSON bytes)."""
    job_json: dict[int, tuple[JobInfo, bytes]] = field(default_factory=dict)
    """Each job of the last list answer as JSON, by the identity of its JobInfo (kept with it,
    so that the identity stays its own): a scheduler gives the same object for a job that did
    not change, which is then not encoded again."""

    @classmethod
    def create(
        cls,
        config: Configuration,
        root_dir: str,
        store_dir: str | None,
        log: logging.Logger,
    ) -> JobService:
        """roots: the server's root first (relative job paths are read from it), then the data
        roots that are well configured."""
        roots = (root_dir, *(r.path for r in config.data_roots if r.problem is None))
        service = cls(
            clusters=[(c.id, c.title, c.kind, c.transport) for c in config.clusters],
            roots=roots,
            log=log,
        )
        try:
            service.store = JobStore(store_dir or None)
        except (OSError, sqlite3.Error) as e:
            where = store_dir or "the Jupyter data directory"
            log.error("espri-vre: the job store in %s cannot be opened: %s", where, e)
            for entry in config.clusters:
                service.problems[entry.id] = f"the job record cannot be opened: {e}"
            return service
        for entry in config.clusters:
            if entry.problem is not None:
                service.problems[entry.id] = entry.problem
                continue
            try:
                transport = transport_for(entry.transport, entry.settings)
            except ValueError as e:
                service.problems[entry.id] = str(e)
                continue
            service.schedulers[entry.id] = SCHEDULERS[entry.kind](
                ClusterConfig.from_settings(entry.settings),
                service.store,
                roots,
                transport=transport,
            )
        log.info(
            "espri-vre jobs: %d usable clusters, record in %s",
            len(service.schedulers),
            service.store.data_dir,
        )
        return service

    def scheduler(self, cluster_id: str) -> Scheduler:
        """The cluster's scheduler; UnknownCluster for an id not configured, ClusterUnavailable
        for one that cannot be used."""
        if cluster_id in self.schedulers:
            return self.schedulers[cluster_id]
        if cluster_id in self.problems:
            raise ClusterUnavailable(cluster_id, self.problems[cluster_id])
        raise UnknownCluster(cluster_id, [c[0] for c in self.clusters])

    async def partitions(self) -> list[ClusterPartitions]:
        """Every configured cluster with its partitions: one cluster's failure is its
        `problem`, never the whole answer's."""
        found = await asyncio.gather(*(self._partitions(c[0]) for c in self.clusters))
        return [
            ClusterPartitions(cid, title, kind, transport, partitions, problem)
            for (cid, title, kind, transport), (partitions, problem) in zip(
                self.clusters, found, strict=True
            )
        ]

    async def _partitions(self, cluster: str) -> tuple[list[Partition], str | None]:
        if cluster not in self.schedulers:
            return [], self.problems.get(cluster)
        try:
            return await self.schedulers[cluster].partitions(), None
        except SchedulerError as e:
            return [], str(e)
        except Exception:
            self.log.exception("espri-vre: the partitions of %s could not be read", cluster)
            return [], "the partitions could not be read: the server log says why"

    async def job_list(
        self,
        cluster: str,
        *,
        mine: bool,
        states: Collection[JobState] | None,
        fresh: bool,
        check: Callable[[Mapping[str, Any]], None],
    ) -> bytes:
        """The API's JobListResponse as JSON, across one cluster or `all`: each cluster's jobs
        and, for a cluster whose scheduler did not answer, its problem. `fresh` skips the shared
        snapshot of the queue. The same listings as the last answer (a scheduler keeps its
        listing object while neither its queue nor the record changed) give the same bytes,
        not built again; bytes built anew are first given to `check` (with the first
        LIST_CHECKED jobs encoded for them). A job's fields that are null are left out."""
        ids = [c[0] for c in self.clusters]
        if cluster != "all":
            if cluster not in ids:
                self.scheduler(cluster)  # UnknownCluster, naming the configured ones
            ids = [cluster]
        if fresh:
            for c in ids:
                if c in self.schedulers:
                    self.schedulers[c].invalidate()
        listings = await asyncio.gather(*(self._list(c, mine, states) for c in ids))
        key = tuple((c, id(found), why) for c, (found, why) in zip(ids, listings, strict=True))
        cached = self.last_list
        if cached is None or cached[0] != key:
            problems = [
                {"cluster": cid, "detail": problem}
                for cid, (_, problem) in zip(ids, listings, strict=True)
                if problem is not None
            ]
            jobs, written = self._jobs_json([found for found, _ in listings])
            check({"jobs": written, "problems": problems})
            body = b'{"jobs":[%s],"problems":%s}' % (
                b",".join(jobs),
                json.dumps(problems).encode(),
            )
            # The listings are kept with the bytes, so that their ids stay theirs.
            cached = self.last_list = (key, [found for found, _ in listings], body)
        return cached[2]

    def _jobs_json(
        self, listings: Sequence[Sequence[JobInfo]]
    ) -> tuple[list[bytes], list[dict[str, Any]]]:
        """Each job as JSON, and the first LIST_CHECKED of those encoded anew, as objects."""
        last, now = self.job_json, {}
        jobs: list[bytes] = []
        written: list[dict[str, Any]] = []
        for found in listings:
            for job in found:
                hit = last.get(id(job))
                if hit is None or hit[0] is not job:
                    # The attributes as they are: the state is a StrEnum, which JSON writes as
                    # its value (what to_dict gives, in one dict less for 10,000 jobs).
                    data = {k: v for k, v in vars(job).items() if v is not None}
                    if len(written) < LIST_CHECKED:
                        written.append(data)
                    hit = (job, _encode(data).encode())
                now[id(job)] = hit
                jobs.append(hit[1])
        self.job_json = now
        return jobs, written

    async def _list(
        self, cluster: str, mine: bool, states: Collection[JobState] | None
    ) -> tuple[list[JobInfo], str | None]:
        if cluster not in self.schedulers:
            return [], self.problems.get(cluster)
        try:
            listing = await self.schedulers[cluster].list(mine=mine, states=states)
        except SchedulerError as e:
            return [], str(e)
        except Exception:
            self.log.exception("espri-vre: the jobs of %s could not be listed", cluster)
            return [], "the jobs could not be listed: the server log says why"
        return listing.jobs, listing.problem

    async def submit(self, cluster: str, spec: Mapping[str, Any]) -> JobInfo:
        """Submits the job described by `spec` (the submission form's JSON) to `cluster`."""
        scheduler = self.scheduler(cluster)
        job = self._spec(cluster, spec)
        with _answering(cluster):
            return await scheduler.submit(job)

    async def preview(self, cluster: str, spec: Mapping[str, Any]) -> tuple[str, list[str]]:
        """The script and the command a submission would run; nothing is submitted."""
        scheduler = self.scheduler(cluster)
        job = self._spec(cluster, spec)
        with _answering(cluster):
            return await scheduler.preview_submission(job)

    async def status(self, cluster: str, job_id: str) -> JobInfo:
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
            return await scheduler.status(job_id)

    async def control(self, cluster: str, job_id: str, action: Action) -> JobInfo:
        """Cancels, holds or releases a job; its state afterwards."""
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
            scheduler.check_owner(job_id, await scheduler.status(job_id))
            if action == "cancel":
                await scheduler.cancel(job_id)
            elif action == "hold":
                await scheduler.hold(job_id)
            else:
                await scheduler.release(job_id)
            return await scheduler.status(job_id)

    async def resubmit(self, cluster: str, job_id: str) -> JobInfo:
        """Submits the recorded spec of a job submitted here again: the new job."""
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
        record = scheduler.store.get(cluster, job_id)
        if record is None:
            raise NotRecorded(cluster, job_id)
        with _answering(cluster):
            return await scheduler.submit(record.spec)

    async def logs(
        self, cluster: str, job_id: str, stream: Stream, offset: int, limit: int
    ) -> LogChunk:
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
            return await scheduler.logs(job_id, stream, offset, limit)

    def _spec(self, cluster: str, data: Mapping[str, Any]) -> JobSpec:
        spec = spec_from_dict(data)
        if data.get("cluster") not in (None, cluster):
            raise JobValidationError(
                [("cluster", f"the spec names cluster {spec.cluster!r}, the request {cluster!r}")]
            )
        return replace(spec, cluster=cluster)


@contextmanager
def _answering(cluster: str) -> Iterator[None]:
    """The schedulers' errors as the API says them, naming the cluster: the scheduler's own
    words stay inside the sentence. A refused job already says what is wrong."""
    try:
        yield
    except JobValidationError:
        raise
    except JobNotFound as e:
        raise JobNotFound(e.job_id, cluster) from e
    except TransientSchedulerError as e:
        detail = f"The scheduler of {cluster} did not answer: {e}. Try again."
        raise TransientSchedulerError(detail) from e
    except SchedulerError as e:
        raise SchedulerError(f"The scheduler of {cluster} refused: {e}.") from e
