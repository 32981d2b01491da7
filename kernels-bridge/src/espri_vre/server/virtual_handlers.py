"""HTTP layer of the virtual Zarr stores the server computes on request: `data/opendap/<key>`
answers one key of an OPeNDAP dataset's store (`?url=` the dataset, `&protocol=` dap2 or
dap4, else from the URL), `data/virtual/<key>` one key of a local file xarray opens but
references cannot describe (`?path=`, confined as every data path). The browser's Zarr reader
opens `data/opendap/?url=...` as any Zarr store (zarrita keeps the query on every key). The
reading runs in a worker thread (pydap and xarray block); the logic is in
espri_vre.data.opendap and espri_vre.data.virtual_files.
"""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.opendap import OpendapDatasets, dap_url
from ..data.virtual_files import LocalDatasets
from .base import EspriVreHandler
from .data_handlers import DataHandler, reach, url_argument

_DATASETS_KEY = "espri_vre_opendap_datasets"
_LOCAL_KEY = "espri_vre_local_datasets"
_JSON_KEYS = (".zmetadata", ".zarray", ".zattrs", ".zgroup")


class OpendapStoreHandler(EspriVreHandler):
    """GET data/opendap/<key>?url=&protocol=: the key's bytes (JSON metadata or a chunk's
    little-endian values); 404 for a key the store does not have, as Zarr readers expect."""

    def datasets(self) -> OpendapDatasets:
        found = self.settings.get(_DATASETS_KEY)
        if found is None:
            found = self.settings.setdefault(_DATASETS_KEY, OpendapDatasets(*reach(self)))
        return found

    @web.authenticated
    @authorized
    async def get(self, key: str) -> None:
        url = url_argument(self, "the OPeNDAP dataset's URL")
        target = dap_url(url, self.get_argument("protocol", "") or None)
        body = await asyncio.to_thread(self.datasets().get, target, key)
        finish_key(self, key, body)


class LocalStoreHandler(DataHandler):
    """GET data/virtual/<key>?path=: a key of the store of a local file, read by xarray."""

    @web.authenticated
    @authorized
    async def get(self, key: str) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        datasets = self.settings.get(_LOCAL_KEY)
        if datasets is None:
            datasets = self.settings.setdefault(_LOCAL_KEY, LocalDatasets())
        body = await asyncio.to_thread(datasets.get, resolved.path, shown, key)
        finish_key(self, key, body)


def finish_key(handler: EspriVreHandler, key: str, body: bytes) -> None:
    """A store key's answer: JSON metadata, or a chunk's bytes."""
    handler.set_header("Cache-Control", "private, no-cache")
    leaf = key.rsplit("/", 1)[-1]
    kind = "application/json; charset=UTF-8" if leaf in _JSON_KEYS else None
    handler.finish(body, set_content_type=kind or "application/octet-stream")
