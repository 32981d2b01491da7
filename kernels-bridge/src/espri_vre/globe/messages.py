"""Messages from the kernel to the globe in the browser.

Pure functions, no ipywidgets: each returns the custom message's JSON content and
its binary buffers. Arrays travel as Arrow IPC streams in the buffers, never as
JSON lists of numbers (docs/globe.md, "Widget message protocol").
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

PROTOCOL_VERSION = 1

COLORMAPS = ("viridis", "rdbu")

# One message's buffer stays well under the sizes that browsers and the Jupyter
# server's websocket handle comfortably: 500,000 rows of three float64 columns are 12 MB.
DEFAULT_BATCH_ROWS = 500_000
# Above this, the browser would hold several GB of Cesium vertices: sample or
# aggregate in Python first.
MAX_POINTS = 20_000_000
# A mesh becomes four vertices per cell in the browser.
MAX_MESH_CELLS = 4_000_000

Message = tuple[dict[str, Any], list[bytes]]


def new_layer_id() -> str:
    return f"py-{uuid.uuid4().hex[:12]}"


def _float_array(what: str, name: str, values: Any) -> np.ndarray:
    if np.ma.isMaskedArray(values):
        values = np.ma.filled(values.astype("float64"), np.nan)
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: {name} is not numeric ({error}).") from None
    return array


def _column(what: str, name: str, values: Any) -> np.ndarray:
    array = _float_array(what, name, values)
    if array.ndim != 1:
        raise ValueError(f"{what}: {name} must be 1-D, got shape {array.shape}.")
    return array


def _check_lengths(what: str, columns: Mapping[str, np.ndarray]) -> int:
    lengths = {name: len(array) for name, array in columns.items()}
    if len(set(lengths.values())) != 1:
        described = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(f"{what}: the arrays differ in length ({described}).")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"{what}: the arrays are empty.")
    return n


def _first_false(ok: np.ndarray) -> tuple[tuple[Any, ...], Any]:
    """Where the first False of `ok` is: its index into the array, and the index as a
    message says it (a number for a 1-D array, a tuple otherwise)."""
    index = np.unravel_index(int(np.argmin(ok)), ok.shape)
    return index, index[0] if len(index) == 1 else tuple(int(i) for i in index)


def _check_lat_lon(what: str, lon: np.ndarray, lat: np.ndarray) -> None:
    lat_ok = (lat >= -90) & (lat <= 90)
    if not lat_ok.all():
        index, where = _first_false(lat_ok)
        raise ValueError(f"{what}: latitude {lat[index]} at index {where} is outside [-90, 90].")
    lon_ok = np.isfinite(lon)
    if not lon_ok.all():
        index, where = _first_false(lon_ok)
        raise ValueError(f"{what}: longitude {lon[index]} at index {where} is not finite.")


def normalize_longitude(lon: np.ndarray) -> np.ndarray:
    """Longitudes in [-180, 180), as the browser draws and reports them."""
    return (np.asarray(lon, dtype="float64") + 180.0) % 360.0 - 180.0


def _limits(values: np.ndarray, vmin: float | None, vmax: float | None) -> tuple[float | None, ...]:
    """Colour limits for the whole layer, so that every batch is coloured alike."""
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if vmin is None and finite.size else vmin
    hi = float(finite.max()) if vmax is None and finite.size else vmax
    return lo, hi


def _coloured_layer(
    kind: str,
    layer_id: str | None,
    title: str,
    colormap: str,
    limits: tuple[float | None, ...],
    **fields: Any,
) -> dict[str, Any]:
    """The content of a layer coloured by value through `colormap` between `limits`."""
    lo, hi = limits
    return _layer_message(kind, layer_id, title, colormap=colormap, min=lo, max=hi, **fields)


def _check_colormap(colormap: str) -> None:
    if colormap not in COLORMAPS:
        raise ValueError(f"Unknown colour map {colormap!r}; known: {', '.join(COLORMAPS)}.")


def ipc(columns: Mapping[str, Any]) -> bytes:
    """One Arrow IPC stream holding one record batch of the given columns."""
    batch = pa.record_batch({name: pa.array(array) for name, array in columns.items()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def decode(buffer: bytes | memoryview) -> dict[str, np.ndarray]:
    """The columns of one buffer, as the browser reads them."""
    table = pa.ipc.open_stream(pa.py_buffer(buffer)).read_all()
    return {name: table.column(name).to_numpy() for name in table.column_names}


def validate_points(lon: Any, lat: Any, values: Any) -> dict[str, np.ndarray]:
    what = "Points"
    columns = {
        "lon": _column(what, "lon", lon),
        "lat": _column(what, "lat", lat),
        "value": _column(what, "values", values),
    }
    n = _check_lengths(what, columns)
    if n > MAX_POINTS:
        raise ValueError(
            f"Points: {n:,} points are more than the globe holds ({MAX_POINTS:,}); "
            "sample or aggregate them first."
        )
    _check_lat_lon(what, columns["lon"], columns["lat"])
    return columns


def add_points_messages(
    lon: Any,
    lat: Any,
    values: Any,
    *,
    title: str = "Points",
    colormap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    pixel_size: float = 6,
    layer_id: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> list[Message]:
    """The `add-points` messages of one layer, one per batch of `batch_rows` points.

    NaN values are kept (the browser draws them transparent); longitudes may be in
    0..360 or -180..180 (the browser normalises them). The colour limits are those of
    all the points, so that every batch is coloured alike.
    """
    _check_colormap(colormap)
    if not (isinstance(batch_rows, int) and batch_rows > 0):
        raise ValueError(f"Points: batch_rows must be a positive integer, got {batch_rows!r}.")
    if not (math.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(f"Points: pixel_size must be positive, got {pixel_size!r}.")
    columns = validate_points(lon, lat, values)
    n = len(columns["lon"])
    layer = _coloured_layer(
        "add-points",
        layer_id,
        title,
        colormap,
        _limits(columns["value"], vmin, vmax),
        pixel_size=pixel_size,
    )
    batches = math.ceil(n / batch_rows)
    messages: list[Message] = []
    for b in range(batches):
        part = slice(b * batch_rows, (b + 1) * batch_rows)
        content = {**layer, "batch": b, "batches": batches, "count": n}
        messages.append((content, [ipc({k: v[part] for k, v in columns.items()})]))
    return messages


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
) -> Message:
    """The one `add-points` message of a layer small enough for one batch."""
    messages = add_points_messages(
        lon, lat, values, title=title, colormap=colormap, vmin=vmin, vmax=vmax, layer_id=layer_id
    )
    if len(messages) != 1:
        raise ValueError(
            f"Points: {len(messages)} batches needed; use add_points_messages() for large arrays."
        )
    return messages[0]


def decode_points(buffer: bytes | memoryview) -> dict[str, np.ndarray]:
    """The columns of an `add-points` buffer, as the browser reads them."""
    return decode(buffer)


def _regular(axis: np.ndarray) -> bool:
    """Equally spaced within 0.1 % of a step, as the browser's field raster requires."""
    if axis.size < 2:
        return True
    steps = np.diff(axis)
    step = steps[0]
    return bool(step != 0 and np.all(np.abs(steps - step) <= abs(step) * 1e-3))


