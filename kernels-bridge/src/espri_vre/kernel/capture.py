"""Provenance capture in an IPython kernel: `%load_ext espri_vre`.

What it hooks, and why this way:
- IPython's pre_run_cell/post_run_cell events frame each cell execution: its source (stored
  once per run, by hash), order, times, status and error.
- `sys.addaudithook` sees every `open` made through Python (builtins.open, io, os.open), by the
  user's code or by a library. Audit hooks cannot be removed, so the hook checks the
  module-level `_active` flag first and costs one comparison when recording is off.
- Libraries that open files in C (netCDF4, h5py, pyarrow) or that take a store or URL (xarray,
  zarr, pandas) get thin wrappers (functools.wraps; subclasses for netCDF4.Dataset and
  h5py.File, whose isinstance checks keep answering for the original class), installed when the
  library is imported and removed on unload. The outermost call names the opener:
  xarray.open_dataset calling netCDF4.Dataset is recorded once, as 'xarray.open_dataset'.
- Files are hashed at the end of the cell (streamed, cached by path, size and mtime), so a file
  written by the cell is recorded with what it holds once the cell is done. Lazy reads (a dask
  array computed in a later cell) are recorded in the cell that opened the file.
- Nothing here may break a user's cell: a failing write stops recording with a message in the
  cell's output, and any error of ours does the same.

The log goes next to the notebook (`<notebook>.provenance/<run_id>.jsonl`) when the kernel
knows its notebook (JPY_SESSION_NAME, set by jupyter_server 2, or `__session__`), else into
ESPRI_VRE_PROVENANCE_DIR (by default the Jupyter data directory's espri-vre/provenance)."""

from __future__ import annotations

import atexit
import functools
import glob
import importlib.abc
import os
import site
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from ..provenance import events
from ..provenance.events import ENV_ALLOW, Event, FileOp, FsyncPolicy
from ..provenance.hashing import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MANIFEST_ABOVE,
    ChangedWhileHashing,
    Digest,
    FileHasher,
    sha256_text,
)
from ..provenance.identifiers import (
    DatasetIdentifiers,
    global_attributes,
    identifiers_from_attributes,
    identifiers_from_file,
)
from ..provenance.store import EventLog, new_run_id, recover_directory

State = Literal["recording", "paused", "off", "stopped"]

ENV = "ESPRI_VRE_PROVENANCE"
NETCDF_SUFFIXES = frozenset({".nc", ".nc4", ".netcdf", ".cdf", ".h5", ".hdf5", ".he5", ".hdf"})
WRAPPED = "__espri_vre_wrapped__"

_active = False
"""True while recording: the only thing the audit hook and the wrappers look at when off."""
_recorder: Recorder | None = None
_local = threading.local()
_audit_hook_added = False
_atexit_registered = False


