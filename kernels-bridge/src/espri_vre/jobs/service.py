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
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar

from .local import LocalScheduler
from .probe import scheduler_advice
from .scheduler import Scheduler, unknown
from .slurm import SlurmScheduler
from .ssh import transport_for
from .store import JobStore
from .torque import TorqueScheduler
from .types import (
    ClusterConfig,
    ClusterUnavailable,
    JobInfo,
    JobListing,
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

ANSWER_WAIT = 4.0
"""Seconds a job list, a job's state or the partitions wait for a scheduler; past them the answer
says the scheduler is silent (its unfinished jobs UNKNOWN). A Slurm client retries a controller
that does not answer for MessageTimeout (9 s measured with the default 10) and a read is tried
three times: a refresh would hang half a minute while slurmctld is down. The call goes on behind
the answer, and the next request takes its result instead of starting another."""
KEPT_ANSWER = 10.0
"""Seconds a result that came in after its request gave up is still given to the next request
(the panel polls every 5 s); an action on the cluster drops it at once."""

Action = Literal["cancel", "hold", "release"]
DONE: dict[str, str] = {"cancel": "cancelled", "hold": "held", "release": "released"}
T = TypeVar("T")

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
    mail: bool = False
    """Whether jobs here may ask for e-mail (`Scheduler.mail_refusal`); false for a cluster
    that cannot be used."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "transport": self.transport,
            "partitions": [p.to_dict() for p in self.partitions],
            "problem": self.problem,
            "mail": self.mail,
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
    answer_wait: float = ANSWER_WAIT
    pending: dict[tuple[Any, ...], tuple[asyncio.Future[Any], list[float]]] = field(
        default_factory=dict
    )
    """Scheduler calls that outlived their request's wait, by what they ask, with the time each
    ended (empty while it runs)."""
    last_seen: dict[tuple[Any, ...], list[JobInfo]] = field(default_factory=dict)
    """The jobs of each list (cluster, mine, states) the scheduler last answered: what a silent
    scheduler's list shows, UNKNOWN, so that no job leaves the panel while it is silent."""
    last_problem: dict[str, str] = field(default_factory=dict)
    """What each cluster's silent scheduler last said, until it answers a list again: said again
    while it stays silent, rather than only that it has not answered in time."""

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
        mail = await asyncio.gather(*(self._mail(c[0]) for c in self.clusters))
        return [
            ClusterPartitions(cid, title, kind, transport, partitions, problem, mailed)
            for (cid, title, kind, transport), (partitions, problem), mailed in zip(
                self.clusters, found, mail, strict=True
            )
        ]

    async def _mail(self, cluster: str) -> bool:
        """Whether the cluster's jobs may ask for e-mail; asked after its partitions, so that a
        scheduler that did not answer them is not waited for again."""
        if cluster not in self.schedulers:
            return False
        scheduler = self.schedulers[cluster]
        try:
            refusal = await self._bounded(("mail", cluster), scheduler.mail_refusal)
        except (TimeoutError, SchedulerError):
            refusal = scheduler.known_mail_refusal
        return refusal is None

    async def _partitions(self, cluster: str) -> tuple[list[Partition], str | None]:
        if cluster not in self.schedulers:
            return [], self.problems.get(cluster)
        scheduler = self.schedulers[cluster]
        try:
            return await self._bounded(("partitions", cluster), scheduler.partitions), None
        except TimeoutError:
            return [], self._silence(cluster)
        except SchedulerError as e:
            return [], explained(str(e))
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
                    self._forget_ended(("list", c))
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
        scheduler = self.schedulers[cluster]
        key = ("list", cluster, mine, None if states is None else frozenset(states))
        try:
            listing = await self._bounded(key, lambda: scheduler.list(mine=mine, states=states))
        except TimeoutError:
            listing = self._silent(cluster, key, states, self._silence(cluster), None)
        except SchedulerError as e:
            return [], explained(str(e))
        except Exception:
            self.log.exception("espri-vre: the jobs of %s could not be listed", cluster)
            return [], "the jobs could not be listed: the server log says why"
        else:
            if listing.problem is None or listing.partial:
                self.last_seen[key] = listing.jobs
                self.last_problem.pop(cluster, None)
            else:
                why = self.last_problem[cluster] = explained(listing.problem)
                listing = self._silent(cluster, key, states, why, listing)
        return listing.jobs, listing.problem

    def _silent(
        self,
        cluster: str,
        key: tuple[Any, ...],
        states: Collection[JobState] | None,
        why: str,
        listing: JobListing | None,
    ) -> JobListing:
        """The list of a cluster whose scheduler is silent: the recorded jobs the scheduler's
        own silent listing gave, and the other jobs of its last answer (before any, the recorded
        ones), each as last seen but UNKNOWN unless that was final."""
        jobs = list(listing.jobs) if listing is not None else []
        shown = {j.id for j in jobs}
        before = self.last_seen.get(key)
        if before is None:
            before = [r.info for r in self.store.list(cluster)] if self.store is not None else []
        for info in before:
            if info.id not in shown:
                seen = unknown(info, why)
                if states is None or seen.state in states:
                    jobs.append(seen)
        return JobListing(jobs, problem=why)

    def _silence(self, cluster: str) -> str:
        """The problem of a scheduler that has not answered within answer_wait seconds: what it
        said last time it failed, if it has not answered since."""
        if cluster in self.last_problem:
            return self.last_problem[cluster]
        title = getattr(self.schedulers[cluster], "title", "The scheduler")
        return (
            f"{title} has not answered within {self.answer_wait:g} s: it may be busy, "
            "restarting or down. Jobs show as unknown until it answers; they keep running."
        )

    async def _bounded(self, key: tuple[Any, ...], call: Callable[[], Awaitable[T]]) -> T:
        """call()'s result, or TimeoutError after answer_wait seconds. The call then goes on: a
        later request with the same key takes its result (or waits for it again) rather than
        start another, unless that result is older than KEPT_ANSWER seconds."""
        now = time.monotonic()
        for old, (_, ended) in list(self.pending.items()):  # a handful at most
            if ended and now - ended[0] > KEPT_ANSWER:
                del self.pending[old]
        running = self.pending.get(key)
        if running is None:
            future: asyncio.Future[T] = asyncio.ensure_future(call())
            ended: list[float] = []
            future.add_done_callback(lambda f: _ended(f, ended))
            running = self.pending[key] = (future, ended)
        future = running[0]
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.answer_wait)
        finally:
            if future.done() and self.pending.get(key, (None,))[0] is future:
                del self.pending[key]

    def _forget_ended(self, *prefixes: tuple[Any, ...]) -> None:
        """Drops the results of calls that ended after their request gave up (the Refresh
        button asks afresh, an action changes what they said); calls still running stay
        shared."""
        for key, (future, _) in list(self.pending.items()):
            if future.done() and any(key[: len(p)] == p for p in prefixes):
                del self.pending[key]

    def _acted(self, cluster: str) -> None:
        """After a submission or an action: no list or state read before it is given out."""
        self._forget_ended(("list", cluster), ("status", cluster))

    async def _status(self, cluster: str, scheduler: Scheduler, job_id: str) -> JobInfo:
        """The job's state, or, when the scheduler has not answered within answer_wait seconds,
        the job as recorded, UNKNOWN unless that was final."""
        try:
            return await self._bounded(
                ("status", cluster, job_id), lambda: scheduler.status(job_id)
            )
        except TimeoutError:
            why = self._silence(cluster)
        record = scheduler.store.get(cluster, job_id)
        if record is not None:
            return unknown(record.info, why)
        return JobInfo(job_id, "", JobState.UNKNOWN, "", reason=why, cluster=cluster)

    async def submit(self, cluster: str, spec: Mapping[str, Any]) -> JobInfo:
        """Submits the job described by `spec` (the submission form's JSON) to `cluster`."""
        scheduler = self.scheduler(cluster)
        job = self._spec(cluster, spec)
        self._acted(cluster)
        with _answering(cluster, again=False):
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
            return await self._status(cluster, scheduler, job_id)

    async def control(self, cluster: str, job_id: str, action: Action) -> JobInfo:
        """Cancels, holds or releases a job; its state afterwards."""
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
            self._acted(cluster)
            info = await self._status(cluster, scheduler, job_id)
            if info.state is JobState.UNKNOWN and info.user is None:
                # Whose job it is decides whether this server may act on it (root serves all).
                raise TransientSchedulerError(
                    f"whose job {job_id} is cannot be read, so it is not {DONE[action]}: "
                    f"{info.reason}"
                )
            scheduler.check_owner(job_id, info)
            if action == "cancel":
                await scheduler.cancel(job_id)
            elif action == "hold":
                await scheduler.hold(job_id)
            else:
                await scheduler.release(job_id)
            self._acted(cluster)
            return await self._status(cluster, scheduler, job_id)

    async def resubmit(self, cluster: str, job_id: str) -> JobInfo:
        """Submits the recorded spec of a job submitted here again: the new job."""
        scheduler = self.scheduler(cluster)
        with _answering(cluster):
            check_job_id(job_id, "job_id")
        record = scheduler.store.get(cluster, job_id)
        if record is None:
            raise NotRecorded(cluster, job_id)
        self._acted(cluster)
        with _answering(cluster, again=False):
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
def _answering(cluster: str, *, again: bool = True) -> Iterator[None]:
    """The schedulers' errors as the API says them, naming the cluster: the scheduler's own
    words stay inside the sentence. A refused job already says what is wrong. `again`: a
    silent scheduler's error ends with "Try again." (not after a submission, which may have
    gone through)."""
    try:
        yield
    except JobValidationError:
        raise
    except JobNotFound as e:
        raise JobNotFound(e.job_id, cluster) from e
    except TransientSchedulerError as e:
        detail = _sentence(f"The scheduler of {cluster} did not answer: {e}")
        advice = scheduler_advice(str(e)) or ("Try again." if again else "")
        raise TransientSchedulerError(f"{detail} {advice}".rstrip()) from e
    except SchedulerError as e:
        raise SchedulerError(f"The scheduler of {cluster} refused: {e}.") from e


def explained(problem: str) -> str:
    """A scheduler's failure with what the user can make of it, when its words say (munge,
    an unreachable controller)."""
    advice = scheduler_advice(problem)
    return f"{_sentence(problem)} {advice}" if advice else problem


def _sentence(text: str) -> str:
    """The text ended as a sentence (a clipped one ends with its ellipsis)."""
    return text if text.endswith((".", "…")) else f"{text}."


def _ended(future: asyncio.Future[Any], ended: list[float]) -> None:
    """Notes when a shared scheduler call ended, and reads its error so that asyncio does not
    log one that no request was left to read."""
    ended.append(time.monotonic())
    if not future.cancelled():
        future.exception()
