"""The Jupyter server extension of espri-vre: its configuration and its one route table.

Configure it in a jupyter_server_config file (JSON or Python), e.g.

    {"EspriVreApp": {"catalogs": [{"id": "cmip6", "title": "CMIP6 at ESPRI",
                                   "kind": "intake-esm", "url": "/bdd/CMIP6/catalog.json"}]}}
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Float, List, Unicode, default

from ..config import DEFAULT_CLUSTER, Validated, validate
from ..course.link import APPLY_PATH
from ..dask.clusters import REGISTRY, install_factory
from ..jobs.notifications import Notifications
from ..jobs.pipelines import PipelineService
from ..jobs.schedules import ScheduleService
from ..jobs.service import JobService
from ..provenance.follow import FollowError, follow_rename
from ..version import __version__
from . import (
    catalog_handlers,
    course_handlers,
    dask_handlers,
    data_handlers,
    drive_handlers,
    files_handler,
    job_handlers,
    overview_handlers,
    provenance_handlers,
    remote_overview_handlers,
    schedule_handlers,
    status_handlers,
    virtual_handlers,
)
from .base import NotFoundHandler

API = ("espri-vre", "api")
CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
_ID = r"([^/]+)"

API_ROUTES: list[tuple[str, type[Any]]] = [
    ("status", status_handlers.StatusHandler),
    (r"catalogs/([^/]+)/esm", catalog_handlers.EsmCollectionHandler),
    (r"catalogs/([^/]+)/table", catalog_handlers.EsmTableHandler),
    (r"catalogs/([^/]+)/proxy", catalog_handlers.CatalogProxyHandler),
    ("data/info", data_handlers.InfoHandler),
    ("data/references", data_handlers.ReferencesHandler),
    ("data/table", data_handlers.TableHandler),
    ("data/overview", overview_handlers.OverviewHandler),
    ("data/overview/cell", overview_handlers.CellHandler),
    ("data/remote/references", data_handlers.RemoteReferencesHandler),
    ("data/remote/bytes", data_handlers.RemoteBytesHandler),
    ("data/remote/overview", remote_overview_handlers.RemoteOverviewHandler),
    ("data/remote/overview/cell", remote_overview_handlers.RemoteCellHandler),
    ("data/opendap-overview", remote_overview_handlers.OpendapOverviewHandler),
    ("data/opendap-overview/cell", remote_overview_handlers.OpendapCellHandler),
    ("data/combined/references", data_handlers.CombinedReferencesHandler),
    ("data/files/(.*)", files_handler.FilesHandler),
    ("data/opendap/(.*)", virtual_handlers.OpendapStoreHandler),
    ("data/virtual/(.*)", virtual_handlers.LocalStoreHandler),
    (r"data/roots/([^/]+)/list", drive_handlers.RootListHandler),
    ("jobs", job_handlers.JobsHandler),
    ("jobs/clusters", job_handlers.ClustersHandler),
    ("jobs/preview", job_handlers.PreviewHandler),
    ("jobs/notifications", schedule_handlers.NotificationsHandler),
    ("jobs/estimate", schedule_handlers.EstimateHandler),
    ("schedules", schedule_handlers.SchedulesHandler),
    (r"schedules/(\d+)", schedule_handlers.ScheduleHandler),
    (r"schedules/(\d+)/(pause|resume|run)", schedule_handlers.ScheduleActionHandler),
    ("pipelines/runs", schedule_handlers.PipelineRunsHandler),
    (r"pipelines/runs/(\d+)", schedule_handlers.PipelineRunHandler),
    (f"jobs/{_ID}/{_ID}", job_handlers.JobHandler),
    (f"jobs/{_ID}/{_ID}/logs", job_handlers.JobLogsHandler),
    (f"jobs/{_ID}/{_ID}/(cancel|hold|release|resubmit)", job_handlers.JobActionHandler),
    ("dask", dask_handlers.DaskOverviewHandler),
    ("dask/clusters", dask_handlers.DaskStartHandler),
    ("provenance/runs", provenance_handlers.RunsHandler),
    ("provenance/events", provenance_handlers.EventsHandler),
    ("provenance/export", provenance_handlers.ExportHandler),
    ("provenance/crate", provenance_handlers.CrateHandler),
    ("provenance/replay", provenance_handlers.ReplayHandler),
    (r"provenance/replay/([0-9a-f]{12})", provenance_handlers.ReplayJobHandler),
    ("provenance/report", provenance_handlers.ReportHandler),
]
"""The JSON API, relative to /espri-vre/api."""

ROUTES: list[tuple[str, type[Any]]] = [
    *((url_path_join(*API, path), handler) for path, handler in API_ROUTES),
    # Last among the API's: anything else under /espri-vre/api answers a JSON 404.
    (url_path_join(*API) + r"(?:/.*)?", NotFoundHandler),
    # A browser page (the end of a class link), not the JSON API.
    (APPLY_PATH, course_handlers.CourseApplyHandler),
]
"""Every route of the extension, relative to the server's base_url (ExtensionApp prefixes it)."""


