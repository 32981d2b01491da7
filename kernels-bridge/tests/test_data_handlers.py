"""GET /espri-vre/api/data/{info,references,table} through a real Jupyter server (pytest-jupyter):
the references read back chunk by chunk through the server's `/files/` handler with Range
requests, as the browser does, decode to xarray's values; tables arrive as Arrow IPC; every bad
path or file gets a 4xx with the JSON error."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest
import xarray as xr
from conftest import SHARED
from test_data_references import assert_same_decoded_values, open_references
from tornado.httpclient import HTTPClientError

from espri_vre.data.references import codecs_of
from espri_vre.data.tables import MAX_ROWS
from espri_vre.server.app import ROUTES
from espri_vre.server.data_handlers import ReferencesHandler

CMIP6 = SHARED / "data" / "cmip6-sample"
CMIP6_FILE = next(iter(sorted(CMIP6.rglob("*.nc"))), None) if CMIP6.is_dir() else None
ENDPOINTS = ["info", "references", "table"]


def test_the_data_routes_are_in_the_route_table() -> None:
    assert any(handler is ReferencesHandler for _, handler in ROUTES)


@pytest.fixture
def jp_server_config(jp_root_dir: Path, demo_dir: Path) -> dict[str, Any]:
    """root_dir holds copies of demo files, a text file named .nc and a symbolic link to /etc;
    the demo's data folder (outside root_dir) and the CMIP6 sample are data roots."""
    data = jp_root_dir / "data"
    data.mkdir()
    for name in ("tas_demo_monthly.nc", "stations_demo.parquet"):
        shutil.copy(demo_dir / "data" / name, data / name)
    shutil.copytree(demo_dir / "data" / "tas_demo_monthly.zarr", data / "tas_demo_monthly.zarr")
    frame = pd.read_parquet(data / "stations_demo.parquet")
    frame.to_csv(data / "stations.csv", index=False)
    feather.write_feather(frame, data / "stations.feather", chunksize=1000)
    (data / "fake.nc").write_text("this is not netcdf\njust text\n")
    (jp_root_dir / "escape").symlink_to("/etc")
    roots = [{"id": "demo", "title": "Demo data", "path": str(demo_dir / "data")}]
    if CMIP6.is_dir():
        roots.append({"id": "cmip6", "title": "CMIP6 sample", "path": str(CMIP6)})
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": roots},
    }


async def get(
    jp_fetch: Any, endpoint: str, headers: dict[str, str] | None = None, **params: Any
) -> Any:
    return await jp_fetch("espri-vre", "api", "data", endpoint, params=params, headers=headers)


async def get_error(jp_fetch: Any, endpoint: str, **kwargs: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("espri-vre", "api", "data", endpoint, **kwargs)
    response = failed.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    return failed.value.code, json.loads(response.body)


async def test_references_read_through_files_with_range_requests_decode_like_xarray(
    jp_fetch, jp_root_dir: Path
):
    response = await get(jp_fetch, "references", path="data/tas_demo_monthly.nc")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Codecs"] == "shuffle,zlib"
    assert response.headers["X-Files-Url"] == "files/data/tas_demo_monthly.nc"
    spec = json.loads(response.body)
    ranged = 0
    for key, ref in spec["refs"].items():
        if not isinstance(ref, list):
            continue
        _, offset, length = ref
        chunk = await jp_fetch(
            *unquote(response.headers["X-Files-Url"]).split("/"),
            headers={"Range": f"bytes={offset}-{offset + length - 1}"},
        )
        assert chunk.code == 206 and len(chunk.body) == length
        spec["refs"][key] = "base64:" + base64.b64encode(chunk.body).decode()
        ranged += 1
    assert ranged == 8
    path = jp_root_dir / "data" / "tas_demo_monthly.nc"
    with open_references(spec, path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)


async def test_references_answer_304_to_their_etag_until_the_file_changes(
    jp_fetch, jp_root_dir: Path
):
    first = await get(jp_fetch, "references", path="data/tas_demo_monthly.nc")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    since = {"If-None-Match": etag}
    with pytest.raises(HTTPClientError) as unchanged:
        await get(jp_fetch, "references", headers=since, path="data/tas_demo_monthly.nc")
    assert unchanged.value.code == 304
    path = jp_root_dir / "data" / "tas_demo_monthly.nc"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = await get(jp_fetch, "references", headers=since, path="data/tas_demo_monthly.nc")
    assert changed.code == 200 and changed.headers["ETag"] != etag


async def test_references_of_a_file_in_a_data_root_outside_root_dir(jp_fetch, demo_dir: Path):
    path = demo_dir / "data" / "balloon_demo_trajectory.nc"
    response = await get(jp_fetch, "references", path=str(path))
    # /files/ serves root_dir only: chunks of a data root are read through data/files/@<root-id>
    assert (
        response.headers["X-Files-Url"]
        == "espri-vre/api/data/files/%40demo/balloon_demo_trajectory.nc"
    )
    with open_references(json.loads(response.body), path) as got, xr.open_dataset(path) as ds:
        assert_same_decoded_values(got, ds)


@pytest.mark.skipif(CMIP6_FILE is None, reason=f"the shared CMIP6 sample ({CMIP6}) is absent")
async def test_references_of_a_real_cmip6_file_in_its_data_root(jp_fetch):
    assert CMIP6_FILE is not None
    response = await get(jp_fetch, "references", path=str(CMIP6_FILE))
    spec = json.loads(response.body)
    assert response.headers["X-Codecs"] == ",".join(codecs_of(spec))
    with open_references(spec, CMIP6_FILE) as got, xr.open_dataset(CMIP6_FILE) as expected:
        assert_same_decoded_values(got, expected)


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("../../etc/passwd", 403, "The path '../../etc/passwd' contains '..'"),
        ("/etc/passwd", 403, "/etc/passwd is outside the server root and the configured data"),
        (
            "escape/passwd",
            403,
            "escape/passwd leads through a symbolic link to a place outside the server root",
        ),
        ("data/tas_demo_monthly.nc\x00.csv", 400, "The path 'data/tas_demo_monthly.nc\\x00.csv'"),
        ("data/nothing.nc", 404, "There is no file data/nothing.nc on the server."),
        ("", 400, "No path was given"),
    ],
)
async def test_bad_paths_get_a_json_error_on_every_endpoint(
    jp_fetch, path: str, status: int, detail: str
):
    for endpoint in ENDPOINTS:
        code, body = await get_error(jp_fetch, endpoint, params={"path": path})
        assert code == status, endpoint
        assert body["error"] == {400: "bad-request", 403: "forbidden", 404: "not-found"}[status]
        assert body["detail"].startswith(detail), endpoint