@dataclass(frozen=True)
class CaptureSettings:
    """From environment variables, so that a hub's kernel spec or a job can set them."""

    enabled: bool = True
    directory: Path = field(default_factory=lambda: _default_directory())
    fsync: FsyncPolicy = "cell"
    manifest_above: int = DEFAULT_MANIFEST_ABOVE
    chunk_size: int = DEFAULT_CHUNK_SIZE
    env_allow: tuple[str, ...] = ENV_ALLOW
    ignore: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CaptureSettings:
        env = os.environ if environ is None else environ

        def size(name: str, default: int) -> int:
            raw = env.get(f"{ENV}_{name}")
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"{ENV}_{name} must be a number of bytes, not {raw!r}") from None
            if value < 1:
                raise ValueError(f"{ENV}_{name} must be positive, not {value}")
            return value

        fsync = env.get(f"{ENV}_FSYNC", "cell")
        if fsync not in ("event", "cell", "none"):
            raise ValueError(f"{ENV}_FSYNC must be event, cell or none, not {fsync!r}")
        extra_env = tuple(n.strip() for n in env.get(f"{ENV}_ENV", "").split(",") if n.strip())
        ignore = tuple(p for p in env.get(f"{ENV}_IGNORE", "").split(os.pathsep) if p)
        directory = env.get(f"{ENV}_DIR")
        return cls(
            enabled=env.get(ENV, "on").lower() not in ("off", "0", "false", "no"),
            directory=Path(directory).expanduser() if directory else _default_directory(),
            fsync=fsync,  # type: ignore[arg-type]
            manifest_above=size("MANIFEST_ABOVE", DEFAULT_MANIFEST_ABOVE),
            chunk_size=size("CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
            env_allow=ENV_ALLOW + extra_env,
            ignore=ignore,
        )


def _default_directory() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre" / "provenance"


def notebook_path(
    user_ns: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Path | None:
    """The notebook this kernel runs, when it can be known.

    jupyter_server 2 gives it in JPY_SESSION_NAME (and ipykernel copies it to `__session__`):
    an absolute path, or a path relative to the server's root when the session has no name, in
    which case the kernel's working directory is the notebook's folder."""
    env = os.environ if environ is None else environ
    for raw in (env.get("JPY_SESSION_NAME"), user_ns.get("__session__")):
        if not isinstance(raw, str) or not raw:
            continue
        given = Path(raw).expanduser()
        options = [given] if given.is_absolute() else [Path.cwd() / given, Path.cwd() / given.name]
        for option in options:
            if option.is_file():
                return option.resolve()
    return None


def log_directories(notebook: Path | None, fallback: Path) -> list[Path]:
    """Where the log may go, in order of preference: beside the notebook, else the fallback
    (a notebook in a read-only course folder still gets its log)."""
    name = f"{notebook.stem if notebook else 'kernel'}.provenance"
    places = [notebook.parent / name] if notebook else []
    return [*places, fallback / name]


@contextmanager
def _busy() -> Iterator[None]:
    """Our own file work (hashing, reading headers, writing the log) is not the user's."""
    previous = getattr(_local, "busy", False)
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = previous


def _openers() -> list[str]:
    stack = getattr(_local, "openers", None)
    if stack is None:
        stack = _local.openers = []
    return stack


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


_NOT_STATTED = (-1, -1)


@dataclass
class _Access:
    location: str
    is_url: bool
    op: FileOp
    opener: str
    cell: int | None
    before: tuple[int, int] | None = _NOT_STATTED
    """For 'update': (size, mtime_ns) before the open, None when it did not exist."""
    confirmed: bool = False
    """Seen by a wrapper whose call succeeded; the audit hook also sees opens that fail."""
    attrs: dict[str, Any] | None = None


@dataclass
class _Cell:
    order: int
    cell_id: str | None
    source_sha256: str
    start: str
    info: Any
    """IPython's ExecutionInfo, which post_run_cell gets back: how a cell end finds its start."""


class Recorder:
    """The capture of one kernel. Only `load_ipython_extension` makes one."""

    def __init__(self, shell: Any, settings: CaptureSettings) -> None:
        self.shell = shell
        self.settings = settings
        self.hasher = FileHasher(
            manifest_above=settings.manifest_above, chunk_size=settings.chunk_size
        )
        self.state: State = "off"
        self.reason: str | None = (
            "disabled by ESPRI_VRE_PROVENANCE" if not settings.enabled else None
        )
        self.log: EventLog | None = None
        self.notebook: Path | None = None
        self._order = 0
        self._cells: list[_Cell] = []
        """Cells running: more than one when a cell calls get_ipython().run_cell()."""
        self._pending: dict[tuple[str, str], _Access] = {}
        self._pending_lock = threading.Lock()  # dask or zarr threads open files too
        self._sources: set[str] = set()
        self._datasets: set[tuple[str, str | None]] = set()
        self._after_cell: Callable[[], None] | None = None
        self._ignore = self._ignored_prefixes()
        self._batch: list[Event] | None = None
        self._batch_thread: int | None = None

    def _ignored_prefixes(self) -> tuple[str, ...]:
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
        ipython_dir = getattr(self.shell, "ipython_dir", None)
        if ipython_dir:
            places.add(ipython_dir)
        places.update(self.settings.ignore)
        resolved = {os.path.realpath(p) for p in places if p} | {p for p in places if p}
        system = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/share/zoneinfo/")
        return tuple(sorted(p.rstrip(os.sep) + os.sep for p in resolved)) + system

    @property
    def _cell(self) -> _Cell | None:
        return self._cells[-1] if self._cells else None

    # life cycle

    def start(self) -> None:
        """Opens a new log and writes the session record."""
        if self.state in ("recording", "paused"):
            return
        if self.log is not None:  # stopped by a full disk: `%provenance on` starts a new log
            self.log.close()
            self.log = None
        self.notebook = notebook_path(self.shell.user_ns)
        errors = []
        with _busy():
            for directory in log_directories(self.notebook, self.settings.directory):
                try:
                    if directory.is_dir():
                        recover_directory(directory)
                    self.log = EventLog.open(
                        directory / f"{new_run_id()}.jsonl",
                        fsync=self.settings.fsync,
                        on_stop=self._stopped,
                    )
                    break
                except OSError as error:
                    errors.append(f"{directory}: {error.strerror or error}")
        if self.log is None:
            self._stopped(
                "espri-vre provenance: not recording, no place for the log ("
                + "; ".join(errors)
                + ")"
            )
            return
        self._ignore += (str(self.log.path.parent) + os.sep,)
        self._order = 0
        self._sources.clear()
        self._datasets.clear()
        self.state, self.reason = "recording", None
        session = events.session(
            self.notebook,
            env_allow=self.settings.env_allow,
            fsync=self.settings.fsync,
            manifest_above=self.settings.manifest_above,
            chunk_size=self.settings.chunk_size,
        )
        if self._append(session):
            self.log.checkpoint()
            _set_active(True)

    def pause(self) -> None:
        self._when_cell_ends(self._pause)

    def resume(self) -> None:
        if self.state == "paused":
            self.state = "recording"
            self._append(events.Control("resume", "%provenance resume"))
            _set_active(True)

    def off(self, reason: str = "%provenance off") -> None:
        self._when_cell_ends(lambda: self.close(reason))

    def _pause(self) -> None:
        if self.state == "recording":
            self._append(events.Control("pause", "%provenance pause"))
            self.state = "paused"
            _set_active(False)

    def _when_cell_ends(self, action: Callable[[], None]) -> None:
        """Pausing or stopping from inside a cell takes effect once that cell is recorded."""
        if self._cell is None:
            action()
        else:
            self._after_cell = action

    def close(self, reason: str) -> None:
        """Records what is pending, ends the log and closes it."""
        _set_active(False)
        if self.log is None:
            return
        with _busy():
            if self.state in ("recording", "paused"):
                self._flush_files()
                self._append(events.Control("end", reason))
            self.log.close()
        if self.state != "stopped":
            self.state, self.reason = "off", reason
        self.log = None

    def _stopped(self, message: str) -> None:
        _set_active(False)
        self.state = "stopped"
        self.reason = message
        print(message, file=sys.stderr, flush=True)

    def _internal_error(self, error: BaseException) -> None:
        """A bug of ours must not reach the user's cell: say so and stop recording."""
        if self.state == "stopped":
            return
        self._stopped(
            f"espri-vre provenance: recording stopped after an internal error "
            f"({type(error).__name__}: {error}). Your cells keep running."
        )

    def _append(self, event: Event) -> bool:
        if self.log is None:
            return False
        if self._batch is not None and self._batch_thread == threading.get_ident():
            self._batch.append(event)
            return True
        try:
            return self.log.append(event)
        except (TypeError, ValueError) as error:
            self._internal_error(error)
            return False

    @contextmanager
    def _batched(self) -> Iterator[None]:
        """The events appended inside go out in one write when it ends: a cell pays two
        write(2) calls (its start, its end with its files) instead of one per event."""
        self._batch, self._batch_thread = [], threading.get_ident()
        try:
            yield
        finally:
            batch, self._batch, self._batch_thread = self._batch, None, None
            if batch and self.log is not None:
                try:
                    self.log.append_many(batch)
                except (TypeError, ValueError) as error:
                    self._internal_error(error)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "run_id": self.log.run_id if self.log else None,
            "log": str(self.log.path) if self.log else None,
            "notebook": str(self.notebook) if self.notebook else None,
            "events": self.log.seq if self.log else None,
            "last_hash": self.log.last_hash if self.log else None,
        }

    # cells

    def pre_run_cell(self, info: Any) -> None:
        if self.state != "recording":
            return
        try:
            with _busy(), self._batched():
                text = info.raw_cell
                digest = sha256_text(text)
                if digest not in self._sources:
                    self._sources.add(digest)
                    self._append(events.Source(sha256=digest, text=text))
                self._order += 1
                cell_id = getattr(info, "cell_id", None)
                cell = _Cell(self._order, cell_id, digest, events.utc_now(), info)
                self._cells.append(cell)
                self._append(events.CellStart(cell.order, cell.cell_id, digest, cell.start))
        except Exception as error:
            self._internal_error(error)

    def post_run_cell(self, result: Any) -> None:
        # No start for this end: the cell that loaded the extension, or one run while paused.
        cell = None
        if self._cells and (result is None or self._cells[-1].info is result.info):
            cell = self._cells.pop()
        try:
            if cell is not None and self.state == "recording" and self.log is not None:
                end = events.utc_now()
                with _busy(), self._batched():
                    self._flush_files()
                    error = result.error_before_exec or result.error_in_exec if result else None
                    status: events.CellStatus = "ok" if result is not None else "error"
                    if isinstance(error, KeyboardInterrupt):
                        status = "interrupted"
                    elif error is not None:
                        status = "error"
                    stored = result is not None and cell.info.store_history
                    count = result.execution_count if stored else None
                    self._append(
                        events.CellEnd(
                            order=cell.order,
                            cell_id=cell.cell_id,
                            execution_count=count,
                            source_sha256=cell.source_sha256,
                            start=cell.start,
                            end=end,
                            status=status,
                            error=events.cell_error(error),
                        )
                    )
                self.log.checkpoint_soon()
            if not self._cells:
                action, self._after_cell = self._after_cell, None
                if action is not None:
                    action()
        except Exception as error:
            self._internal_error(error)

    # files

    def _ignored(self, path: str) -> bool:
        return path.startswith(self._ignore) or path.endswith(".pyc")

    def note(
        self,
        location: str,
        *,
        is_url: bool,
        op: FileOp,
        opener: str,
        confirmed: bool,
        before: tuple[int, int] | None = _NOT_STATTED,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        if not is_url and self._ignored(location):
            return
        key = (location, "read" if op == "read" else "write")
        if op == "update" and before == _NOT_STATTED:
            before = _stat_key(location)
        cell = self._cell.order if self._cell is not None else None
        with self._pending_lock:
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

    def on_audit_open(self, path: Any, mode: Any, flags: Any) -> None:
        if isinstance(path, int):
            return
        name = os.path.abspath(os.fsdecode(path))
        if isinstance(flags, int) and flags >= 0:
            access = flags & os.O_ACCMODE
            op: FileOp = "read" if access == os.O_RDONLY else "write"
            if access == os.O_RDWR:
                op = "update"
        else:
            op = _op_for_mode(str(mode or "r"))
        stack = _openers()
        self.note(name, is_url=False, op=op, opener=stack[0] if stack else "open", confirmed=False)

    def _flush_files(self) -> None:
        with self._pending_lock:
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
                self._append(
                    events.file_access(
                        cell=access.cell,
                        op=access.op,
                        opener=access.opener,
                        url=location,
                        note="remote: not hashed",
                    )
                )
                self._dataset(access, None)
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
            self._append(event)
            if op != "write":
                self._dataset(access, event.content_hash)

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

    def _dataset(self, access: _Access, content_hash: str | None) -> None:
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
        self._append(
            events.DatasetSeen(
                cell=access.cell,
                path=None if access.is_url else access.location,
                url=access.location if access.is_url else None,
                sha256=content_hash,
                identifiers=identifiers,
            )
        )

    def record_job(self, job_id: str, spec: Mapping[str, Any], provenance: str | None) -> bool:
        if self.state != "recording":
            return False
        cell = self._cell.order if self._cell is not None else None
        return self._append(events.job_submitted(job_id, spec, cell=cell, provenance=provenance))

    def record_dataset(
        self, identifiers: DatasetIdentifiers, *, path: str | None, url: str | None
    ) -> bool:
        if self.state != "recording":
            return False
        cell = self._cell.order if self._cell is not None else None
        event = events.DatasetSeen(
            cell=cell, path=path, url=url, sha256=None, identifiers=identifiers, origin="catalogue"
        )
        return self._append(event)


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


def _op_for_mode(mode: str) -> FileOp:
    bare = "".join(c for c in mode if c not in "btsU")
    if bare in ("r", ""):
        return "read"
    if bare.startswith(("w", "x")):
        return "write"
    return "update"


def _set_active(value: bool) -> None:
    global _active
    _active = value


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _active:
        recorder = _recorder
        if recorder is None or getattr(_local, "busy", False):
            return
        try:
            with _busy():
                recorder.on_audit_open(*args)
        except Exception as error:
            recorder._internal_error(error)


# wrappers of the openers that do not go through Python's open


@dataclass(frozen=True)
class Opener:
    module: str
    attr: str
    """Attribute of the module, or 'Class.method'."""
    target: tuple[int, str]
    """Position and keyword of the path, store or URL argument (position 0 is self for methods)."""
    op: FileOp | None = "read"
    """None: decided by the mode argument."""
    mode: tuple[int | None, str, str] = (None, "mode", "r")
    """Position, keyword and default of the mode argument."""

    @property
    def label(self) -> str:
        return f"{self.module}.{self.attr}"


OPENERS = (
    Opener("xarray", "open_dataset", (0, "filename_or_obj")),
    Opener("xarray", "open_dataarray", (0, "filename_or_obj")),
    Opener("xarray", "open_mfdataset", (0, "paths")),
    Opener("xarray", "open_zarr", (0, "store")),
    Opener("xarray", "Dataset.to_netcdf", (1, "path"), op="write"),
    Opener("xarray", "Dataset.to_zarr", (1, "store"), op="write"),
    Opener("xarray", "DataArray.to_netcdf", (1, "path"), op="write"),
    Opener("xarray", "DataArray.to_zarr", (1, "store"), op="write"),
    Opener("netCDF4", "Dataset", (0, "filename"), op=None, mode=(1, "mode", "r")),
    Opener("h5py", "File", (0, "name"), op=None, mode=(1, "mode", "r")),
    Opener("zarr", "open", (0, "store"), op=None, mode=(None, "mode", "a")),
    Opener("zarr", "open_group", (0, "store"), op=None, mode=(None, "mode", "a")),
    Opener("zarr", "open_array", (0, "store"), op=None, mode=(None, "mode", "a")),
    Opener("zarr", "open_consolidated", (0, "store"), op=None, mode=(None, "mode", "a")),
    Opener("pandas", "read_csv", (0, "filepath_or_buffer")),
    Opener("pandas", "read_parquet", (0, "path")),
    Opener("pandas", "DataFrame.to_parquet", (1, "path"), op="write"),
)
WATCHED_MODULES = frozenset(o.module for o in OPENERS)


def _argument(args: Sequence[Any], kwargs: Mapping[str, Any], index: int | None, name: str) -> Any:
    if index is not None and len(args) > index:
        return args[index]
    return kwargs.get(name)


def targets_of(value: Any) -> list[tuple[str, bool]]:
    """(location, is_url) for a path, a URL, a glob, a list of them or a Zarr store object."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if isinstance(value, str):
        if "://" in value:
            if value.startswith("file://"):
                return [(os.path.abspath(unquote(urlparse(value).path)), False)]
            return [(value, True)]
        if glob.has_magic(value) and not os.path.exists(value):
            return [(os.path.abspath(p), False) for p in sorted(glob.glob(value))]
        return [(os.path.abspath(os.path.expanduser(value)), False)]
    if isinstance(value, list | tuple):
        return [t for item in value for t in targets_of(item)]
    root = getattr(value, "root", None)
    if isinstance(root, str | os.PathLike):
        return targets_of(root)
    fs, path = getattr(value, "fs", None), getattr(value, "path", None)
    if isinstance(path, str) and hasattr(fs, "unstrip_protocol"):
        return targets_of(fs.unstrip_protocol(path))
    return []


def _call(
    spec: Opener, call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    recorder = _recorder
    if not _active or recorder is None or getattr(_local, "busy", False):
        return call(*args, **kwargs)
    try:
        with _busy():
            targets = targets_of(_argument(args, kwargs, *spec.target))
            if kwargs.get("memory") is not None:  # netCDF4.Dataset over bytes in memory
                targets = []
            op = spec.op
            if op is None:
                mode = _argument(args, kwargs, *spec.mode[:2]) or spec.mode[2]
                op = _op_for_mode(str(mode))
            before = {
                loc: _stat_key(loc) for loc, is_url in targets if op == "update" and not is_url
            }
    except Exception as error:
        recorder._internal_error(error)
        return call(*args, **kwargs)
    stack = _openers()
    opener = stack[0] if stack else spec.label
    stack.append(spec.label)
    try:
        result = call(*args, **kwargs)
    finally:
        stack.pop()
    try:
        with _busy():
            attrs = None
            if len(targets) == 1 and op != "write":
                attrs = global_attributes(result) or None
            for location, is_url in targets:
                recorder.note(
                    location,
                    is_url=is_url,
                    op=op,
                    opener=opener,
                    confirmed=True,
                    before=before.get(location, _NOT_STATTED),
                    attrs=attrs,
                )
    except Exception as error:
        recorder._internal_error(error)
    return result


def _wrap_function(original: Callable[..., Any], spec: Opener, method: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _call(spec, original, args, kwargs)

    if not method:
        # pickle finds a function by module and name: let it find this one while it is installed
        wrapper.__module__, wrapper.__qualname__ = spec.module, spec.attr
    setattr(wrapper, WRAPPED, True)
    return wrapper


def _wrap_class(original: type, spec: Opener) -> type:
    class _Meta(type(original)):  # type: ignore[misc]
        # No __subclasscheck__: ABCs (h5py.File is a MutableMapping) walk their subclasses,
        # this one included, and would recurse through it.
        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, original)

    @functools.wraps(original.__init__)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        def construct(*a: Any, **k: Any) -> Any:
            original.__init__(self, *a, **k)
            return self

        _call(spec, construct, args, kwargs)

    namespace = {
        "__init__": __init__,
        "__module__": spec.module,
        "__qualname__": original.__qualname__,
        "__doc__": original.__doc__,
        "__wrapped__": original,
        WRAPPED: True,
    }
    return _Meta(original.__name__, (original,), namespace)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Installs the wrappers of a library right after it is first imported, even within the
    cell that imports it and opens a file."""

    def __init__(self, modules: set[str], patch: Callable[[ModuleType], None]) -> None:
        self.modules = modules
        self.patch = patch

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            self.modules.discard(fullname)
            self.patch(module)

        loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


class _Patches:
    """The wrappers installed, and what they replaced."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._missing = object()
        self._finder: _PatchOnImport | None = None

    def install(self) -> None:
        waiting = set()
        for name in WATCHED_MODULES:
            module = sys.modules.get(name)
            if module is None:
                waiting.add(name)
            else:
                self.patch(module)
        self._finder = _PatchOnImport(waiting, self.patch)
        sys.meta_path.insert(0, self._finder)

    def patch(self, module: ModuleType) -> None:
        try:
            for spec in OPENERS:
                if spec.module == module.__name__:
                    self._patch_one(module, spec)
        except Exception as error:
            if _recorder is not None:
                _recorder._internal_error(error)

    def _patch_one(self, module: ModuleType, spec: Opener) -> None:
        owner: Any = module
        *classes, name = spec.attr.split(".")
        for cls in classes:
            owner = getattr(owner, cls, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None or getattr(original, WRAPPED, False):
            return
        if isinstance(original, type):
            wrapper: Any = _wrap_class(original, spec)
        else:
            wrapper = _wrap_function(original, spec, method=bool(classes))
        self._saved.append((owner, name, vars(owner).get(name, self._missing)))
        setattr(owner, name, wrapper)

    def remove(self) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        for owner, name, saved in reversed(self._saved):
            if saved is self._missing:
                delattr(owner, name)
            else:
                setattr(owner, name, saved)
        self._saved.clear()


_patches = _Patches()


# the extension


USAGE = "%provenance [status|pause|resume|off|on|where]"


def provenance_magic(line: str) -> None:
    """Recording of this kernel's provenance: %provenance [status|pause|resume|off|on|where]."""
    from IPython.core.error import UsageError

    recorder = _recorder
    command = line.strip() or "status"
    if recorder is None:
        raise UsageError("provenance capture is not loaded: %load_ext espri_vre")
    if command == "status":
        for key, value in recorder.status().items():
            if value is not None:
                print(f"{key}: {value}")
    elif command == "where":
        info = recorder.status()
        print(info["log"] or f"no log ({info['state']}: {info['reason']})")
    elif command == "pause":
        recorder.pause()
    elif command == "resume":
        recorder.resume()
    elif command == "off":
        recorder.off()
    elif command == "on":
        recorder.start()
        print(recorder.status()["log"] or recorder.reason)
    else:
        raise UsageError(f"unknown command {command!r}: {USAGE}")


def _at_exit() -> None:
    if _recorder is not None:
        _recorder.close("kernel exit")


def load_ipython_extension(ip: Any) -> None:
    """Starts recording this kernel's provenance (`%load_ext espri_vre`)."""
    global _recorder, _audit_hook_added, _atexit_registered
    if _recorder is not None:
        return
    try:
        settings = CaptureSettings.from_env()
    except ValueError as error:
        print(f"espri-vre provenance: not recording, {error}", file=sys.stderr)
        return
    _recorder = recorder = Recorder(ip, settings)
    ip.register_magic_function(provenance_magic, "line", "provenance")
    ip.events.register("pre_run_cell", recorder.pre_run_cell)
    ip.events.register("post_run_cell", recorder.post_run_cell)
    if not _audit_hook_added:
        sys.addaudithook(_audit)
        _audit_hook_added = True
    if not _atexit_registered:
        atexit.register(_at_exit)
        _atexit_registered = True
    _patches.install()
    if settings.enabled:
        recorder.start()


def unload_ipython_extension(ip: Any) -> None:
    """Ends the log and removes every hook and wrapper (the audit hook stays, inert)."""
    global _recorder
    recorder = _recorder
    if recorder is None:
        return
    recorder.close("extension unloaded")
    _recorder = None
    for name, callback in (
        ("pre_run_cell", recorder.pre_run_cell),
        ("post_run_cell", recorder.post_run_cell),
    ):
        with suppress(ValueError):
            ip.events.unregister(name, callback)
    ip.magics_manager.magics["line"].pop("provenance", None)
    _patches.remove()


def status() -> dict[str, Any]:
    """The recording state: what the notebook toolbar shows and keeps (run id, last hash)."""
    if _recorder is None:
        return {"state": "off", "reason": "not loaded"}
    return _recorder.status()


def record_job(job_id: str, spec: Mapping[str, Any], *, provenance: str | None = None) -> bool:
    """Records a job submitted from this kernel (spec: espri_vre.jobs JobSpec.to_dict());
    False when not recording."""
    return _recorder.record_job(job_id, spec, provenance) if _recorder is not None else False


def record_dataset(
    identifiers: DatasetIdentifiers, *, path: str | None = None, url: str | None = None
) -> bool:
    """Records identifiers that came with a dataset from the catalogue (DOI, citation)."""
    if _recorder is None:
        return False
    return _recorder.record_dataset(identifiers, path=path, url=url)