class EspriVreApp(ExtensionApp):
    name = "espri_vre"
    description = "espri-vre: catalogues, data, jobs and provenance for the ESPRI VRE"
    load_other_extensions = True

    # Lists of anything, not of Dict: one malformed entry must be reported by our validation,
    # not make traitlets refuse the whole configuration and the extension fail to load.
    catalogs = List(
        help="""Catalogues offered in the Data panel. Each entry is an object:
        id (str), title (str), kind (esgf | stac | intake-esm | thredds | csw),
        url (an http(s) URL, or an absolute path on the server for intake-esm and static STAC),
        description (str, optional).""",
    ).tag(config=True)

    clusters = List(
        help="""Compute back ends for jobs. Each entry is an object: id, title,
        kind (local | slurm | torque), transport (local | ssh, default local),
        ssh ({host, user, key_file}, for transport ssh), defaults and limits (objects of
        resources: partition/queue, cores, memory, walltime, gpus). When empty, one local back
        end runs jobs as processes on this server.""",
    ).tag(config=True)

    data_roots = List(
        help="""Directories of the server's storage that the suite reads data from.
        Each entry is an object: id, title, path (absolute).""",
    ).tag(config=True)

    reachability_timeout = Float(
        3.0,
        help="Seconds each reachability check of the status endpoint may take.",
    ).tag(config=True)

    allowed_hosts = List(
        Unicode(),
        help="""Host names the catalogue proxy may reach (the centre's own servers and the
        public ones it chooses). No other host is ever contacted on a browser's behalf.""",
    ).tag(config=True)

    job_store_dir = Unicode(
        "",
        help="""Directory of the record of submitted jobs (jobs.sqlite) and of the local back
        end's files. Empty: espri-vre/ in the user's Jupyter data directory.""",
    ).tag(config=True)

    @default("clusters")
    def _default_clusters(self) -> list[dict[str, Any]]:
        return [dict(DEFAULT_CLUSTER)]

    @default("handlers")
    def _default_handlers(self) -> list[tuple[str, type[Any]]]:
        # A copy: jupyter_server may extend an app's handlers in place.
        return list(ROUTES)

    validated: Validated
    jobs: JobService
    schedules: ScheduleService | None = None
    notifications: Notifications | None = None
    pipelines: PipelineService | None = None

    def initialize_settings(self) -> None:
        self.validated = validate(self.catalogs, self.clusters, self.data_roots)
        for message in self.validated.errors:
            self.log.error("espri-vre configuration: %s", message)
        for message in self.validated.warnings:
            self.log.warning("espri-vre configuration: %s", message)
        if self.reachability_timeout <= 0:
            self.log.error(
                "espri-vre configuration: EspriVreApp.reachability_timeout must be positive "
                "(got %s): using 3 s",
                self.reachability_timeout,
            )
            self.reachability_timeout = 3.0
        self.jobs = JobService.create(
            self.validated, self.serverapp.root_dir, self.job_store_dir or None, self.log
        )
        self.schedules = ScheduleService.open(self.jobs, self.log)
        self.pipelines = PipelineService.open(self.jobs, self.log)
        self.notifications = Notifications.open(
            self.jobs, self.log, self.schedules.adopt_runs if self.schedules else None
        )
        self._configure_dask()
        self.serverapp.event_logger.add_listener(
            schema_id=CONTENTS_EVENTS, listener=self._follow_rename
        )
        self.log.info(
            "espri-vre %s: %d catalogues, %d clusters, %d data roots",
            __version__,
            len(self.validated.catalogs),
            len(self.validated.clusters),
            len(self.validated.data_roots),
        )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        # The local back end's schedules fire from this task, once the event loop runs.
        if self.schedules is not None:
            self.schedules.start()

    async def stop_extension(self) -> None:
        if self.schedules is not None:
            await self.schedules.stop()

    async def _follow_rename(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """A renamed notebook's provenance folder follows it (provenance/follow.py). Called
        after the rename is done: a refusal is logged, the user's rename stands."""
        if data.get("action") != "rename":
            return
        root = getattr(self.serverapp.contents_manager, "root_dir", self.serverapp.root_dir)
        try:
            all_followed = await asyncio.to_thread(
                follow_rename,
                root,
                data.get("source_path") or "",
                data.get("path") or "",
                self.serverapp.kernel_manager.connection_dir,
            )
        except FollowError as e:
            self.log.warning("espri-vre provenance: %s", e.detail)
            return
        for followed in all_followed:
            if followed.kept:
                self.log.warning(
                    "espri-vre provenance: %s already holds %s: left in %s",
                    followed.target,
                    ", ".join(followed.kept),
                    followed.source,
                )

    def _configure_dask(self) -> None:
        """Dask on the clusters: the same cluster list as the jobs, with each one's scheduler
        (and so its transport); dask-labextension's factory pointed at ours."""
        REGISTRY.configure(
            [
                (c.id, c.settings, c.problem or self.jobs.problems.get(c.id))
                for c in self.validated.clusters
            ],
            self.jobs.schedulers,
            Path(self.jobs.store.data_dir) / "dask-logs" if self.jobs.store else None,
        )
        install_factory()
