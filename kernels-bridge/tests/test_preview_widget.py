"""`espri_vre.preview(obj)`: an xarray object as a virtual Zarr v2 store (metadata and
chunk bytes checked against xarray, for the real CMIP6 files and for cftime and numpy
calendars), only the asked chunk computed, clear answers for bad keys and non-numeric
variables; then the widget in a real IPython kernel, with this test playing the
browser on the widget's comm."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.array
import numpy as np
import pytest
import xarray as xr
from conftest import SHARED, needs_shared, real_kernel, run_cell
from jupyter_client.blocking.client import BlockingKernelClient

import espri_vre
from espri_vre.preview_widget import ChunkError, KeyNotFound, Preview, VirtualZarr

CMIP6 = SHARED / "data" / "cmip6-sample"
TIMEOUT = 120


def zarray(store: VirtualZarr, name: str) -> dict[str, Any]:
    return store.metadata["metadata"][f"{name}/.zarray"]


def zattrs(store: VirtualZarr, name: str) -> dict[str, Any]:
    return store.metadata["metadata"][f"{name}/.zattrs"]


def read_array(store: VirtualZarr, name: str) -> np.ndarray:
    """The whole array as a Zarr reader assembles it from the store's chunks."""
    meta = zarray(store, name)
    shape, chunks = meta["shape"], meta["chunks"]
    dtype = np.dtype(meta["dtype"])
    out = np.empty(shape, dtype=dtype)
    if not shape:
        return np.frombuffer(store.get(f"{name}/0"), dtype).reshape(())
    grid = [math.ceil(n / c) for n, c in zip(shape, chunks, strict=True)]
    for index in np.ndindex(*grid):
        raw = store.get(f"{name}/{'.'.join(map(str, index))}")
        if meta["compressor"]:
            raw = zlib.decompress(raw)
        chunk = np.frombuffer(raw, dtype).reshape(chunks)
        target = tuple(
            slice(i * c, min(n, (i + 1) * c)) for i, c, n in zip(index, chunks, shape, strict=True)
        )
        out[target] = chunk[tuple(slice(0, s.stop - s.start) for s in target)]
    return out


def decoded(store: VirtualZarr, name: str) -> xr.DataArray:
    """What a CF reader makes of the served array: xarray's decoder on the bytes and
    the attributes of the store (as the previewer's cf.ts does in the browser)."""
    attrs = {k: v for k, v in zattrs(store, name).items() if k != "_ARRAY_DIMENSIONS"}
    variable = xr.Variable(zattrs(store, name)["_ARRAY_DIMENSIONS"], read_array(store, name), attrs)
    return xr.decode_cf(xr.Dataset({name: variable}), decode_timedelta=True)[name]


def cmip6_files() -> list[Path]:
    return sorted(CMIP6.rglob("*.nc")) if CMIP6.is_dir() else []


@needs_shared
def test_every_cmip6_variable_is_served_as_xarray_reads_it():
    files = cmip6_files()
    assert files, f"no NetCDF file under {CMIP6}"
    for path in files:
        with xr.open_dataset(path) as ds:
            store = VirtualZarr(ds)
            meta = store.metadata["metadata"]
            assert meta[".zgroup"] == {"zarr_format": 2}
            assert meta[".zattrs"]["Conventions"] == ds.attrs["Conventions"]
            for name, variable in ds.variables.items():
                attrs = zattrs(store, str(name))
                assert attrs["_ARRAY_DIMENSIONS"] == list(variable.dims), (path, name)
                for key in ("standard_name", "units", "long_name"):
                    if key in variable.attrs:
                        assert attrs[key] == variable.attrs[key], (path, name, key)
                if variable.dtype.kind in "SU":
                    # Text (the sector names of ocean transports): listed, not served.
                    with pytest.raises(ChunkError, match="does not serve"):
                        store.get(f"{name}/0")
                    continue
                served = decoded(store, str(name))
                if variable.dtype.kind in "OM":
                    # Times: the same dates, in the file's calendar.
                    assert served.values.ravel().tolist() == variable.values.ravel().tolist(), (
                        path,
                        name,
                    )
                    assert attrs["calendar"] == ds[name].encoding.get("calendar", attrs["calendar"])
                else:
                    np.testing.assert_array_equal(served.values, variable.values, err_msg=str(path))
            main = ds.attrs["variable_id"]
            assert zattrs(store, main)["units"] == ds[main].attrs["units"]


