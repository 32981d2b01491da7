"""HTTP layer of /espri-vre/api/catalogs/{id}/...: one thin handler per endpoint, over
`espri_vre.catalogs.intake_table` (intake-esm catalogues) and `espri_vre.catalogs.proxy` (remote
catalogues). The browser names a catalogue by its configured id, never by a path or a host of its
own choosing.

- GET  catalogs/{id}/esm           the normalised ESM collection JSON (intake-esm catalogues)
- GET  catalogs/{id}/table         its table as one Arrow IPC stream; ?part=search (every column
                                  but the assets column) or ?part=assets (that column) for a part
- GET  catalogs/{id}/proxy?url=U   U fetched by the server (esgf, stac, thredds, csw catalogues)
- POST catalogs/{id}/proxy?url=U   the same with the request's JSON or XML body (STAC search, CSW)

The proxy's limits are configured in their own section, e.g.
    {"CatalogProxy": {"timeout": 20, "max_response_bytes": 33554432, "cache_ttl": 300}}
and the hosts it may reach in EspriVreApp.allowed_hosts (plus every configured catalogue's host).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError
from traitlets import Float, Integer
from traitlets.config import Configurable

from ..catalogs.intake_table import PARTS, CatalogError, IntakeCatalog, IntakeTables
from ..catalogs.proxy import (
    AllowList,
    HostNotAllowed,
    ProxyError,
    ProxyLimits,
    ResponseCache,
    UpstreamHTTPError,
    fetch,
)
from ..config import CatalogEntry, classify_location
from .base import ApiError, EspriVreHandler

ARROW_STREAM = "application/vnd.apache.arrow.stream"
REMOTE_KINDS = ("esgf", "stac", "thredds", "csw")
POST_MEDIA_TYPES = ("application/json", "application/xml", "text/xml")
PASSIVE_MEDIA_TYPES = (
    "application/json",
    "application/geo+json",
    "application/xml",
    "text/xml",
    "text/plain",
    "text/csv",
    "application/octet-stream",
)
"""Upstream content types passed on as they are; any other (HTML, SVG, script...) is sent as
application/octet-stream, its real type in X-Espri-Vre-Upstream-Content-Type: upstream bytes must
never run as a page of the Jupyter server's origin."""
CACHE_CONTROL = "private, no-cache"
CHUNK_BYTES = 1024 * 1024

_TABLES_KEY = "espri_vre_intake_tables"
_PROXY_KEY = "espri_vre_catalog_proxy"


class CatalogProxy(Configurable):
    """Limits of the catalogue proxy (the hosts it may reach are EspriVreApp.allowed_hosts)."""

    timeout = Float(20.0, help="Seconds a proxied request may take, redirects included.").tag(
        config=True
    )
    max_response_bytes = Integer(
        32 * 1024 * 1024,
        help="Bytes of an upstream answer passed on at most; the rest is cut, and said so.",
    ).tag(config=True)
    max_request_bytes = Integer(
        1024 * 1024, help="Bytes of a POST body (STAC search, CSW GetRecords) at most."
    ).tag(config=True)
    max_redirects = Integer(5, help="Redirects followed at most, each to an allowed host.").tag(
        config=True
    )
    cache_ttl = Float(
        300.0, help="Seconds a successful answer is reused for the same request (0: never)."
    ).tag(config=True)
    cache_max_entries = Integer(256, help="Answers kept in the cache at most.").tag(config=True)
    cache_max_bytes = Integer(
        128 * 1024 * 1024, help="Bytes of answers kept in the cache at most."
    ).tag(config=True)


class _ProxyState:
    def __init__(self, handler: EspriVreHandler) -> None:
        app = handler.espri_app
        settings = CatalogProxy(parent=app)
        for name in ("timeout", "max_response_bytes", "max_request_bytes", "max_redirects"):
            if getattr(settings, name) <= 0:
                default = CatalogProxy.class_traits()[name].default_value
                app.log.error(
                    "espri-vre configuration: CatalogProxy.%s must be positive (got %s): using %s",
                    name,
                    getattr(settings, name),
                    default,
                )
                setattr(settings, name, default)
        urls = [c.url for c in app.validated.catalogs]
        self.allow, problems = AllowList.from_config(urls, app.allowed_hosts)
        for problem in problems:
            app.log.warning("espri-vre configuration: %s", problem)
        self.limits = ProxyLimits(
            timeout=settings.timeout,
            max_bytes=settings.max_response_bytes,
            max_redirects=settings.max_redirects,
        )
        self.max_request_bytes = settings.max_request_bytes
        self.cache = ResponseCache(
            ttl=settings.cache_ttl,
            max_entries=settings.cache_max_entries,
            max_bytes=settings.cache_max_bytes,
        )


class CatalogHandler(EspriVreHandler):
    def catalog(self, catalog_id: str, kinds: tuple[str, ...]) -> CatalogEntry:
        """The configured catalogue `catalog_id`: 404 when there is none, 400 when its kind is
        not served by this endpoint or its entry is misconfigured."""
        found = next((c for c in self.espri_app.validated.catalogs if c.id == catalog_id), None)
        if found is None:
            raise ApiError(404, f"There is no catalogue {catalog_id!r} in this server's list.")
        if found.kind not in kinds:
            raise ApiError(
                400,
                f"The catalogue {catalog_id!r} is of kind {found.kind}: this endpoint serves "
                f"{_phrase(kinds)} catalogues only.",
            )
        if found.problem:
            raise ApiError(
                400,
                f"The catalogue {catalog_id!r} cannot be used: {found.problem}. An administrator "
                "must correct it in EspriVreApp.catalogs.",
            )
        return found

    async def intake_catalog(self, catalog_id: str) -> IntakeCatalog:
        entry = self.catalog(catalog_id, ("intake-esm",))
        where, _ = classify_location(entry.url)
        if where != "path":
            raise ApiError(
                400,
                f"The intake-esm catalogue {catalog_id!r} is at a URL ({entry.url}); the server "
                "reads intake-esm catalogues on its own file system only.",
            )
        tables = self.settings.setdefault(_TABLES_KEY, IntakeTables())
        try:
            return await asyncio.to_thread(tables.load, Path(os.path.expanduser(entry.url)))
        except CatalogError as e:
            self.log.warning("espri-vre: catalogue %r: %s", catalog_id, e.detail)
            raise

    def not_modified(self, etag: str) -> bool:
        """Sets the validators; True (and a 304 sent) when the browser's copy is current."""
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", CACHE_CONTROL)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return True
        return False


