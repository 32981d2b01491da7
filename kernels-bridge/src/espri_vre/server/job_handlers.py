"""HTTP layer of /espri-vre/api/jobs: the configured clusters with their partitions, the job list
across clusters, submission and its preview, one job, its control (cancel, hold, release,
resubmit) and its logs. Each handler parses its request, calls `espri_vre.jobs.service.JobService`
and answers, checked against the API schema; the jobs' errors carry their own HTTP status
(`espri_vre.jobs.types`), mapped once in the base handler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..jobs.service import JobService
from ..jobs.types import DEFAULT_LOG_LIMIT, JobState, JobValidationError
from .base import ApiError, EspriVreHandler, loads_bounded

MAX_BODY_BYTES = 256 * 1024
"""A submission is a spec of a few fields; notebook parameters are bounded to 64 KiB."""
MAX_LOG_LIMIT = 4 * 1024 * 1024


class JobsBaseHandler(EspriVreHandler):
    @property
    def jobs(self) -> JobService:
        return self.espri_app.jobs  # type: ignore[no-any-return]

    def submission(self) -> tuple[str, Mapping[str, Any]]:
        """The cluster and the spec of a POST body {"cluster", "spec"}."""
        if len(self.request.body) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request is larger than {MAX_BODY_BYTES // 1024} KiB.")
        try:
            body = loads_bounded(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, f"The request body is not JSON: {e}.") from e
        if not isinstance(body, Mapping):
            raise JobValidationError([("job", 'the body must be an object {"cluster", "spec"}')])
        unknown = sorted(str(k) for k in body if k not in ("cluster", "spec"))
        cluster = body.get("cluster")
        problems = [(k, f"unknown field {k!r}") for k in unknown]
        if not isinstance(cluster, str) or not cluster:
            problems.append(("cluster", "choose the cluster the job runs on"))
        if not isinstance(body.get("spec"), Mapping):
            problems.append(("spec", "the job's description (spec) must be an object"))
        if problems:
            raise JobValidationError(problems)
        return cluster, body["spec"]


class ClustersHandler(JobsBaseHandler):
    """GET: JobClustersResponse, each cluster with its partitions or the reason they are
    missing."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        clusters = await self.jobs.partitions()
        self.respond("JobClustersResponse", {"clusters": [c.to_dict() for c in clusters]})


class JobsHandler(JobsBaseHandler):
    """GET: JobListResponse across one or all clusters; POST: submit, 201 JobInfo."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        cluster = self.get_query_argument("cluster", "all")
        mine = parse_bool(self.get_query_argument("mine", "true"), "mine")
        states = parse_states(self.get_query_argument("state", ""))
        # The panel's Refresh button: no shared snapshot of the queue.
        fresh = parse_bool(self.get_query_argument("fresh", "false"), "fresh")
        body = await self.jobs.job_list(
            cluster,
            mine=mine,
            states=states,
            fresh=fresh,
            check=lambda sample: self.check("JobListResponse", sample),
        )
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(body)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cluster, spec = self.submission()
        info = await self.jobs.submit(cluster, spec)
        self.respond("JobInfo", info.to_dict(), 201)


class PreviewHandler(JobsBaseHandler):
    """POST: JobPreviewResponse, the script and the command a submission would run; nothing is
    submitted."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cluster, spec = self.submission()
        script, argv = await self.jobs.preview(cluster, spec)
        self.respond("JobPreviewResponse", {"script": script, "argv": argv})


class JobHandler(JobsBaseHandler):
    """GET: one job's JobInfo."""

    @web.authenticated
    @authorized
    async def get(self, cluster: str, job_id: str) -> None:
        info = await self.jobs.status(cluster, job_id)
        self.respond("JobInfo", info.to_dict())


class JobActionHandler(JobsBaseHandler):
    """POST: cancel, hold or release a job; answers its JobInfo afterwards. `resubmit`
    submits the recorded spec of a job submitted here again: 201 with the new job's JobInfo."""

    @web.authenticated
    @authorized
    async def post(self, cluster: str, job_id: str, action: str) -> None:
        if action == "resubmit":
            info = await self.jobs.resubmit(cluster, job_id)
            self.respond("JobInfo", info.to_dict(), 201)
            return
        # The route admits only cancel, hold and release besides resubmit.
        info = await self.jobs.control(cluster, job_id, action)  # type: ignore[arg-type]
        self.respond("JobInfo", info.to_dict())


class JobLogsHandler(JobsBaseHandler):
    """GET ?stream=stdout|stderr&offset=N&limit=M: a LogChunk of the job's log."""

    @web.authenticated
    @authorized
    async def get(self, cluster: str, job_id: str) -> None:
        self.jobs.scheduler(cluster)  # an unknown cluster is said before a wrong argument
        stream = self.get_query_argument("stream", "stdout")
        if stream not in ("stdout", "stderr"):
            raise JobValidationError(
                [("stream", f"stream must be stdout or stderr, not {stream!r}")]
            )
        offset = parse_int(self.get_query_argument("offset", "0"), "offset", 0, None)
        limit = parse_int(
            self.get_query_argument("limit", str(DEFAULT_LOG_LIMIT)), "limit", 1, MAX_LOG_LIMIT
        )
        chunk = await self.jobs.logs(cluster, job_id, stream, offset, limit)  # type: ignore[arg-type]
        self.respond("LogChunk", asdict(chunk))


def parse_bool(value: str, name: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise JobValidationError([(name, f"{name} must be true or false, not {value!r}")])


def parse_states(value: str) -> set[JobState] | None:
    """'RUNNING,pending' -> {RUNNING, PENDING}; '' -> None (every state)."""
    words = [w.strip().upper() for w in value.split(",") if w.strip()]
    if not words:
        return None
    known = {s.value for s in JobState}
    wrong = [w for w in words if w not in known]
    if wrong:
        allowed = ", ".join(s.value for s in JobState)
        raise JobValidationError(
            [("state", f"unknown state {', '.join(wrong)} (one of {allowed})")]
        )
    return {JobState(w) for w in words}


def parse_int(value: str, name: str, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise JobValidationError([(name, f"{name} must be a whole number {bound}, not {value!r}")])
    return number
