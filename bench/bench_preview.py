"""Issues 5 and 17: the chunked previewer against jupyterlab-h5web, on one generated global daily
field: the first picture (ours: the server's screen-sized overview), the full resolution (ours:
the stored chunk, read on request), the next time step and the bytes.

Data (generated once, cached under the work directory by a version file): a NetCDF4 file of a
global daily near-surface temperature, 365 x 720 x 1440 (0.25 degree), float32, zlib level 4
with the shuffle filter (what xarray and netCDF4 write for `zlib=True`), chunked one day per
chunk (1, 720, 1440): the chunking CMOR gives CMIP daily output, and the one a map viewer
wants (a time step is one chunk). The field is a latitude profile with a seasonal cycle, a
fixed land-sea-like pattern and weather: spatially smooth anomalies at three scales that
evolve day to day (AR(1)), from a fixed seed. The Zarr copy (xarray.to_zarr, Zarr v2,
consolidated metadata) has the same chunks, zlib level 4 and shuffle.

In the same run, in the same Chromium (Debian's), driven by Playwright (bench/preview_driver.mjs):

- ours: a `jupyter server` from this venv with the espri-vre suite; the clock starts at
  `app.commands.execute('espri-vre:open-preview', {path})` and stops when the map's canvas says
  it has drawn that slice (`data-rendered-selection`, set right after the pixels are put, once
  the latitude orientation is known);
- anchor: jupyterlab-h5web (from PyPI, in a venv of its own under the work directory with the
  same JupyterLab version) on a second `jupyter server` over the same data directory; the file
  is selected in the file browser beforehand, the clock starts at `h5web-open` (its command:
  "View HDF5 file contents"), the variable is clicked in h5web's explorer as soon as it shows
  (h5web opens on the file's root group), and the clock stops when h5web's heatmap canvas is
  on the page, the slice's /h5web/data response has arrived and h5web shows no loader.

Each round is a fresh browser context (empty HTTP cache, a fresh page, so a fresh chunk cache),
rounds interleaved (ours NetCDF, h5web, ours Zarr, ...); figures are medians over the rounds.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from harness import Context, Row, driver_answer
from serverproc import start_server, stop

SHAPE = (365, 720, 1440)
CHUNKS = (1, 720, 1440)
SEED = 20_261_202
VERSION = f"preview-v1 shape={SHAPE} chunks={CHUNKS} seed={SEED} zlib4+shuffle float32"
H5WEB = "12.9.0"
"""jupyterlab-h5web from PyPI; its venv is rebuilt when this or JupyterLab's version changes."""
VARIABLE = "tas"
ROUNDS_MAX = 5


def _smooth(rng: np.random.Generator, coarse: tuple[int, int], shape: tuple[int, int]):
    """A smooth random field of unit-ish variance: cubic interpolation of coarse noise,
    periodic in longitude."""
    from scipy import ndimage

    noise = rng.standard_normal(coarse)
    return ndimage.zoom(
        noise, (shape[0] / coarse[0], shape[1] / coarse[1]), order=3, mode="grid-wrap"
    )


def generate(directory: Path) -> dict:
    """The NetCDF4 file and its Zarr copy under `directory` (unless the cache is current)."""
    nc, store = directory / "tas_day_bench.nc", directory / "tas_day_bench.zarr"
    stamps = [directory / "VERSION-nc", directory / "VERSION-zarr"]
    for stamp, path, write in zip(stamps, (nc, store), (_write_netcdf, _write_zarr), strict=True):
        if not (stamp.exists() and stamp.read_text() == VERSION and path.exists()):
            directory.mkdir(parents=True, exist_ok=True)
            stamps[1].unlink(missing_ok=True)
            stamp.unlink(missing_ok=True)
            write(nc, store)
            stamp.write_text(VERSION)
    raw = int(np.prod(SHAPE)) * 4
    zarr_bytes = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return {
        "nc": nc,
        "zarr": store,
        "raw": raw,
        "nc_bytes": nc.stat().st_size,
        "zarr_bytes": zarr_bytes,
    }


