"""kerchunk references of NetCDF-4/HDF5 and NetCDF-3 files: opened back through fsspec's
reference file system and zarr, every variable decodes to what xarray reads from the file itself
(xarray computes the expected values in the same run), for the demo data and for every real
CMIP6 file of the shared sample. Also: what each file is, from its bytes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr
from conftest import SHARED

from espri_vre.data import references
from espri_vre.data.kinds import CorruptFile, WrongKind, detect_kind
from espri_vre.data.references import (
    ReferenceCache,
    ReferencesTooLarge,
    codecs_of,
    references_for,
)

FIXTURES = SHARED / "fixtures" / "preview"
CMIP6 = SHARED / "data" / "cmip6-sample"
CMIP6_FILES = sorted(CMIP6.rglob("*.nc")) if CMIP6.is_dir() else []
# CMIP6 piControl runs start in year 2850: xarray says it falls back to cftime, on both sides.
pytestmark = pytest.mark.filterwarnings("ignore:Unable to decode time axis")

DEMO_NETCDF = ["tas_demo_monthly.nc", "tos_demo_curvilinear.nc", "balloon_demo_trajectory.nc"]


def reference_store(spec: dict[str, Any], target: Path) -> zarr.storage.FsspecStore:
    """As zarrita does in the browser: chunk URLs are null, `target` names the file. (An async
    file system given to zarr directly: from a mapper, zarr 3 would first re-serialise it
    through fsspec's JSON encoder, which cannot encode the null URLs.)"""
    fs = fsspec.filesystem("reference", fo=spec, target=str(target), asynchronous=True)
    return zarr.storage.FsspecStore(fs, read_only=True)


def open_references(spec: dict[str, Any], target: Path) -> xr.Dataset:
    store = reference_store(spec, target)
    return xr.open_dataset(store, engine="zarr", consolidated=False, zarr_format=2)


def assert_same_decoded_values(got: xr.Dataset, expected: xr.Dataset) -> None:
    assert sorted(got.variables) == sorted(expected.variables)
    for name, want in expected.variables.items():
        have = got[name]
        assert have.dims == want.dims, name
        a, b = have.values, want.values
        assert a.shape == b.shape, name
        if b.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True, err_msg=name)
        elif b.dtype.kind in "Mmiub":
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:  # strings, and cftime dates for non-standard calendars
            assert [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()], name


def spec_of(path: Path) -> dict[str, Any]:
    return json.loads(references_for(path, path.name, cache=None).body)


@pytest.mark.parametrize("name", DEMO_NETCDF)
def test_demo_netcdf4_references_decode_to_xarrays_values(demo_dir: Path, name: str):
    path = demo_dir / "data" / name
    spec = spec_of(path)
    assert spec["version"] == 1
    assert all(v[0] is None for v in spec["refs"].values() if isinstance(v, list))
    with open_references(spec, path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)


def test_the_demo_trajectory_id_a_scalar_string_is_inlined(demo_dir: Path):
    path = demo_dir / "data" / "balloon_demo_trajectory.nc"
    with open_references(spec_of(path), path) as got, xr.open_dataset(path) as expected:
        assert str(got["trajectory"].values) == str(expected["trajectory"].values)
        assert str(got["trajectory"].values).startswith("DEMO-BALLOON-")


@pytest.mark.skipif(not CMIP6_FILES, reason=f"the shared CMIP6 sample ({CMIP6}) is absent")
@pytest.mark.parametrize(
    "path", CMIP6_FILES, ids=[p.name.removesuffix(".nc") for p in CMIP6_FILES] or None
)
def test_every_real_cmip6_file_decodes_through_its_references_like_xarray(path: Path):
    result = references_for(path, path.name, cache=None)
    assert result.kind == "netcdf4"
    assert result.skipped == ()
    spec = json.loads(result.body)
    with open_references(spec, path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)
        assert got.attrs["tracking_id"] == expected.attrs["tracking_id"]


def write_netcdf3(path: Path, fmt: str) -> xr.Dataset:
    ds = xr.Dataset(
        {
            "t": (("time", "lat"), np.arange(12, dtype="f4").reshape(4, 3), {"units": "K"}),
            "flag": (("time",), np.array([1, 0, 1, 1], dtype="i2")),
            "n": (("lat",), np.array([1, 2, 3], dtype="i4")),
            "station": ((), "Trappes"),
        },
        coords={"time": pd.date_range("2000-01-01", periods=4), "lat": [45.0, 46.5, 48.0]},
    )
    ds["t"][1, 1] = np.nan
    ds.to_netcdf(path, format=fmt, unlimited_dims=["time"])
    return ds


