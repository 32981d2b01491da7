"""The files a cell opens: noted by the hooks while the cell runs (where, read or write, which
library opened it), then stat'ed, hashed and written as events when the cell ends.

Hashing at the end of the cell (streamed, cached by path, size and mtime) records a file the
cell wrote with what it holds once the cell is done. Lazy reads (a dask array computed in a
later cell) are recorded in the cell that opened the file."""

from __future__ import annotations

import os
import site
import stat
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..provenance import events
from ..provenance.events import Event, FileOp
from ..provenance.hashing import ChangedWhileHashing, Digest, FileHasher
from ..provenance.identifiers import (
    DatasetIdentifiers,
    identifiers_from_attributes,
    identifiers_from_file,
)

NETCDF_SUFFIXES = frozenset({".nc", ".nc4", ".netcdf", ".cdf", ".h5", ".hdf5", ".he5", ".hdf"})
NOT_STATTED = (-1, -1)
"""`before` not known yet: distinct from None, which says the file did not exist."""


def stat_key(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def op_for_mode(mode: str) -> FileOp:
    bare = "".join(c for c in mode if c not in "btsU")
    if bare in ("r", ""):
        return "read"
    if bare.startswith(("w", "x")):
        return "write"
    return "update"


def ignored_prefixes(ipython_dir: str | None, extra: tuple[str, ...]) -> tuple[str, ...]:
    """The interpreter's and Jupyter's own files: imports, caches, configuration."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir, jupyter_runtime_dir

    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    places.update(site.getsitepackages())
    places.add(site.getusersitepackages())
    places.update((jupyter_config_dir(), jupyter_data_dir(), jupyter_runtime_dir()))
    places.add(os.path.expanduser("~/.cache"))
    # Dask's configuration (dask-jobqueue and dask-labextension write and read their
    # YAML there when imported): a library's settings, not the analysis's input.
    places.add(os.environ.get("DASK_CONFIG") or os.path.expanduser("~/.config/dask"))
    if ipython_dir:
        places.add(ipython_dir)
    places.update(extra)
    resolved = {os.path.realpath(p) for p in places if p} | {p for p in places if p}
    system = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/share/zoneinfo/")
    return tuple(sorted(p.rstrip(os.sep) + os.sep for p in resolved)) + system


@dataclass
class _Access:
    location: str
    is_url: bool
    op: FileOp
    opener: str
    cell: int | None
    before: tuple[int, int] | None = NOT_STATTED
    """For 'update': (size, mtime_ns) before the open, None when it did not exist."""
    confirmed: bool = False
    """Seen by a wrapper whose call succeeded; the audit hook also sees opens that fail."""
    attrs: dict[str, Any] | None = None


class PendingFiles:
    """The files opened since the last cell end, once per location and kind (read or write),
    and the datasets already recorded in this log."""

    def __init__(self, hasher: FileHasher, ignore: tuple[str, ...]) -> None:
        self.hasher = hasher
        self._ignore = ignore
        self._pending: dict[tuple[str, str], _Access] = {}
        self._lock = threading.Lock()  # dask or zarr threads open files too
        self._datasets: set[tuple[str, str | None]] = set()

    def ignore_also(self, directory: Path) -> None:
        self._ignore += (str(directory) + os.sep,)

    def new_log(self) -> None:
        """A dataset's identifiers are recorded once per log."""
        self._datasets.clear()

    def _ignored(self, path: str) -> bool:
        return path.startswith(self._ignore) or path.endswith(".pyc")

    def note(
        self,
        location: str,
        *,
        cell: int | None,
        is_url: bool,
        op: FileOp,
        opener: str,
        confirmed: bool,
        before: tuple[int, int] | None = NOT_STATTED,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        if not is_url and self._ignored(location):
            return
        key = (location, "read" if op == "read" else "write")
        if op == "update" and before == NOT_STATTED:
            before = stat_key(location)
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = _Access(
                    location, is_url, op, opener, cell, before, confirmed, attrs
                )
                return
            if confirmed and not entry.confirmed:
                # The audit hook saw it first (from a library's I/O thread): the wrapper knows.
                entry.confirmed, entry.opener = True, opener
            if entry.attrs is None:
                entry.attrs = attrs

    def flush(self, append: Callable[[Event], bool]) -> None:
        """Hands the events of the files pending to `append`, and forgets them."""
        with self._lock:
            pending, self._pending = self._pending, {}
        written = {loc for (loc, kind) in pending if kind == "write"}
        module_sources = _module_sources() if any(loc.endswith(".py") for loc, _ in pending) else ()
        stores = tuple(
            loc + os.sep
            for (loc, _), access in pending.items()
            if access.confirmed and not access.is_url and os.path.isdir(loc)
        )
        for (location, kind), access in pending.items():
            if access.is_url:
                append(
                    events.file_access(
                        cell=access.cell,
                        op=access.op,
                        opener=access.opener,
                        url=location,
                        note="remote: not hashed",
                    )
                )
                self._dataset(access, None, append)
                continue
            info = _stat(location)
            if not access.confirmed and (info is None or not stat.S_ISREG(info.st_mode)):
                # The audit hook also sees opens that failed (probes for optional files) and
                # directories opened for walking: neither is data the cell used.
                continue
            if not access.confirmed and (location in module_sources or location.startswith(stores)):
                continue  # a module's source shown in a traceback; a file inside a store
            op = _resolve_op(access, info)
            digest, note = self._digest(location, info)
            if kind == "read" and location in written and note is None:
                note = "also written in this cell: the hash is of the content at its end"
            event = events.file_access(
                cell=access.cell,
                op=op,
                opener=access.opener,
                path=location,
                digest=digest,
                note=note,
            )
            append(event)
            if op != "write":
                self._dataset(access, event.content_hash, append)

    def _digest(
        self, location: str, info: os.stat_result | None
    ) -> tuple[Digest | None, str | None]:
        if info is None:
            return None, "gone before the cell ended"
        try:
            return self.hasher.digest(location), None
        except ChangedWhileHashing:
            return None, "still changing when the cell ended"
        except OSError as error:
            return None, f"not readable: {error.strerror or error}"

    def _dataset(
        self, access: _Access, content_hash: str | None, append: Callable[[Event], bool]
    ) -> None:
        key = (access.location, content_hash)
        if key in self._datasets:
            return
        identifiers: DatasetIdentifiers | None = None
        if access.attrs is not None:
            identifiers = identifiers_from_attributes(access.attrs, access.location)
        elif not access.is_url and Path(access.location).suffix.lower() in NETCDF_SUFFIXES:
            try:
                identifiers = identifiers_from_file(access.location)
            except (OSError, ImportError):
                identifiers = None
        self._datasets.add(key)
        if not identifiers:
            return
        append(
            events.DatasetSeen(
                cell=access.cell,
                path=None if access.is_url else access.location,
                url=access.location if access.is_url else None,
                sha256=content_hash,
                identifiers=identifiers,
            )
        )


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _module_sources() -> set[str]:
    """Sources of imported modules: read by linecache to show a traceback, not data."""
    return {
        os.path.abspath(file)
        for module in list(sys.modules.values())
        if isinstance(file := getattr(module, "__file__", None), str)
    }


def _resolve_op(access: _Access, info: os.stat_result | None) -> FileOp:
    """An 'update' of a file becomes 'read' when size and mtime did not move, 'write' when they
    did or the file is new; a directory's (a Zarr store's) change is not known cheaply."""
    if access.op != "update":
        return access.op
    if access.before is None:
        return "write"
    if info is None or stat.S_ISDIR(info.st_mode):
        return "update"
    return "read" if access.before == (info.st_size, info.st_mtime_ns) else "write"