def _write_netcdf(path: Path, _store: Path) -> None:
    import netCDF4

    nt, ny, nx = SHAPE
    rng = np.random.default_rng(SEED)
    lat = np.linspace(-90 + 0.125, 90 - 0.125, ny)
    lon = np.arange(nx) * 0.25 + 0.125
    phi = np.deg2rad(lat)[:, None]
    profile = 300.0 - 48.0 * np.sin(phi) ** 2 - 10.0 * np.sin(phi) ** 4
    land = 4.0 * _smooth(rng, (9, 18), (ny, nx))
    scales = [((18, 36), 4.0), ((72, 144), 1.5), ((240, 480), 0.4)]
    weather = [a * _smooth(rng, c, (ny, nx)) for c, a in scales]
    tmp = path.with_suffix(".nc.part")
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
        ds.title = "Generated global daily near-surface air temperature (bench_preview.py)"
        ds.Conventions = "CF-1.8"
        ds.createDimension("time", None)
        ds.createDimension("lat", ny)
        ds.createDimension("lon", nx)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar, t.standard_name, t.axis = (
            "days since 2000-01-01",
            "noleap",
            "time",
            "T",
        )
        y = ds.createVariable("lat", "f8", ("lat",))
        y.units, y.standard_name, y.axis = "degrees_north", "latitude", "Y"
        x = ds.createVariable("lon", "f8", ("lon",))
        x.units, x.standard_name, x.axis = "degrees_east", "longitude", "X"
        y[:], x[:] = lat, lon
        tas = ds.createVariable(
            VARIABLE,
            "f4",
            ("time", "lat", "lon"),
            zlib=True,
            complevel=4,
            shuffle=True,
            chunksizes=CHUNKS,
        )
        tas.standard_name, tas.long_name, tas.units = (
            "air_temperature",
            "Near-Surface Air Temperature",
            "K",
        )
        for day in range(nt):
            # Weather: each scale an AR(1) process in time (a few days' memory).
            for k, (coarse, amplitude) in enumerate(scales):
                fresh = amplitude * _smooth(rng, coarse, (ny, nx))
                weather[k] = 0.8 * weather[k] + 0.6 * fresh
            season = 14.0 * np.sin(phi) * np.cos(2 * np.pi * (day - 196) / 365)
            t[day] = day + 0.5
            tas[day] = (profile + season + land + sum(weather)).astype("float32")
    tmp.replace(path)


def _write_zarr(nc: Path, store: Path) -> None:
    import numcodecs
    import xarray as xr

    shutil.rmtree(store, ignore_errors=True)
    with xr.open_dataset(nc, chunks={"time": 1}) as ds:
        for v in ds.variables.values():
            v.encoding = {}
        encoding = {
            VARIABLE: {
                "chunks": CHUNKS,
                "compressors": [numcodecs.Zlib(level=4)],
                "filters": [numcodecs.Shuffle(elementsize=4)],
            }
        }
        ds.to_zarr(store, mode="w", zarr_format=2, consolidated=True, encoding=encoding)


def h5web_python(work: Path) -> Path:
    """The Python of a venv with jupyterlab-h5web and our JupyterLab version, made once:
    jupyterlab-h5web must not go into this venv (the Galata tests run its JupyterLab)."""
    lab = importlib.metadata.version("jupyterlab")
    venv = work / "h5web-venv"
    spec = [f"jupyterlab=={lab}", f"jupyterlab-h5web=={H5WEB}"]
    stamp = venv / "ESPRI_BENCH_VERSION"
    python = venv / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == " ".join(spec) and python.exists()):
        shutil.rmtree(venv, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *spec],
            check=True,
            timeout=900,
        )
        stamp.write_text(" ".join(spec))
    return python


def lab_config(work: Path, side: str) -> dict:
    """What both servers share: the app exposed for the driver, no news or update checks,
    a workspace of their own; ours adds the suite."""
    workspaces = work / f"workspaces-{side}"
    workspaces.mkdir(parents=True, exist_ok=True)
    config: dict = {
        "LabApp": {
            "expose_app_in_browser": True,
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "workspaces_dir": str(workspaces),
        },
    }
    if side == "ours":
        config["ServerApp"] = {"jpserver_extensions": {"espri_vre": True}}
        config["EspriVreApp"] = {"catalogs": [], "clusters": [], "data_roots": []}
    return config