@pytest.mark.parametrize("fmt", ["NETCDF3_CLASSIC", "NETCDF3_64BIT"])
def test_netcdf3_references_with_record_variables_decode_like_xarray(tmp_path: Path, fmt: str):
    path = tmp_path / "obs.nc"
    write_netcdf3(path, fmt)
    result = references_for(path, "obs.nc", cache=None)
    assert result.kind == "netcdf3"
    with open_references(json.loads(result.body), path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)
        assert np.isnan(got["t"].values[1, 1])


def test_zstd_filtered_hdf5_fixture_names_shuffle_and_zstd():
    path = FIXTURES / "kerchunk_test_hdf5_mini_shuffle_zstd.h5"
    result = references_for(path, path.name, cache=None)
    assert result.kind == "hdf5"
    assert result.codecs == ("shuffle", "zstd")
    group = zarr.open_group(reference_store(json.loads(result.body), path), mode="r", zarr_format=2)
    np.testing.assert_array_equal(group["data"][...], np.arange(6).reshape(3, 2))


def test_blosc_hdf5_fixture_whose_only_chunk_skipped_blosc_needs_no_codec():
    # The dataset declares blosc, but HDF5 stored its one 24-byte chunk unfiltered (filter mask
    # 1): kerchunk drops the filter, so the browser needs no blosc for this file.
    path = FIXTURES / "kerchunk_test_hdf5_mini_blosc.h5"
    result = references_for(path, path.name, cache=None)
    assert result.codecs == ()
    spec = json.loads(result.body)
    raw = spec["refs"]["data/0.0"]
    assert np.frombuffer(raw.encode("latin-1"), "<i4").tolist() == [0, 1, 2, 3, 4, 5]


def test_blosc_compressed_hdf5_chunks_are_referenced_and_blosc_is_named(tmp_path: Path):
    hdf5plugin = pytest.importorskip("hdf5plugin", reason="writing blosc HDF5 needs hdf5plugin")
    import h5py

    path = tmp_path / "blosc.h5"
    values = np.linspace(0, 1, 20000, dtype="f4").reshape(200, 100)
    with h5py.File(path, "w") as f:
        f.create_dataset("field", data=values, chunks=(50, 100), **hdf5plugin.Blosc(cname="lz4"))
    spec = spec_of(path)
    assert codecs_of(spec) == ("blosc",)
    assert sum(isinstance(v, list) for v in spec["refs"].values()) >= 1  # Range-read chunks
    group = zarr.open_group(reference_store(spec, path), mode="r", zarr_format=2)
    np.testing.assert_array_equal(group["field"][...], values)


def test_recorded_kerchunk_reference_fixture_parses_and_names_its_codecs():
    spec = json.loads((FIXTURES / "kerchunk_netcdf4_wrf_single_file.json").read_text())
    assert codecs_of(spec) == ("shuffle", "zlib")
    # Its chunks are on S3 (offline here): a memory file system stands in, metadata only.
    fs = fsspec.filesystem("reference", fo=spec, fs=fsspec.filesystem("memory"))
    group = zarr.open_group(fs.get_mapper(""), mode="r", zarr_format=2)
    arrays = dict(group.arrays())
    assert arrays, "no arrays in the recorded references"
    for array in arrays.values():
        assert array.metadata.compressor.codec_id == "zlib"


def test_a_text_file_named_nc_is_refused_naming_what_it_is(tmp_path: Path):
    path = tmp_path / "fake.nc"
    path.write_text("this is not netcdf\njust a note\n")
    with pytest.raises(WrongKind) as wrong:
        references_for(path, "fake.nc")
    assert wrong.value.status == 415
    assert wrong.value.detail.startswith(
        "fake.nc is a text file despite its .nc extension, not NetCDF/HDF5 or NetCDF-3"
    )


def test_a_truncated_netcdf4_file_is_reported_as_damaged(tmp_path: Path, demo_dir: Path):
    path = tmp_path / "cut.nc"
    path.write_bytes((demo_dir / "data" / "tas_demo_monthly.nc").read_bytes()[:3000])
    with pytest.raises(CorruptFile) as corrupt:
        references_for(path, "cut.nc", cache=None)
    assert corrupt.value.status == 422
    detail = corrupt.value.detail
    assert detail.startswith("cut.nc starts like an HDF5 file but HDF5 cannot read it (")
    assert "truncated file: eof = 3000" in detail
    assert detail.endswith("the file is probably truncated or damaged.")