@needs_shared
def test_a_chunk_is_the_slice_xarray_gives():
    path = cmip6_files()[0]
    with xr.open_dataset(path) as ds:
        main = ds.attrs["variable_id"]
        store = VirtualZarr(ds, chunks={"time": 1})
        meta = zarray(store, main)
        assert meta["chunks"][0] == 1 and meta["dtype"] == "<f4"
        chunk = np.frombuffer(store.get(f"{main}/1.0.0"), "<f4").reshape(meta["chunks"])
        np.testing.assert_array_equal(chunk[0], ds[main].isel(time=1).values)


@pytest.mark.parametrize("calendar", ["noleap", "360_day", "all_leap", "julian"])
def test_cftime_calendars_decode_to_the_same_dates(calendar):
    times = xr.date_range("2000-01-01", periods=24, freq="MS", calendar=calendar, use_cftime=True)
    times = times.shift(14, "D")
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), np.random.default_rng(0).random((24, 3, 4)))},
        coords={"time": times, "lat": [-10.0, 0.0, 10.0], "lon": [0.0, 90.0, 180.0, 270.0]},
    )
    store = VirtualZarr(ds)
    attrs = zattrs(store, "time")
    assert attrs["calendar"] in (calendar, {"noleap": "365_day"}.get(calendar))
    assert attrs["units"].startswith("days since 2000-01-01") or "since" in attrs["units"]
    served = decoded(store, "time")
    assert [str(d) for d in served.values] == [str(d) for d in ds.time.values]
    assert served.values[0].calendar == ds.time.values[0].calendar


def test_numpy_datetimes_and_timedeltas_are_cf_encoded():
    ds = xr.Dataset(
        {
            "tas": (("time",), np.arange(5.0)),
            "lag": (("time",), np.array([1, 2, 3, 4, 5], dtype="timedelta64[h]")),
        },
        coords={
            "time": np.array("2020-01-01T06", dtype="datetime64[ns]") + np.arange(5) * 86400 * 10**9
        },
    )
    store = VirtualZarr(ds)
    assert "since" in zattrs(store, "time")["units"]
    np.testing.assert_array_equal(decoded(store, "time").values, ds.time.values)
    np.testing.assert_array_equal(decoded(store, "lag").values, ds.lag.values)


def test_times_of_a_large_dask_variable_share_units_across_chunks():
    dates = np.array("1850-01-01", dtype="datetime64[ns]") + np.arange(10) * np.timedelta64(36, "h")
    big = xr.DataArray(dask.array.from_array(dates, chunks=3), dims="step", name="valid_time")
    store = VirtualZarr(big.to_dataset())
    attrs = zattrs(store, "valid_time")
    assert zarray(store, "valid_time")["dtype"] == "<f8"
    assert attrs["units"] == "seconds since 1970-01-01"
    np.testing.assert_array_equal(decoded(store, "valid_time").values, dates)


