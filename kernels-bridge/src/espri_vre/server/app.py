"""The Jupyter server extension of espri-vre: its configuration and its routes.

Configure it in a jupyter_server_config file (JSON or Python), e.g.

    {"EspriVreApp": {"catalogs": [{"id": "cmip6", "title": "CMIP6 at ESPRI",
                                   "kind": "intake-esm", "url": "/bdd/CMIP6/catalog.json"}]}}
"""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, List, Unicode, default

from .. import __version__
from .config import DEFAULT_CLUSTER, Validated, validate
from .handlers import routes
from .job_handlers import JobService


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

    validated: Validated
    jobs: JobService

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
        self._configure_dask()
        self.log.info(
            "espri-vre %s: %d catalogues, %d clusters, %d data roots",
            __version__,
            len(self.validated.catalogs),
            len(self.validated.clusters),
            len(self.validated.data_roots),
        )

    def _configure_dask(self) -> None:
        """Dask on the clusters: the same cluster list as the jobs, with each one's scheduler
        (and so its transport); dask-labextension's factory pointed at ours."""
        from pathlib import Path

        from ..dask.clusters import REGISTRY, install_factory

        REGISTRY.configure(
            [
                (c.id, c.settings, c.problem or self.jobs.problems.get(c.id))
                for c in self.validated.clusters
            ],
            self.jobs.schedulers,
            Path(self.jobs.store.data_dir) / "dask-logs" if self.jobs.store else None,
        )
        install_factory()

    def initialize_handlers(self) -> None:
        # ExtensionApp prefixes each pattern with the server's base_url.
        self.handlers.extend(routes())
