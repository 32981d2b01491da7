"""The demo's data, made by the project itself: pure functions of a seed, no I/O.

Synthetic but physically plausible, CF-1.8 compliant, small: a global monthly near-surface air
temperature on a regular grid, a sea surface temperature on a distorted (ORCA-like) curvilinear
grid with land masked, daily station temperatures, and a sounding balloon's flight.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

SEED = 20240601
FILL_VALUE = np.float32(1.0e20)
TIME_UNITS = "days since 2000-01-01"
CALENDAR = "noleap"
NOLEAP_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
ZERO_CELSIUS = 273.15

COMMON_ATTRS = {
    "Conventions": "CF-1.8",
    "institution": "espri-vre demo builder",
    "source": "synthetic fields made with numpy by espri_vre.demo (deterministic seed)",
    "comment": "Demonstration data: neither observations nor model output. Do not use for science.",
    "license": "CC-BY-4.0",
}

# Idealised continents: (centre lon, centre lat, half-width lon, half-width lat) in degrees.
# Blobs on the sphere, so that land has coasts, a mask and a land-sea contrast.
_CONTINENTS = (
    (-100.0, 45.0, 30.0, 20.0),
    (-60.0, -15.0, 18.0, 25.0),
    (20.0, 5.0, 22.0, 28.0),
    (80.0, 45.0, 50.0, 18.0),
    (135.0, -25.0, 17.0, 11.0),
    (0.0, -85.0, 180.0, 10.0),
    (-40.0, 72.0, 18.0, 9.0),
)


def land_fraction(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """0 over open ocean, 1 inside the idealised continents, smooth in between."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    land = np.zeros(np.broadcast(lon, lat).shape)
    for clon, clat, wlon, wlat in _CONTINENTS:
        dlon = (lon - clon + 180.0) % 360.0 - 180.0
        d2 = (dlon / wlon) ** 2 + ((lat - clat) / wlat) ** 2
        land = np.maximum(land, np.exp(-(d2**2)))
    return land


def noleap_month_bounds(n_months: int) -> np.ndarray:
    """Month bounds in days since 2000-01-01 of the noleap calendar, shape (n_months, 2)."""
    lengths = np.resize(NOLEAP_MONTH_DAYS, n_months)
    edges = np.concatenate([[0], np.cumsum(lengths)]).astype("f8")
    return np.stack([edges[:-1], edges[1:]], axis=1)


