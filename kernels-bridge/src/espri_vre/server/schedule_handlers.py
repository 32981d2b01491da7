"""HTTP layer of /espri-vre/api/schedules (schedules of jobs: definition, runs, pause, resume, run
now, edit, delete), /espri-vre/api/pipelines/runs (pipelines of jobs from a YAML file), and
/espri-vre/api/jobs/notifications (the job ends not told yet) and /espri-vre/api/jobs/estimate
(when a job would start). Each handler parses, calls the domain service
(`espri_vre.jobs.schedules`, `.pipelines`, `.notifications`, `.estimate`), and answers,
checked against the API schema."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..jobs.estimate import estimate_start
from ..jobs.notifications import Notifications
from ..jobs.pipelines import PipelineService
from ..jobs.schedules import ScheduleService
from .base import ApiError, EspriVreHandler
from .job_handlers import JobsBaseHandler


class ScheduleBaseHandler(EspriVreHandler):
    @property
    def schedules(self) -> ScheduleService:
        service = getattr(self.espri_app, "schedules", None)
        if service is None:
            raise ApiError(
                409, "Schedules cannot be used: the job record could not be opened.", "conflict"
            )
        service.start()
        return service  # type: ignore[no-any-return]


class SchedulesHandler(ScheduleBaseHandler):
    """GET: ScheduleListResponse; POST ScheduleRequest: a new schedule, 201 ScheduleInfo."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.respond("ScheduleListResponse", {"schedules": await self.schedules.list()})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("ScheduleRequest", 256 * 1024)
        self.respond("ScheduleInfo", await self.schedules.create(body), 201)


class ScheduleHandler(ScheduleBaseHandler):
    """GET: one schedule with its runs; PUT ScheduleRequest: its new definition; DELETE."""

    @web.authenticated
    @authorized
    async def get(self, schedule_id: str) -> None:
        self.respond("ScheduleInfo", await self.schedules.get(schedule_id))

    @web.authenticated
    @authorized
    async def put(self, schedule_id: str) -> None:
        body = self.json_body("ScheduleRequest", 256 * 1024)
        self.respond("ScheduleInfo", await self.schedules.update(schedule_id, body))

    @web.authenticated
    @authorized
    async def delete(self, schedule_id: str) -> None:
        await self.schedules.delete(schedule_id)
        self.set_status(204)
        self.finish()


class ScheduleActionHandler(ScheduleBaseHandler):
    """POST pause|resume: the schedule afterwards; POST run: 201 with the new job's JobInfo."""

    @web.authenticated
    @authorized
    async def post(self, schedule_id: str, action: str) -> None:
        service = self.schedules
        if action == "run":
            info = await service.run_now(schedule_id)
            self.respond("JobInfo", info.to_dict(), 201)
        elif action == "pause":
            self.respond("ScheduleInfo", await service.pause(schedule_id))
        else:  # the route admits only run, pause and resume
            self.respond("ScheduleInfo", await service.resume(schedule_id))


class NotificationsHandler(EspriVreHandler):
    """GET: the ends not told yet (JobNotificationsResponse); POST JobNotificationsSeen: these
    were told, JobNotificationsSeenResponse."""

    @property
    def notifications(self) -> Notifications:
        found: Any = getattr(self.espri_app, "notifications", None)
        if found is None:
            raise ApiError(409, "The job record could not be opened: nothing can be notified.")
        return found  # type: ignore[no-any-return]

    @web.authenticated
    @authorized
    async def get(self) -> None:
        jobs = await self.notifications.untold()
        self.respond("JobNotificationsResponse", {"jobs": [j.to_dict() for j in jobs]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("JobNotificationsSeen", 128 * 1024)
        told = self.notifications.tell((j["cluster"], j["id"]) for j in body["jobs"])
        self.respond("JobNotificationsSeenResponse", {"told": told})


class EstimateHandler(JobsBaseHandler):
    """POST JobSubmitRequest: StartEstimateResponse, when the job would start and the
    partitions' load; nothing is submitted."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cluster, spec = self.submission()
        estimate = await estimate_start(self.jobs, cluster, spec)
        self.respond("StartEstimateResponse", estimate.to_dict())


class PipelineBaseHandler(EspriVreHandler):
    @property
    def pipelines(self) -> PipelineService:
        found: Any = getattr(self.espri_app, "pipelines", None)
        if found is None:
            raise ApiError(409, "Pipelines cannot be run: the job record could not be opened.")
        return found  # type: ignore[no-any-return]


class PipelineRunsHandler(PipelineBaseHandler):
    """GET: PipelineRunsResponse; POST PipelineRunRequest: every step submitted, 201
    PipelineRun."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.respond("PipelineRunsResponse", {"runs": await self.pipelines.list()})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("PipelineRunRequest")
        run = await self.pipelines.run(body["path"], body.get("cluster"))
        self.respond("PipelineRun", run, 201)


class PipelineRunHandler(PipelineBaseHandler):
    """GET: one PipelineRun with each step's state."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.respond("PipelineRun", await self.pipelines.get(run_id))
