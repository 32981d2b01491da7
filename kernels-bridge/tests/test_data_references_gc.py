"""The kerchunk translation of an HDF5 file cannot deadlock with the garbage collector.

kerchunk walks the file inside h5py's `visititems`, holding h5py's global lock, and waits on
zarr's I/O thread for each dataset. A collection run in that thread that frees an open h5py
file waits for the same lock: a hang for ever, which CI met once in a full run (an xarray
Dataset opened with h5netcdf and never closed, collected at the wrong moment). This test
makes that moment certain: while kerchunk holds the lock, an open file managed by xarray
becomes cyclic garbage in zarr's I/O thread, and that thread allocates enough to trigger an
automatic collection."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import h5netcdf
import pytest
import xarray as xr
import zarr.core.sync
from kerchunk.hdf import SingleHdf5ToZarr

from espri_vre.data.references import references_for


def test_an_open_h5netcdf_file_collected_in_zarrs_thread_during_translation_does_not_hang(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demo_dir / "data" / "tos_demo_curvilinear.nc"
    manager = xr.backends.CachingFileManager(h5netcdf.File, str(path), mode="r")
    manager.acquire()  # the file is open; closing it needs h5py's lock
    keep: list[Any] = [manager]
    del manager

    def drop_in_a_cycle_and_allocate() -> None:
        box: dict[str, Any] = {"manager": keep.pop()}
        box["box"] = box  # only the collector can free it now
        del box
        # Enough new containers to trigger an automatic collection, in this thread.
        [[i] for i in range(5 * gc.get_threshold()[0])]

    original = SingleHdf5ToZarr._translator
    scheduled = threading.Event()

    def translator(self: SingleHdf5ToZarr, name: str, h5obj: Any) -> Any:
        # Here h5py's lock is held by this thread (inside visititems).
        if not scheduled.is_set():
            scheduled.set()
            zarr.core.sync._get_loop().call_soon_threadsafe(drop_in_a_cycle_and_allocate)
        return original(self, name, h5obj)

    monkeypatch.setattr(SingleHdf5ToZarr, "_translator", translator)
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(references_for(path, path.name, cache=None)), daemon=True
    )
    worker.start()
    worker.join(120)  # a deadlock, not a speed limit: the translation takes well under a second
    assert results, "the translation hung: the collector freed an h5py file in zarr's thread"
    assert results[0].kind == "netcdf4"
    assert scheduled.is_set()
    gc.collect()  # the garbage left for later is freed now, with no lock held
    assert not keep
