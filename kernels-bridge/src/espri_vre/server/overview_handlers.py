"""HTTP layer of `data/overview` (a screen-sized, quantised overview of a 2-D slice) and
`data/overview/cell` (the exact value of one cell): parse, confine the path as the other data
routes do, read in a worker thread (xarray blocks), answer. The logic is in
espri_vre.data.overview.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.overview import Overview, cell_value, overview_of
from .base import ApiError
from .data_handlers import DataHandler


class _SliceHandler(DataHandler):
    """The data routes' path checks, and the arguments without which nothing is read."""

    def required(self, name: str) -> str:
        value = self.get_argument(name, "")
        if not value:
            raise ApiError(400, f"The {name} argument is required.")
        return value


class OverviewHandler(_SliceHandler):
    """GET ?path=&variable=&selection=[t,null,null]&rows=&cols=: the slice's block means, at
    most rows x cols, as zlib-compressed uint16 codes; the shape, block factor and exact
    minimum and maximum in the X-Overview-* headers. Without variable and selection: the
    first map a preview shows (asked for before the browser has the file's metadata), the
    variable and selection chosen in X-Overview-Variable and X-Overview-Selection (a
    multiscale store's refused at once: the browser draws it from the store's levels)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        variable = self.get_argument("variable", "") or None
        selection = self.get_argument("selection", "") or None
        rows = self.int_argument("rows", 0)
        cols = self.int_argument("cols", 0)
        found = await asyncio.to_thread(
            overview_of, resolved.path, shown, variable, selection, rows, cols
        )
        finish_overview(self, found)


def finish_overview(handler: web.RequestHandler, found: Overview) -> None:
    """The overview's answer (data/overview, data/remote/overview): its codes, and what they
    are in the X-Overview-* headers."""
    handler.set_header("Cache-Control", "private, no-cache")
    handler.set_header("X-Overview-Shape", f"{found.rows},{found.cols}")
    handler.set_header("X-Overview-Source", f"{found.source_rows},{found.source_cols}")
    handler.set_header("X-Overview-Factor", str(found.factor))
    handler.set_header("X-Overview-Method", found.method)
    handler.set_header("X-Overview-Variable", json.dumps(found.variable))
    handler.set_header("X-Overview-Selection", json.dumps(list(found.selection)))
    # repr: the shortest text that reads back as the same float64.
    handler.set_header("X-Overview-Min", "" if found.minimum is None else repr(found.minimum))
    handler.set_header("X-Overview-Max", "" if found.maximum is None else repr(found.maximum))
    handler.finish(found.body, set_content_type="application/octet-stream")


class CellHandler(_SliceHandler):
    """GET ?path=&variable=&index=[t,row,col]: {"value": the exact value, or null if missing}."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        value = await asyncio.to_thread(
            cell_value, resolved.path, shown, self.required("variable"), self.required("index")
        )
        self.write_json({"value": value})
