"""GET /espri-vre/api/data/opendap-overview and its /cell through a real Jupyter server
(pytest-jupyter) on a real OPeNDAP server on the loopback (pydap's server, allow-listed;
tests/opendap_server.py): the overview of a DAP2 dataset's slice decodes to a numpy block mean of
the values xarray reads from the same URL with its pydap engine in the same run, its first map
is chosen as for a local file, a cell is xarray's value; an unreachable server, an HTML answer
and a bad request each get a sentence, and a bad request reaches no server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from opendap_server import DapServers, start
from remote_servers import suite_config
from test_overview import block_mean, decode
from tornado.httpclient import HTTPClientError

from espri_vre.data.overview import LEVELS


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[DapServers]:
    root = tmp_path_factory.mktemp("opendap-overview")
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", root / "tas.nc")
    found, stop = start(root)
    yield found
    stop()


@pytest.fixture
def jp_server_config(jp_root_dir: Path, servers: DapServers) -> dict[str, Any]:
    return suite_config(jp_root_dir, servers.allowed_hosts)


async def overview(jp_fetch: Any, *route: str, **params: str) -> Any:
    return await jp_fetch("espri-vre", "api", "data", "opendap-overview", *route, params=params)


async def error_of(jp_fetch: Any, *route: str, **params: str) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await overview(jp_fetch, *route, **params)
    return failed.value.code, json.loads(failed.value.response.body)


def pydap_values(url: str, index: dict[str, int]) -> np.ndarray:
    """What xarray's pydap engine reads from the same URL (the notebook's way)."""
    with xr.open_dataset(url, engine="pydap") as ds:
        return ds["tas"].isel(index).values.astype("float64")


def assert_block_means(response: Any, expected: np.ndarray) -> None:
    got = decode(response.body, response.headers)
    assert got.shape == expected.shape
    step = (np.nanmax(expected) - np.nanmin(expected)) / LEVELS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step)
    assert float(response.headers["X-Overview-Min"]) == np.nanmin(expected)
    assert float(response.headers["X-Overview-Max"]) == np.nanmax(expected)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydap's note that DAP2 is legacy
async def test_the_overviews_and_a_cell_of_an_opendap_dataset_are_xarrays(
    jp_fetch, servers: DapServers
):
    url = servers.url("tas.nc")
    first = await overview(jp_fetch, url=url, rows="30", cols="60")
    assert first.headers["X-Overview-Variable"] == '"tas"'
    assert first.headers["X-Overview-Selection"] == "[0, null, null]"
    assert (first.headers["X-Overview-Source"], first.headers["X-Overview-Factor"]) == (
        "90,180",
        "3",
    )
    assert_block_means(first, block_mean(pydap_values(url, {"time": 0}), 3))
    named = await overview(
        jp_fetch, url=url, variable="tas", selection="[5, null, null]", rows="45", cols="90"
    )
    assert_block_means(named, block_mean(pydap_values(url, {"time": 5}), 2))
    cell = await overview(jp_fetch, "cell", url=url, variable="tas", index="[5, 40, 100]")
    exact = pydap_values(url, {"time": 5, "lat": 40, "lon": 100})
    assert np.float64(json.loads(cell.body)["value"]) == exact


async def test_servers_that_serve_no_dataset_and_bad_requests_get_a_sentence(
    jp_fetch, servers: DapServers
):
    code, body = await error_of(jp_fetch, url=servers.url("tas.nc", "closed"), rows="9", cols="9")
    assert (code, body["error"]) == (502, "unreachable")
    assert f"127.0.0.1:{servers.closed_port}" in body["detail"]
    code, body = await error_of(jp_fetch, url=servers.url("tas.nc", "html"), rows="9", cols="9")
    assert (code, body["error"]) == (502, "not-opendap")
    assert "HTML page" in body["detail"]
    # The closed server would answer 502: a 400 says the request was checked first.
    closed = servers.url("tas.nc", "closed")
    code, body = await error_of(jp_fetch, url=closed, rows="5000", cols="9")
    assert code == 400 and "at most 4096 x 4096" in body["detail"]
    code, body = await error_of(jp_fetch, url=closed, rows="x", cols="9")
    assert code == 400 and "rows must be a non-negative integer" in body["detail"]
    code, body = await error_of(jp_fetch, "cell", url=closed, variable="tas")
    assert code == 400 and "variable and index arguments are required" in body["detail"]