def drive(ctx: Context, servers: dict, tasks: list[dict]) -> list[dict]:
    settings = {
        "chromium": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "servers": servers,
        "tasks": tasks,
        "variable": VARIABLE,
        "timeoutMs": 120_000,
    }
    done = subprocess.run(
        ["node", "bench/preview_driver.mjs"],
        cwd=ctx.root,
        env={**os.environ, "ESPRI_PREVIEW_BENCH": json.dumps(settings)},
        capture_output=True,
        text=True,
        timeout=300 + 120 * len(tasks),
    )
    results = driver_answer(done, "preview_driver.mjs", stderr_tail=3000)["results"]
    failed = [r for r in results if r.get("error")]
    if failed:
        raise RuntimeError(
            "; ".join(f"{r['side']} {r['label']}: {r['error'][:600]}" for r in failed)
        )
    for r in results:
        if r["colours"] < 16:
            raise RuntimeError(
                f"{r['side']} {r['label']}: the map shows {r['colours']} colours, not a field"
            )
    return results


def run(ctx: Context) -> list[Row]:
    work = ctx.work / "preview"
    work.mkdir(parents=True, exist_ok=True)
    data = generate(work / "data")
    python = h5web_python(work)
    rounds = max(1, min(ctx.repeat, ROUNDS_MAX))
    nc, store = data["nc"].name, data["zarr"].name
    env_h5web = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "JUPYTER"))},
        "PATH": f"{python.parent}:{os.environ.get('PATH', '')}",
    }
    root = data["nc"].parent
    started = []
    try:
        ours = start_server(
            Path(sys.executable),
            lab_config(work, "ours"),
            root,
            work / "server-ours.log",
            dict(os.environ),
            config_path=work / "config-ours.json",
        )
        started.append(ours[0])
        anchor = start_server(
            python,
            lab_config(work, "h5web"),
            root,
            work / "server-h5web.log",
            env_h5web,
            config_path=work / "config-h5web.json",
        )
        started.append(anchor[0])
        servers = {
            "ours": {"base": ours[1], "token": ours[2]},
            "h5web": {"base": anchor[1], "token": anchor[2]},
        }
        # A first round on the fresh servers (ours computes the file's references then),
        # reported apart; then the measured rounds, interleaved.
        one = [
            {"side": "ours", "path": nc, "label": "nc"},
            {"side": "h5web", "path": nc, "label": "nc"},
            {"side": "ours", "path": store, "label": "zarr"},
        ]
        t0 = time.perf_counter()
        results = drive(ctx, servers, one * (1 + rounds))
        wall = time.perf_counter() - t0
    finally:
        for server in started:
            stop(server)
    cold, measured = results[: len(one)], results[len(one) :]
    return rows(data, cold, measured, rounds, wall)


def _runs(results: list[dict], side: str, label: str, key: str, scale: float = 1) -> list[float]:
    """One figure per round, in the rounds' order."""
    return [r[key] / scale for r in results if r["side"] == side and r["label"] == label]