def add_field_message(
    lon: Any,
    lat: Any,
    values: Any,
    *,
    title: str = "Field",
    colormap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    layer_id: str | None = None,
) -> Message:
    """A field on a regular lat/lon grid (`add-field`) or, when its axes are 2-D or not
    equally spaced, on a curvilinear mesh (`add-mesh`).

    `values` has shape (lat, lon) for 1-D axes, or the shape of the 2-D `lat` and `lon`.
    """
    _check_colormap(colormap)
    what = "Field"
    lon_a = _float_array(what, "lon", lon)
    lat_a = _float_array(what, "lat", lat)
    data = _float_array(what, "values", values)
    if lon_a.size == 0 or lat_a.size == 0 or data.size == 0:
        raise ValueError(
            f"{what}: empty arrays (lon {lon_a.shape}, lat {lat_a.shape}, values {data.shape})."
        )
    if data.ndim != 2:
        raise ValueError(f"{what}: the values must be 2-D, got shape {data.shape}.")
    if lon_a.ndim == 1 and lat_a.ndim == 1:
        if data.shape != (lat_a.size, lon_a.size):
            raise ValueError(
                f"{what}: values of shape {data.shape} for lat ({lat_a.size}) and "
                f"lon ({lon_a.size}); expected ({lat_a.size}, {lon_a.size})."
            )
        _check_lat_lon(what, lon_a, lat_a)
        lon_n = normalize_longitude(lon_a)
        # A global 0..360 axis stays regular once sorted by normalised longitude.
        if (_regular(lon_a) or _regular(np.sort(lon_n))) and _regular(lat_a):
            content = _coloured_layer(
                "add-field", layer_id, title, colormap, _limits(data, vmin, vmax)
            )
            buffers = [
                ipc({"lon": lon_a}),
                ipc({"lat": lat_a}),
                ipc({"value": data.astype("float32").ravel()}),
            ]
            return content, buffers
        # Unequally spaced axes (a Gaussian grid): drawn as a mesh.
        lon_a, lat_a = np.meshgrid(lon_a, lat_a)
    if lon_a.shape != lat_a.shape or lon_a.shape != data.shape:
        raise ValueError(
            f"{what}: lat {lat_a.shape}, lon {lon_a.shape} and values {data.shape} "
            "must have the same shape on a curvilinear grid."
        )
    if lon_a.ndim != 2:
        raise ValueError(f"{what}: lat and lon must be 1-D axes or 2-D arrays.")
    ny, nx = data.shape
    if ny < 2 or nx < 2:
        raise ValueError(
            f"{what}: a curvilinear grid needs at least 2 x 2 points, got {ny} x {nx}."
        )
    if ny * nx > MAX_MESH_CELLS:
        raise ValueError(
            f"{what}: {ny * nx:,} cells are more than the globe draws as a mesh "
            f"({MAX_MESH_CELLS:,}); coarsen the grid first (e.g. .coarsen(x=2, y=2).mean())."
        )
    _check_lat_lon(what, lon_a, lat_a)
    content = _coloured_layer(
        "add-mesh", layer_id, title, colormap, _limits(data, vmin, vmax), shape=[ny, nx]
    )
    columns = {
        "lon": lon_a.ravel(),
        "lat": lat_a.ravel(),
        "value": data.astype("float32").ravel(),
    }
    return content, [ipc(columns)]


