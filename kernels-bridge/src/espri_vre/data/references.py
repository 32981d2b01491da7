"""kerchunk references for NetCDF-4/HDF5 and NetCDF-3 files: the Zarr v2 view of a file that the
browser reads with zarrita, fetching each chunk with an HTTP Range request on the file itself.

The answer is kerchunk's reference spec version 1 (`{"version": 1, "refs": {...}}`). Metadata
keys (`.zgroup`, `.zattrs`, `<var>/.zarray`, ...) hold JSON text; chunks smaller than
INLINE_THRESHOLD bytes are inlined (text, or `base64:...`); every other chunk is
`[null, offset, length]`. The URL is left null on purpose: the server cannot know the address
the browser sees it at (proxies, JupyterHub prefixes), and the same file may be served from
`/files/` or elsewhere. The reader supplies it: zarrita's `ReferenceStore.fromSpec(spec,
{target})` and fsspec's `ReferenceFileSystem(fo=spec, target=...)` both use `target` for null
URLs. The HTTP handler says where the file is served (`X-Files-Url`).

References are cached in memory by (real path, mtime, size, inode), within a byte budget; a
changed file gets new references and a new ETag.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .kinds import REFERENCE_KINDS, CorruptFile, DataError, FileKind, require_kind
from .netcdf3 import netcdf3_spec

INLINE_THRESHOLD = 500
"""Chunks up to this many bytes travel inside the references rather than as a Range request:
below it, the request would cost more than the bytes."""

MAX_REFERENCE_BYTES = 32 * 1024 * 1024
"""References larger than this are refused (413): such a file has millions of chunks, and the
browser would spend longer parsing its references than reading the slice it wants."""

CACHE_BYTES = 128 * 1024 * 1024
"""Memory the reference cache may hold, all files together."""

FORMAT_VERSION = "3"
"""Part of every ETag: change it when the references produced for the same file change."""


class UnsupportedContent(DataError):
    """A file of the right kind that uses something kerchunk cannot reference."""

    status = 415
    code = "unsupported-content"


class ReferencesTooLarge(DataError):
    status = 413
    code = "too-large"


@dataclass(frozen=True)
class References:
    body: bytes
    """The reference spec as JSON text (UTF-8)."""
    etag: str
    kind: str
    codecs: tuple[str, ...]
    """numcodecs ids the reader needs (compressors and filters), sorted."""
    skipped: tuple[str, ...] = ()
    """HDF5 datasets kerchunk could not reference (compound types, object references...)."""


CacheKey = tuple[Any, ...]
"""(real path, mtime, size, inode) of a local file; (URL, ETag, Last-Modified, size) of a
remote one."""


def cache_key(path: Path) -> CacheKey:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def etag_for(key: CacheKey) -> str:
    import kerchunk

    text = json.dumps([FORMAT_VERSION, kerchunk.__version__, *key])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


class ReferenceCache:
    """A least-recently-used map of References within a byte budget. Concurrent requests for
    the same file wait for one computation rather than each running kerchunk."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, References] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._key_locks: dict[CacheKey, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(self, key: CacheKey, compute: Callable[[], References]) -> References:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            try:
                refs = compute()
                with self._lock:
                    self._put(key, refs)
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
            return refs

    def _put(self, key: CacheKey, refs: References) -> None:
        size = len(refs.body)
        if size > self.max_bytes:
            return
        stale = [k for k in self._entries if k[0] == key[0] and k != key]
        for k in stale:
            self._size -= len(self._entries.pop(k).body)
        self._entries[key] = refs
        self._size += size
        while self._size > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self._size -= len(old.body)


DEFAULT_CACHE = ReferenceCache()


def references_for(
    path: Path, shown: str, cache: ReferenceCache | None = DEFAULT_CACHE
) -> References:
    """The references of the file at `path` (a real path), from the cache when it is unchanged.
    `shown` is how the file is named in messages (the path the user gave)."""
    kind = require_kind(
        path,
        shown,
        REFERENCE_KINDS,
        "references are made for NetCDF and HDF5 files (a Zarr store is read directly, "
        "tables through data/table)",
    )
    key = cache_key(path)
    if cache is None:
        return _build(path, shown, kind, key)
    return cache.get_or_compute(key, lambda: _build(path, shown, kind, key))


def _build(path: Path, shown: str, kind: FileKind, key: CacheKey) -> References:
    return build_references(
        Source(str(path), lambda: path.open("rb"), None), shown, kind.kind, kind.description, key
    )


@dataclass(frozen=True)
class Source:
    """Where kerchunk reads a file: its location (a path or URL), how to open it as a binary
    file object, and the fsspec storage options for the location (None for a local path)."""

    location: str
    open: Callable[[], BinaryIO]
    storage_options: dict[str, Any] | None


def build_references(
    source: Source, shown: str, kind: str, description: str, key: CacheKey
) -> References:
    """The references of a NetCDF-3 or NetCDF-4/HDF5 file (`kind` from its first bytes), with
    every chunk's URL left null for the reader to supply."""
    skipped: tuple[str, ...] = ()
    if kind == "netcdf3":
        spec = _netcdf3_spec(source, shown, description)
    else:
        spec, skipped = _hdf5_spec(source, shown, description)
    refs = spec["refs"]
    for name, value in refs.items():
        if isinstance(value, list) and value:
            refs[name] = [None, *value[1:]]
    body = json.dumps(spec, separators=(",", ":")).encode()
    if len(body) > MAX_REFERENCE_BYTES:
        raise ReferencesTooLarge(
            f"The references of {shown} take {_human(len(body))}, more than the "
            f"{_human(MAX_REFERENCE_BYTES)} limit: the file has too many chunks to preview "
            "in the browser; open it in a notebook with xarray instead."
        )
    return References(
        body=body,
        etag=etag_for(key),
        kind=kind,
        codecs=codecs_of(spec),
        skipped=skipped,
    )


