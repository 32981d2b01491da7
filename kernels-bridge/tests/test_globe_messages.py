"""The globe's kernel-to-browser messages: one Arrow IPC buffer that decodes back to
the arrays given, and clear errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from espri_vre.globe import PROTOCOL_VERSION, add_points_message, decode_points


def test_add_points_sends_one_arrow_buffer_that_decodes_to_the_same_arrays():
    lon = np.array([350.0, 10.0, -20.5])
    lat = [0.0, 45.0, -89.9]
    values = np.array([1.5, np.nan, -3.0], dtype="float32")

    content, buffers = add_points_message(
        lon, lat, values, title="Stations", vmin=-5, vmax=5, layer_id="l1"
    )

    assert content == {
        "protocol": PROTOCOL_VERSION,
        "type": "add-points",
        "layer_id": "l1",
        "title": "Stations",
        "colormap": "viridis",
        "min": -5,
        "max": 5,
        "pixel_size": 6,
        "batch": 0,
        "batches": 1,
        "count": 3,
    }
    # The JSON part carries no numbers of the data.
    assert "350" not in json.dumps(content)
    assert len(buffers) == 1
    schema = pa.ipc.open_stream(buffers[0]).schema
    assert schema.names == ["lon", "lat", "value"]
    assert all(field.type == pa.float64() for field in schema)
    decoded = decode_points(buffers[0])
    np.testing.assert_array_equal(decoded["lon"], lon)
    np.testing.assert_array_equal(decoded["lat"], lat)
    np.testing.assert_array_equal(decoded["value"], values.astype("float64"))


def test_add_points_gives_each_layer_its_own_id():
    first, _ = add_points_message([0], [0], [1])
    second, _ = add_points_message([0], [0], [1])
    assert first["layer_id"] != second["layer_id"]


@pytest.mark.parametrize(
    ("lon", "lat", "values", "message"),
    [
        (
            [1, 2],
            [1],
            [1, 2],
            r"Points: the arrays differ in length \(lon: 2, lat: 1, value: 2\)\.",
        ),
        ([], [], [], r"Points: the arrays are empty\."),
        ([0, 1], [0, 91], [1, 2], r"Points: latitude 91.0 at index 1 is outside \[-90, 90\]\."),
        ([np.inf], [0], [1], r"Points: longitude inf at index 0 is not finite\."),
        ([[0, 1]], [[0, 1]], [[1, 2]], r"Points: lon must be 1-D, got shape \(1, 2\)\."),
        (["a"], [0], [1], r"Points: lon is not numeric"),
    ],
)
def test_add_points_rejects_bad_input_with_a_clear_message(lon, lat, values, message):
    with pytest.raises(ValueError, match=message):
        add_points_message(lon, lat, values)


def test_add_points_rejects_an_unknown_colour_map():
    with pytest.raises(ValueError, match=r"Unknown colour map 'jet'; known: viridis, rdbu\."):
        add_points_message([0], [0], [1], colormap="jet")
