"""HTTP layer of /espri-vre/api/jobs: the configured clusters with their partitions, the job list
across clusters, submission and its preview, one job, its control (cancel, hold, release) and its
logs. The work is done by the schedulers of `espri_vre.jobs`; this module only routes, maps their
errors to HTTP statuses and checks every answer against the API schema.

Errors: a refused job is 400 with `problems` (one per wrong field), an unknown cluster or job 404,
a cluster that cannot be used (configuration error, transport not available) 409, a scheduler
that did not answer 503, a scheduler that refused or failed 502."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..jobs.local import LocalScheduler
from ..jobs.scheduler import (
    DEFAULT_LOG_LIMIT,
    ClusterConfig,
    JobInfo,
    JobNotFound,
    JobState,
    Partition,
    Scheduler,
    SchedulerError,
    TransientSchedulerError,
)
from ..jobs.script import PreparedJob, option_argv, prepare_job
from ..jobs.slurm import SlurmScheduler
from ..jobs.ssh import transport_for
from ..jobs.store import JobStore
from ..jobs.torque import TorqueScheduler
from ..jobs.validation import JobValidationError, check_job_id, check_resources, spec_from_dict
from ..schema import validation_errors
from .config import Validated
from .handlers import ApiError, EspriVreHandler

SCHEDULERS: dict[str, type[Scheduler]] = {
    "local": LocalScheduler,
    "slurm": SlurmScheduler,
    "torque": TorqueScheduler,
}

MAX_BODY_BYTES = 256 * 1024
"""A submission is a spec of a few fields; notebook parameters are bounded to 64 KiB."""
MAX_LOG_LIMIT = 4 * 1024 * 1024
LIST_CHECKED = 200
"""Jobs of a list answer checked against the schema (rows made by one code path stand for the
others: the whole of a 10,000-job list takes seconds to check; the tests check all)."""


@dataclass
class JobService:
    """The job back ends of one server: one Scheduler per usable cluster, all sharing one
    JobStore, so that the records outlive the server. Clusters that cannot be used keep their
    place in the list with the reason in `problems`."""

    clusters: list[tuple[str, str, str, str]]
    """(id, title, kind, transport) in configured order."""
    schedulers: dict[str, Scheduler] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    store: JobStore | None = None
    roots: tuple[str, ...] = ()
    last_list: tuple[Any, list[Any], bytes] | None = None
    """The last job list answer: (the listings' identity, the listings, the JSON bytes)."""

    @classmethod
    def create(
        cls,
        validated: Validated,
        root_dir: str,
        store_dir: str | None,
        log: logging.Logger,
    ) -> JobService:
        """roots: the server's root first (relative job paths are read from it), then the data
        roots that are well configured."""
        roots = (root_dir, *(r.path for r in validated.data_roots if r.problem is None))
        service = cls(
            clusters=[(c.id, c.title, c.kind, c.transport) for c in validated.clusters],
            roots=roots,
        )
        try:
            service.store = JobStore(store_dir or None)
        except (OSError, sqlite3.Error) as e:
            where = store_dir or "the Jupyter data directory"
            log.error("espri-vre: the job store in %s cannot be opened: %s", where, e)
            for entry in validated.clusters:
                service.problems[entry.id] = f"the job record cannot be opened: {e}"
            return service
        for entry in validated.clusters:
            if entry.problem is not None:
                service.problems[entry.id] = entry.problem
            else:
                scheduler = SCHEDULERS[entry.kind]
                config = ClusterConfig.from_settings(entry.settings)
                try:
                    transport = transport_for(entry.transport, entry.settings)
                except ValueError as e:
                    service.problems[entry.id] = str(e)
                    continue
                service.schedulers[entry.id] = scheduler(
                    config, service.store, roots, transport=transport
                )
        log.info(
            "espri-vre jobs: %d usable clusters, record in %s",
            len(service.schedulers),
            service.store.data_dir,
        )
        return service

    def scheduler(self, cluster_id: str) -> Scheduler:
        """The cluster's scheduler; ApiError 404 for an unknown id, 409 for an unusable one."""
        if cluster_id in self.schedulers:
            return self.schedulers[cluster_id]
        if cluster_id in self.problems:
            raise ApiError(
                409,
                f"The cluster {cluster_id!r} cannot be used: {self.problems[cluster_id]}.",
                "cluster-unavailable",
            )
        known = ", ".join(c[0] for c in self.clusters) or "none"
        raise ApiError(
            404, f"There is no cluster {cluster_id!r} (configured: {known}).", "unknown-cluster"
        )


class JobApiError(ApiError):
    """A refused job: the ErrorBody carries one problem per wrong field."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        detail = "The job was refused: " + "; ".join(m for _, m in problems) + "."
        super().__init__(400, detail, "invalid-job")
        self.problems = [{"field": f, "message": m} for f, m in problems]


class JobsBaseHandler(EspriVreHandler):
    @property
    def jobs(self) -> JobService:
        return self.espri_app.jobs

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, JobApiError):
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            body = {"error": error.code, "detail": error.detail, "problems": error.problems}
            self.finish(json.dumps(body))
            return
        super().write_error(status_code, **kwargs)

    def check(self, definition: str, payload: Any) -> None:
        """500 when the payload breaks the API schema (said in the server log)."""
        problems = validation_errors(definition, payload)
        if problems:
            self.log.error(
                "espri-vre: %s response breaks the schema: %s", definition, "; ".join(problems)
            )
            raise ApiError(500, f"The {definition} response does not match the API schema.")

    def respond(self, definition: str, payload: Any, status: int = 200) -> None:
        """Writes the payload after checking it against the API schema, as StatusHandler does."""
        self.check(definition, payload)
        self.write_json(payload, status)

    def submission(self) -> tuple[Scheduler, Any]:
        """The scheduler and the JobSpec of a POST body {"cluster", "spec"}."""
        if len(self.request.body) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request is larger than {MAX_BODY_BYTES // 1024} KiB.")
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, f"The request body is not JSON: {e}.") from e
        if not isinstance(body, Mapping):
            raise JobApiError([("job", 'the body must be an object {"cluster", "spec"}')])
        unknown = sorted(str(k) for k in body if k not in ("cluster", "spec"))
        cluster = body.get("cluster")
        problems = [(k, f"unknown field {k!r}") for k in unknown]
        if not isinstance(cluster, str) or not cluster:
            problems.append(("cluster", "choose the cluster the job runs on"))
        if not isinstance(body.get("spec"), Mapping):
            problems.append(("spec", "the job's description (spec) must be an object"))
        if problems:
            raise JobApiError(problems)
        scheduler = self.jobs.scheduler(cluster)
        with scheduler_errors(cluster):
            spec = spec_from_dict(body["spec"])
        if body["spec"].get("cluster") not in (None, cluster):
            raise JobApiError(
                [("cluster", f"the spec names cluster {spec.cluster!r}, the request {cluster!r}")]
            )
        return scheduler, replace(spec, cluster=cluster)


class scheduler_errors:  # noqa: N801 (used as a statement: `with scheduler_errors(...)`)
    """Maps the schedulers' errors to the API's: JobValidationError 400 with problems,
    JobNotFound 404, TransientSchedulerError 503, SchedulerError 502."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        if error is None or isinstance(error, web.HTTPError):
            return
        if isinstance(error, JobValidationError):
            raise JobApiError(error.problems) from error
        if isinstance(error, JobNotFound):
            detail = f"There is no job {error.job_id} on {self.cluster}."
            raise ApiError(404, detail, "unknown-job") from error
        if isinstance(error, TransientSchedulerError):
            detail = f"The scheduler of {self.cluster} did not answer: {error}. Try again."
            raise ApiError(503, detail, "scheduler-unavailable") from error
        if isinstance(error, SchedulerError):
            detail = f"The scheduler of {self.cluster} refused: {error}."
            raise ApiError(502, detail, "scheduler-error") from error


class ClustersHandler(JobsBaseHandler):
    """GET: JobClustersResponse, each cluster with its partitions or the reason they are
    missing. One cluster's failure is its `problem`, never the whole answer's."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.jobs
        results = await asyncio.gather(*(self._partitions(service, c[0]) for c in service.clusters))
        clusters = [
            {
                "id": cid,
                "title": title,
                "kind": kind,
                "transport": transport,
                "partitions": [p.to_dict() for p in partitions],
                "problem": problem,
            }
            for (cid, title, kind, transport), (partitions, problem) in zip(
                service.clusters, results, strict=True
            )
        ]
        self.respond("JobClustersResponse", {"clusters": clusters})

    async def _partitions(
        self, service: JobService, cluster: str
    ) -> tuple[list[Partition], str | None]:
        if cluster not in service.schedulers:
            return [], service.problems.get(cluster)
        try:
            return await service.schedulers[cluster].partitions(), None
        except SchedulerError as e:
            return [], str(e)
        except Exception:
            self.log.exception("espri-vre: the partitions of %s could not be read", cluster)
            return [], "the partitions could not be read: the server log says why"


class JobsHandler(JobsBaseHandler):
    """GET: JobListResponse across one or all clusters; POST: submit, 201 JobInfo."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.jobs
        cluster = self.get_query_argument("cluster", "all")
        mine = parse_bool(self.get_query_argument("mine", "true"), "mine")
        states = parse_states(self.get_query_argument("state", ""))
        fresh = parse_bool(self.get_query_argument("fresh", "false"), "fresh")
        ids = [c[0] for c in service.clusters]
        if cluster != "all":
            if cluster not in ids:
                service.scheduler(cluster)  # the 404, naming the configured clusters
            ids = [cluster]
        if fresh:  # the panel's Refresh button: no shared snapshot
            for c in ids:
                if c in service.schedulers:
                    service.schedulers[c].invalidate()
        listings = await asyncio.gather(*(self._list(service, c, mine, states) for c in ids))
        # The same listings as the last answer (a scheduler keeps its listing object while
        # neither its queue snapshot nor the record changed): the same bytes, not built again.
        key = tuple((c, id(found), why) for c, (found, why) in zip(ids, listings, strict=True))
        cached = service.last_list
        if cached is None or cached[0] != key:
            jobs: list[dict[str, Any]] = []
            problems: list[dict[str, str]] = []
            for cid, (found, problem) in zip(ids, listings, strict=True):
                jobs += [j.to_dict() for j in found]
                if problem is not None:
                    problems.append({"cluster": cid, "detail": problem})
            sample = {"jobs": jobs[:LIST_CHECKED], "problems": problems}
            self.check("JobListResponse", sample)
            body = json.dumps({"jobs": jobs, "problems": problems}).encode()
            # The listings are kept with the bytes, so that their ids stay theirs.
            cached = service.last_list = (key, [found for found, _ in listings], body)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(cached[2])

    async def _list(
        self, service: JobService, cluster: str, mine: bool, states: set[JobState] | None
    ) -> tuple[list[JobInfo], str | None]:
        if cluster not in service.schedulers:
            return [], service.problems.get(cluster)
        try:
            listing = await service.schedulers[cluster].list(mine=mine, states=states)
        except SchedulerError as e:
            return [], str(e)
        except Exception:
            self.log.exception("espri-vre: the jobs of %s could not be listed", cluster)
            return [], "the jobs could not be listed: the server log says why"
        return listing.jobs, listing.problem

    @web.authenticated
    @authorized
    async def post(self) -> None:
        scheduler, spec = self.submission()
        with scheduler_errors(spec.cluster):
            info = await scheduler.submit(spec)
        self.respond("JobInfo", info.to_dict(), 201)


class PreviewHandler(JobsBaseHandler):
    """POST: JobPreviewResponse, the script and the command a submission would run; nothing is
    submitted."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        scheduler, spec = self.submission()
        with scheduler_errors(spec.cluster):
            prepared = prepare_job(spec, scheduler.cluster, scheduler.roots)
            try:
                partitions: list[Partition] | None = await scheduler.partitions()
            except SchedulerError:
                # The preview still shows the script; submission checks the partition again.
                partitions = None
            check_resources(prepared.checked, scheduler.cluster.limits, partitions)
        payload = {"script": prepared.script, "argv": submission_argv(scheduler.kind, prepared)}
        self.respond("JobPreviewResponse", payload)


class JobHandler(JobsBaseHandler):
    """GET: one job's JobInfo."""

    @web.authenticated
    @authorized
    async def get(self, cluster: str, job_id: str) -> None:
        scheduler = self.jobs.scheduler(cluster)
        with scheduler_errors(cluster):
            check_job_id(job_id, "job_id")
            info = await scheduler.status(job_id)
        self.respond("JobInfo", info.to_dict())


class JobActionHandler(JobsBaseHandler):
    """POST: cancel, hold or release a job; answers its JobInfo afterwards. `resubmit`
    submits the recorded spec of a job submitted here again: 201 with the new job's JobInfo."""

    @web.authenticated
    @authorized
    async def post(self, cluster: str, job_id: str, action: str) -> None:
        scheduler = self.jobs.scheduler(cluster)
        if action == "resubmit":
            await self._resubmit(scheduler, cluster, job_id)
            return
        with scheduler_errors(cluster):
            check_job_id(job_id, "job_id")
            await getattr(scheduler, action)(job_id)
            info = await scheduler.status(job_id)
        self.respond("JobInfo", info.to_dict())

    async def _resubmit(self, scheduler: Scheduler, cluster: str, job_id: str) -> None:
        with scheduler_errors(cluster):
            check_job_id(job_id, "job_id")
        record = scheduler.store.get(cluster, job_id)
        if record is None:
            raise ApiError(
                404,
                f"Job {job_id} on {cluster!r} was not submitted from here: only those can be "
                "resubmitted (their parameters are recorded).",
                "not-recorded",
            )
        with scheduler_errors(cluster):
            info = await scheduler.submit(record.spec)
        self.respond("JobInfo", info.to_dict(), 201)


class JobLogsHandler(JobsBaseHandler):
    """GET ?stream=stdout|stderr&offset=N&limit=M: a LogChunk of the job's log."""

    @web.authenticated
    @authorized
    async def get(self, cluster: str, job_id: str) -> None:
        scheduler = self.jobs.scheduler(cluster)
        stream = self.get_query_argument("stream", "stdout")
        if stream not in ("stdout", "stderr"):
            raise JobApiError([("stream", f"stream must be stdout or stderr, not {stream!r}")])
        offset = parse_int(self.get_query_argument("offset", "0"), "offset", 0, None)
        limit = parse_int(
            self.get_query_argument("limit", str(DEFAULT_LOG_LIMIT)), "limit", 1, MAX_LOG_LIMIT
        )
        with scheduler_errors(cluster):
            check_job_id(job_id, "job_id")
            chunk = await scheduler.logs(job_id, stream, offset, limit)  # type: ignore[arg-type]
        self.respond("LogChunk", asdict(chunk))


def submission_argv(kind: str, prepared: PreparedJob) -> list[str]:
    """The command the scheduler's `submit` runs, the script going to its stdin (as slurm.py and
    torque.py build it). The local back end runs no scheduler command."""
    if kind == "slurm":
        return ["sbatch", "--parsable", *option_argv("slurm", prepared.options)]
    if kind == "torque":
        return ["qsub", *option_argv("torque", prepared.options)]
    return []


def parse_bool(value: str, name: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise JobApiError([(name, f"{name} must be true or false, not {value!r}")])


def parse_states(value: str) -> set[JobState] | None:
    """'RUNNING,pending' -> {RUNNING, PENDING}; '' -> None (every state)."""
    words = [w.strip().upper() for w in value.split(",") if w.strip()]
    if not words:
        return None
    known = {s.value for s in JobState}
    wrong = [w for w in words if w not in known]
    if wrong:
        allowed = ", ".join(s.value for s in JobState)
        raise JobApiError([("state", f"unknown state {', '.join(wrong)} (one of {allowed})")])
    return {JobState(w) for w in words}


def parse_int(value: str, name: str, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise JobApiError([(name, f"{name} must be a whole number {bound}, not {value!r}")])
    return number


_ID = r"([^/]+)"

routes: list[tuple[str, type[EspriVreHandler]]] = [
    ("jobs", JobsHandler),
    ("jobs/clusters", ClustersHandler),
    ("jobs/preview", PreviewHandler),
    (f"jobs/{_ID}/{_ID}", JobHandler),
    (f"jobs/{_ID}/{_ID}/logs", JobLogsHandler),
    (f"jobs/{_ID}/{_ID}/(cancel|hold|release|resubmit)", JobActionHandler),
]
"""Relative to /espri-vre/api, as handlers.routes() joins them."""
