"""Messages from the kernel to the globe in the browser.

Pure functions, no ipywidgets: each returns the custom message's JSON content and
its binary buffers. Arrays travel as ONE Arrow IPC stream per message, never as
JSON lists of numbers (docs/globe.md, "Widget message protocol").
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pyarrow as pa

PROTOCOL_VERSION = 1

COLORMAPS = ("viridis", "rdbu")


def _column(name: str, values: Any) -> np.ndarray:
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"Points: {name} is not numeric ({error}).") from None
    if array.ndim != 1:
        raise ValueError(f"Points: {name} must be 1-D, got shape {array.shape}.")
    return array


def _validate_points(lon: Any, lat: Any, values: Any) -> dict[str, np.ndarray]:
    columns = {
        "lon": _column("lon", lon),
        "lat": _column("lat", lat),
        "value": _column("values", values),
    }
    lengths = {name: len(array) for name, array in columns.items()}
    if len(set(lengths.values())) != 1:
        described = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(f"Points: the arrays differ in length ({described}).")
    if lengths["lon"] == 0:
        raise ValueError("Points: the arrays are empty.")
    lat_ok = (columns["lat"] >= -90) & (columns["lat"] <= 90)
    if not lat_ok.all():
        index = int(np.argmin(lat_ok))
        raise ValueError(
            f"Points: latitude {columns['lat'][index]} at index {index} is outside [-90, 90]."
        )
    lon_ok = np.isfinite(columns["lon"])
    if not lon_ok.all():
        index = int(np.argmin(lon_ok))
        raise ValueError(
            f"Points: longitude {columns['lon'][index]} at index {index} is not finite."
        )
    return columns


def _ipc(columns: dict[str, np.ndarray]) -> bytes:
    batch = pa.record_batch({name: pa.array(array) for name, array in columns.items()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def add_points_message(
    lon: Any,
    lat: Any,
    values: Any,
    *,
    title: str = "Points",
    colormap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    layer_id: str | None = None,
) -> tuple[dict[str, Any], list[bytes]]:
    """The `add-points` message: its content and its one Arrow IPC buffer.

    NaN values are kept (the browser draws them transparent); longitudes may be in
    0..360 or -180..180 (the browser normalises them).
    """
    if colormap not in COLORMAPS:
        raise ValueError(f"Unknown colour map {colormap!r}; known: {', '.join(COLORMAPS)}.")
    columns = _validate_points(lon, lat, values)
    content = {
        "protocol": PROTOCOL_VERSION,
        "type": "add-points",
        "layer_id": layer_id or f"py-{uuid.uuid4().hex[:12]}",
        "title": title,
        "colormap": colormap,
        "min": vmin,
        "max": vmax,
    }
    return content, [_ipc(columns)]


def decode_points(buffer: bytes | memoryview) -> dict[str, np.ndarray]:
    """The columns of an `add-points` buffer, as the browser reads them."""
    table = pa.ipc.open_stream(pa.py_buffer(buffer)).read_all()
    return {name: table.column(name).to_numpy() for name in ("lon", "lat", "value")}