def test_a_dask_array_computes_only_the_asked_chunk():
    computed: list[tuple[int, ...]] = []

    def block(x: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        if block_info is not None and block_info[None]["chunk-location"] is not None:
            computed.append(tuple(block_info[None]["chunk-location"]))
        return x + 1

    # 400 GB if it were loaded: only the chunks asked for exist at any time.
    source = dask.array.zeros((100_000, 720, 1440), dtype="float32", chunks=(10, 360, 720))
    lazy = xr.DataArray(source.map_blocks(block, dtype="float32"), dims=("time", "lat", "lon"))
    store = VirtualZarr(lazy, name="huge")
    assert zarray(store, "huge")["chunks"] == [10, 360, 720]
    assert computed == []
    chunk = np.frombuffer(store.get("huge/9999.1.0"), "<f4")
    assert chunk.shape == (10 * 360 * 720,) and np.all(chunk == 1)
    assert computed == [(9999, 1, 0)]


def test_a_lazily_opened_file_reads_only_the_slice(tmp_path):
    path = tmp_path / "big.nc"
    xr.Dataset(
        {"v": (("t", "y", "x"), np.arange(40 * 30 * 20, dtype="float32").reshape(40, 30, 20))}
    ).to_netcdf(path)
    with xr.open_dataset(path) as ds:
        store = VirtualZarr(ds, chunks={"t": 1})
        # Nothing was loaded to describe it.
        assert not ds.v.variable._in_memory
        chunk = np.frombuffer(store.get("v/7.0.0"), "<f4").reshape(1, 30, 20)
        np.testing.assert_array_equal(chunk[0], ds.v.isel(t=7).values)
        assert not ds.v.variable._in_memory


def test_default_chunks_keep_a_map_in_one_chunk_and_pad_the_edges():
    values = np.arange(7 * 5 * 3, dtype="float64").reshape(7, 5, 3)
    store = VirtualZarr(
        xr.DataArray(values, dims=("time", "lat", "lon"), name="v"), chunk_bytes=2 * 5 * 3 * 8
    )
    assert zarray(store, "v")["chunks"] == [2, 5, 3]
    last = np.frombuffer(store.get("v/3.0.0"), "<f8").reshape(2, 5, 3)
    np.testing.assert_array_equal(last[0], values[6])
    assert np.isnan(last[1]).all()
    np.testing.assert_array_equal(read_array(store, "v"), values)


def test_a_data_array_computed_in_memory_keeps_its_coordinates():
    ds = xr.Dataset(
        {"tas": (("time", "lat"), np.arange(6.0).reshape(3, 2), {"units": "K"})},
        coords={"time": [0, 1, 2], "lat": [10.0, 20.0]},
    )
    anomaly = ds.tas - ds.tas.mean("time")
    store = VirtualZarr(anomaly)
    assert set(store.variables()) == {"tas", "time", "lat"}
    np.testing.assert_array_equal(read_array(store, "tas"), anomaly.values)
    unnamed = VirtualZarr(xr.DataArray(np.ones((2, 2)), dims=("y", "x")))
    assert list(unnamed.variables()) == ["data"]


def test_zlib_compressed_chunks_round_trip():
    values = np.linspace(0, 1, 200, dtype="float32").reshape(10, 20)
    store = VirtualZarr(xr.DataArray(values, dims=("y", "x"), name="v"), compression="zlib")
    assert zarray(store, "v")["compressor"] == {"id": "zlib", "level": 1}
    np.testing.assert_array_equal(read_array(store, "v"), values)


def test_bad_keys_are_answered_with_what_is_wrong():
    store = VirtualZarr(xr.DataArray(np.ones((4, 3)), dims=("y", "x"), name="v"))
    with pytest.raises(KeyNotFound, match="variables are v"):
        store.get("w/0.0")
    with pytest.raises(KeyNotFound):
        store.get("zarr.json")
    with pytest.raises(ChunkError, match="outside its grid: y has 1 chunk"):
        store.get("v/1.0")
    with pytest.raises(ChunkError, match="needs 2 indices"):
        store.get("v/0")


def test_strings_and_objects_are_listed_but_not_served():
    ds = xr.Dataset(
        {
            "station": (("n",), np.array(["Paris", "Lyon"])),
            "payload": (("n",), np.array([{"a": 1}, None], dtype=object)),
            "flag": (("n",), np.array([True, False])),
        }
    )
    store = VirtualZarr(ds)
    listed = store.variables()
    assert listed["station"]["dtype"] == "<U5"
    assert listed["payload"]["dtype"] == "|O"
    assert "text (strings)" in listed["station"]["refused"]
    with pytest.raises(ChunkError, match="station holds text"):
        store.get("station/0")
    with pytest.raises(ChunkError, match="payload holds Python objects"):
        store.get("payload/0")
    assert zattrs(store, "flag")["dtype"] == "bool"
    assert list(np.frombuffer(store.get("flag/0"), "i1")) == [1, 0]


def test_preview_rejects_what_it_cannot_show():
    with pytest.raises(TypeError, match="xarray.Dataset or xarray.DataArray, got numpy.ndarray"):
        espri_vre.preview(np.zeros(3))
    ds = xr.Dataset({"v": (("y",), np.ones(2))})
    with pytest.raises(ValueError, match="no variable 'w'; there are v"):
        Preview(ds, variable="w")
    with pytest.raises(ValueError, match="not a dimension"):
        Preview(ds, chunks={"time": 1})


def test_import_espri_vre_stays_light():
    code = (
        "import sys, espri_vre; "
        "print(sorted(m for m in ('xarray', 'ipywidgets', 'dask') if m in sys.modules)); "
        "print(callable(espri_vre.preview))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["[]", "True"]


def test_the_widget_names_its_front_end_module():
    state = espri_vre.preview(xr.DataArray(np.ones((2, 2)), dims=("y", "x"))).get_state()
    assert (state["_model_module"], state["_model_name"], state["_view_name"]) == (
        "@espri-vre/preview",
        "PreviewModel",
        "PreviewView",
    )
    package = json.loads(
        (Path(__file__).parents[2] / "extensions" / "preview" / "package.json").read_text()
    )
    assert package["name"] == state["_model_module"]
    assert json.loads(state["zmetadata"])["metadata"]["data/.zattrs"]["_ARRAY_DIMENSIONS"] == [
        "y",
        "x",
    ]


# In a real kernel ------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    with real_kernel() as client:
        yield client


def ask(client: BlockingKernelClient, comm_id: str, request_id: str, key: str) -> dict[str, Any]:
    """A `get` as the browser sends it; returns the kernel's answer (content and buffers)."""
    msg = client.session.msg(
        "comm_msg",
        {
            "comm_id": comm_id,
            "data": {
                "method": "custom",
                "content": {"protocol": 1, "type": "get", "id": request_id, "key": key},
            },
        },
    )
    client.session.send(client.shell_channel.socket, msg)
    while True:
        reply = client.get_iopub_msg(timeout=TIMEOUT)
        if reply["msg_type"] != "comm_msg" or reply["content"]["comm_id"] != comm_id:
            continue
        data = reply["content"]["data"]
        if data.get("method") == "custom" and data["content"].get("id") == request_id:
            return {"content": data["content"], "buffers": reply["buffers"]}


def test_the_kernel_answers_chunk_requests_on_the_comm(kernel, tmp_path):
    path = tmp_path / "kernel.nc"
    times = xr.date_range("2001-01-01", periods=4, freq="MS", calendar="360_day", use_cftime=True)
    xr.Dataset(
        {"tas": (("time", "lat", "lon"), np.arange(4 * 3 * 2, dtype="float32").reshape(4, 3, 2))},
        coords={"time": times, "lat": [-30.0, 0.0, 30.0], "lon": [0.0, 180.0]},
    ).to_netcdf(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    comms = run_cell(
        kernel,
        f"""
import xarray as xr, espri_vre
ds = xr.open_dataset({str(path)!r})
p = espri_vre.preview(ds, chunks={{"time": 1}})
anomaly = espri_vre.preview(ds.tas - ds.tas.mean("time"))
""",
    ).comms
    opened = [
        c
        for c in comms
        if c["msg_type"] == "comm_open"
        and c["content"]["data"]["state"].get("_model_name") == "PreviewModel"
    ]
    assert len(opened) == 2
    state = opened[0]["content"]["data"]["state"]
    meta = json.loads(state["zmetadata"])["metadata"]
    assert meta["time/.zattrs"]["calendar"] == "360_day"
    comm_id = opened[0]["content"]["comm_id"]

    answer = ask(kernel, comm_id, "a-1", "tas/2.0.0")
    assert answer["content"]["status"] == "ok" and answer["content"]["key"] == "tas/2.0.0"
    [buffer] = answer["buffers"]
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(
            np.frombuffer(buffer, "<f4").reshape(3, 2), ds.tas.isel(time=2).values
        )

    missing = ask(kernel, comm_id, "a-2", "nope/0")
    assert missing["content"]["status"] == "missing" and missing["buffers"] == []
    assert "variables are" in missing["content"]["message"]
    error = ask(kernel, comm_id, "a-3", "tas/9.0.0")
    assert error["content"]["status"] == "error"
    assert "outside its grid" in error["content"]["message"]

    other = opened[1]["content"]["comm_id"]
    answer = ask(kernel, other, "b-1", "tas/0.0.0")
    printed = run_cell(
        kernel,
        "import numpy as np\n"
        "print(np.asarray(ds.tas - ds.tas.mean('time')).ravel()[:4].tolist())\n"
        "print(list(p.requests))",
    ).printed
    expected, requests = printed.strip().splitlines()
    values = np.frombuffer(answer["buffers"][0], "<f4")
    assert values[:4].tolist() == json.loads(expected)
    assert "('tas/2.0.0', 'ok')" in requests and "('nope/0', 'missing')" in requests
    # Nothing was written beside the file.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
