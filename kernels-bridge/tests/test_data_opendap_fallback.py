"""The fallback for files references cannot describe, through a real Jupyter server
(pytest-jupyter): data/virtual/<key>?path= serves what xarray opens on the server as the same
virtual Zarr store as OPeNDAP datasets. A NetCDF-4 file whose variable is LZF-compressed (an
HDF5 filter kerchunk leaves out: its references skip the variable) and a plain HDF5 file read
back through the route equal xarray's reading, times in the file's calendar; the store says it
is slower; a file xarray cannot open either, a path outside the roots and a changed file are
answered as they should be."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import xarray as xr
from tornado.httpclient import HTTPClientError

from espri_vre.data.references import references_for
from espri_vre.data.virtual_files import NOTE


@pytest.fixture
def jp_server_config(jp_root_dir: Path) -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)}}


def write_lzf_netcdf(path: Path) -> xr.Dataset:
    times = xr.date_range("2001-01-01", periods=30, freq="D", calendar="360_day", use_cftime=True)
    rng = np.random.default_rng(16)
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), rng.normal(280, 10, (30, 40, 60)).astype("f4"))},
        coords={"time": times, "lat": np.linspace(-90, 90, 40), "lon": np.arange(0, 360, 6.0)},
    )
    ds["tas"].attrs = {"units": "K", "standard_name": "air_temperature"}
    encoding = {"tas": {"compression": "lzf", "chunksizes": (10, 40, 60)}}
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    return ds


async def get_key(jp_fetch: Any, path: str, key: str) -> bytes:
    response = await jp_fetch(
        "espri-vre", "api", "data", "virtual", *key.split("/"), params={"path": path}
    )
    assert response.code == 200
    return response.body


async def read_variable(jp_fetch: Any, path: str, meta: dict[str, Any], name: str) -> Any:
    """One array assembled from its chunks read through the route, CF-decoded by xarray."""
    zarray, zattrs = meta[f"{name}/.zarray"], meta[f"{name}/.zattrs"]
    shape, chunks, dtype = zarray["shape"], zarray["chunks"], np.dtype(zarray["dtype"])
    values = np.empty(shape, dtype=dtype)
    for index in np.ndindex(*[math.ceil(n / c) for n, c in zip(shape, chunks, strict=True)]):
        raw = await get_key(jp_fetch, path, f"{name}/{'.'.join(map(str, index))}")
        target = tuple(
            slice(i * c, min(n, (i + 1) * c)) for i, c, n in zip(index, chunks, shape, strict=True)
        )
        chunk = np.frombuffer(raw, dtype).reshape(chunks)
        values[target] = chunk[tuple(slice(0, s.stop - s.start) for s in target)]
    attrs = {k: v for k, v in zattrs.items() if k != "_ARRAY_DIMENSIONS"}
    variable = xr.Variable(zattrs["_ARRAY_DIMENSIONS"], values, attrs)
    return xr.decode_cf(xr.Dataset({name: variable}))[name]


async def test_an_lzf_variable_kerchunk_skips_is_served_as_xarray_reads_it(
    jp_fetch, jp_root_dir: Path
):
    path = jp_root_dir / "lzf.nc"
    write_lzf_netcdf(path)
    assert references_for(path, "lzf.nc", cache=None).skipped == ("tas",)
    meta = json.loads(await get_key(jp_fetch, "lzf.nc", ".zmetadata"))["metadata"]
    assert meta[".zattrs"]["espri_vre_note"] == NOTE
    # h5py reads LZF; the netCDF-C library under xarray's default engine here does not.
    with xr.open_dataset(path, engine="h5netcdf") as expected:
        for name in ("tas", "time", "lat", "lon"):
            got = await read_variable(jp_fetch, "lzf.nc", meta, name)
            if name == "time":
                assert got.values.tolist() == expected["time"].values.tolist()
                assert meta["time/.zattrs"]["calendar"] == "360_day"
            else:
                np.testing.assert_allclose(
                    got.values, expected[name].values, rtol=float(np.finfo("f4").eps), atol=0
                )


async def test_a_plain_hdf5_file_is_served_with_xarrays_phony_dimensions(
    jp_fetch, jp_root_dir: Path
):
    values = np.arange(6000, dtype="i4").reshape(60, 100)
    with h5py.File(jp_root_dir / "plain.h5", "w") as f:
        f.create_dataset("counts", data=values, compression="lzf", chunks=(10, 100))
    meta = json.loads(await get_key(jp_fetch, "plain.h5", ".zmetadata"))["metadata"]
    assert meta["counts/.zattrs"]["_ARRAY_DIMENSIONS"] == ["phony_dim_0", "phony_dim_1"]
    got = await read_variable(jp_fetch, "plain.h5", meta, "counts")
    np.testing.assert_array_equal(got.values, values)


async def test_a_changed_file_is_read_anew(jp_fetch, jp_root_dir: Path):
    path = jp_root_dir / "lzf.nc"
    write_lzf_netcdf(path)
    first = json.loads(await get_key(jp_fetch, "lzf.nc", ".zmetadata"))["metadata"]
    ds = write_lzf_netcdf(path).isel(time=slice(0, 12))
    path.unlink()
    ds.to_netcdf(path, engine="h5netcdf", encoding={"tas": {"compression": "lzf"}})
    second = json.loads(await get_key(jp_fetch, "lzf.nc", ".zmetadata"))["metadata"]
    assert first["tas/.zarray"]["shape"][0] == 30
    assert second["tas/.zarray"]["shape"][0] == 12


async def test_what_xarray_cannot_open_and_paths_outside_the_roots_are_refused(
    jp_fetch, jp_root_dir: Path
):
    (jp_root_dir / "notes.nc").write_text("not a netcdf file\n")
    with pytest.raises(HTTPClientError) as failed:
        await get_key(jp_fetch, "notes.nc", ".zmetadata")
    body = json.loads(failed.value.response.body)
    assert failed.value.code == 415 and body["error"] == "unsupported-content"
    assert "notes.nc is a text file" in body["detail"]
    assert "xarray cannot open" in body["detail"]
    with pytest.raises(HTTPClientError) as failed:
        await get_key(jp_fetch, "../outside.nc", ".zmetadata")
    assert failed.value.code in (403, 404)
    assert "outside" in json.loads(failed.value.response.body)["detail"]
