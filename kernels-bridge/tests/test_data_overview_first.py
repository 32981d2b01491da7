"""GET /espri-vre/api/data/overview without a variable and a selection (issue 17): the preview
asks for its first picture at once, before it has read the file's metadata, and the server
chooses the map as the browser would. Through a real Jupyter server (pytest-jupyter) on the
demo's real files: a regular NetCDF grid, its Zarr copy, a curvilinear ocean grid (whose 2-D
latitude and longitude and their 3-D vertices must not be taken for the data) and a trajectory
file that has no map."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

FILES = [
    "tas_demo_monthly.nc",
    "tas_demo_monthly.zarr",
    "tos_demo_curvilinear.nc",
    "balloon_demo_trajectory.nc",
]


@pytest.fixture
def jp_server_config(jp_root_dir: Path, demo_dir: Path) -> dict[str, Any]:
    data = jp_root_dir / "data"
    data.mkdir()
    for name in FILES:
        source = demo_dir / "data" / name
        if source.is_dir():
            shutil.copytree(source, data / name)
        else:
            shutil.copy(source, data / name)
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": []},
    }


async def overview(jp_fetch: Any, **params: Any) -> Any:
    return await jp_fetch("espri-vre", "api", "data", "overview", params=params)


async def test_the_first_map_is_chosen_as_the_browser_chooses_it(jp_fetch):
    cases = [
        ("data/tas_demo_monthly.nc", "tas", [0, None, None], "90,180"),
        ("data/tas_demo_monthly.zarr", "tas", [0, None, None], "90,180"),
        # Not latitude/longitude (coordinates) nor vertices_latitude (their bounds, 3-D).
        ("data/tos_demo_curvilinear.nc", "tos", [0, None, None], None),
    ]
    for path, variable, selection, source in cases:
        chosen = await overview(jp_fetch, path=path, rows="30", cols="60")
        assert json.loads(chosen.headers["X-Overview-Variable"]) == variable, path
        assert json.loads(chosen.headers["X-Overview-Selection"]) == selection, path
        if source:
            assert chosen.headers["X-Overview-Source"] == source
        # The same bytes and headers as the request that names them.
        named = await overview(
            jp_fetch,
            path=path,
            variable=variable,
            selection=json.dumps(selection),
            rows="30",
            cols="60",
        )
        assert chosen.body == named.body, path
        for header in ("Shape", "Source", "Factor", "Min", "Max", "Variable", "Selection"):
            assert chosen.headers[f"X-Overview-{header}"] == named.headers[f"X-Overview-{header}"]


async def test_a_half_named_request_or_a_file_without_a_map_gets_a_sentence(jp_fetch):
    bad = [
        (
            {"path": "data/tas_demo_monthly.nc", "variable": "tas"},
            400,
            "Give both the variable and the selection, or neither",
        ),
        (
            {"path": "data/tas_demo_monthly.nc", "selection": "[0,null,null]"},
            400,
            "Give both the variable and the selection, or neither",
        ),
        (
            {"path": "data/balloon_demo_trajectory.nc"},
            415,
            "No variable here has two or more dimensions to draw as a map.",
        ),
    ]
    for params, status, detail in bad:
        with pytest.raises(HTTPClientError) as failed:
            await overview(jp_fetch, rows="30", cols="60", **params)
        body = json.loads(failed.value.response.body)
        assert (failed.value.code, body["detail"][: len(detail)]) == (status, detail), params
