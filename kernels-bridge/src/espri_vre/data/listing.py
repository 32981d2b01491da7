"""Folder listings of a data root, for the file browser's data-root drives: one page of a folder's
entries, confined as every data read is (see `paths.py`). Pure functions over the file system;
no HTTP here.

An entry is listed only when the server would serve it: hidden names are left out when the
server hides them, and a symbolic link is listed only when its target exists and lies in the
server root or a data root (and, when hidden names are hidden, is not itself hidden there).

A data root may hold millions of files: a listing reads at most `SCAN_LIMIT` names of a folder
(names only, as `os.scandir` gives them, without a stat each), sorts them, and stats only the
page asked for. Beyond `SCAN_LIMIT` the listing says that it is cut (`complete: false`) rather
than reading on.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .paths import DataError

SCAN_LIMIT = 100_000
"""Names of one folder read at most: beyond, the listing is cut."""
DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
"""Entries of one page at most."""

ZARR_MARKERS = (".zgroup", ".zarray", "zarr.json")
"""A folder holding one of these is a Zarr store (v2 group or array, v3 node)."""


@dataclass(frozen=True)
class Entry:
    name: str
    type: str
    """`directory` or `file`."""
    size: int | None
    mtime: str
    zarr: bool
    """A folder that is a Zarr store (previewed as one dataset)."""

    def as_json(self, parent: str) -> dict[str, object]:
        return {
            "name": self.name,
            "path": f"{parent}/{self.name}" if parent else self.name,
            "type": self.type,
            "size": self.size,
            "mtime": self.mtime,
            "zarr": self.zarr,
        }


@dataclass(frozen=True)
class Listing:
    entries: list[Entry]
    offset: int
    total: int
    """Entries listed (after hidden names and escaping links are left out), up to SCAN_LIMIT."""
    complete: bool
    """False when the folder holds more than SCAN_LIMIT names and only those were read."""


def is_zarr_store(path: Path) -> bool:
    if path.name.endswith(".zarr"):
        return True
    return any((path / marker).exists() for marker in ZARR_MARKERS)


def describe(path: Path) -> Entry:
    """The entry of a file or folder (links followed)."""
    st = path.stat()
    is_dir = stat.S_ISDIR(st.st_mode)
    return Entry(
        name=path.name,
        type="directory" if is_dir else "file",
        size=None if is_dir else st.st_size,
        mtime=dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(),
        zarr=is_dir and is_zarr_store(path),
    )


def list_folder(
    folder: Path,
    real_roots: Iterable[Path],
    *,
    allow_hidden: bool,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Listing:
    """Entries [offset, offset + limit) of `folder` (a real path inside one of `real_roots`),
    sorted by name. `limit` above MAX_LIMIT is a bad request, not silently cut: the caller
    pages."""
    if limit < 1 or limit > MAX_LIMIT:
        raise DataError(f"limit must be between 1 and {MAX_LIMIT} (got {limit}).")
    if not folder.is_dir():
        raise DataError(f"{folder.name} is a file, not a folder: it has no listing.")
    roots = list(real_roots)
    names: list[str] = []
    complete = True
    with os.scandir(folder) as scan:
        for item in scan:
            if not allow_hidden and item.name.startswith("."):
                continue
            if item.is_symlink() and not _link_allowed(Path(item.path), roots, allow_hidden):
                continue
            if len(names) == SCAN_LIMIT:
                complete = False
                break
            names.append(item.name)
    names.sort()
    entries = []
    for name in names[offset : offset + limit]:
        try:
            entries.append(describe(folder / name))
        except OSError:  # removed since the scan, or unreadable: left out rather than failed
            continue
    return Listing(entries=entries, offset=offset, total=len(names), complete=complete)


def _link_allowed(link: Path, roots: list[Path], allow_hidden: bool) -> bool:
    """Whether a symbolic link leads to an existing place the server serves."""
    real = Path(os.path.realpath(link))
    if not real.exists():
        return False
    inside = [r for r in roots if real == r or r in real.parents]
    if not inside:
        return False
    if allow_hidden:
        return True
    root = max(inside, key=lambda r: len(r.parts))
    return not any(part.startswith(".") for part in real.relative_to(root).parts)
