"""The Python Globe widget: what it sends for each kind of layer (Arrow IPC buffers,
batches), how it reads the browser's replies, and clear errors on bad input. The
messages are captured from the widget itself (no kernel); test_globe_kernel.py
runs the same widget in a real kernel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from traitlets import TraitError

from espri_vre.globe import Globe, decode
from espri_vre.globe import messages as m


class Sent:
    def __init__(self, globe: Globe) -> None:
        self.messages: list[tuple[dict[str, Any], list[bytes]]] = []
        globe.send = self.record  # type: ignore[method-assign]

    def record(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.messages.append((content, list(buffers or [])))


@pytest.fixture
def globe() -> tuple[Globe, Sent]:
    g = Globe()
    return g, Sent(g)


def test_the_widget_names_its_front_end_module():
    g = Globe()
    state = g.get_state()
    assert state["_model_module"] == "@espri-vre/globe"
    assert state["_model_name"] == "GlobeModel"
    assert state["_view_name"] == "GlobeView"
    assert state["_model_module_version"] == "^0.1.0"
    package = json.loads(
        (Path(__file__).parents[2] / "extensions" / "globe" / "package.json").read_text()
    )
    assert package["name"] == state["_model_module"]
    assert package["version"] == "0.1.0"


def test_add_points_sends_arrow_and_no_numbers_in_json(globe):
    g, sent = globe
    layer = g.add_points([350.0, 10.0], [0.0, 45.0], [1.5, np.nan], title="Stations")
    [(content, buffers)] = sent.messages
    assert content["type"] == "add-points" and content["layer_id"] == layer
    assert (content["min"], content["max"], content["batch"], content["batches"]) == (
        1.5,
        1.5,
        0,
        1,
    )
    assert "350" not in json.dumps(content)
    columns = decode(buffers[0])
    np.testing.assert_array_equal(columns["lon"], [350.0, 10.0])
    assert np.isnan(columns["value"][1])


def test_large_point_sets_travel_in_batches_coloured_alike(globe):
    g, sent = globe
    n = 25_000
    lon = np.linspace(0, 359, n)
    lat = np.linspace(-80, 80, n)
    values = np.arange(n, dtype="float64")
    g.add_points(lon, lat, values, batch_rows=10_000)
    assert [c["batch"] for c, _ in sent.messages] == [0, 1, 2]
    assert {c["batches"] for c, _ in sent.messages} == {3}
    # Limits of the whole layer in every batch, so that the colours agree.
    assert {(c["min"], c["max"]) for c, _ in sent.messages} == {(0.0, n - 1.0)}
    sizes = [len(decode(b[0])["lon"]) for _, b in sent.messages]
    assert sizes == [10_000, 10_000, 5_000]
    joined = np.concatenate([decode(b[0])["value"] for _, b in sent.messages])
    np.testing.assert_array_equal(joined, values)


def test_add_points_takes_a_dataframe(globe):
    g, sent = globe
    frame = pd.DataFrame(
        {
            "station": ["a", "b"],
            "longitude": [2.35, -73.9],
            "latitude": [48.85, 40.7],
            "t2m": [12.0, 9.5],
        }
    )
    g.add_points(frame)
    columns = decode(sent.messages[0][1][0])
    np.testing.assert_array_equal(columns["value"], [12.0, 9.5])
    np.testing.assert_array_equal(columns["lat"], [48.85, 40.7])


def test_a_dataframe_with_several_value_columns_needs_the_column_named(globe):
    g, _ = globe
    frame = pd.DataFrame({"lon": [0.0], "lat": [0.0], "t2m": [1.0], "pr": [2.0]})
    with pytest.raises(ValueError, match=r"say which column holds the values .* t2m, pr"):
        g.add_points(frame)
    g.add_points(frame, value="pr")
    with pytest.raises(ValueError, match=r"no latitude column"):
        g.add_points(pd.DataFrame({"lon": [0.0], "v": [1.0]}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(lon=[1, 2], lat=[1], values=[1, 2]),
            r"differ in length \(lon: 2, lat: 1, value: 2\)",
        ),
        (dict(lon=[], lat=[], values=[]), r"Points: the arrays are empty\."),
        (dict(lon=[0, 1], lat=[0, 91], values=[1, 2]), r"latitude 91.0 at index 1"),
        (
            dict(lon=[0, np.nan], lat=[0, 0], values=[1, 2]),
            r"longitude nan at index 1 is not finite",
        ),
        (
            dict(lon=[0], lat=[0], values=[1], batch_rows=0),
            r"batch_rows must be a positive integer",
        ),
        (dict(lon=[0], lat=[0], values=[1], colormap="jet"), r"Unknown colour map 'jet'"),
    ],
)
def test_add_points_rejects_bad_input(globe, kwargs, message):
    g, sent = globe
    with pytest.raises(ValueError, match=message):
        g.add_points(**kwargs)
    assert sent.messages == []


def test_more_points_than_the_globe_holds_are_refused_before_sending(globe, monkeypatch):
    g, sent = globe
    monkeypatch.setattr(m, "MAX_POINTS", 1000)
    with pytest.raises(
        ValueError, match=r"Points: 1,001 points are more than the globe holds \(1,000\)"
    ):
        g.add_points(np.zeros(1001), np.zeros(1001), np.zeros(1001))
    assert sent.messages == []


def _regular_field(lon: np.ndarray, lat: np.ndarray) -> xr.DataArray:
    values = np.add.outer(lat, lon / 10).astype("float32")
    values[0, 0] = np.nan
    return xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        name="tas",
        attrs={"long_name": "Near-Surface Air Temperature"},
    )


def test_a_regular_field_goes_as_axes_and_row_major_values(globe):
    g, sent = globe
    lon = np.arange(0.0, 360.0, 30.0)  # 0..360: normalised by the browser
    lat = np.array([-45.0, 0.0, 45.0])
    g.add_field(_regular_field(lon, lat).transpose("lon", "lat"))
    [(content, buffers)] = sent.messages
    assert content["type"] == "add-field"
    assert content["title"] == "Near-Surface Air Temperature"
    assert len(buffers) == 3
    np.testing.assert_array_equal(decode(buffers[0])["lon"], lon)
    np.testing.assert_array_equal(decode(buffers[1])["lat"], lat)
    values = decode(buffers[2])["value"]
    assert values.dtype == np.float32 and values.shape == (36,)
    # Row-major (lat, lon) whatever the DataArray's order; NaN kept for transparency.
    assert np.isnan(values[0])
    assert values[1 * 12 + 3] == pytest.approx(0 + 90 / 10)


def test_a_field_on_the_demo_curvilinear_grid_goes_as_a_mesh(globe, demo_dir):
    g, sent = globe
    with xr.open_dataset(demo_dir / "data" / "tos_demo_curvilinear.nc") as ds:
        tos = ds["tos"].isel(time=0).load()
    g.add_field(tos, vmin=-2, vmax=30)
    [(content, buffers)] = sent.messages
    assert content["type"] == "add-mesh"
    assert content["shape"] == list(tos.shape)
    assert (content["min"], content["max"]) == (-2, 30)
    columns = decode(buffers[0])
    np.testing.assert_array_equal(columns["lat"], tos["latitude"].values.ravel())
    np.testing.assert_array_equal(columns["lon"], tos["longitude"].values.ravel())
    # Land is NaN and stays NaN: the browser leaves those cells out.
    assert np.isnan(columns["value"]).sum() == int(tos.isnull().sum())


def test_a_gaussian_grid_is_not_regular_and_goes_as_a_mesh(globe):
    g, sent = globe
    lat = np.array([-60.0, -20.0, 10.0, 70.0])
    g.add_field(_regular_field(np.arange(0.0, 360.0, 90.0), lat))
    assert sent.messages[0][0]["type"] == "add-mesh"
    assert sent.messages[0][0]["shape"] == [4, 4]


def test_a_regional_field_across_the_dateline_keeps_its_longitudes(globe):
    g, sent = globe
    lon = np.arange(170.0, 195.0, 5.0)  # 170..190 crosses the antimeridian
    g.add_field(_regular_field(lon, np.array([0.0, 5.0])))
    content, buffers = sent.messages[0]
    assert content["type"] == "add-field"
    np.testing.assert_array_equal(decode(buffers[0])["lon"], lon)


@pytest.mark.parametrize(
    ("field", "error", "message"),
    [
        (
            xr.DataArray(
                np.zeros((2, 3, 4)),
                dims=("time", "lat", "lon"),
                coords={"lat": [0, 1, 2], "lon": [0, 1, 2, 3]},
                name="tas",
            ),
            ValueError,
            r"tas has 3 dimensions \(time: 2, lat: 3, lon: 4\)\. "
            r"Select one 2-D slice first, e\.g\. \.isel\(time=0\)",
        ),
        (
            xr.DataArray(np.zeros((2, 2)), dims=("a", "b")),
            ValueError,
            r"no longitude coordinate found",
        ),
        (np.zeros((2, 2)), TypeError, r"add_field\(\) takes an xarray\.DataArray, got ndarray"),
        (
            xr.DataArray(
                np.zeros((2, 3)),
                dims=("y", "x"),
                coords={
                    "longitude": (("y", "x"), np.zeros((2, 3))),
                    "latitude": (("x", "y"), np.zeros((3, 2))),
                },
            ),
            ValueError,
            r"lat has dimensions \('x', 'y'\) and lon \('y', 'x'\): they must match",
        ),
        (
            xr.DataArray(
                np.zeros((0, 3)), dims=("lat", "lon"), coords={"lat": np.zeros(0), "lon": [0, 1, 2]}
            ),
            ValueError,
            r"Field: empty arrays",
        ),
    ],
)
def test_add_field_rejects_bad_input(globe, field, error, message):
    g, sent = globe
    with pytest.raises(error, match=message):
        g.add_field(field)
    assert sent.messages == []


def test_mismatched_curvilinear_shapes_are_refused():
    with pytest.raises(
        ValueError, match=r"lat \(2, 3\), lon \(3, 2\) and values \(2, 3\) must have the same shape"
    ):
        m.add_field_message(np.zeros((3, 2)), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(
        ValueError, match=r"values of shape \(3, 2\) for lat \(3\) and lon \(4\); expected \(3, 4\)"
    ):
        m.add_field_message(np.arange(4.0), np.arange(3.0), np.zeros((3, 2)))


def test_a_trajectory_goes_with_times_in_epoch_milliseconds(globe):
    g, sent = globe
    time = pd.date_range("2000-01-01", periods=3, freq="h")
    g.add_trajectory(
        [179.0, -179.0, -178.0], [10.0, 11.0, 12.0], time.values, height=[0, 5000, 10000]
    )
    content, [buffer] = sent.messages[0]
    assert content["type"] == "add-trajectory"
    columns = decode(buffer)
    assert columns["time"].tolist() == [946684800000, 946688400000, 946692000000]
    np.testing.assert_array_equal(columns["height"], [0, 5000, 10000])


def test_a_trajectory_with_a_missing_time_is_refused(globe):
    g, _ = globe
    with pytest.raises(ValueError, match=r"Trajectory: the time at index 1 is missing \(NaT\)"):
        g.add_trajectory([0, 1], [0, 1], ["2000-01-01", None])
    with pytest.raises(ValueError, match=r"Trajectory: the times are not dates"):
        g.add_trajectory([0, 1], [0, 1], ["2000-01-01", "yesterday-ish"])


def test_footprints_are_checked(globe):
    g, sent = globe
    g.add_footprints([[170, -10, -170, 10]])  # crosses the antimeridian
    columns = decode(sent.messages[0][1][0])
    assert (columns["west"][0], columns["east"][0]) == (170, -170)
    with pytest.raises(ValueError, match=r"box 0 has south 10.0 and north -10.0"):
        g.add_footprints([[0, 10, 5, -10]])
    with pytest.raises(
        ValueError, match=r"rows of \(west, south, east, north\), got shape \(1, 3\)"
    ):
        g.add_footprints([[0, 10, 5]])


def test_clicks_from_the_browser_reach_the_callbacks(globe):
    g, _ = globe
    got: list[dict[str, Any]] = []
    g.on_click(got.append)
    click = {
        "protocol": 1,
        "type": "click",
        "lon": 10.0,
        "lat": 20.0,
        "value": 3.5,
        "layer_id": "py-1",
    }
    g._handle_message(g, click, [])
    assert got == [{"lon": 10.0, "lat": 20.0, "value": 3.5, "layer_id": "py-1"}]
    g.on_click(got.append, remove=True)
    g._handle_message(g, click, [])
    assert len(got) == 1


def test_a_page_opened_later_gets_every_layer_again(globe):
    g, sent = globe
    first = g.add_points([0.0], [0.0], [1.0])
    second = g.add_points([1.0], [1.0], [2.0])
    g.remove_layer(first)
    sent.messages.clear()
    g._handle_message(g, {"protocol": 1, "type": "request-layers"}, [])
    assert [c["layer_id"] for c, _ in sent.messages] == [second]
    with pytest.raises(KeyError, match="no layer"):
        g.remove_layer(first)


def test_camera_is_validated_and_normalised():
    g = Globe()
    g.camera = {"lon": 350.0, "lat": 45.0, "height": 1e6}
    assert g.camera["lon"] == -10.0
    assert g.camera["pitch"] == -90.0
    with pytest.raises(TraitError, match=r"lat 95.0 is outside \[-90, 90\]"):
        g.camera = {"lat": 95.0}
    with pytest.raises(TraitError, match=r"height -1.0 must be above 0 m"):
        g.camera = {"height": -1.0}
    with pytest.raises(TraitError, match=r"unknown keys \['zoom'\]"):
        g.camera = {"zoom": 3}


def test_screenshot_outside_a_kernel_says_what_it_needs(globe):
    g, _ = globe
    with pytest.raises(RuntimeError, match=r"needs an IPython kernel with the globe displayed"):
        asyncio.run(g.screenshot(timeout=0.2))
