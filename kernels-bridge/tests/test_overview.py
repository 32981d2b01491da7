"""GET /espri-vre/api/data/overview and data/overview/cell through a real Jupyter server
(pytest-jupyter) on the demo's real NetCDF file and Zarr store: the overview decodes to a numpy
block mean of xarray's values within the 16-bit quantisation step, its minimum and maximum are
exact, a cell's value is xarray's; a huge size, a bad path, a bad selection and a damaged file
get a 4xx with a sentence."""

from __future__ import annotations

import itertools
import json
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from tornado.httpclient import HTTPClientError

from espri_vre.data.overview import LEVELS, MISSING, deflated, overview_factor, quantise

NC = "data/tas_demo_monthly.nc"


@pytest.fixture
def jp_server_config(jp_root_dir: Path, demo_dir: Path) -> dict[str, Any]:
    data = jp_root_dir / "data"
    data.mkdir()
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", data / "tas_demo_monthly.nc")
    shutil.copytree(demo_dir / "data" / "tas_demo_monthly.zarr", data / "tas_demo_monthly.zarr")
    whole = (data / "tas_demo_monthly.nc").read_bytes()
    # The HDF5 signature and metadata intact, the chunks cut off: a download that stopped.
    (data / "truncated.nc").write_bytes(whole[: len(whole) // 3])
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": []},
    }


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """numpy's mean of each factor x factor block, the edge blocks over the cells they hold."""
    rows, cols = values.shape
    padded = np.pad(values, ((0, -rows % factor), (0, -cols % factor)), constant_values=np.nan)
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return np.nanmean(blocks, axis=(1, 3))


def decode(body: bytes, headers: Any) -> np.ndarray:
    rows, cols = map(int, headers["X-Overview-Shape"].split(","))
    codes = np.frombuffer(zlib.decompress(body), dtype="<u2").reshape(rows, cols)
    low, high = float(headers["X-Overview-Min"]), float(headers["X-Overview-Max"])
    values = low + codes * ((high - low) / LEVELS)
    return np.where(codes == MISSING, np.nan, values)


async def overview(jp_fetch: Any, **params: Any) -> Any:
    return await jp_fetch("espri-vre", "api", "data", "overview", params=params)


async def error_of(jp_fetch: Any, endpoint: str, **params: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("espri-vre", "api", "data", *endpoint.split("/"), params=params)
    return failed.value.code, json.loads(failed.value.response.body)


@pytest.mark.parametrize("path", [NC, "data/tas_demo_monthly.zarr"])
async def test_overview_is_the_block_mean_of_xarrays_slice(jp_fetch, jp_root_dir: Path, path: str):
    response = await overview(
        jp_fetch, path=path, variable="tas", selection="[7, null, null]", rows="30", cols="60"
    )
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Overview-Factor"] == "3"
    assert response.headers["X-Overview-Source"] == "90,180"
    assert response.headers["X-Overview-Method"] == "block-mean"
    opened = xr.open_zarr if path.endswith(".zarr") else xr.open_dataset
    with opened(jp_root_dir / path) as ds:
        expected = block_mean(ds["tas"].isel(time=7).values.astype("float64"), 3)
    got = decode(response.body, response.headers)
    assert got.shape == expected.shape == (30, 60)
    step = (np.nanmax(expected) - np.nanmin(expected)) / LEVELS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step / 2 + 1e-9)
    assert float(response.headers["X-Overview-Min"]) == np.nanmin(expected)
    assert float(response.headers["X-Overview-Max"]) == np.nanmax(expected)
    # Smaller than the slice's float32 values by more than the 2 x 3 x 3 of the block mean.
    assert len(response.body) < 90 * 180 * 4 / 18


async def test_edge_blocks_average_the_cells_they_hold(jp_fetch, jp_root_dir: Path):
    response = await overview(
        jp_fetch, path=NC, variable="tas", selection="[0, null, null]", rows="23", cols="46"
    )
    assert response.headers["X-Overview-Factor"] == "4"
    with xr.open_dataset(jp_root_dir / NC) as ds:
        expected = block_mean(ds["tas"].isel(time=0).values.astype("float64"), 4)
    got = decode(response.body, response.headers)
    assert got.shape == (23, 45) == expected.shape
    step = (np.nanmax(expected) - np.nanmin(expected)) / LEVELS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step / 2 + 1e-9)


