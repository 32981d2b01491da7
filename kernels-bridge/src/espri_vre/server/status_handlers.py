"""GET /espri-vre/api/status: the StatusResponse (version; catalogues, clusters, data roots with
their reachability, gathered by `status.collect_status`)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..version import __version__
from .base import EspriVreHandler
from .status import collect_status


class StatusHandler(EspriVreHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        app = self.espri_app
        payload = await collect_status(app.validated, app.reachability_timeout, __version__)
        self.respond("StatusResponse", payload)