async def test_a_text_file_named_nc_gets_415_naming_what_it_is(jp_fetch):
    code, body = await get_error(jp_fetch, "references", params={"path": "data/fake.nc"})
    assert code == 415
    assert body == {
        "error": "unsupported-file",
        "detail": "data/fake.nc is a text file despite its .nc extension, not NetCDF/HDF5 or "
        "NetCDF-3: references are made for NetCDF and HDF5 files (a Zarr store is read "
        "directly, tables through data/table).",
    }
    code, body = await get_error(jp_fetch, "table", params={"path": "data/fake.nc"})
    assert (code, body["error"]) == (415, "unsupported-file")


@pytest.mark.parametrize("name", ["stations_demo.parquet", "stations.csv", "stations.feather"])
async def test_table_slices_equal_pandas_iloc(jp_fetch, jp_root_dir: Path, name: str):
    path = jp_root_dir / "data" / name
    expected = {
        ".parquet": pd.read_parquet,
        ".csv": pd.read_csv,
        ".feather": pd.read_feather,
    }[path.suffix](path)
    response = await get(jp_fetch, "table", path=f"data/{name}", offset=1234, limit=56)
    assert response.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    assert response.headers["X-Total-Rows"] == str(len(expected)) == "18250"
    assert (response.headers["X-Offset"], response.headers["X-Rows"]) == ("1234", "56")
    got = pa.ipc.open_stream(response.body).read_all().to_pandas()
    want = expected.iloc[1234:1290].reset_index(drop=True)
    if path.suffix == ".csv":  # a CSV holds text: pyarrow reads the times, pandas keeps strings
        got["time"] = got["time"].astype(str)
        want["time"] = pd.to_datetime(want["time"]).astype(str)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


async def test_table_columns_and_a_huge_limit_are_honoured_and_capped(jp_fetch):
    response = await get(
        jp_fetch,
        "table",
        path="data/stations_demo.parquet",
        limit=10**12,
        columns="temperature,station_id",
    )
    assert response.headers["X-Rows"] == str(MAX_ROWS) == response.headers["X-Max-Rows"]
    table = pa.ipc.open_stream(response.body).read_all()
    assert table.column_names == ["temperature", "station_id"]
    assert table.num_rows == MAX_ROWS
    statistics = json.loads(table.schema.metadata[b"espri-vre:statistics"])
    assert statistics["station_id"] == {"null_count": 0, "min": "DEMO001", "max": "DEMO050"}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"offset": "ten"}, "offset must be a non-negative integer (got 'ten')."),
        ({"limit": "-5"}, "limit must be a non-negative integer (got '-5')."),
        ({"columns": "wind"}, "data/stations_demo.parquet has no column 'wind'; its columns"),
    ],
)
async def test_table_bad_arguments_are_400_with_a_sentence(jp_fetch, params, detail):
    params = {"path": "data/stations_demo.parquet", **params}
    code, body = await get_error(jp_fetch, "table", params=params)
    assert (code, body["error"]) == (400, "bad-request")
    assert body["detail"].startswith(detail)


@pytest.mark.parametrize(
    ("path", "kind", "reader", "matches"),
    [
        ("data/tas_demo_monthly.nc", "netcdf4", "references", True),
        ("data/tas_demo_monthly.zarr", "zarr-v2", "zarr", True),
        ("data/stations_demo.parquet", "parquet", "table", True),
        ("data/stations.csv", "csv", "table", True),
        ("data/stations.feather", "arrow", "table", True),
        ("data/fake.nc", "text", None, False),
        ("data", "directory", None, None),
    ],
)
async def test_info_names_the_kind_from_the_bytes(
    jp_fetch, jp_root_dir, path, kind, reader, matches
):
    info = json.loads((await get(jp_fetch, "info", path=path)).body)
    assert (info["kind"], info["reader"], info["matches_extension"]) == (kind, reader, matches)
    assert info["path"] == path
    assert info["files_url"] == f"files/{path}"
    if kind not in ("directory", "zarr-v2"):
        assert info["size"] == (jp_root_dir / path).stat().st_size


async def test_every_data_endpoint_needs_authentication(jp_fetch):
    for endpoint in ENDPOINTS:
        code, body = await get_error(
            jp_fetch,
            endpoint,
            params={"path": "data/stations_demo.parquet"},
            headers={"Authorization": ""},
        )
        assert (code, body["error"]) == (403, "forbidden"), endpoint
