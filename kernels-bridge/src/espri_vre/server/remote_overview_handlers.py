"""HTTP layer of `data/remote/overview` and `data/remote/overview/cell`: data/overview and
data/overview/cell for a file on an allowed data server (issue 16), so that the first picture
of a remote file is asked for with its URL alone, in parallel with its references. Parse, probe
(the same refusals as data/remote/references: Range ignored, HTML, host not allowed), read in a
worker thread, answer. The logic is in espri_vre.data.remote and espri_vre.data.overview.
"""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.overview import overview_request
from .base import ApiError
from .data_handlers import RemoteHandler
from .overview_handlers import finish_overview


class RemoteOverviewHandler(RemoteHandler):
    """GET ?url=&variable=&selection=&rows=&cols=: as data/overview, of a remote file."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        url = self.url_argument()
        # Checked before the data server is asked anything.
        request = overview_request(
            self.get_argument("variable", "") or None,
            self.get_argument("selection", "") or None,
            self.int_argument("rows", 0),
            self.int_argument("cols", 0),
        )
        remote = self.remote()
        found = await remote.probe(url)
        finish_overview(self, await asyncio.to_thread(remote.overview, found, request))


class RemoteCellHandler(RemoteHandler):
    """GET ?url=&variable=&index=[t,row,col]: {"value": ...}, as data/overview/cell."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        url = self.url_argument()
        variable = self.get_argument("variable", "")
        index = self.get_argument("index", "")
        if not variable or not index:
            raise ApiError(400, "The variable and index arguments are required.")
        remote = self.remote()
        found = await remote.probe(url)
        value = await asyncio.to_thread(remote.cell, found, variable, index)
        self.write_json({"value": value})
