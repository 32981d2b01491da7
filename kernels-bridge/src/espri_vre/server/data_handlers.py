"""HTTP layer of the data endpoints (`data/info`, `data/references`, `data/table`, and
`data/remote/references`, `data/remote/bytes` for files on data servers): parse the query,
confine the path, run the reading in a worker thread (kerchunk and pyarrow block) and answer;
a DataError becomes the API's {"error", "detail"} answer in the base handler. The logic
is in espri_vre.data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..catalogs.proxy import AllowList, ProxyLimits
from ..data.kinds import REFERENCE_KINDS, TABLE_KINDS, FileKind, detect_kind
from ..data.multifile import Part, combine
from ..data.paths import PathRefused, ResolvedPath, resolve_data_path
from ..data.references import cache_key, etag_for, references_for
from ..data.remote import RemoteData
from ..data.tables import DEFAULT_LIMIT, MAX_ROWS, read_slice, to_ipc_stream
from .base import ApiError, EspriVreHandler, loads_bounded
from .catalog_handlers import CatalogProxy
from .files_handler import files_route_url

ARROW_STREAM = "application/vnd.apache.arrow.stream"
REMOTE_BYTES = "espri-vre/api/data/remote/bytes"
_REMOTE_KEY = "espri_vre_remote_data"
MAX_BODY_BYTES = 1024 * 1024


class DataHandler(EspriVreHandler):
    """Common to the data endpoints: the `path` argument, confined to root_dir and the data
    roots."""

    def resolve(self, shown: str) -> ResolvedPath:
        roots = [entry.path for entry in self.espri_app.validated.data_roots if not entry.problem]
        try:
            return resolve_data_path(
                shown,
                self.serverapp.root_dir,
                roots,
                allow_hidden=bool(getattr(self.contents_manager, "allow_hidden", True)),
            )
        except PathRefused as e:
            self.log.warning("espri-vre: refused data path %r: %s", shown, e.detail)
            raise

    def int_argument(self, name: str, default: int) -> int:
        text = self.get_argument(name, "")
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise ApiError(400, f"{name} must be a non-negative integer (got {text!r}).")
        return value

    def set_files_url(self, resolved: ResolvedPath) -> None:
        if resolved.files_path is not None:
            self.set_header("X-Files-Url", files_url(resolved.files_path))


class InfoHandler(DataHandler):
    """GET ?path=: what the file is (from its first bytes) and how the browser reads it."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        kind = await asyncio.to_thread(detect_kind, resolved.path)
        st = resolved.path.stat()
        url = files_url(resolved.files_path) if resolved.files_path else None
        if url is None:  # in a data root outside root_dir: the data/files/@<root-id>/ route
            roots = [(e.id, e.path) for e in self.espri_app.validated.data_roots if not e.problem]
            url = files_route_url(resolved, roots)
        self.write_json(
            {
                "path": shown,
                "kind": kind.kind,
                "description": kind.description,
                "reader": reader_of(kind),
                "matches_extension": kind.matches_extension,
                "delimiter": kind.delimiter,
                "size": None if resolved.path.is_dir() else st.st_size,
                "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(),
                "files_url": url,
            }
        )


class ReferencesHandler(DataHandler):
    """GET ?path=: kerchunk references (spec v1, Zarr v2) of a NetCDF/HDF5 file, with an ETag
    from the file's path, mtime and size: an unchanged file answers 304 without any reading."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        self.set_header("ETag", etag_for(cache_key(resolved.path)))
        self.set_header("Cache-Control", "private, no-cache")
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        refs = await asyncio.to_thread(references_for, resolved.path, shown)
        self.set_header("ETag", refs.etag)
        self.set_header("X-Codecs", ",".join(refs.codecs))
        if refs.skipped:
            self.set_header("X-Skipped-Variables", ",".join(quote(s) for s in refs.skipped))
        self.set_files_url(resolved)
        if resolved.files_path is None:  # outside root_dir: the range-capable data/files route
            roots = [(e.id, e.path) for e in self.espri_app.validated.data_roots if not e.problem]
            url = files_route_url(resolved, roots)
            if url:
                self.set_header("X-Files-Url", url)
        self.finish(refs.body, set_content_type="application/json; charset=UTF-8")


class TableHandler(DataHandler):
    """GET ?path=&offset=&limit=&columns=a,b: rows [offset, offset + limit) as an Arrow IPC
    stream; limit is capped at MAX_ROWS."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        shown = self.path_argument()
        resolved = self.resolve(shown)
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", DEFAULT_LIMIT)
        columns = [c for c in self.get_argument("columns", "", strip=False).split(",") if c]
        part = await asyncio.to_thread(read_slice, resolved.path, shown, offset, limit, columns)
        body = await asyncio.to_thread(to_ipc_stream, part)
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("X-Total-Rows", str(part.total_rows))
        self.set_header("X-Offset", str(part.offset))
        self.set_header("X-Rows", str(part.table.num_rows))
        self.set_header("X-Max-Rows", str(MAX_ROWS))
        # APIHandler.finish sets the Content-Type, JSON unless told otherwise.
        self.finish(body, set_content_type=ARROW_STREAM)


class RemoteHandler(DataHandler):
    """Common to the remote-file endpoints: the `url` argument, and one RemoteData per server
    (the catalogue proxy's allow-list and limits)."""

    def remote(self) -> RemoteData:
        remote = self.settings.get(_REMOTE_KEY)
        if remote is None:
            remote = self.settings.setdefault(_REMOTE_KEY, RemoteData(*reach(self)))
        return remote

    def url_argument(self) -> str:
        return url_argument(self, "the file's URL")


