"""HTTP layer of `GET /espri-vre/api/data/roots/<root-id>/list?path=&offset=&limit=`: what the
file browser's drive of a data root shows, one page of a folder (or one file's description).
`path` is relative to the data root, as the drive names files; it is confined like every data
path (`resolve_data_path`: no `..`, no absolute path, no link out of the roots, no hidden name
unless the ContentsManager allows them). The listing itself is espri_vre.data.listing.

The drive is read-only: the data roots are the centre's storage, which the suite reads; nothing
here writes.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.listing import DEFAULT_LIMIT, describe, list_folder
from ..data.paths import PathRefused, resolve_data_path
from .base import ApiError
from .data_handlers import DataHandler


class RootListHandler(DataHandler):
    """GET: {root, path, name, type, size, mtime, zarr, entries, offset, total, complete}; a
    file answers `entries: null`."""

    @web.authenticated
    @authorized
    async def get(self, root_id: str) -> None:
        roots = {e.id: e.path for e in self.espri_app.validated.data_roots if not e.problem}
        if root_id not in roots:
            raise ApiError(404, f"There is no data root {root_id!r} in the configuration.")
        inside = self.path_argument()
        shown = f"@{root_id}/{inside}" if inside else f"@{root_id}"
        if inside.startswith("/"):
            raise PathRefused(f"{shown}: give the path inside the data root, not an absolute one.")
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", DEFAULT_LIMIT)
        base = Path(os.path.expanduser(roots[root_id]))
        allow_hidden = bool(getattr(self.contents_manager, "allow_hidden", False))
        try:
            # Joined without normalising: resolve_data_path still sees (and refuses) any '..'.
            resolved = resolve_data_path(
                str(base / inside) if inside else str(base),
                self.serverapp.root_dir,
                list(roots.values()),
                allow_hidden=allow_hidden,
                shown=shown,
            )
        except PathRefused as e:
            self.log.warning("espri-vre: refused data root path %r: %s", shown, e.detail)
            raise
        real_roots = [Path(os.path.realpath(os.path.expanduser(self.serverapp.root_dir)))] + [
            Path(os.path.realpath(os.path.expanduser(p))) for p in roots.values()
        ]
        entry = await asyncio.to_thread(describe, resolved.path)
        answer: dict[str, object] = {
            **entry.as_json(""),
            "root": root_id,
            "path": inside,
            "name": entry.name if inside else root_id,
            "writable": False,
            "entries": None,
            "offset": 0,
            "total": 0,
            "complete": True,
        }
        if entry.type == "directory":
            listing = await asyncio.to_thread(
                list_folder,
                resolved.path,
                real_roots,
                allow_hidden=allow_hidden,
                offset=offset,
                limit=limit,
            )
            answer.update(
                entries=[e.as_json(inside) for e in listing.entries],
                offset=listing.offset,
                total=listing.total,
                complete=listing.complete,
            )
        self.set_header("Cache-Control", "private, no-cache")
        self.write_json(answer)
