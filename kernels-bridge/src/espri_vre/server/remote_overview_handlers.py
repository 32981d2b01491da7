"""HTTP layer of `data/remote/overview` and `data/opendap-overview` (each with its `/cell`):
data/overview and data/overview/cell for a file on an allowed data server and for an OPeNDAP
dataset (issue 16), so that the first picture is asked for with the URL alone, in parallel with
the references or the store's metadata. Parse, probe or open (the same refusals as
data/remote/references and data/opendap: Range ignored, HTML, not DAP, host not allowed), read
in a worker thread, answer. The logic is in espri_vre.data.remote, espri_vre.data.opendap and
espri_vre.data.overview.
"""

from __future__ import annotations

import asyncio
import re

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.opendap import dap_url
from ..data.overview import OverviewRequest, overview_request
from .base import ApiError
from .data_handlers import RemoteHandler, url_argument
from .overview_handlers import finish_overview
from .virtual_handlers import OpendapStoreHandler


def request_of(handler: web.RequestHandler) -> OverviewRequest:
    """The overview's arguments, checked before any data server is asked anything."""
    sides = []
    for name in ("rows", "cols"):
        text = handler.get_argument(name, "")
        if not re.fullmatch("[0-9]*", text):
            raise ApiError(400, f"{name} must be a non-negative integer (got {text!r}).")
        sides.append(int(text or 0))
    return overview_request(
        handler.get_argument("variable", "") or None,
        handler.get_argument("selection", "") or None,
        *sides,
    )


def cell_arguments(handler: web.RequestHandler) -> tuple[str, str]:
    variable = handler.get_argument("variable", "")
    index = handler.get_argument("index", "")
    if not variable or not index:
        raise ApiError(400, "The variable and index arguments are required.")
    return variable, index


class RemoteOverviewHandler(RemoteHandler):
    """GET ?url=&variable=&selection=&rows=&cols=: as data/overview, of a remote file."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        url = self.url_argument()
        request = request_of(self)
        remote = self.remote()
        found = await remote.probe(url)
        finish_overview(self, await asyncio.to_thread(remote.overview, found, request))


class RemoteCellHandler(RemoteHandler):
    """GET ?url=&variable=&index=[t,row,col]: {"value": ...}, as data/overview/cell."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        url = self.url_argument()
        variable, index = cell_arguments(self)
        remote = self.remote()
        found = await remote.probe(url)
        value = await asyncio.to_thread(remote.cell, found, variable, index)
        self.write_json({"value": value})


class OpendapTargetHandler(OpendapStoreHandler):
    """The dataset an OPeNDAP overview or cell request names (?url=&protocol=)."""

    def target(self) -> str:
        return dap_url(
            url_argument(self, "the OPeNDAP dataset's URL"),
            self.get_argument("protocol", "") or None,
        )


class OpendapOverviewHandler(OpendapTargetHandler):
    """GET ?url=&protocol=&variable=&selection=&rows=&cols=: as data/overview, of an OPeNDAP
    dataset (opened once with the store data/opendap serves: the store handler's datasets)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        target = self.target()
        request = request_of(self)
        found = await asyncio.to_thread(self.datasets().overview, target, request)
        finish_overview(self, found)


class OpendapCellHandler(OpendapTargetHandler):
    """GET ?url=&protocol=&variable=&index=: {"value": ...}, as data/overview/cell."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        target = self.target()
        variable, index = cell_arguments(self)
        value = await asyncio.to_thread(self.datasets().cell, target, variable, index)
        self.write_json({"value": value})