def _epoch_ms(what: str, time: Any) -> np.ndarray:
    import pandas as pd

    try:
        stamps = pd.to_datetime(np.asarray(time).ravel(), utc=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"{what}: the times are not dates ({error}).") from None
    missing = np.asarray(stamps.isna())
    if missing.any():
        index = int(np.argmax(missing))
        raise ValueError(f"{what}: the time at index {index} is missing (NaT).")
    return stamps.as_unit("ms").asi8.astype("int64")


def add_trajectory_message(
    lon: Any,
    lat: Any,
    time: Any,
    *,
    height: Any = None,
    title: str = "Trajectory",
    color: str = "#ff7f0e",
    layer_id: str | None = None,
) -> Message:
    """`add-trajectory`: a track whose point moves along the Cesium clock."""
    what = "Trajectory"
    columns: dict[str, np.ndarray] = {
        "lon": _column(what, "lon", lon),
        "lat": _column(what, "lat", lat),
    }
    time_a = np.asarray(time)
    if time_a.ndim != 1:
        raise ValueError(f"{what}: time must be 1-D, got shape {time_a.shape}.")
    lengths = {**columns, "time": time_a}
    if height is not None:
        columns["height"] = _column(what, "height", height)
        lengths["height"] = columns["height"]
    _check_lengths(what, lengths)
    _check_lat_lon(what, columns["lon"], columns["lat"])
    if "height" in columns and not np.isfinite(columns["height"]).all():
        index = int(np.argmin(np.isfinite(columns["height"])))
        raise ValueError(f"{what}: height at index {index} is not finite.")
    columns["time"] = _epoch_ms(what, time_a)
    return _layer_message("add-trajectory", layer_id, title, color=color), [ipc(columns)]


def add_footprints_message(
    boxes: Any,
    *,
    title: str = "Footprints",
    color: str = "#ffd700",
    layer_id: str | None = None,
) -> Message:
    """`add-footprints`: boxes as rows of (west, south, east, north) in degrees;
    `west > east` crosses the antimeridian."""
    what = "Footprints"
    array = _float_array(what, "boxes", boxes)
    if array.ndim == 1 and array.size == 4:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"{what}: boxes must be rows of (west, south, east, north), got shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{what}: no boxes given.")
    if not np.isfinite(array).all():
        row = int(np.argmin(np.isfinite(array).all(axis=1)))
        raise ValueError(f"{what}: box {row} has a value that is not a number.")
    west, south, east, north = array.T
    bad = (south < -90) | (north > 90) | (south > north)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"{what}: box {row} has south {south[row]} and north {north[row]}; "
            "they must satisfy -90 <= south <= north <= 90."
        )
    content = _layer_message("add-footprints", layer_id, title, color=color)
    return content, [ipc({"west": west, "south": south, "east": east, "north": north})]


def simple_message(kind: str, **fields: Any) -> dict[str, Any]:
    return {"protocol": PROTOCOL_VERSION, "type": kind, **fields}


def _layer_message(kind: str, layer_id: str | None, title: str, **fields: Any) -> dict[str, Any]:
    """The content of a message that adds a layer; a new layer id when none is given."""
    return simple_message(kind, layer_id=layer_id or new_layer_id(), title=title, **fields)
