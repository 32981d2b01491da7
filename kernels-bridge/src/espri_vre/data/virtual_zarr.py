"""An xarray Dataset or DataArray seen as a virtual Zarr v2 store, computed key by key.

The browser's previewer reads Zarr with zarrita; this answers its keys from an xarray object,
without writing anything: `.zmetadata` (consolidated metadata, CF attributes,
`_ARRAY_DIMENSIONS`) and one chunk at a time. Two callers share it: the kernel's
`espri_vre.preview(obj)` widget (its comm carries the keys) and the server's virtual Zarr
routes (OPeNDAP datasets, espri_vre.data.opendap). Each chunk is the variable's slice
CF-encoded by xarray's own coder (`encode_cf_variable`), so that times reach the browser as
numbers with `units` and `calendar` (cftime calendars too), which the previewer's CF decoding
turns back into xarray's dates. Nothing but the asked chunk is ever loaded: a lazily opened
file or remote dataset reads that slice, a dask array computes only the blocks under it.
"""

from __future__ import annotations

import json
import math
import re
import threading
import warnings
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import EspriVreError

#: The target size of one chunk when the variable has no dask chunks.
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024

#: A time axis up to this many values is encoded whole once, to choose its units as
#: xarray would when writing it.
SMALL_TIME_VALUES = 1_000_000

COMPRESSIONS = (None, "zlib")

_CHUNK_KEY = re.compile(r"^(?P<var>.+)/(?P<coords>\d+(?:\.\d+)*)$")
_METADATA_KEYS = (".zarray", ".zattrs", ".zgroup")


class KeyNotFound(KeyError):
    """No such key in the store (Zarr's "missing"): the reader may use a fill value."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "missing key"


class ChunkError(ValueError):
    """A key that names a chunk which cannot be served; the message says why."""


class MissingKey(EspriVreError):
    """A key a server route asked for that the store does not have (Zarr readers take a 404
    as "missing" and use the fill value)."""

    status = 404
    code = "not-found"


class ChunkRefused(EspriVreError):
    """A chunk the store will not serve through a server route; the detail says why."""

    status = 422
    code = "chunk-refused"


@dataclass
class _Array:
    name: str
    variable: Any  # xarray.Variable, as the object holds it (not encoded)
    encoding: dict[str, Any]
    dtype: np.dtype
    chunks: tuple[int, ...]
    fill_value: Any
    attrs: dict[str, Any]
    #: Why the array's chunks are not served (strings, objects), or None.
    refused: str | None = None
    served: int = field(default=0)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.variable.shape)

    @property
    def dims(self) -> list[str]:
        return [str(d) for d in self.variable.dims]


def _json_safe(value: Any) -> Any:
    """Attribute values as JSON: numpy scalars and arrays as Python values, non-finite
    floats as the strings Zarr uses ("NaN", "Infinity", "-Infinity")."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _is_time_like(variable: Any) -> bool:
    """numpy datetimes and timedeltas, or cftime dates (an object array of them)."""
    kind = variable.dtype.kind
    if kind in "mM":
        return True
    if kind != "O":
        return False
    try:
        import cftime
    except ImportError:  # pragma: no cover - cftime is a dependency
        return False
    first = _first_value(variable)
    return isinstance(first, cftime.datetime)


def _first_value(variable: Any) -> Any:
    if variable.size == 0:
        return None
    return np.asarray(variable[(slice(0, 1),) * variable.ndim].values).ravel()[0]


def _zarr_dtype(dtype: np.dtype) -> str:
    """The Zarr v2 dtype string, little-endian (the bytes sent are little-endian)."""
    if dtype.kind == "O":
        return "|O"
    if dtype.itemsize == 1 or dtype.kind in "SUb":
        text = dtype.str
        return text if dtype.kind == "U" and text[0] == "<" else "|" + text[1:]
    return "<" + dtype.str[1:]


