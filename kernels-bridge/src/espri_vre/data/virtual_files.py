"""The fallback for files the browser cannot read by references: whatever xarray opens on the
server (GRIB through cfgrib when it is installed, HDF5 whose filters kerchunk cannot express,
such as LZF, or layouts it leaves out) is served as a virtual Zarr v2 store computed on
request, as OPeNDAP datasets are (espri_vre.data.virtual_zarr).

Slower than references: every chunk is read and encoded by the server instead of being one
Range request on the file, so previews of NetCDF/HDF5/Zarr files keep using references and
this route is for what they cannot do. Stores are kept by (path, mtime, size), LRU.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

from ..errors import EspriVreError
from .kinds import detect_kind
from .paths import DataError
from .virtual_zarr import DEFAULT_CHUNK_BYTES, StoreCache, VirtualZarr, key_bytes

DEFAULT_CACHE_ENTRIES = 8

NOTE = (
    "Served by the server through xarray, chunk by chunk: slower than files the browser "
    "reads directly."
)
"""What the preview says of a dataset served this way (its root attribute `espri_vre_note`)."""


class NotReadable(DataError):
    """A file xarray cannot open either."""

    status = 415
    code = "unsupported-content"


class LocalDatasets:
    """Local files opened with xarray, each served as a virtual Zarr store; blocking (call
    from a worker thread)."""

    def __init__(
        self, *, max_entries: int = DEFAULT_CACHE_ENTRIES, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ) -> None:
        self.chunk_bytes = chunk_bytes
        self._stores = StoreCache(max_entries)
        # The file is closed after each read (xarray reopens it on the next one): a file held
        # open keeps HDF5's lock, and the user's notebook could not write it again. One read
        # at a time, so that none is closed under another.
        self._reading = threading.Lock()

    def __len__(self) -> int:
        return len(self._stores)

    def store(self, path: Path, shown: str) -> VirtualZarr:
        """The file's store, opened anew when the file changed (mtime or size)."""
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        return self._stores.get_or_open(key, lambda: self._open(path, shown))

    def get(self, path: Path, shown: str, key: str) -> bytes:
        with self._reading:
            store = self.store(path, shown)
            try:
                return key_bytes(store, key)
            except EspriVreError:
                raise
            except Exception as e:  # noqa: BLE001 - the reading library's own failure
                raise NotReadable(
                    f"Reading {key} of {shown} on the server failed: {_first_line(e)}."
                ) from None
            finally:
                store.dataset.close()

    def _open(self, path: Path, shown: str) -> VirtualZarr:
        dataset = _open_dataset(path, shown)
        dataset.attrs = {**dataset.attrs, "espri_vre_note": NOTE}
        return VirtualZarr(dataset, chunk_bytes=self.chunk_bytes)


def _open_dataset(path: Path, shown: str) -> Any:
    """xarray's reading of the file. HDF5-based files through h5netcdf first: h5py reads
    filters the netCDF-C library of netCDF4 may lack (LZF, which h5py writes by default for
    fast compression); an HDF5 file that is not NetCDF-4 (no dimension scales) with phony
    dimensions, as xarray names them. Then xarray's own choice of engine."""
    import xarray as xr

    kind = detect_kind(path)
    attempts: list[dict[str, Any]] = [{}]
    if kind.kind == "netcdf4":
        attempts.insert(0, {"engine": "h5netcdf"})
    elif kind.kind == "hdf5":
        attempts.insert(0, {"engine": "h5netcdf", "phony_dims": "sort"})
    failures = []
    for options in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return xr.open_dataset(path, **options)
        except Exception as e:  # noqa: BLE001 - each engine fails in its own way
            failures.append(_first_line(e))
    raise NotReadable(
        f"{shown} is {kind.description}, which xarray cannot open on the server either "
        f"({'; '.join(failures)}). A GRIB file needs cfgrib in the server's environment."
    )


def _first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    return text if len(text) <= 200 else text[:199] + "…"
