"""GET /espri-vre/api/data/overview of the first map (path alone) for a multiscale Zarr store
(issue 17): the browser draws such a store from its own levels and throws the server's answer
away, so the server recognises it from the root group's attributes and answers at once, without
opening the levels. Through a real Jupyter server (pytest-jupyter) on stores and a NetCDF file
written by xarray in the test: both writings of the attribute (ndpyramid's, zarr-conventions'),
Zarr v2 and v3; a plain store, a NetCDF file and stores whose attribute the browser ignores
(malformed, or naming groups the store lacks) are answered with their overview as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from tornado.httpclient import HTTPClientError

from espri_vre.data.overview import multiscale_paths

NDPYRAMID = {"multiscales": [{"datasets": [{"path": "0"}, {"path": "1"}, {"path": "2"}]}]}
CONVENTIONS = {
    "multiscales": {
        "layout": [{"asset": "2"}, {"asset": "1", "derived_from": "2"}, {"asset": "0"}],
        "resampling_method": "mean",
    }
}
# Each is ignored by the browser's parseMultiscales or pyramidOf: the store is a plain one.
IGNORED = {
    "no-path": {"multiscales": [{"datasets": [{"level": 0}, {"level": 1}]}]},
    "a-string": {"multiscales": "0,1,2"},
    "empty-layout": {"multiscales": {"layout": []}},
    "missing-groups": {"multiscales": [{"datasets": [{"path": "7"}, {"path": "8"}]}]},
}


def field() -> xr.Dataset:
    rng = np.random.default_rng(17)
    values = rng.normal(280.0, 10.0, (2, 40, 80)).astype("float32")
    return xr.Dataset(
        {"tas": (("time", "lat", "lon"), values, {"units": "K"})},
        coords={"lat": np.linspace(-88.0, 88.0, 40), "lon": np.linspace(0.0, 355.5, 80)},
    )


def write_pyramid(store: Path, attrs: dict[str, Any], zarr_format: int) -> None:
    """Levels 0 (coarsest) to 2 (full) as ndpyramid lays them out, then every level array's
    metadata overwritten with text no reader parses: an answer that opened a level would fail
    (or say something else) instead of naming the levels."""
    ds = field()
    levels = {str(i): ds.coarsen(lat=f, lon=f).mean() for i, f in enumerate([4, 2])}
    levels["2"] = ds
    tree = xr.DataTree.from_dict({**levels, "/": xr.Dataset(attrs=attrs)})
    tree.to_zarr(store, consolidated=False, zarr_format=zarr_format)
    meta = ".zarray" if zarr_format == 2 else "zarr.json"
    for level in levels:
        for name in ("tas", "lat", "lon"):
            (store / level / name / meta).write_text("not metadata")


@pytest.fixture
def jp_server_config(jp_root_dir: Path) -> dict[str, Any]:
    data = jp_root_dir / "data"
    data.mkdir()
    write_pyramid(data / "ndpyramid.zarr", NDPYRAMID, 2)
    write_pyramid(data / "conventions.zarr", CONVENTIONS, 3)
    field().to_zarr(data / "plain.zarr", zarr_format=2)
    field().to_netcdf(data / "plain.nc")
    for name, attrs in IGNORED.items():
        field().assign_attrs(attrs).to_zarr(data / f"{name}.zarr", zarr_format=2)
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": []},
    }


async def first_overview(jp_fetch: Any, path: str) -> Any:
    return await jp_fetch(
        "espri-vre", "api", "data", "overview", params={"path": path, "rows": 40, "cols": 80}
    )


async def test_a_multiscale_store_is_answered_from_its_root_attributes_alone(jp_fetch):
    cases = [("data/ndpyramid.zarr", "0, 1, 2"), ("data/conventions.zarr", "2, 1, 0")]
    for path, levels in cases:
        with pytest.raises(HTTPClientError) as refused:
            await first_overview(jp_fetch, path)
        body = json.loads(refused.value.response.body)
        assert (refused.value.code, body["error"]) == (415, "multiscale-store"), path
        assert body["detail"] == (
            f"{path} is a multiscale Zarr store (levels {levels}): its first picture is drawn "
            "from the store's own coarsest level, not from a server overview."
        )


async def test_plain_stores_files_and_ignored_attributes_get_their_overview(jp_fetch):
    plane = field()["tas"].isel(time=0).values.astype("float64")
    paths = ["data/plain.zarr", "data/plain.nc", *(f"data/{name}.zarr" for name in IGNORED)]
    for path in paths:
        found = await first_overview(jp_fetch, path)
        assert json.loads(found.headers["X-Overview-Variable"]) == "tas", path
        assert json.loads(found.headers["X-Overview-Selection"]) == [0, None, None], path
        assert found.headers["X-Overview-Shape"] == "40,80", path
        # Full size, factor 1: the exact minimum and maximum of the slice xarray reads.
        assert float(found.headers["X-Overview-Min"]) == plane.min(), path
        assert float(found.headers["X-Overview-Max"]) == plane.max(), path


def test_the_attribute_is_read_as_the_browser_reads_it():
    assert multiscale_paths(NDPYRAMID) == ["0", "1", "2"]
    assert multiscale_paths(CONVENTIONS) == ["2", "1", "0"]
    assert multiscale_paths({"multiscales": [{"datasets": [{"path": "/1/"}]}]}) == ["1"]
    for attrs in [*list(IGNORED.values())[:3], {}, {"multiscales": [{"datasets": [{"path": ""}]}]}]:
        assert multiscale_paths(attrs) is None, attrs