def test_a_truncated_netcdf3_file_is_reported_as_damaged(tmp_path: Path):
    whole = tmp_path / "whole.nc"
    write_netcdf3(whole, "NETCDF3_64BIT")
    path = tmp_path / "cut3.nc"
    path.write_bytes(whole.read_bytes()[:150])
    with pytest.raises(CorruptFile) as corrupt:
        references_for(path, "cut3.nc", cache=None)
    assert corrupt.value.detail.startswith("cut3.nc starts like a NetCDF-3 file")


def test_a_zarr_store_gets_no_references_it_is_read_directly(demo_dir: Path):
    with pytest.raises(WrongKind) as wrong:
        references_for(demo_dir / "data" / "tas_demo_monthly.zarr", "tas_demo_monthly.zarr")
    assert wrong.value.detail.startswith("tas_demo_monthly.zarr is a Zarr v2 store, not NetCDF")


def test_references_are_cached_by_file_version_and_change_with_the_file(tmp_path, demo_dir):
    path = tmp_path / "tas.nc"
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", path)
    cache = ReferenceCache()
    first = references_for(path, "tas.nc", cache)
    assert references_for(path, "tas.nc", cache) is first
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = references_for(path, "tas.nc", cache)
    assert changed is not first and changed.etag != first.etag
    assert changed.body == first.body
    assert len(cache) == 1  # the stale version was dropped


def test_the_cache_stays_within_its_byte_budget(demo_dir: Path):
    files = [demo_dir / "data" / name for name in DEMO_NETCDF]
    sizes = [len(references_for(f, f.name, cache=None).body) for f in files]
    cache = ReferenceCache(max_bytes=sizes[0] + sizes[1])
    for f in files:
        references_for(f, f.name, cache)
    assert len(cache) < len(files)
    assert references_for(files[-1], "last", cache) is references_for(files[-1], "last", cache)


def test_references_beyond_the_size_limit_are_refused(demo_dir, monkeypatch):
    monkeypatch.setattr(references, "MAX_REFERENCE_BYTES", 1024)
    path = demo_dir / "data" / "tas_demo_monthly.nc"
    with pytest.raises(ReferencesTooLarge) as large:
        references_for(path, "tas_demo_monthly.nc", cache=None)
    assert large.value.status == 413
    assert large.value.detail.startswith("The references of tas_demo_monthly.nc take ")
    assert "KiB, more than the 1.0 KiB limit: the file has too many chunks" in large.value.detail


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("tas_demo_monthly.nc", "netcdf4"),
        ("tas_demo_monthly.zarr", "zarr-v2"),
        ("tas_demo_monthly.v3.zarr", "zarr-v3"),
        ("stations_demo.parquet", "parquet"),
        ("catalogs", "directory"),
    ],
)
def test_the_kind_of_each_demo_file_comes_from_its_bytes(demo_dir: Path, name: str, kind: str):
    base = demo_dir if name == "catalogs" else demo_dir / "data"
    assert detect_kind(base / name).kind == kind


def test_kinds_ignore_misleading_names(tmp_path: Path, demo_dir: Path):
    parquet_named_nc = tmp_path / "table.nc"
    shutil.copy(demo_dir / "data" / "stations_demo.parquet", parquet_named_nc)
    found = detect_kind(parquet_named_nc)
    assert (found.kind, found.matches_extension) == ("parquet", False)
    netcdf3 = tmp_path / "obs.h5"
    write_netcdf3(netcdf3, "NETCDF3_CLASSIC")
    assert detect_kind(netcdf3).kind == "netcdf3"
    zipped = tmp_path / "obs.nc"
    zipped.write_bytes(gzip.compress(b"CDF\x01"))
    assert detect_kind(zipped).description == "a gzip-compressed file"
    tsv = tmp_path / "table.txt"
    tsv.write_text("a\tb\n1\t2\n3\t4\n")
    assert (detect_kind(tsv).kind, detect_kind(tsv).delimiter) == ("csv", "\t")
    assert detect_kind(FIXTURES / "kerchunk_test_hdf5_mini_blosc.h5").kind == "hdf5"