def _fill_value(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return "NaN"
    return None


def _default_chunks(shape: tuple[int, ...], itemsize: int, target: int) -> tuple[int, ...]:
    """Whole 2-D slices of the last two dimensions (halved while one slice is larger than
    `target`), then as many steps of the dimensions before them as fit in `target`, the
    innermost first: a map is one chunk, a series a few."""
    if not shape:
        return ()
    chunks = [1] * len(shape)
    plane = list(shape[-2:])
    while math.prod(plane) * itemsize > target and max(plane) > 1:
        i = plane.index(max(plane))
        plane[i] = math.ceil(plane[i] / 2)
    chunks[-len(plane) :] = plane
    budget = max(1, target // max(1, math.prod(plane) * itemsize))
    for i in range(len(shape) - len(plane) - 1, -1, -1):
        take = max(1, min(shape[i], budget))
        chunks[i] = take
        budget = max(1, budget // take)
        if take < shape[i]:
            break
    return tuple(max(1, int(c)) for c in chunks)


def _dask_chunks(variable: Any) -> tuple[int, ...] | None:
    chunks = getattr(variable, "chunks", None)
    if not chunks:
        return None
    # Zarr needs a regular grid: the first block's size along each dimension; a Zarr
    # chunk that straddles irregular dask blocks computes each of them.
    return tuple(max(1, int(c[0])) if c else 1 for c in chunks)


def _time_encoding(name: str, variable: Any) -> dict[str, Any]:
    """Units, calendar and dtype fixed for every chunk of a time variable. A small
    variable in memory (a time axis, its bounds) is encoded whole once, as xarray would
    write it, keeping the units of its own encoding; a larger one is encoded as float64
    in the units of its encoding, else seconds (numpy) or days (cftime) since an epoch,
    since a chunk's values cannot choose the units or an integer dtype for the others."""
    keep = {k: variable.encoding[k] for k in ("units", "calendar") if k in variable.encoding}
    if variable.dtype.kind == "m":
        keep.pop("calendar", None)
    if variable.size <= SMALL_TIME_VALUES and getattr(variable, "chunks", None) is None:
        with warnings.catch_warnings():
            # Half-day steps in day units: xarray falls back to float64, as wanted here.
            warnings.filterwarnings("ignore", "Times can't be serialized faithfully")
            encoded = _encode(name, variable, keep)
        keep = {k: encoded.attrs[k] for k in ("units", "calendar") if k in encoded.attrs}
        keep["dtype"] = np.dtype(encoded.dtype)
        return keep
    if "units" not in keep:
        if variable.dtype.kind == "m":
            keep = {"units": "seconds"}
        elif variable.dtype.kind == "M":
            keep = {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian"}
        else:
            first = _first_value(variable)
            keep = {"units": "days since 0001-01-01 00:00:00", "calendar": first.calendar}
    keep["dtype"] = np.dtype("float64")
    return keep


def _encode(name: str, variable: Any, encoding: dict[str, Any]) -> Any:
    from xarray.conventions import encode_cf_variable

    plain = variable.copy(deep=False)
    plain.encoding = dict(encoding)
    return encode_cf_variable(plain, name=name)


class VirtualZarr:
    """The Zarr v2 store of an xarray Dataset or DataArray: `get(key)` returns the key's
    bytes, raises `KeyNotFound` for a key that is not in the store and `ChunkError` for a
    chunk it will not serve (with the reason)."""

    def __init__(
        self,
        obj: Any,
        *,
        name: str | None = None,
        chunks: dict[str, int] | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        compression: str | None = None,
    ) -> None:
        import xarray as xr

        if compression not in COMPRESSIONS:
            raise ValueError(
                f"preview: compression must be one of {COMPRESSIONS}, got {compression!r}."
            )
        if chunk_bytes < 1:
            raise ValueError(f"preview: chunk_bytes must be positive, got {chunk_bytes}.")
        if isinstance(obj, xr.DataArray):
            var_name = name or (str(obj.name) if obj.name is not None else "data")
            if var_name in obj.coords:
                var_name = f"{var_name}_values"
            self.title = var_name
            dataset = obj.to_dataset(name=var_name, promote_attrs=False)
        elif isinstance(obj, xr.Dataset):
            dataset = obj
            self.title = name or str(obj.attrs.get("title") or "Dataset")
        else:
            raise TypeError(
                "preview() takes an xarray.Dataset or xarray.DataArray, "
                f"got {type(obj).__module__}.{type(obj).__name__}."
            )
        for dim in chunks or {}:
            if dim not in dataset.dims:
                raise ValueError(
                    f"preview: chunks names {dim!r}, which is not a dimension "
                    f"({', '.join(map(str, dataset.dims)) or 'none'})."
                )
        self.dataset = dataset
        self.compression = compression
        self._arrays: dict[str, _Array] = {}
        for key, variable in dataset.variables.items():
            # `chunks` is for the data: a coordinate is read whole to label the sliders.
            wanted = {} if key in dataset.coords else chunks or {}
            self._arrays[str(key)] = self._describe(str(key), variable, wanted, chunk_bytes)
        self._metadata = self._consolidated()
        self._metadata_bytes = json.dumps(self._metadata, allow_nan=False).encode()

    # Metadata -----------------------------------------------------------------

    def _describe(
        self, name: str, variable: Any, chunks: dict[str, int], chunk_bytes: int
    ) -> _Array:
        attrs = dict(variable.attrs)
        refused: str | None = None
        if _is_time_like(variable):
            encoding = _time_encoding(name, variable)
            sample = _encode(name, variable[(slice(0, 1),) * variable.ndim], encoding)
            dtype = np.dtype(encoding["dtype"])
            if dtype.kind not in "iuf":
                dtype = encoding["dtype"] = np.dtype("float64")
            attrs = {k: v for k, v in sample.attrs.items() if k != "dtype"}
            fill = attrs.get("_FillValue")
            if isinstance(fill, float) and math.isnan(fill):
                # NaT as NaN: the float Zarr fill value says it already.
                del attrs["_FillValue"]
        elif variable.dtype.kind in "iuf":
            encoding = {}
            dtype = np.dtype(variable.dtype)
        elif variable.dtype.kind == "b":
            encoding = {}
            dtype = np.dtype("int8")
            attrs["dtype"] = "bool"
        else:
            encoding = {}
            dtype = np.dtype(variable.dtype)
            what = {
                "U": "text (strings)",
                "S": "bytes (strings)",
                "O": "Python objects",
                "c": "complex numbers",
                "V": "structured records",
            }.get(dtype.kind, f"{dtype} values")
            refused = (
                f"{name} holds {what}, which the preview does not serve; "
                f"look at it in the notebook (ds[{name!r}].values)."
            )
            if dtype.kind == "c":
                dtype = np.dtype("|O")
        shape = tuple(int(n) for n in variable.shape)
        grid = _dask_chunks(variable) or _default_chunks(shape, max(1, dtype.itemsize), chunk_bytes)
        grid = tuple(
            max(1, min(int(chunks.get(str(d), c)), n) if n else 1)
            for d, c, n in zip(variable.dims, grid, shape, strict=True)
        )
        return _Array(
            name=name,
            variable=variable,
            encoding=encoding,
            dtype=dtype,
            chunks=grid,
            fill_value=_fill_value(dtype),
            attrs=attrs,
            refused=refused,
        )

    def _consolidated(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            ".zgroup": {"zarr_format": 2},
            ".zattrs": _json_safe(dict(self.dataset.attrs)),
        }
        for name, array in self._arrays.items():
            metadata[f"{name}/.zarray"] = {
                "zarr_format": 2,
                "shape": list(array.shape),
                "chunks": list(array.chunks),
                "dtype": _zarr_dtype(array.dtype),
                "compressor": {"id": "zlib", "level": 1} if self.compression == "zlib" else None,
                "fill_value": array.fill_value,
                "order": "C",
                "filters": None,
                "dimension_separator": ".",
            }
            attrs = _json_safe(array.attrs)
            attrs["_ARRAY_DIMENSIONS"] = array.dims
            metadata[f"{name}/.zattrs"] = attrs
        return {"zarr_consolidated_format": 1, "metadata": metadata}

    @property
    def metadata(self) -> dict[str, Any]:
        """The consolidated metadata (the `.zmetadata` key, as a dict)."""
        return self._metadata

    @property
    def metadata_json(self) -> str:
        return self._metadata_bytes.decode()

    def variables(self) -> dict[str, dict[str, Any]]:
        """Each variable's dims, shape, chunks, dtype, and why it is not served."""
        return {
            name: {
                "dims": a.dims,
                "shape": list(a.shape),
                "chunks": list(a.chunks),
                "dtype": _zarr_dtype(a.dtype),
                "refused": a.refused,
            }
            for name, a in self._arrays.items()
        }

    def chunk_count(self, name: str) -> int:
        a = self._arrays[name]
        return math.prod(
            math.ceil(n / c) if n else 0 for n, c in zip(a.shape, a.chunks, strict=True)
        )

    # Keys ---------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        key = key.lstrip("/")
        if key == ".zmetadata":
            return self._metadata_bytes
        if key in self._metadata["metadata"]:
            return json.dumps(self._metadata["metadata"][key], allow_nan=False).encode()
        leaf = key.rsplit("/", 1)[-1]
        if leaf in _METADATA_KEYS or leaf == "zarr.json" or not key:
            raise KeyNotFound(f"No key {key!r} in the preview's store.")
        match = _CHUNK_KEY.match(key)
        array = self._arrays.get(match["var"]) if match else None
        if match is None or array is None:
            raise KeyNotFound(
                f"No key {key!r} in the preview's store: its variables are "
                f"{', '.join(self._arrays) or 'none'}."
            )
        coords = tuple(int(c) for c in match["coords"].split("."))
        if not array.shape and coords == (0,):
            return self._chunk(array, ())
        return self._chunk(array, coords)

    def _chunk(self, array: _Array, coords: tuple[int, ...]) -> bytes:
        if array.refused:
            raise ChunkError(array.refused)
        shape = array.shape
        if len(coords) != len(shape):
            raise ChunkError(
                f"The chunk key of {array.name} needs {len(shape)} indices "
                f"({', '.join(array.dims) or 'a scalar: 0'}), got {len(coords)}."
            )
        slices = []
        for dim, i, n, c in zip(array.dims, coords, shape, array.chunks, strict=True):
            count = math.ceil(n / c) if n else 0
            if i >= count:
                raise ChunkError(
                    f"Chunk {'.'.join(map(str, coords))} of {array.name} is outside its grid: "
                    f"{dim} has {count} chunk(s) of {c}."
                )
            slices.append(slice(i * c, min(n, (i + 1) * c)))
        part = array.variable[tuple(slices)]
        if array.encoding:
            part = _encode(array.name, part, array.encoding)
        values = np.asarray(part.values)
        if values.dtype.kind == "b":
            values = values.astype("int8")
        values = values.astype(array.dtype.newbyteorder("<"), copy=False)
        if values.shape != array.chunks and shape:
            # Zarr v2 edge chunks are whole chunks; the part beyond the array is fill.
            padded = np.full(
                array.chunks,
                np.nan if array.dtype.kind == "f" else 0,
                dtype=values.dtype,
            )
            padded[tuple(slice(0, s) for s in values.shape)] = values
            values = padded
        data = np.ascontiguousarray(values).tobytes()
        array.served += 1
        if self.compression == "zlib":
            return zlib.compress(data, 1)
        return data


class StoreCache:
    """Virtual stores kept by key (a URL, a file's path and mtime), the least recently used
    dropped beyond `max_entries`; a store is opened once, concurrent callers wait for it."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._stores: OrderedDict[Hashable, VirtualZarr] = OrderedDict()
        self._lock = threading.Lock()
        self._opening: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._stores)

    def get_or_open(self, key: Hashable, open_store: Callable[[], VirtualZarr]) -> VirtualZarr:
        with self._lock:
            found = self._stores.get(key)
            if found is not None:
                self._stores.move_to_end(key)
                return found
            opening = self._opening.setdefault(key, threading.Lock())
        with opening:
            try:
                with self._lock:
                    found = self._stores.get(key)
                if found is None:
                    found = open_store()
                    with self._lock:
                        self._stores[key] = found
                        while len(self._stores) > self.max_entries:
                            self._stores.popitem(last=False)
            finally:
                with self._lock:
                    self._opening.pop(key, None)
        return found


def key_bytes(store: VirtualZarr, key: str) -> bytes:
    """`store.get(key)` for a server route: a missing key or a refused chunk as the API's
    errors (404, 422) with the store's sentence."""
    try:
        return store.get(key)
    except KeyNotFound as e:
        raise MissingKey(str(e)) from None
    except ChunkError as e:
        raise ChunkRefused(str(e)) from None