def rows(data: dict, cold: list[dict], measured: list[dict], rounds: int, wall: float) -> list[Row]:
    def runs(side: str, label: str, key: str, scale: float = 1) -> list[float]:
        return _runs(measured, side, label, key, scale)

    def med(side: str, label: str, key: str) -> float:
        return statistics.median(runs(side, label, key))

    def first_of(side: str, label: str) -> dict:
        return next(r for r in cold if r["side"] == side and r["label"] == label)

    def requests(side: str, label: str, key: str) -> str:
        r = next(r for r in measured if r["side"] == side and r["label"] == label)
        return ", ".join(f"{url} {b / 1e3:,.1f} kB" for url, b in r[key])

    mb = 1e6
    anchor = f"jupyterlab-h5web {H5WEB}"
    shape = "x".join(map(str, reversed(SHAPE)))
    what = f"NetCDF4 {shape} float32 zlib"
    sizes = (
        f"The file: {data['raw'] / mb:,.0f} MB of values, NetCDF4 {data['nc_bytes'] / mb:,.0f} MB "
        f"(compression ratio {data['raw'] / data['nc_bytes']:.2f}), Zarr copy "
        f"{data['zarr_bytes'] / mb:,.0f} MB ({data['raw'] / data['zarr_bytes']:.2f}); one chunk "
        f"per day {CHUNKS}, {np.prod(CHUNKS) * 4 / mb:.2f} MB of values each."
    )
    method = (
        f"Median of {rounds} interleaved rounds (ours NetCDF4, h5web NetCDF4, ours Zarr), each in "
        "a fresh Chromium context (empty HTTP cache, fresh page, fresh chunk cache) on the two "
        "servers, after a first round on the freshly started servers reported apart; whole run "
        f"{wall:,.0f} s (both sides compete for the CPU with everything else: read the ratio; "
        "the machine and its load average are in this module's line above)."
    )
    c_ours, c_h5 = first_of("ours", "nc"), first_of("h5web", "nc")
    h5_first = runs("h5web", "nc", "firstMs")
    resolutions = {r["resolution"] for r in measured if r["side"] == "ours" and r["label"] == "nc"}
    # The user clicks 'Full resolution' as soon as the overview is drawn; a first picture
    # already at full resolution (no overview offered) needs no click.
    full_ours = [
        r["firstMs"] + (r["fullMs"] or 0)
        for r in measured
        if r["side"] == "ours" and r["label"] == "nc"
    ]
    return [
        Row.measured(
            issue="#17",
            task=f"first picture, {what} (open command to the map drawn; ours: the overview)",
            ours_runs=runs("ours", "nc", "firstMs"),
            anchor_name=anchor,
            anchor_runs=h5_first,
            unit="ms",
            goal=3,
            target="≥ 3x faster",
            note=f"{sizes} Same work on both sides: the first picture of day 1 of `{VARIABLE}`. "
            "Ours: from app.commands.execute('espri-vre:open-preview', {path}) to the canvas's "
            "data-rendered-selection (set after the pixels are put, rows the right way up) plus "
            "two animation frames not counted: data/info, then at once and in parallel "
            "data/references (kerchunk, cached by the server; the variables' metadata and the "
            "coordinates come from them) and data/overview with the path alone (the server "
            "chooses the map the view shows first): the server reads the day with xarray, "
            "averages blocks of N x N "
            "cells to fit the map's 900 CSS pixels (N = 2 here: 720 x 360 means), quantises "
            "them to 16 bits between their exact minimum and maximum and sends them "
            "zlib-compressed; the map says 'Overview 1:N' "
            f"(first pictures shown: {', '.join(sorted(resolutions))}). "
            "h5web: the file selected in the file browser beforehand, from "
            "app.commands.execute('h5web-open') to its heatmap canvas on the page with the "
            "slice's /h5web/data response arrived and no loader shown, "
            f"`{VARIABLE}` clicked in h5web's explorer as soon as it is listed (h5web opens on "
            "the root group; it draws the full-resolution float32 slice). "
            f"First round on the fresh servers: ours {c_ours['firstMs']:,.0f} ms (the server "
            f"computes the references then), h5web {c_h5['firstMs']:,.0f} ms. {method}",
        ),
        Row.measured(
            issue="#17",
            task=f"full resolution, {what} (open command to the full-resolution map)",
            ours_runs=full_ours,
            anchor_name=anchor,
            anchor_runs=h5_first,
            unit="ms",
            goal=1,
            target="no slower than h5web",
            note="Ours: the first picture's time (the overview) plus the time from a click on "
            "'Full resolution' (as soon as the overview is drawn) to the canvas saying "
            "data-resolution='full': one HTTP Range request for the day's stored chunk, decoded "
            "(zlib, shuffle, CF) in the browser; measured on the day after the first one (the "
            "next-step row's day). h5web's first picture is already at full resolution. Bytes "
            f"of the full-resolution read: ours {med('ours', 'nc', 'fullBytes') / mb:.2f} MB. "
            f"{method}",
        ),
        Row.measured(
            issue="#17",
            task=f"next time step, {what}",
            ours_runs=runs("ours", "nc", "nextMs"),
            anchor_name=anchor,
            anchor_runs=runs("h5web", "nc", "nextMs"),
            unit="ms",
            target="informational",
            note="From the time slider moved by one (ours: the range input's value set and an "
            "input event; h5web: ArrowUp on its dimension slider's thumb) to the next day's map "
            "drawn (ours: data-rendered-selection changes, the next day's overview; h5web: the "
            "new /h5web/data response arrived and no loader shown), two frames not counted. "
            "Ours reads the next day's overview ahead as soon as a picture is drawn "
            f"({med('ours', 'nc', 'aheadBytes') / mb:.2f} MB in the 500 ms after the first "
            "picture, before the slider moves). Bytes of the step itself: ours "
            f"{med('ours', 'nc', 'nextBytes') / mb:.2f} MB, h5web "
            f"{med('h5web', 'nc', 'nextBytes') / mb:.2f} MB. {method}",
        ),
        Row.measured(
            issue="#17",
            task=f"bytes to the first picture, {what}",
            ours_runs=runs("ours", "nc", "firstBytes", mb),
            anchor_name=anchor,
            anchor_runs=runs("h5web", "nc", "firstBytes", mb),
            unit="MB",
            goal=4,
            target="≥ 4x fewer bytes",
            note="Data requests only, as Chromium received them (CDP Network.loadingFinished "
            "encodedDataLength, headers included) finished when the first picture is drawn "
            "(ours: not those started after the picture was put on the canvas, the read-ahead "
            "of the next step): ours "
            f"espri-vre/api/data/* ({requests('ours', 'nc', 'firstRequests')}); h5web /h5web/* "
            f"({requests('h5web', 'nc', 'firstRequests')}). JupyterLab's own requests and the "
            "JavaScript bundles (h5web loads its bundle on open) are not counted. Ours sends the "
            "overview's 16-bit codes zlib-compressed; h5web's server decompresses the chunk "
            "with h5py and sends the float32 values uncompressed. The real CMIP6 files of the "
            "shared sample are 5 x 5-cell extracts, smaller than any screen: no overview is "
            f"made for them, so they have no row here. {method}",
        ),
        Row.measured(
            issue="#5",
            task="first picture, the Zarr copy (ours, overview; h5web cannot open Zarr)",
            ours_runs=runs("ours", "zarr", "firstMs"),
            anchor_name=f"{anchor} on the NetCDF4 file",
            anchor_runs=h5_first,
            unit="ms",
            target="informational (not the same file)",
            note="Informational: jupyterlab-h5web reads HDF5 files only, so the anchor is its "
            "figure on the NetCDF4 file of the same data. Ours: data/info, the consolidated "
            "metadata (.zmetadata), then the day's overview (data/overview, xarray.open_zarr). "
            f"First round on the fresh server: {first_of('ours', 'zarr')['firstMs']:,.0f} ms. "
            f"{method}",
        ),
        Row.measured(
            issue="#5",
            task="next time step, the Zarr copy (ours; h5web cannot open Zarr)",
            ours_runs=runs("ours", "zarr", "nextMs"),
            anchor_name=f"{anchor} on the NetCDF4 file",
            anchor_runs=runs("h5web", "nc", "nextMs"),
            unit="ms",
            target="informational (not the same file)",
            note="Informational, measured as for the NetCDF4 file.",
        ),
        Row.measured(
            issue="#5",
            task="bytes to the first picture, the Zarr copy (ours; h5web cannot open Zarr)",
            ours_runs=runs("ours", "zarr", "firstBytes", mb),
            anchor_name=f"{anchor} on the NetCDF4 file",
            anchor_runs=runs("h5web", "nc", "firstBytes", mb),
            unit="MB",
            target="informational (not the same file)",
            note=f"Informational: {requests('ours', 'zarr', 'firstRequests')}.",
        ),
    ]
