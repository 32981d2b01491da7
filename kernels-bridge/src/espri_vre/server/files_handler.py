"""GET/HEAD /espri-vre/api/data/files/<path>: the bytes of a file, with HTTP Range requests, for
the browser's zarrita (Zarr stores, and the chunks that kerchunk references point at).

`<path>` is path-shaped so that zarrita's FetchStore can use a store's URL as its base and
append keys with '/':

- `data/files/<path relative to root_dir>`, as the file browser names files;
- `data/files/@<root-id>/<path inside that data root>`, for a configured data root (`EspriVreApp.
  data_roots[].id`), wherever it lies. A first component `@x` where no data root has the id `x`
  is an ordinary name in root_dir.

Why not Jupyter's `/files/`: it refuses every hidden name (and every Zarr v2 key starts with a
dot) and serves root_dir only. Confinement is `espri_vre.data.paths.resolve_data_path` (`..`,
NUL, absolute paths and symbolic links leading out of the roots are refused). Hidden names: a
component starting with '.' is allowed when it lies inside a folder whose name ends in `.zarr`
(`x.zarr/.zmetadata`, `x.zarr/tas/.zarray`); elsewhere it is refused unless the
ContentsManager allows hidden files, as Jupyter's own handlers do, in the path as given and in
the real path a symbolic link leads to.

Why a small reader rather than tornado's StaticFileHandler (the pattern of jupyter_server's
AuthenticatedFileHandler): StaticFileHandler's ETag hashes the whole file (a 2 GB NetCDF file
read through for each chunk's first request), its errors are HTML pages rather than the API's
JSON body, and it needs a per-route root, whereas here the root is chosen per request. One
byte range per request is all zarrita sends, so Range support is a few lines.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import os
import re
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.paths import PathRefused, ResolvedPath, resolve_data_path
from .base import ApiError, EspriVreHandler

BLOCK = 1 << 20
"""Bytes read (in a worker thread) and sent at a time."""

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def files_route_url(resolved: ResolvedPath, roots: list[tuple[str, str]]) -> str | None:
    """`espri-vre/api/data/files/@<id>/<path>` for a file in a data root (relative to the base
    URL, quoted), or None when it lies in none of `roots` ((id, configured path) pairs)."""
    for root_id, path in roots:
        if Path(os.path.realpath(os.path.expanduser(path))) == resolved.root:
            inside = resolved.path.relative_to(resolved.root).as_posix()
            return "espri-vre/api/data/files/" + quote(f"@{root_id}/{inside}")
    return None


class FilesHandler(EspriVreHandler):
    """The bytes of a file in root_dir or a data root, whole or one byte range."""

    def data_roots(self) -> list[tuple[str, str]]:
        return [(e.id, e.path) for e in self.espri_app.validated.data_roots if not e.problem]

    def resolve_files_path(self, raw: str) -> ResolvedPath:
        first, _, rest = raw.partition("/")
        if raw.startswith("/") or rest.startswith("/"):
            self.log.warning("espri-vre: refused data/files path %r: absolute", raw)
            raise ApiError(
                403,
                f"{raw} is an absolute path: data/files takes a path relative to the server "
                "root, or @<data-root-id>/<path inside that data root>.",
            )
        user_path = raw
        roots = dict(self.data_roots())
        if first.startswith("@") and first[1:] in roots:
            if not rest:
                raise ApiError(404, f"{raw} is a data root, not a file.", "not-found")
            # Joined without normalising: resolve_data_path still sees (and refuses) any '..'.
            user_path = str(Path(os.path.expanduser(roots[first[1:]])) / rest)
        try:
            resolved = resolve_data_path(
                user_path,
                self.serverapp.root_dir,
                [p for _, p in self.data_roots()],
                allow_hidden=bool(getattr(self.contents_manager, "allow_hidden", True)),
                hidden_in_zarr=True,
                shown=raw,
            )
        except PathRefused as e:
            self.log.warning("espri-vre: refused data/files path %r: %s", raw, e.detail)
            raise
        if not resolved.path.is_file():
            raise ApiError(404, f"{raw} is a folder, not a file.", "not-found")
        return resolved

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self.serve(path, body=True)

    @web.authenticated
    @authorized
    async def head(self, path: str) -> None:
        await self.serve(path, body=False)

    async def serve(self, raw: str, body: bool) -> None:
        if "\x00" in raw:
            raise ApiError(400, f"The path {raw!r} contains a NUL byte.")
        resolved = self.resolve_files_path(raw)
        st = resolved.path.stat()
        size = st.st_size
        self.set_header("ETag", f'"{st.st_mtime_ns:x}-{size:x}-{st.st_ino:x}"')
        self.set_header("Last-Modified", dt.datetime.fromtimestamp(int(st.st_mtime), dt.UTC))
        self.set_header("Accept-Ranges", "bytes")
        # Revalidated each time (a store rewritten in place must not show stale chunks); an
        # unchanged file answers 304 from stat() alone.
        self.set_header("Cache-Control", "private, no-cache")
        if self.not_modified(st.st_mtime):
            self.set_status(304)
            self.finish()
            return
        start, end = 0, size  # [start, end)
        header = self.request.headers.get("Range")
        match = _RANGE.match(header.strip()) if header else None
        if match and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]) + 1, size) if match[2] else size
            else:  # the last N bytes
                start = max(size - int(match[2]), 0)
            if start >= size or end <= start:
                raise RangeNotSatisfiable(raw, header or "", size)
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        # Several ranges ("bytes=0-1,5-6") are not parsed: the whole file answers, as RFC 9110
        # allows a server that ignores Range.
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(end - start))
        if not body:
            self.finish(set_content_type="application/octet-stream")
            return
        with open(resolved.path, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                block = await asyncio.to_thread(_read, f, min(BLOCK, left))
                if not block:
                    break  # the file shrank under us
                left -= len(block)
                self.write(block)
                await self.flush()
        self.finish(set_content_type="application/octet-stream")

    def not_modified(self, mtime: float) -> bool:
        if self.request.headers.get("If-None-Match"):
            return self.check_etag_header()
        since = self.request.headers.get("If-Modified-Since")
        if since:
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, RangeNotSatisfiable):
            # send_error has cleared the headers, and a 416 must say the file's size.
            self.set_header("Accept-Ranges", "bytes")
            self.set_header("Content-Range", f"bytes */{error.size}")
        super().write_error(status_code, **kwargs)


class RangeNotSatisfiable(ApiError):
    def __init__(self, raw: str, header: str, size: int) -> None:
        detail = f"The range {header!r} lies outside {raw} ({size} bytes)."
        super().__init__(416, detail, "range-not-satisfiable")
        self.size = size


def _read(f: BinaryIO, n: int) -> bytes:
    return f.read(n)