class EsmCollectionHandler(CatalogHandler):
    """GET: the ESM collection JSON, normalised (see intake_table), with ETag."""

    @web.authenticated
    @authorized
    async def get(self, catalog_id: str) -> None:
        catalog = await self.intake_catalog(catalog_id)
        if not self.not_modified(catalog.etag):
            self.write_json(catalog.collection)


class EsmTableHandler(CatalogHandler):
    """GET: the catalogue's table as one Arrow IPC stream, with ETag (If-None-Match: 304):
    the whole table, or one part of it with ?part=search or ?part=assets."""

    @web.authenticated
    @authorized
    async def get(self, catalog_id: str) -> None:
        part = self.get_query_argument("part", default=None)
        if part is not None and part not in PARTS:
            raise ApiError(
                400,
                f"There is no table part {part!r}: the parts are {', '.join(PARTS)}; without "
                "part, the whole table is sent.",
            )
        catalog = await self.intake_catalog(catalog_id)
        if self.not_modified(catalog.etag):
            return
        if part is None:
            stream = await asyncio.to_thread(lambda: catalog.stream)
        else:
            stream = await asyncio.to_thread(catalog.stream_of, part)
        self.set_header("Content-Type", ARROW_STREAM)
        self.set_header("Content-Length", str(stream.size))
        try:
            for start in range(0, stream.size, CHUNK_BYTES):
                self.write(stream.slice(start, min(CHUNK_BYTES, stream.size - start)).to_pybytes())
                await self.flush()
        except StreamClosedError:
            return
        await self.finish(set_content_type=ARROW_STREAM)


class CatalogProxyHandler(CatalogHandler):
    """GET or POST ?url=U: U fetched by the server, when its host is allowed. The answer carries
    the upstream body as it came (parsing happens in the browser) and says in headers what
    happened: X-Espri-Vre-Truncated (true when cut at the size limit), X-Espri-Vre-Url (the URL
    that answered, after redirects: the base of relative links), X-Espri-Vre-Cache (hit or miss),
    X-Espri-Vre-Upstream-Content-Type."""

    @web.authenticated
    @authorized
    async def get(self, catalog_id: str) -> None:
        await self.relay(catalog_id, "GET")

    @web.authenticated
    @authorized
    async def post(self, catalog_id: str) -> None:
        await self.relay(catalog_id, "POST")

    async def relay(self, catalog_id: str, method: str) -> None:
        self.catalog(catalog_id, REMOTE_KINDS)
        state: _ProxyState = self.settings.get(_PROXY_KEY) or self.settings.setdefault(
            _PROXY_KEY, _ProxyState(self)
        )
        url = self.get_query_argument("url", default="", strip=False)
        body, content_type = b"", None
        if method == "POST":
            content_type = self.request.headers.get("Content-Type", "")
            media = content_type.split(";")[0].strip().lower()
            if not (media in POST_MEDIA_TYPES or media.endswith("+json") or media.endswith("+xml")):
                raise ApiError(
                    415,
                    "The catalogue proxy posts JSON (STAC search) or XML (CSW) bodies only, not "
                    f"{media or 'a body without a Content-Type'}.",
                    code="unsupported-media-type",
                )
            body = self.request.body
            if len(body) > state.max_request_bytes:
                raise ApiError(
                    413,
                    f"The request body is {len(body)} bytes; the catalogue proxy posts at most "
                    f"{state.max_request_bytes}.",
                )
        try:
            result = await fetch(
                url,
                state.allow,
                method=method,
                body=body,
                content_type=content_type,
                accept=self.request.headers.get("Accept"),
                limits=state.limits,
                cache=state.cache,
            )
        except ProxyError as e:
            if isinstance(e, HostNotAllowed) or e.status >= 500:
                self.log.warning("espri-vre: catalogue proxy (%s): %s", catalog_id, e.detail)
            raise
        media = result.content_type.split(";")[0].strip().lower()
        content_type = (
            result.content_type if media in PASSIVE_MEDIA_TYPES else PASSIVE_MEDIA_TYPES[-1]
        )
        self.set_status(result.status)
        self.set_header("X-Espri-Vre-Upstream-Content-Type", result.content_type)
        self.set_header("X-Espri-Vre-Truncated", "true" if result.truncated else "false")
        self.set_header("X-Espri-Vre-Url", result.url)
        self.set_header("X-Espri-Vre-Cache", "hit" if result.from_cache else "miss")
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        self.set_header("Content-Disposition", "attachment")
        self.set_header("X-Content-Type-Options", "nosniff")
        await self.finish(result.body, set_content_type=content_type)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, UpstreamHTTPError):
            self.set_header("X-Espri-Vre-Upstream-Status", str(error.upstream_status))
        super().write_error(status_code, **kwargs)


def _phrase(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