def regular_grid(resolution: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres and bounds of a global regular grid: lat, lon, lat_bnds, lon_bnds."""
    lat_edges = np.arange(-90.0, 90.0 + resolution / 2, resolution)
    lon_edges = np.arange(-180.0, 180.0 + resolution / 2, resolution)
    lat = (lat_edges[:-1] + lat_edges[1:]) / 2
    lon = (lon_edges[:-1] + lon_edges[1:]) / 2
    lat_bnds = np.stack([lat_edges[:-1], lat_edges[1:]], axis=1)
    lon_bnds = np.stack([lon_edges[:-1], lon_edges[1:]], axis=1)
    return lat, lon, lat_bnds, lon_bnds


def tas_monthly(years: int = 3, resolution: float = 2.0, seed: int = SEED) -> xr.Dataset:
    """Near-surface air temperature (K), monthly means from January 2000, noleap calendar.

    Zonal mean from about 300 K at the equator to 245 K at the poles, a seasonal cycle that grows
    with latitude and is stronger over land, colder continents in winter, a small warming trend
    and weather noise."""
    rng = np.random.default_rng(seed)
    lat, lon, lat_bnds, lon_bnds = regular_grid(resolution)
    n_months = 12 * years
    time_bnds = noleap_month_bounds(n_months)
    time = time_bnds.mean(axis=1)
    lon2, lat2 = np.meshgrid(lon, lat)
    land = land_fraction(lon2, lat2)
    phi = np.deg2rad(lat2)

    base = 245.0 + 55.0 * np.cos(phi) ** 2 - 6.0 * land * np.abs(np.sin(phi))
    # Northern summer peaks in July (month index 6); the southern hemisphere is in antiphase.
    amplitude = (2.0 + 14.0 * np.abs(np.sin(phi)) ** 1.5) * (0.5 + 1.2 * land)
    month_angle = 2 * np.pi * (np.arange(n_months)[:, None, None] - 6) / 12
    seasonal = amplitude * np.sign(lat2) * np.cos(month_angle)
    trend = 0.03 * (np.arange(n_months) / 12.0)[:, None, None]
    noise = rng.normal(0.0, 1.0, size=(n_months, *lat2.shape)) * (0.6 + 1.4 * land)
    tas = (base + seasonal + trend + noise).astype("f4")

    ds = xr.Dataset(
        data_vars={
            "tas": (
                ("time", "lat", "lon"),
                tas,
                {
                    "standard_name": "air_temperature",
                    "long_name": "Near-Surface Air Temperature",
                    "units": "K",
                    "cell_methods": "area: time: mean",
                    "coordinates": "height",
                },
            ),
            "time_bnds": (("time", "bnds"), time_bnds),
            "lat_bnds": (("lat", "bnds"), lat_bnds),
            "lon_bnds": (("lon", "bnds"), lon_bnds),
        },
        coords={
            "time": ("time", time, _time_attrs()),
            "lat": ("lat", lat, _lat_attrs()),
            "lon": ("lon", lon, _lon_attrs()),
            "height": (
                (),
                2.0,
                {
                    "standard_name": "height",
                    "long_name": "height",
                    "units": "m",
                    "axis": "Z",
                    "positive": "up",
                },
            ),
        },
        attrs={
            **COMMON_ATTRS,
            "title": "espri-vre demo: monthly near-surface air temperature",
            "frequency": "mon",
            "variable_id": "tas",
            "table_id": "Amon",
            "grid": f"global regular {resolution:g} degree latitude-longitude grid",
            "grid_label": "gr",
        },
    )
    return ds


def orca_like_grid(nx: int = 180, ny: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """2-D longitude and latitude of a distorted ocean grid: regular in the south, its north
    bending towards two poles placed over land (as ORCA's tripolar grid does), so that the
    coordinates are truly curvilinear. Shapes (ny, nx)."""
    i = np.arange(nx) + 0.5
    j = np.arange(ny) + 0.5
    ii, jj = np.meshgrid(i, j)
    lon = -180.0 + 360.0 * ii / nx
    lat = -78.0 + (90.0 + 78.0) * jj / ny
    north = np.clip((lat - 20.0) / 70.0, 0.0, 1.0) ** 2
    # Pull latitudes towards the poles over (-100 E) and (80 E), the grid lines curve.
    lat = lat - 12.0 * north * np.cos(np.deg2rad(2 * (lon + 100.0)))
    lon = lon + 8.0 * north * np.sin(np.deg2rad(2 * (lon + 100.0)))
    lat = np.clip(lat, -89.5, 89.5)
    lon = (lon + 180.0) % 360.0 - 180.0
    return lon, lat


def cell_vertices(center: np.ndarray, wrap: bool) -> np.ndarray:
    """Corner values of each cell of a curvilinear grid (shape (ny, nx, 4), counter-clockwise
    from the south-west), the mean of the four surrounding centres."""
    ny, nx = center.shape
    if wrap:  # longitudes: unwrap along x so that the averages do not cross the dateline
        center = np.rad2deg(np.unwrap(np.deg2rad(center), axis=1))
    padded = np.empty((ny + 2, nx + 2))
    padded[1:-1, 1:-1] = center
    padded[0, 1:-1] = 2 * center[0] - center[1]
    padded[-1, 1:-1] = 2 * center[-1] - center[-2]
    padded[:, 0] = 2 * padded[:, 1] - padded[:, 2]
    padded[:, -1] = 2 * padded[:, -2] - padded[:, -3]
    corners = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4
    sw, se = corners[:-1, :-1], corners[:-1, 1:]
    ne, nw = corners[1:, 1:], corners[1:, :-1]
    vertices = np.stack([sw, se, ne, nw], axis=-1)
    if wrap:
        return (vertices + 180.0) % 360.0 - 180.0
    return np.clip(vertices, -90.0, 90.0)


def tos_curvilinear(months: int = 12, nx: int = 180, ny: int = 120, seed: int = SEED) -> xr.Dataset:
    """Sea surface temperature (degC) on an ORCA-like curvilinear grid, land masked with
    _FillValue, monthly for one noleap year."""
    rng = np.random.default_rng(seed + 1)
    lon, lat = orca_like_grid(nx, ny)
    land = land_fraction(lon, lat) > 0.5
    phi = np.deg2rad(lat)
    time_bnds = noleap_month_bounds(months)
    time = time_bnds.mean(axis=1)
    # The ocean lags the air: the northern maximum is in August (month index 7).
    month_angle = 2 * np.pi * (np.arange(months)[:, None, None] - 7) / 12
    base = -1.8 + 30.0 * np.cos(phi) ** 3
    seasonal = 3.0 * np.abs(np.sin(2 * phi)) * np.sign(lat) * np.cos(month_angle)
    noise = rng.normal(0.0, 0.3, size=(months, ny, nx))
    tos = np.maximum(base + seasonal + noise, -1.8).astype("f4")
    tos[:, land] = np.nan

    dims = ("time", "y", "x")
    return xr.Dataset(
        data_vars={
            "tos": (
                dims,
                tos,
                {
                    "standard_name": "sea_surface_temperature",
                    "long_name": "Sea Surface Temperature",
                    "units": "degC",
                    "cell_methods": "area: mean where sea time: mean",
                    "coordinates": "latitude longitude",
                },
            ),
            "time_bnds": (("time", "bnds"), time_bnds),
            "vertices_latitude": (("y", "x", "nvertex"), cell_vertices(lat, wrap=False)),
            "vertices_longitude": (("y", "x", "nvertex"), cell_vertices(lon, wrap=True)),
        },
        coords={
            "time": ("time", time, _time_attrs()),
            "latitude": (
                ("y", "x"),
                lat,
                {
                    "standard_name": "latitude",
                    "long_name": "latitude",
                    "units": "degrees_north",
                    "bounds": "vertices_latitude",
                },
            ),
            "longitude": (
                ("y", "x"),
                lon,
                {
                    "standard_name": "longitude",
                    "long_name": "longitude",
                    "units": "degrees_east",
                    "bounds": "vertices_longitude",
                },
            ),
            "y": (
                "y",
                np.arange(ny, dtype="i4"),
                {"long_name": "cell index along second dimension"},
            ),
            "x": (
                "x",
                np.arange(nx, dtype="i4"),
                {"long_name": "cell index along first dimension"},
            ),
        },
        attrs={
            **COMMON_ATTRS,
            "title": "espri-vre demo: sea surface temperature on a curvilinear ocean grid",
            "frequency": "mon",
            "variable_id": "tos",
            "table_id": "Omon",
            "grid": "ORCA-like curvilinear grid (distorted north of 20N), land masked",
            "grid_label": "gn",
        },
    )


def stations(n: int = 50, days: int = 365, seed: int = SEED) -> pd.DataFrame:
    """Daily mean 2 m temperature (degC) at `n` land stations through 2000 (one row per station
    and day): a latitude- and elevation-dependent climate (6.5 K/km lapse rate), a seasonal
    cycle, and day-to-day weather."""
    rng = np.random.default_rng(seed + 2)
    lons, lats = [], []
    while len(lons) < n:
        lon = rng.uniform(-180.0, 180.0)
        lat = np.rad2deg(np.arcsin(rng.uniform(-0.85, 0.95)))
        if land_fraction(lon, lat) > 0.6:
            lons.append(lon)
            lats.append(lat)
    lon = np.round(np.array(lons), 4)
    lat = np.round(np.array(lats), 4)
    elevation = np.round(rng.gamma(1.5, 400.0, size=n)).astype("f4")
    ids = [f"DEMO{k:03d}" for k in range(1, n + 1)]
    names = [
        f"Demo station {k:02d} ({_hemisphere(la)} {abs(la):.1f})" for k, la in enumerate(lat, 1)
    ]

    day = np.arange(days)
    phi = np.deg2rad(lat)
    mean = -25.0 + 52.0 * np.cos(phi) ** 2 - 0.0065 * elevation
    amplitude = 3.0 + 16.0 * np.abs(np.sin(phi))
    # Warmest around 15 July (day 196) in the north.
    seasonal = amplitude * np.sign(lat) * np.cos(2 * np.pi * (day[:, None] - 196) / 365)
    # Weather lasts a few days: a first-order autoregressive anomaly of about 3 K.
    shocks = rng.normal(0.0, 2.0, size=(days, n))
    weather = np.empty_like(shocks)
    weather[0] = shocks[0]
    for t in range(1, days):
        weather[t] = 0.7 * weather[t - 1] + shocks[t]
    temperature = (mean[None, :] + seasonal + weather).astype("f4")

    times = pd.date_range("2000-01-01", periods=days, freq="D")
    frame = pd.DataFrame(
        {
            "station_id": np.repeat(np.array(ids, dtype=object), days),
            "name": np.repeat(np.array(names, dtype=object), days),
            "lon": np.repeat(lon, days),
            "lat": np.repeat(lat, days),
            "elevation": np.repeat(elevation, days),
            "time": np.tile(times.values, n),
            "temperature": temperature.T.reshape(-1),
        }
    )
    frame["station_id"] = frame["station_id"].astype("string")
    frame["name"] = frame["name"].astype("string")
    return frame


STATION_UNITS = {
    "lon": "degrees_east",
    "lat": "degrees_north",
    "elevation": "m",
    "temperature": "degC",
}


def balloon_flight(seed: int = SEED, step_s: int = 10) -> pd.DataFrame:
    """A radiosonde balloon launched from Trappes (the Paris region's sounding site) at 11 UTC on
    2000-06-15: ascent at 5 m/s to burst near 30 km, then a faster descent under the parachute;
    westerlies that peak in the jet stream near 11 km carry it east. Temperature follows the
    standard atmosphere."""
    rng = np.random.default_rng(seed + 3)
    burst = 30000.0
    heights = list(np.arange(0.0, burst, 5.0 * step_s))
    z = burst
    while z > 0:
        # The parachute falls at about 30 m/s up high and 6 m/s near the ground (denser air).
        z = max(z - (6.0 + 24.0 * (z / burst) ** 1.5) * step_s, 0.0)
        heights.append(z)
    altitude = np.array(heights) + 168.0  # Trappes is 168 m above sea level
    n = altitude.size
    seconds = np.arange(n) * step_s

    jet = 8.0 + 30.0 * np.exp(-(((altitude - 11000.0) / 3000.0) ** 2))
    u = jet + rng.normal(0.0, 1.5, size=n)  # eastward wind, m/s
    v = 3.0 * np.sin(altitude / 4000.0) + rng.normal(0.0, 1.5, size=n)  # northward wind
    lat0, lon0 = 48.7744, 2.0097
    dy = np.cumsum(v * step_s)
    lat = lat0 + np.rad2deg(dy / 6371000.0)
    dx = np.cumsum(u * step_s)
    lon = lon0 + np.rad2deg(dx / (6371000.0 * np.cos(np.deg2rad(lat))))

    return pd.DataFrame(
        {
            "time": pd.Timestamp("2000-06-15T11:00:00") + pd.to_timedelta(seconds, unit="s"),
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "altitude": np.round(altitude, 1),
            "temperature": np.round(standard_atmosphere_temperature(altitude) - ZERO_CELSIUS, 2),
        }
    )


BALLOON_UNITS = {
    "lon": "degrees_east",
    "lat": "degrees_north",
    "altitude": "m",
    "temperature": "degC",
}


def standard_atmosphere_temperature(altitude_m: np.ndarray) -> np.ndarray:
    """ISA temperature (K): -6.5 K/km to 11 km, isothermal to 20 km, +1 K/km to 32 km."""
    z = np.asarray(altitude_m, dtype=float)
    t = 288.15 - 0.0065 * np.minimum(z, 11000.0)
    return t + 0.001 * np.clip(z - 20000.0, 0.0, 12000.0)


def balloon_dsg(flight: pd.DataFrame) -> xr.Dataset:
    """The balloon flight as a CF discrete sampling geometry (featureType trajectory)."""
    seconds = (flight["time"] - pd.Timestamp("2000-06-15")).dt.total_seconds().to_numpy()
    obs = ("obs",)
    return xr.Dataset(
        data_vars={
            "trajectory": (
                (),
                "DEMO-BALLOON-2000-06-15",
                {"cf_role": "trajectory_id", "long_name": "flight identifier"},
            ),
            "temperature": (
                obs,
                flight["temperature"].to_numpy("f4"),
                {
                    "standard_name": "air_temperature",
                    "units": "degC",
                    "coordinates": "time lat lon altitude",
                },
            ),
        },
        coords={
            "time": (
                obs,
                seconds,
                {
                    "standard_name": "time",
                    "units": "seconds since 2000-06-15 00:00:00",
                    "calendar": "standard",
                    "axis": "T",
                },
            ),
            "lat": (
                obs,
                flight["lat"].to_numpy(),
                {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
            ),
            "lon": (
                obs,
                flight["lon"].to_numpy(),
                {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
            ),
            "altitude": (
                obs,
                flight["altitude"].to_numpy(),
                {"standard_name": "altitude", "units": "m", "positive": "up", "axis": "Z"},
            ),
        },
        attrs={
            **COMMON_ATTRS,
            "title": "espri-vre demo: sounding balloon flight",
            "featureType": "trajectory",
        },
    )


def _time_attrs() -> dict[str, str]:
    return {
        "standard_name": "time",
        "long_name": "time",
        "units": TIME_UNITS,
        "calendar": CALENDAR,
        "axis": "T",
        "bounds": "time_bnds",
    }


def _lat_attrs() -> dict[str, str]:
    return {
        "standard_name": "latitude",
        "long_name": "latitude",
        "units": "degrees_north",
        "axis": "Y",
        "bounds": "lat_bnds",
    }


def _lon_attrs() -> dict[str, str]:
    return {
        "standard_name": "longitude",
        "long_name": "longitude",
        "units": "degrees_east",
        "axis": "X",
        "bounds": "lon_bnds",
    }


def _hemisphere(lat: float) -> str:
    return "N" if lat >= 0 else "S"
