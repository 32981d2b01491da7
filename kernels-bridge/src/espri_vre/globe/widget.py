"""`Globe`, the CesiumJS globe as a Jupyter widget (ipywidgets 8).

Layers travel as custom messages with Arrow IPC buffers (messages.py); the front
end is `GlobeModel`/`GlobeView` of the `@espri-vre/globe` labextension. The model in
the kernel keeps every layer's messages, so that a page opened later (or reloaded)
asks for them again (`request-layers`) and draws the same globe.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from ipywidgets import DOMWidget, register
from traitlets import Dict, List, TraitError, Unicode, validate

from . import messages as m

MODULE = "@espri-vre/globe"
MODULE_VERSION = "^0.1.0"

CAMERA_KEYS = ("lon", "lat", "height", "heading", "pitch", "roll")

ClickCallback = Callable[[dict[str, Any]], Any]

LON_NAMES = ("lon", "longitude", "nav_lon", "glamt", "x")
LAT_NAMES = ("lat", "latitude", "nav_lat", "gphit", "y")


def _coordinate(da: Any, axis: str) -> Any:
    """The longitude or latitude coordinate of a DataArray, found the CF way (standard
    name, then units, then the usual names)."""
    standard = "longitude" if axis == "lon" else "latitude"
    units = (
        ("degrees_east", "degree_east", "degrees_E")
        if axis == "lon"
        else (
            "degrees_north",
            "degree_north",
            "degrees_N",
        )
    )
    coords = list(da.coords.values())
    for test in (
        lambda c: c.attrs.get("standard_name") == standard,
        lambda c: c.attrs.get("units") in units,
        lambda c: str(c.name).lower() in (LON_NAMES if axis == "lon" else LAT_NAMES),
    ):
        found = [c for c in coords if test(c)]
        if found:
            return found[0]
    names = ", ".join(str(c) for c in da.coords) or "none"
    raise ValueError(
        f"Field: no {standard} coordinate found (by standard_name, units or name) "
        f"among the coordinates ({names})."
    )


def field_arrays(da: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, values) of a 2-D DataArray: 1-D axes with values (lat, lon), or 2-D
    coordinates of the values' shape."""
    import xarray as xr

    if not isinstance(da, xr.DataArray):
        raise TypeError(
            f"Field: add_field() takes an xarray.DataArray, got {type(da).__name__}; "
            "for a Dataset pick a variable (ds['tas'])."
        )
    da = da.squeeze(drop=False)
    if da.ndim != 2:
        dims = ", ".join(f"{d}: {n}" for d, n in da.sizes.items())
        extra = [
            d for d in da.dims if d not in _coordinate(da, "lon").dims + _coordinate(da, "lat").dims
        ]
        hint = f" Select one 2-D slice first, e.g. .isel({extra[0]}=0)." if extra else ""
        raise ValueError(
            f"Field: {da.name or 'the array'} has {da.ndim} dimensions ({dims}).{hint}"
        )
    lon = _coordinate(da, "lon")
    lat = _coordinate(da, "lat")
    if lon.ndim == 1 and lat.ndim == 1:
        if {lon.dims[0], lat.dims[0]} != set(da.dims):
            raise ValueError(
                f"Field: the axes {lat.dims[0]!r} and {lon.dims[0]!r} are not the dimensions "
                f"{da.dims} of {da.name or 'the array'}."
            )
        values = da.transpose(lat.dims[0], lon.dims[0]).values
        return np.asarray(lon.values), np.asarray(lat.values), np.asarray(values)
    if lon.ndim == 2 and lat.ndim == 2:
        if lon.dims != lat.dims:
            raise ValueError(
                f"Field: lat has dimensions {lat.dims} and lon {lon.dims}: they must match."
            )
        if set(lon.dims) != set(da.dims):
            raise ValueError(
                f"Field: the coordinates' dimensions {lon.dims} are not those of "
                f"{da.name or 'the array'} {da.dims}."
            )
        values = da.transpose(*lon.dims).values
        return np.asarray(lon.values), np.asarray(lat.values), np.asarray(values)
    raise ValueError(
        f"Field: lat has {lat.ndim} and lon {lon.ndim} dimensions: both must be 1-D axes "
        "or both 2-D arrays."
    )


