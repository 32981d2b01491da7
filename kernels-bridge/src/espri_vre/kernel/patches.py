"""Thin wrappers for the library openers that do not go through Python's open.

Libraries that open files in C (netCDF4, h5py, pyarrow) or that take a store or URL (xarray,
zarr, pandas) get wrappers (functools.wraps; subclasses for netCDF4.Dataset and h5py.File,
whose isinstance checks keep answering for the original class), installed when the library is
imported and removed on unload. The outermost call names the opener: xarray.open_dataset
calling netCDF4.Dataset is recorded once, as 'xarray.open_dataset'."""

from __future__ import annotations

import functools
import glob
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlparse

from ..provenance.events import FileOp
from ..provenance.identifiers import global_attributes
from . import confine, state
from .files import NOT_STATTED, op_for_mode, stat_key
from .imports import PatchOnImport

WRAPPED = "__espri_vre_wrapped__"


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
    # to_csv opens through Python's open, but checks first that the folder exists: a replay
    # redirects its path before that check (confine.py)
    Opener("pandas", "DataFrame.to_csv", (1, "path_or_buf"), op="write"),
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


def _redirected(
    spec: Opener, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments with the path redirected into a replay's working folder (confine.py)."""
    index, name = spec.target
    op = spec.op or op_for_mode(str(_argument(args, kwargs, *spec.mode[:2]) or spec.mode[2]))
    if index is not None and len(args) > index:
        changed = list(args)
        changed[index] = confine.remap(args[index], op)
        return tuple(changed), kwargs
    if name in kwargs:
        return args, {**kwargs, name: confine.remap(kwargs[name], op)}
    return args, kwargs


def _call(
    spec: Opener, call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if confine.folder is not None and not state.is_busy():
        args, kwargs = _redirected(spec, args, kwargs)
    sink = state.sink
    if not state.active or sink is None or state.is_busy():
        return call(*args, **kwargs)
    try:
        with state.busy():
            targets = targets_of(_argument(args, kwargs, *spec.target))
            if kwargs.get("memory") is not None:  # netCDF4.Dataset over bytes in memory
                targets = []
            op = spec.op
            if op is None:
                mode = _argument(args, kwargs, *spec.mode[:2]) or spec.mode[2]
                op = op_for_mode(str(mode))
            before = {
                loc: stat_key(loc) for loc, is_url in targets if op == "update" and not is_url
            }
    except Exception as error:
        sink.internal_error(error)
        return call(*args, **kwargs)
    stack = state.openers()
    opener = stack[0] if stack else spec.label
    stack.append(spec.label)
    try:
        result = call(*args, **kwargs)
    finally:
        stack.pop()
    try:
        with state.busy():
            attrs = None
            if len(targets) == 1 and op != "write":
                attrs = global_attributes(result) or None
            for location, is_url in targets:
                sink.note(
                    location,
                    is_url=is_url,
                    op=op,
                    opener=opener,
                    confirmed=True,
                    before=before.get(location, NOT_STATTED),
                    attrs=attrs,
                )
    except Exception as error:
        sink.internal_error(error)
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


class Patches:
    """The wrappers installed, and what they replaced."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._missing = object()
        self._finder: PatchOnImport | None = None

    def install(self) -> None:
        if self._finder is not None:
            return  # a replayed kernel keeps them across an unload (capture.py)
        waiting = set()
        for name in WATCHED_MODULES:
            module = sys.modules.get(name)
            if module is None:
                waiting.add(name)
            else:
                self.patch(module)
        self._finder = PatchOnImport(waiting, self.patch)
        sys.meta_path.insert(0, self._finder)

    def patch(self, module: ModuleType) -> None:
        try:
            for spec in OPENERS:
                if spec.module == module.__name__:
                    self._patch_one(module, spec)
        except Exception as error:
            if state.sink is not None:
                state.sink.internal_error(error)

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
