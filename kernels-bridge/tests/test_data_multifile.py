"""Whole datasets of several files through a real Jupyter server: data/combined/references
combines the files' references along time (and ensemble members, as intake-esm does) with
kerchunk's MultiZarrToZarr. Read back, every variable of every multi-file group of the shared
intake-esm sample catalogue equals xr.open_mfdataset over that member's files, computed in the
same run; a CMIP6 file split along time by xarray in the set-up comes back whole, each file a
chunk, read locally and from a real data server on the loopback."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr
from conftest import SHARED
from remote_servers import RemoteServers, start
from tornado.httpclient import HTTPClientError

CMIP6 = SHARED / "data" / "cmip6-sample"
CATALOG = SHARED / "data" / "intake-esm-catalogs" / "cmip6-netcdf-test.csv"
pytestmark = pytest.mark.filterwarnings("ignore:Unable to decode time axis")


def sample_groups() -> list[tuple[str, pd.DataFrame]]:
    """The groups intake-esm makes of the sample catalogue (its aggregation_control's
    groupby_attrs) that have several files, with the paths mapped into ../shared."""
    if not CATALOG.is_file():
        return []
    df = pd.read_csv(CATALOG)
    df["path"] = [str(CMIP6 / p.split("sample_data/cmip/", 1)[1]) for p in df.path]
    by = ["activity_id", "institution_id", "source_id", "experiment_id", "table_id", "grid_label"]
    return [(".".join(k), g) for k, g in df.groupby(by) if len(g) > 1]


GROUPS = sample_groups()


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A real CMIP6 file cut into one file per time step by xarray, as CMIP6 datasets come
    split along time (the sample's files hold two steps each); time unlimited in chunks of 512,
    as netCDF-C makes them in CMIP6 files: larger than what references inline, so the times
    are read from each file."""
    root = tmp_path_factory.mktemp("split")
    source = next(p for p in sorted(CMIP6.rglob("tasmax_*.nc")))
    names = []
    with xr.open_dataset(source, decode_times=False) as ds:
        for i in range(ds.sizes["time"]):
            name = f"tasmax_part{i}.nc"
            ds.isel(time=[i]).drop_encoding().to_netcdf(
                root / name, unlimited_dims=["time"], encoding={"time": {"chunksizes": (512,)}}
            )
            names.append(name)
    return root, names


@pytest.fixture(scope="module")
def servers(split: tuple[Path, list[str]]) -> Iterator[RemoteServers]:
    found, stop = start(split[0])
    yield found
    stop()


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path, split: tuple[Path, list[str]], servers: RemoteServers
) -> dict[str, Any]:
    shutil.copytree(split[0], jp_root_dir / "split")
    (jp_root_dir / "split" / "notime.nc").write_bytes(b"")
    xr.Dataset({"x": ("n", np.arange(3.0))}).to_netcdf(jp_root_dir / "split" / "notime.nc")
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {
            "data_roots": [{"id": "cmip6", "title": "CMIP6 sample", "path": str(CMIP6)}],
            "allowed_hosts": servers.allowed_hosts,
        },
    }


async def combined(jp_fetch: Any, locations: list[str]) -> dict[str, Any]:
    response = await jp_fetch(
        "espri-vre", "api", "data", "combined", "references",
        method="POST", body=json.dumps({"locations": locations}),
    )  # fmt: skip
    assert response.code == 200 and response.headers["ETag"]
    return json.loads(response.body)


def open_group(spec: dict[str, Any], files: list[str]) -> zarr.Group:
    """The combined store, each template pointing at its file on disk here (the server's
    templates name the routes the browser reads through)."""
    local = {**spec, "templates": {f"f{i}": f for i, f in enumerate(files)}}
    fs = fsspec.filesystem("reference", fo=local, remote_protocol="file", asynchronous=True)
    return zarr.open_group(zarr.storage.FsspecStore(fs, read_only=True), mode="r", zarr_format=2)


def decoded(group: zarr.Group, name: str) -> xr.DataArray:
    """One array of the store, CF-decoded by xarray (as it decodes a Zarr v2 variable)."""
    arr = group[name]
    attrs = {k: v for k, v in arr.attrs.items() if k != "_ARRAY_DIMENSIONS"}
    if arr.fill_value is not None:
        attrs["_FillValue"] = arr.fill_value
    ds = xr.Dataset({name: (arr.attrs["_ARRAY_DIMENSIONS"], arr[...], attrs)})
    return xr.decode_cf(ds, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))[name]