def _points_from_frame(frame: Any, value: str | None) -> tuple[Any, Any, Any]:
    import pandas as pd

    columns = {str(c).lower(): c for c in frame.columns}

    def pick(names: tuple[str, ...], what: str) -> Any:
        for name in names:
            if name in columns:
                return frame[columns[name]]
        raise ValueError(
            f"Points: the DataFrame has no {what} column (looked for {', '.join(names)}; "
            f"it has {', '.join(map(str, frame.columns))})."
        )

    lon = pick(("lon", "longitude", "x"), "longitude")
    lat = pick(("lat", "latitude", "y"), "latitude")
    if value is None:
        rest = [
            c
            for c in frame.columns
            if c not in (lon.name, lat.name) and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if len(rest) != 1:
            raise ValueError(
                "Points: say which column holds the values (value='...'); numeric columns: "
                f"{', '.join(map(str, rest)) or 'none'}."
            )
        value = rest[0]
    if value not in frame.columns:
        raise ValueError(f"Points: the DataFrame has no column {value!r}.")
    return lon.to_numpy(), lat.to_numpy(), frame[value].to_numpy()


@register
class Globe(DOMWidget):
    """A CesiumJS globe in a notebook, offline.

    >>> g = Globe()
    >>> g.add_points(lon, lat, values)            # or g.add_points(dataframe)
    >>> g.add_field(ds["tas"].isel(time=0))       # regular or curvilinear
    >>> g.add_trajectory(lon, lat, time)
    >>> g.on_click(lambda click: print(click["lon"], click["lat"], click["value"]))
    >>> g.camera = {"lon": 2.35, "lat": 48.85, "height": 2e6}
    >>> png = await g.screenshot()
    """

    _model_name = Unicode("GlobeModel").tag(sync=True)
    _model_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode("GlobeView").tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    camera = Dict(
        default_value={
            "lon": 0.0,
            "lat": 20.0,
            "height": 2.0e7,
            "heading": 0.0,
            "pitch": -90.0,
            "roll": 0.0,
        },
        help="Where the camera is: lon, lat (degrees), height (m), heading, pitch, roll "
        "(degrees). The browser updates it when the view moves; setting it moves the view.",
    ).tag(sync=True)
    layers = List(Dict(), help="The layers drawn in the browser: id, title, kind (read-only).").tag(
        sync=True
    )

    def __init__(self, *, height: str = "480px", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.layout.height is None:
            self.layout.height = height
        self._layer_messages: dict[str, list[m.Message]] = {}
        self._click_callbacks: list[ClickCallback] = []
        self._pending: dict[str, asyncio.Future[tuple[dict[str, Any], list[bytes]]]] = {}
        self.errors: list[str] = []
        self.on_msg(self._handle_message)

    @validate("camera")
    def _validate_camera(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = dict(proposal["value"])
        unknown = set(value) - set(CAMERA_KEYS)
        if unknown:
            raise TraitError(
                f"Globe.camera: unknown keys {sorted(unknown)}; known: {', '.join(CAMERA_KEYS)}."
            )
        merged = {**self.camera, **value}
        for key in CAMERA_KEYS:
            v = merged.get(key)
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise TraitError(f"Globe.camera: {key} must be a finite number, got {v!r}.")
            merged[key] = float(v)
        if not -90 <= merged["lat"] <= 90:
            raise TraitError(f"Globe.camera: lat {merged['lat']} is outside [-90, 90].")
        if merged["height"] <= 0:
            raise TraitError(f"Globe.camera: height {merged['height']} must be above 0 m.")
        merged["lon"] = float(m.normalize_longitude(np.array(merged["lon"])))
        return merged

    # Layers ---------------------------------------------------------------

    def _send_layer(self, layer_id: str, messages: list[m.Message]) -> str:
        self._layer_messages[layer_id] = messages
        for content, buffers in messages:
            self.send(content, buffers)
        return layer_id

    def add_points(
        self,
        lon: Any,
        lat: Any = None,
        values: Any = None,
        *,
        value: str | None = None,
        title: str = "Points",
        colormap: str = "viridis",
        vmin: float | None = None,
        vmax: float | None = None,
        pixel_size: float = 6,
        batch_rows: int = m.DEFAULT_BATCH_ROWS,
    ) -> str:
        """Points coloured by value; `lon` may be a DataFrame with lon/lat columns (and
        `value` naming the value column). Returns the layer id."""
        if hasattr(lon, "columns"):
            if lat is not None or values is not None:
                raise ValueError("Points: give either a DataFrame or lon, lat and values.")
            lon, lat, values = _points_from_frame(lon, value)
        if lat is None:
            raise ValueError("Points: lat is missing.")
        if values is None:
            values = np.zeros(np.shape(lon))
        layer_id = m.new_layer_id()
        return self._send_layer(
            layer_id,
            m.add_points_messages(
                lon,
                lat,
                values,
                title=title,
                colormap=colormap,
                vmin=vmin,
                vmax=vmax,
                pixel_size=pixel_size,
                layer_id=layer_id,
                batch_rows=batch_rows,
            ),
        )

    def add_field(
        self,
        da: Any,
        *,
        title: str | None = None,
        colormap: str = "viridis",
        vmin: float | None = None,
        vmax: float | None = None,
    ) -> str:
        """A 2-D xarray.DataArray: on a regular lat/lon grid as imagery, on a curvilinear
        grid (2-D lat/lon coordinates) as a coloured mesh. Returns the layer id."""
        lon, lat, values = field_arrays(da)
        if title is None:
            title = str(da.attrs.get("long_name") or da.name or "Field")
        layer_id = m.new_layer_id()
        message = m.add_field_message(
            lon,
            lat,
            values,
            title=title,
            colormap=colormap,
            vmin=vmin,
            vmax=vmax,
            layer_id=layer_id,
        )
        return self._send_layer(layer_id, [message])

    def add_trajectory(
        self,
        lon: Any,
        lat: Any,
        time: Any,
        *,
        height: Any = None,
        title: str = "Trajectory",
        color: str = "#ff7f0e",
    ) -> str:
        """A track whose point moves along the globe's clock. Returns the layer id."""
        layer_id = m.new_layer_id()
        message = m.add_trajectory_message(
            lon, lat, time, height=height, title=title, color=color, layer_id=layer_id
        )
        return self._send_layer(layer_id, [message])

    def add_footprints(
        self, boxes: Any, *, title: str = "Footprints", color: str = "#ffd700"
    ) -> str:
        """Boxes as (west, south, east, north) rows in degrees. Returns the layer id."""
        layer_id = m.new_layer_id()
        return self._send_layer(
            layer_id, [m.add_footprints_message(boxes, title=title, color=color, layer_id=layer_id)]
        )

    def remove_layer(self, layer_id: str) -> None:
        if layer_id not in self._layer_messages:
            raise KeyError(f"Globe: no layer {layer_id!r}; layers: {list(self._layer_messages)}.")
        del self._layer_messages[layer_id]
        self.send(m.simple_message("remove-layer", layer_id=layer_id))

    def fly_to(self, west: float, south: float, east: float, north: float) -> None:
        """Show the box (degrees) in the view."""
        m.add_footprints_message([west, south, east, north])  # the same validation
        self.send(m.simple_message("fly-to", west=west, south=south, east=east, north=north))

    # Browser -> kernel --------------------------------------------------------

    def on_click(self, callback: ClickCallback, remove: bool = False) -> None:
        """Call `callback(click)` when the globe is clicked; `click` has lon and lat
        (degrees, lon in [-180, 180)), and when a layer is under the pointer its
        layer_id, title, value and index."""
        if remove:
            self._click_callbacks.remove(callback)
        else:
            self._click_callbacks.append(callback)

    def _handle_message(self, _: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        if kind == "click":
            click = {k: v for k, v in content.items() if k not in ("type", "protocol")}
            for callback in list(self._click_callbacks):
                callback(click)
        elif kind == "request-layers":
            for messages in self._layer_messages.values():
                for message, message_buffers in messages:
                    self.send(message, message_buffers)
        elif kind == "error":
            self.errors.append(str(content.get("message")))
        elif kind == "screenshot":
            future = self._pending.get(str(content.get("request_id")))
            if future is not None and not future.done():
                future.set_result((content, [bytes(b) for b in buffers]))

    async def screenshot(self, timeout: float = 30.0) -> bytes:
        """The current view as PNG bytes, rendered by the browser: `png = await g.screenshot()`.

        The globe must be displayed. The kernel hands the browser's answer to this
        coroutine while the cell awaits it (ipykernel 7.4 dispatches widget messages
        during an awaiting cell); a blocking call could not receive it."""
        from IPython import get_ipython

        if getattr(get_ipython(), "kernel", None) is None:
            raise RuntimeError(
                "Globe.screenshot(): needs an IPython kernel with the globe displayed "
                "in a notebook (the browser renders the image)."
            )
        request_id = m.new_layer_id()
        future: asyncio.Future[tuple[dict[str, Any], list[bytes]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[request_id] = future
        try:
            self.send(m.simple_message("screenshot", request_id=request_id))
            content, buffers = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"Globe.screenshot(): no image from the browser within {timeout:g} s; "
                "is the globe displayed in an open notebook?"
            ) from None
        finally:
            self._pending.pop(request_id, None)
        if content.get("error"):
            raise RuntimeError(f"Globe.screenshot(): {content['error']}")
        if not buffers:
            raise RuntimeError("Globe.screenshot(): the browser sent no image.")
        return buffers[0]