def reach(handler: EspriVreHandler) -> tuple[AllowList, ProxyLimits]:
    """What the server may reach on a user's behalf, and within which limits: the catalogue
    proxy's allow-list and limits, shared by every route that reads a data server (remote
    files, OPeNDAP datasets)."""
    app = handler.espri_app
    proxy = CatalogProxy(parent=app)
    allow, _ = AllowList.from_config([c.url for c in app.validated.catalogs], app.allowed_hosts)
    return allow, ProxyLimits(timeout=proxy.timeout, max_redirects=proxy.max_redirects)


def url_argument(handler: EspriVreHandler, what: str) -> str:
    """The `url` query argument (the last one given), or a 400 that says what to pass."""
    raw = handler.request.query_arguments.get("url") or [b""]
    try:
        url = raw[-1].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, "The url is not valid UTF-8.") from e
    if not url:
        raise ApiError(400, f"No url was given: pass {what} as url.")
    return url


class RemoteReferencesHandler(RemoteHandler):
    """GET ?url=: kerchunk references of a NetCDF/HDF5 file on an allowed data server, with an
    ETag from its URL and validators; X-Files-Url names the data/remote/bytes route its chunks
    are read through."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        remote = self.remote()
        found = await remote.probe(self.url_argument())
        key = (found.url, found.etag, found.last_modified, found.size)
        if found.etag or found.last_modified:
            self.set_header("ETag", etag_for(key))
            if self.check_etag_header():
                self.set_status(304)
                self.finish()
                return
        refs = await asyncio.to_thread(remote.references, found)
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("X-Codecs", ",".join(refs.codecs))
        self.set_header("X-Files-Url", remote_bytes_url(found.url))
        self.set_header("X-Remote-Size", str(found.size))
        if refs.skipped:
            self.set_header("X-Skipped-Variables", ",".join(quote(s) for s in refs.skipped))
        self.finish(refs.body, set_content_type="application/json; charset=UTF-8")


class RemoteBytesHandler(RemoteHandler):
    """GET ?url= with a `Range: bytes=a-b` header: those bytes of the remote file (206)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        answer = await self.remote().read_range(
            self.url_argument(), self.request.headers.get("Range")
        )
        self.set_status(206)
        self.set_header("Content-Range", answer.content_range)
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(answer.body, set_content_type="application/octet-stream")


class CombinedReferencesHandler(RemoteHandler):
    """POST {"locations": [...]}: the references of several files (paths the server may read,
    or URLs on allowed data servers) combined along time as one dataset; each file's chunks are
    read where the `templates` of the answer say."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        locations = self.locations()
        remote = [loc.startswith(("http://", "https://")) for loc in locations]
        if any(remote) and not all(remote):
            raise ApiError(
                400, "The files of one dataset are either all on this server or all remote."
            )
        limit = asyncio.Semaphore(4)

        async def part(location: str) -> Part:
            async with limit:
                if remote[0]:
                    return await self.remote_part(location)
                return await self.local_part(location)

        parts = await asyncio.gather(*(part(loc) for loc in locations))
        options = self.remote().storage_options() if remote[0] else None
        refs = await asyncio.to_thread(combine, list(parts), options)
        self.set_header("ETag", refs.etag)
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("X-Codecs", ",".join(refs.codecs))
        self.finish(refs.body, set_content_type="application/json; charset=UTF-8")

    def locations(self) -> list[str]:
        if len(self.request.body) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request is larger than {MAX_BODY_BYTES} bytes.")
        try:
            body = loads_bounded(self.request.body or b"{}")
        except ValueError as e:
            raise ApiError(400, f"The body is not JSON: {e}.", "invalid-json") from e
        locations = body.get("locations") if isinstance(body, dict) else None
        if not isinstance(locations, list) or not all(isinstance(x, str) and x for x in locations):
            raise ApiError(400, 'The body must be {"locations": [...]}, a list of paths or URLs.')
        return locations

    async def local_part(self, shown: str) -> Part:
        resolved = self.resolve(shown)
        refs = await asyncio.to_thread(references_for, resolved.path, shown)
        if resolved.files_path is not None:
            target = data_files_route(files_url(resolved.files_path))
        else:
            roots = [(e.id, e.path) for e in self.espri_app.validated.data_roots if not e.problem]
            target = files_route_url(resolved, roots) or ""
        return Part(str(resolved.path), shown, refs, target)

    async def remote_part(self, url: str) -> Part:
        remote = self.remote()
        found = await remote.probe(url)
        refs = await asyncio.to_thread(remote.references, found)
        return Part(found.url, url, refs, remote_bytes_url(found.url))


def data_files_route(files: str) -> str:
    """The suite's range-capable route for a file `/files/` serves (Zarr's hidden keys too)."""
    return "espri-vre/api/data/" + files


def remote_bytes_url(url: str) -> str:
    """The route the browser reads a remote file's byte ranges through, relative to the
    server's base URL."""
    return f"{REMOTE_BYTES}?url={quote(url, safe='')}"


def files_url(files_path: str) -> str:
    """Where the server's `/files/` handler serves a file (with Range requests), relative to the
    server's base URL."""
    return "files/" + quote(files_path)


def reader_of(kind: FileKind) -> str | None:
    """How the browser reads it: `zarr` (straight from the store), `references` (data/references
    then Range requests), `table` (data/table), or None (it cannot be previewed)."""
    if kind.kind in ("zarr-v2", "zarr-v3"):
        return "zarr"
    if kind.kind in REFERENCE_KINDS:
        return "references"
    if kind.kind in TABLE_KINDS or (kind.kind == "text" and "csv" in kind.expected):
        return "table"
    return None