async def test_a_cell_is_xarrays_exact_value(jp_fetch, jp_root_dir: Path):
    response = await jp_fetch(
        "espri-vre",
        "api",
        "data",
        "overview",
        "cell",
        params={"path": NC, "variable": "tas", "index": "[5, 61, 17]"},
    )
    with xr.open_dataset(jp_root_dir / NC) as ds:
        expected = float(ds["tas"].values[5, 61, 17])
    assert json.loads(response.body) == {"value": expected}


BAD_REQUESTS = [
    (
        "overview",
        {"variable": "tas", "selection": "[0,null,null]", "rows": "100000", "cols": "800"},
        400,
        "An overview is at most 4096 x 4096 values; 100000 x 800 was asked for.",
    ),
    (
        "overview",
        {"variable": "tas", "selection": "[0,null,null]", "rows": "-1", "cols": "80"},
        400,
        "rows must be a non-negative integer",
    ),
    (
        "overview",
        {"variable": "tas", "selection": "[0,null]", "rows": "10", "cols": "10"},
        400,
        "The selection must be a list of 3 entries",
    ),
    (
        "overview",
        {"variable": "tas", "selection": "[0,1,null]", "rows": "10", "cols": "10"},
        400,
        "The selection must leave exactly two dimensions whole (null), not 1.",
    ),
    (
        "overview",
        {"variable": "tas", "selection": "[36,null,null]", "rows": "10", "cols": "10"},
        400,
        "Index 36 is outside 0..35 on time.",
    ),
    (
        "overview",
        {"variable": "pr", "selection": "[0,null,null]", "rows": "10", "cols": "10"},
        404,
        f"{NC} has no variable 'pr'.",
    ),
    ("overview/cell", {"variable": "tas", "index": "[0,null,1]"}, 400, "A cell needs"),
    ("overview/cell", {"variable": "tas"}, 400, "The index argument is required."),
]


async def test_bad_requests_get_a_sentence(jp_fetch):
    # One server for every case: each test of this file starts its own.
    for endpoint, params, status, detail in BAD_REQUESTS:
        code, body = await error_of(jp_fetch, endpoint, path=NC, **params)
        assert (code, body["detail"][: len(detail)]) == (status, detail), params


async def test_bad_paths_are_refused_as_on_the_other_data_routes(jp_fetch):
    bad = [
        ("../etc/passwd", 403, ""),
        ("data/nothing.nc", 404, "There is no file data/nothing.nc on the server."),
    ]
    for (path, status, detail), endpoint in itertools.product(bad, ("overview", "overview/cell")):
        code, body = await error_of(
            jp_fetch,
            endpoint,
            path=path,
            variable="tas",
            selection="[0,null,null]",
            index="[0,0,0]",
        )
        assert code == status
        assert body["detail"].startswith(detail)


async def test_a_truncated_file_gets_422_naming_it(jp_fetch):
    code, body = await error_of(
        jp_fetch,
        "overview",
        path="data/truncated.nc",
        variable="tas",
        selection="[35,null,null]",
        rows="30",
        cols="60",
    )
    assert code == 422
    assert body["error"] == "corrupt-file"
    assert "data/truncated.nc" in body["detail"]


def test_quantise_keeps_the_exact_limits_and_marks_missing_values():
    values = np.array([[1.5, np.nan], [-2.25, 1e-3]])
    body, low, high = quantise(values)
    codes = np.frombuffer(zlib.decompress(body), dtype="<u2")
    assert (low, high) == (-2.25, 1.5)
    assert codes.tolist() == [LEVELS, MISSING, 0, round((1e-3 + 2.25) / 3.75 * LEVELS)]
    body, low, high = quantise(np.full((2, 2), np.nan))
    assert (low, high) == (None, None)
    assert np.frombuffer(zlib.decompress(body), dtype="<u2").tolist() == [MISSING] * 4


def test_the_factor_fits_the_larger_side():
    assert overview_factor(720, 1440, 900, 900) == 2
    assert overview_factor(90, 180, 900, 900) == 1
    assert overview_factor(2000, 100, 500, 500) == 4


def test_codes_are_compressed_only_where_it_pays():
    rng = np.random.default_rng(16)
    noisy = rng.integers(0, LEVELS, 200_000, dtype="<u2").tobytes()
    masked = np.where(np.arange(200_000) % 1000 < 700, MISSING, 12345).astype("<u2").tobytes()
    stored, packed = deflated(noisy), deflated(masked)
    assert zlib.decompress(stored) == noisy and zlib.decompress(packed) == masked
    # Stored blocks: the bytes themselves and a few bytes of framing per 64 KiB.
    assert len(noisy) < len(stored) < len(noisy) + 100
    assert len(packed) < len(masked) / 50