def expect_like_mfdataset(got: xr.DataArray, expected: xr.DataArray, time: np.ndarray) -> None:
    """Values equal within float32 precision relative to xarray's, NaN where it has NaN."""
    picked = got.isel(time=[list(time).index(t) for t in expected.time.values])
    a, b = picked.values, expected.transpose(*picked.dims).values
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    finite = ~np.isnan(b) & (b != 0)
    assert np.all(np.abs(a[finite] - b[finite]) / np.abs(b[finite]) < 1e-6)
    assert np.all(a[b == 0] == 0)


@pytest.mark.skipif(not GROUPS, reason=f"the shared intake-esm sample ({CATALOG}) is absent")
async def test_every_multi_file_group_of_the_sample_catalogue_equals_open_mfdataset(jp_fetch):
    assert len(GROUPS) == 13
    for key, group in GROUPS:
        files = list(group.path)
        spec = await combined(jp_fetch, files)
        assert spec["templates"]["f0"].startswith("espri-vre/api/data/files/%40cmip6/CMIP6/")
        store = open_group(spec, files)
        members = [str(m) for m in store["member_id"][...]] if "member_id" in store else []
        time = decoded(store, "time").values
        for (member, variable), rows in group.groupby(["member_id", "variable_id"]):
            got = decoded(store, variable)
            if members:
                got = got.isel(member_id=members.index(member))
            with xr.open_mfdataset(sorted(rows.path), use_cftime=True) as expected:
                expect_like_mfdataset(got, expected[variable], time)
        assert len(members) == group.member_id.nunique() or not members, key


@pytest.mark.parametrize("where", ["server", "remote"])
async def test_a_dataset_split_along_time_comes_back_whole_one_chunk_per_file(
    jp_fetch, split: tuple[Path, list[str]], servers: RemoteServers, where: str
):
    root, names = split
    if where == "server":
        locations = [f"split/{n}" for n in names]
    else:
        locations = [servers.url("files", n) for n in names]
    spec = await combined(jp_fetch, locations)
    if where == "remote":
        assert spec["templates"]["f1"].startswith("espri-vre/api/data/remote/bytes?url=http")
    else:
        assert spec["templates"]["f1"] == "espri-vre/api/data/files/split/tasmax_part1.nc"
    files = [str(root / n) for n in names]
    store = open_group(spec, files)
    paths = [str(root / n) for n in names]
    with xr.open_mfdataset(paths, use_cftime=True) as expected:
        time = decoded(store, "time").values
        assert [t.isoformat() for t in time] == [t.isoformat() for t in expected.time.values]
        expect_like_mfdataset(decoded(store, "tasmax"), expected["tasmax"], time)
    # Each file is its own chunk along time: the chunk grid shows the file boundaries.
    chunks = {k: v for k, v in spec["refs"].items() if k.startswith("tasmax/") and k[7] != "."}
    assert len(names) == 2 and sorted(chunks) == ["tasmax/0.0.0", "tasmax/1.0.0"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"locations": ["split/tasmax_part0.nc"]}, 422, "two files at least"),
        ({"locations": "split/tasmax_part0.nc"}, 400, "a list of paths or URLs"),
        ({"locations": ["split/tasmax_part0.nc", "split/notime.nc"]}, 422, "no CF time"),
        ({"locations": ["split/tasmax_part0.nc", "http://127.0.0.1:9/x.nc"]}, 400, "all remote"),
        ({"locations": ["split/tasmax_part0.nc", "/etc/passwd"]}, 403, "/etc/passwd"),
        (
            {"locations": ["split/tasmax_part0.nc", "split/tasmax_part0.nc"]},
            422,
            "Some files hold tasmax at the same times",
        ),
    ],
    ids=["one-file", "not-a-list", "no-time", "mixed", "outside-the-roots", "overlapping"],
)
async def test_what_cannot_be_combined_is_refused_with_a_reason(jp_fetch, body, status, words):
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch(
            "espri-vre", "api", "data", "combined", "references",
            method="POST", body=json.dumps(body),
        )  # fmt: skip
    assert failed.value.code == status
    assert words in json.loads(failed.value.response.body)["detail"]
