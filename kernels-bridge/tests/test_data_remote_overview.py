"""GET /espri-vre/api/data/remote/overview and data/remote/overview/cell through a real Jupyter
server (pytest-jupyter) on real data servers on the loopback (remote_servers.py): the overview
of a remote file decodes to a numpy block mean of the values xarray reads from the same URL in
the same run, its first map is chosen as for a local file, a cell is xarray's value; a server
that ignores Range, one that dies in the middle of its answers, a remote NetCDF-3 file and a
bad request each get a sentence, and a bad request reaches no data server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest
import xarray as xr
from remote_servers import RemoteServers, start, suite_config
from test_data_netcdf3 import write_packed_netcdf3_with_nan_fill
from test_overview import block_mean, decode, error_of

from espri_vre.data.overview import LEVELS

# The NetCDF-3 file written here declares a NaN _FillValue on int16 variables, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[RemoteServers]:
    root = tmp_path_factory.mktemp("remote-overview")
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", root / "tas.nc")
    write_packed_netcdf3_with_nan_fill(root / "packed3.nc", records=True)
    found, stop = start(root)
    yield found
    stop()


@pytest.fixture
def jp_server_config(jp_root_dir: Path, servers: RemoteServers) -> dict[str, Any]:
    return suite_config(jp_root_dir, servers.allowed_hosts)


def xarray_values(url: str, name: str, index: dict[str, int]) -> np.ndarray:
    """What xarray reads from `url` itself (h5netcdf on fsspec's HTTP file, as a notebook opens
    a remote file)."""
    with fsspec.open(url, "rb") as f, xr.open_dataset(f, engine="h5netcdf") as ds:
        return ds[name].isel(index).values.astype("float64")


async def test_the_first_map_of_a_remote_file_is_the_block_mean_of_xarrays_values(
    jp_fetch, servers: RemoteServers
):
    url = servers.url("files", "tas.nc")
    response = await jp_fetch(
        "espri-vre", "api", "data", "remote", "overview",
        params={"url": url, "rows": "30", "cols": "60"},
    )  # fmt: skip
    assert response.headers["X-Overview-Variable"] == '"tas"'
    assert response.headers["X-Overview-Selection"] == "[0, null, null]"
    assert response.headers["X-Overview-Source"] == "90,180"
    assert response.headers["X-Overview-Factor"] == "3"
    expected = block_mean(xarray_values(url, "tas", {"time": 0}), 3)
    got = decode(response.body, response.headers)
    assert got.shape == expected.shape == (30, 60)
    step = (np.nanmax(expected) - np.nanmin(expected)) / LEVELS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step)
    assert float(response.headers["X-Overview-Min"]) == np.nanmin(expected)
    assert float(response.headers["X-Overview-Max"]) == np.nanmax(expected)


async def test_a_named_slice_and_a_cell_of_a_remote_file_are_xarrays(
    jp_fetch, servers: RemoteServers
):
    url = servers.url("moved", "tas.nc")  # through a redirect on the allowed host
    response = await jp_fetch(
        "espri-vre", "api", "data", "remote", "overview",
        params={"url": url, "variable": "tas", "selection": "[5, null, null]",
                "rows": "45", "cols": "90"},
    )  # fmt: skip
    expected = block_mean(xarray_values(servers.url("files", "tas.nc"), "tas", {"time": 5}), 2)
    got = decode(response.body, response.headers)
    step = (np.nanmax(expected) - np.nanmin(expected)) / LEVELS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step)
    cell = await jp_fetch(
        "espri-vre", "api", "data", "remote", "overview", "cell",
        params={"url": url, "variable": "tas", "index": "[5, 40, 100]"},
    )  # fmt: skip
    exact = xarray_values(servers.url("files", "tas.nc"), "tas", {"time": 5, "lat": 40, "lon": 100})
    assert np.float64(json.loads(cell.body)["value"]) == exact


@pytest.mark.parametrize(
    ("kind", "name", "status", "code", "words"),
    [
        ("norange", "tas.nc", 502, "range-not-supported", "ignores HTTP Range requests"),
        ("dying", "tas.nc", 502, "unreachable", "broke off while the server read the file"),
        ("files", "packed3.nc", 415, "unsupported-content", "overviews of remote NetCDF-4/HDF5"),
    ],
    ids=["ignores-range", "dies-mid-answer", "netcdf3"],
)
async def test_servers_and_files_without_an_overview_get_a_sentence(
    jp_fetch, servers: RemoteServers, kind: str, name: str, status: int, code: str, words: str
):
    got, body = await error_of(
        jp_fetch, "remote/overview", url=servers.url(kind, name), rows="30", cols="60"
    )
    assert (got, body["error"]) == (status, code)
    assert words in body["detail"]
    assert "127.0.0.1" in body["detail"]


async def test_a_bad_request_is_refused_before_any_data_server_is_asked(
    jp_fetch, servers: RemoteServers
):
    # The closed port would answer 502: a 400 says the request was checked first.
    closed = servers.url("closed", "tas.nc")
    got, body = await error_of(jp_fetch, "remote/overview", url=closed, rows="5000", cols="60")
    assert (got, body["error"]) == (400, "bad-request")
    assert "at most 4096 x 4096" in body["detail"]
    got, body = await error_of(
        jp_fetch, "remote/overview", url=closed, variable="tas", rows="30", cols="60"
    )
    assert got == 400 and "Give both the variable and the selection" in body["detail"]
    got, body = await error_of(jp_fetch, "remote/overview/cell", url=closed, variable="tas")
    assert got == 400 and "variable and index arguments are required" in body["detail"]