def codecs_of(spec: dict[str, Any]) -> tuple[str, ...]:
    """The numcodecs ids (compressors and filters) of every array in a v1 reference spec."""
    ids: set[str] = set()
    for name, value in spec.get("refs", {}).items():
        if not (name == ".zarray" or name.endswith("/.zarray")) or not isinstance(value, str):
            continue
        meta = json.loads(value)
        for codec in [meta.get("compressor"), *(meta.get("filters") or [])]:
            if isinstance(codec, dict) and codec.get("id"):
                ids.add(str(codec["id"]))
    return tuple(sorted(ids))


_gc_guard = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _no_cyclic_collection() -> Any:
    """No automatic cyclic garbage collection while kerchunk translates an HDF5 file.

    kerchunk walks the file inside h5py's `visititems`, which holds h5py's global lock, and
    for each dataset waits on zarr's I/O thread. If the garbage collector runs in that thread
    and finds an h5py object in a reference cycle (an xarray Dataset read with h5netcdf and
    never closed, anywhere in the process), the object's `__del__` waits for the lock the
    waiting thread holds: the process hangs for ever (seen in CI). Pausing automatic collection
    until the last translation ends removes the deadlock; objects freed by reference counting
    are unaffected, and cycles wait for the next collection. No collection before it: a full
    collection of a busy server costs about as much as the translation of a small file (the
    remote benchmark showed +0.2 s per file). A counter, since several requests translate at
    once."""
    global _gc_holders, _gc_was_enabled
    with _gc_guard:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_guard:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def _hdf5_spec(
    source: Source, shown: str, description: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    import h5py
    from kerchunk.hdf import SingleHdf5ToZarr

    with source.open() as f:
        try:
            translator = SingleHdf5ToZarr(f, source.location, inline_threshold=INLINE_THRESHOLD)
        except OSError as e:
            raise CorruptFile(
                f"{shown} starts like {description} but HDF5 cannot read it ({_reason(e)}): "
                "the file is probably truncated or damaged."
            ) from e
        try:
            # kerchunk reports a dataset it cannot translate as a warning and goes on; the
            # datasets it left out are found below by comparing with the file.
            with warnings.catch_warnings(), _no_cyclic_collection():
                warnings.simplefilter("ignore")
                spec = translator.translate()
        except RuntimeError as e:
            raise UnsupportedContent(
                f"{shown} cannot be previewed: {_reason(e)} (the browser reads HDF5 chunks "
                "through numcodecs: gzip, shuffle, blosc, zstd, lz4 and bzip2 are supported)."
            ) from e
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise CorruptFile(f"{shown} could not be read as {description}: {_reason(e)}.") from e
        with h5py.File(f, "r") as h5:
            _inline_scalar_strings(spec["refs"], h5)
            _fill_values_from_attributes(spec["refs"], h5)
            skipped = tuple(name for name in _datasets(h5) if f"{name}/.zarray" not in spec["refs"])
    return spec, skipped


NETCDF_DIMENSION_ONLY = b"This is a netCDF dimension but not a netCDF variable"


def _datasets(h5: Any) -> list[str]:
    """The HDF5 datasets that hold data: not the bare dimensions netCDF-4 writes as empty
    dimension scales, which kerchunk rightly leaves out."""
    import h5py

    names: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        label = obj.attrs.get("NAME", b"")
        if isinstance(label, bytes) and label.startswith(NETCDF_DIMENSION_ONLY):
            return
        names.append(name)

    h5.visititems(visit)
    return names


def _fill_values_from_attributes(refs: dict[str, Any], h5: Any) -> None:
    """kerchunk writes the HDF5 dataset's fill value (0 unless set) as the Zarr fill_value,
    which readers take as _FillValue and mask. xarray, reading the file itself, masks only
    with a `_FillValue` attribute: without one, the fill_value becomes null, so that a 0 in
    a plain HDF5 dataset stays 0 in the preview as in xarray and h5py."""
    for name, value in list(refs.items()):
        if not name.endswith(".zarray"):
            continue
        array = name[: -len(".zarray")].rstrip("/")
        meta = json.loads(value)
        if meta.get("fill_value") is None or not array or array not in h5:
            continue
        if "_FillValue" not in h5[array].attrs:
            meta["fill_value"] = None
            refs[name] = json.dumps(meta)


def _inline_scalar_strings(refs: dict[str, Any], h5: Any) -> None:
    """kerchunk 0.2 with zarr 3 fails to write the value of a 0-d variable-length string (a CF
    trajectory or station id): its metadata is there, its only chunk is not. Inline it."""
    import numcodecs
    import numpy as np

    for name, value in list(refs.items()):
        if not name.endswith("/.zarray"):
            continue
        array = name[: -len("/.zarray")]
        meta = json.loads(value)
        filters = [c.get("id") for c in meta.get("filters") or []]
        if meta.get("shape") != [] or "vlen-utf8" not in filters or f"{array}/0" in refs:
            continue
        raw = h5[array][()]
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        encoded = numcodecs.VLenUTF8().encode(np.array([text], dtype=object))
        refs[f"{array}/0"] = "base64:" + base64.b64encode(encoded).decode()


def _netcdf3_spec(source: Source, shown: str, description: str) -> dict[str, Any]:
    try:
        return netcdf3_spec(source.location, INLINE_THRESHOLD, source.storage_options)
    except (OSError, ValueError, TypeError, KeyError, IndexError, EOFError) as e:
        raise CorruptFile(
            f"{shown} starts like {description} but could not be read ({_reason(e)}): "
            "the file is probably truncated or damaged."
        ) from e


def _human(size: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
