"""Issue 16: the first slice of a remote NetCDF-4 file, and of a dataset of 10 remote files,
against xarray + matplotlib in a kernel opening the same URLs (what a user does today).

Data: bench_preview's generated global daily field (NetCDF4, 365 x 720 x 1440 float32, zlib 4
+ shuffle, one day per chunk), and the same year split along time into 10 files of the same
encoding (generated once, cached by a version file). A real HTTP server with Range requests
on the loopback serves them: tornado's StaticFileHandler from the remote-file tests
(kernels-bridge/tests/remote_servers.py), the file handler Jupyter itself uses. Both sides read
the same URLs from it.

- ours: a `jupyter server` with the espri-vre suite allow-listing the data server; in Debian's
  Chromium driven by bench/preview_driver.mjs, the clock starts at
  `espri-vre:open-preview` with the source {kind: 'remote', url} (or {kind: 'files',
  locations}) and stops when the map's canvas says it has drawn the slice. A remote file's
  first picture is the server's screen-sized overview (data/remote/overview, asked with the URL
  alone in parallel with data/remote/references: the server reads the day's chunk itself by a
  Range request and sends 16-bit block means); its full resolution is then read as the user
  asks for it (a click on 'Full resolution': the day's chunk by a Range request through
  data/remote/bytes, decoded in the browser), and reported in rows of its own. A dataset of
  several files has no overview: data/combined/references, then the day's chunk.
- anchor: a fresh IPython kernel (jupyter_client, this venv), xarray, matplotlib (Agg), h5netcdf
  and fsspec imported before the clock starts (a user's kernel has them loaded, as our page has
  its bundle); the clock is the cell `xr.open_dataset(url, engine="h5netcdf")` (or
  `xr.open_mfdataset(urls, engine="h5netcdf")`), the first day's `plot.imshow()` saved as PNG.

The OPeNDAP row: the same file served over DAP2 by the demo's OPeNDAP server
(espri_vre.demo.services.opendap_server: pydap's own server, the one the demo and the tests
start) on the loopback. Ours: the source {kind: 'opendap', url}, the server opening it with
pydap's client and serving it as a virtual Zarr store, each chunk one DAP request, the first
picture the server's overview of the first day (data/opendap-overview); anchor:
`xr.open_dataset(url, engine="pydap")` (the same client) and the same first-day imshow saved as
PNG. A DAP URL's query is its constraint, so each round reads its own URL through a link of
its own to the file instead (`dap/roundN.nc`): neither side's per-URL cache serves a later
round. The DAP server itself keeps the file's DDS/DAS after the first round, for both sides.

Each round gives every URL a query of its own (`?round=N`: the data server ignores it), so that
neither side reads references or metadata cached by an earlier round; the cached-references row
repeats one URL instead (ours answers from the server's reference cache). Rounds interleaved
(ours, anchor, ours, anchor); the first round on the fresh servers is reported apart.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from bench_preview import VARIABLE, drive, generate, lab_config
from espri_vre.demo.services import opendap_server
from harness import CACHE_HIT, Context, Row
from serverproc import start_server, stop

# The remote-file tests' loopback data servers (kernels-bridge/tests/remote_servers.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels-bridge" / "tests"))
import remote_servers  # noqa: E402

FILES = 10
SPLIT_VERSION = f"remote-v1 files={FILES} from preview-data"
ROUNDS_MAX = 5

WARM = (
    "import io, matplotlib\n"
    "matplotlib.use('Agg')\n"
    "import matplotlib.pyplot as plt, xarray as xr, h5netcdf, fsspec, dask, pydap.client\n"
)
"""What the anchor's kernel imports before the clock starts."""


def split(nc: Path, directory: Path) -> list[Path]:
    """The year of `nc` in FILES files along time, encoded as the original (unless cached)."""
    import numpy as np
    import xarray as xr

    names = [directory / f"tas_day_bench_part{i:02d}.nc" for i in range(FILES)]
    stamp = directory / "VERSION"
    if stamp.exists() and stamp.read_text() == SPLIT_VERSION and all(p.exists() for p in names):
        return names
    directory.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    with xr.open_dataset(nc) as ds:
        bounds = np.linspace(0, ds.sizes["time"], FILES + 1).astype(int)
        encoding = {
            VARIABLE: {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": (1, 720, 1440)}
        }
        for path, a, b in zip(names, bounds[:-1], bounds[1:], strict=True):
            part = path.with_suffix(".nc.part")
            ds.isel(time=slice(a, b)).to_netcdf(
                part, engine="netcdf4", encoding=encoding, unlimited_dims=["time"]
            )
            part.replace(path)
    stamp.write_text(SPLIT_VERSION)
    return names


class Kernel:
    """A fresh IPython kernel with the anchor's imports done; `timed(code)` runs one cell and
    gives its wall time in ms (from the execute request to the reply)."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3")
        self.run(WARM)

    def run(self, code: str) -> str:
        out = io.StringIO()

        def output(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.write(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.write("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=300, output_hook=output)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the anchor's cell failed: {out.getvalue()[-2000:]}")
        return out.getvalue()

    def timed(self, code: str) -> float:
        t0 = time.perf_counter()
        self.run(code)
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def anchor_cell(open_call: str) -> str:
    """Open, the first day's map with matplotlib, PNG bytes (checked: an image of a field)."""
    return (
        f"ds = {open_call}\n"
        f"ds[{VARIABLE!r}].isel(time=0).plot.imshow()\n"
        "png = io.BytesIO()\n"
        "plt.gcf().savefig(png, format='png')\n"
        "plt.close('all')\n"
        "assert png.tell() > 20_000, png.tell()\n"
    )


def anchor(urls: list[str]) -> float:
    """One round of the anchor in a fresh kernel: the cell's wall time in ms."""
    if len(urls) == 1:
        call = f"xr.open_dataset({urls[0]!r}, engine='h5netcdf')"
    else:
        call = f"xr.open_mfdataset({urls!r}, engine='h5netcdf')"
    return anchor_timed(call)


def anchor_timed(call: str) -> float:
    """The anchor's cell opening the data with `call`, in a fresh kernel: its wall time in ms."""
    kernel = Kernel()
    try:
        return kernel.timed(anchor_cell(call))
    finally:
        kernel.close()


def dap_links(nc: Path, rounds: int) -> list[str]:
    """One link to `nc` per round under its folder's `dap/`, as paths under that folder."""
    folder = nc.parent / "dap"
    folder.mkdir(exist_ok=True)
    names = []
    for r in range(rounds):
        link = folder / f"round{r}.nc"
        link.unlink(missing_ok=True)
        link.symlink_to(nc)
        names.append(f"dap/{link.name}")
    return names


def run(ctx: Context) -> list[Row]:
    work = ctx.work / "remote"
    work.mkdir(parents=True, exist_ok=True)
    data = generate(ctx.work / "preview" / "data")
    root = data["nc"].parent
    parts = split(data["nc"], root / "split")
    rounds = max(1, min(ctx.repeat, ROUNDS_MAX))
    servers, stop_data = remote_servers.start(root)
    dap_names = dap_links(data["nc"], 1 + rounds)
    # Stopped with the other servers in the `finally` below.
    dap_server = ExitStack()
    dap = dap_server.enter_context(opendap_server(root))
    config = lab_config(work, "ours")
    config["EspriVreApp"]["allowed_hosts"] = [*servers.allowed_hosts, urlsplit(dap).netloc]
    started = None
    try:
        started = start_server(
            Path(sys.executable),
            config,
            work,
            work / "server-ours.log",
            dict(os.environ),
            config_path=work / "config-ours.json",
        )
        ours_server = {"ours": {"base": started[1], "token": started[2]}}
        one = servers.url("files", data["nc"].name)
        many = [servers.url("files", f"split/{p.name}") for p in parts]
        results: dict[str, list[float]] = {}
        timelines: dict[str, list] = {}
        resolutions: dict[str, set[str]] = {}
        t0 = time.perf_counter()
        for r in range(1 + rounds):
            fresh = f"?round={r}"
            tasks = [
                {"side": "ours", "label": "nc", "source": {"kind": "remote", "url": one + fresh}},
                {"side": "ours", "label": "cached", "source": {"kind": "remote", "url": one}},
                {
                    "side": "ours",
                    "label": "files",
                    "source": {"kind": "files", "locations": [u + fresh for u in many]},
                },
                {
                    "side": "ours",
                    "label": "opendap",
                    "source": {"kind": "opendap", "url": dap + dap_names[r]},
                },
            ]
            for got in drive(ctx, ours_server, tasks):
                results.setdefault(f"ours-{got['label']}", []).append(got["firstMs"])
                # The user clicks 'Full resolution' as soon as the overview is drawn (as in
                # bench_preview); a first picture already at full resolution needs no click.
                results.setdefault(f"ours-{got['label']}-full", []).append(
                    got["firstMs"] + (got["fullMs"] or 0)
                )
                timelines[got["label"]] = got["timeline"]
                resolutions.setdefault(got["label"], set()).add(got.get("resolution", "full"))
            results.setdefault("xarray-nc", []).append(anchor([one + fresh]))
            results.setdefault("xarray-files", []).append(anchor([u + fresh for u in many]))
            results.setdefault("xarray-opendap", []).append(
                anchor_timed(f"xr.open_dataset({dap + dap_names[r]!r}, engine='pydap')")
            )
        wall = time.perf_counter() - t0
    finally:
        if started:
            stop(started[0])
        stop_data()
        dap_server.close()
    shown = {label: ", ".join(sorted(found)) for label, found in resolutions.items()}
    return rows(data, results, timelines, shown, rounds, wall)


def rows(
    data: dict,
    results: dict[str, list[float]],
    timelines: dict[str, list],
    shown: dict[str, str],
    rounds: int,
    wall: float,
) -> list[Row]:
    def timeline(label: str) -> str:
        """Ours's data requests in the last round: what, from and to (ms from the command)."""
        return "; ".join(f"{what} {start:,}–{end:,}" for what, start, end in timelines[label])

    first = {k: v[0] for k, v in results.items()}
    measured = {k: v[1:] for k, v in results.items()}
    mb = 1e6
    one_file = statistics.median(measured["ours-nc"])
    anchor_name = "xarray + matplotlib in a kernel"
    what = (
        f"NetCDF4 {data['nc_bytes'] / mb:,.0f} MB, 365 daily 1440x720 float32 chunks (zlib + "
        "shuffle), over HTTP with Range on the loopback"
    )
    method = (
        f"Median of {rounds} interleaved rounds (ours in a fresh Chromium context each: empty "
        "HTTP cache, fresh chunk cache; the anchor in a fresh kernel each, its imports done "
        "before the clock), every URL with a query of its own per round so that nothing is "
        f"cached between rounds; whole run {wall:,.0f} s, both sides competing for the CPU with "
        "everything else on the machine: read the ratio."
    )
    return [
        Row.measured(
            issue="#16",
            task=f"first slice of a remote file, {what} (ours: the overview)",
            ours_runs=measured["ours-nc"],
            anchor_name=anchor_name,
            anchor_runs=measured["xarray-nc"],
            unit="ms",
            goal=3,
            target="≥ 3x faster",
            note="Ours: from app.commands.execute('espri-vre:open-preview', {source: {kind: "
            "'remote', url}}) to the map's first picture drawn (data-rendered-selection; "
            f"resolution shown: {shown['nc']}): the server's overview of the first day "
            "(data/remote/overview with the URL alone: the server probes the file, opens it "
            "with h5netcdf on fsspec's HTTP file, reads the day's chunk by a Range request, "
            "sends 16-bit block means at the screen's size) while it computes the kerchunk "
            "references by Range requests (data/remote/references) that give the browser the "
            "coordinates. Anchor: xr.open_dataset(url, engine='h5netcdf') (fsspec's HTTP file "
            "system), ds.tas.isel(time=0).plot.imshow(), the figure saved as PNG (matplotlib "
            "draws the 1440x720 values into a 640x480-pixel figure: it too shows fewer pixels "
            "than values; the full-resolution row below is ours with every value drawn). "
            "First round on the "
            f"fresh servers: ours {first['ours-nc']:,.0f} ms, anchor {first['xarray-nc']:,.0f} "
            f"ms. Ours's data requests in the last round (ms from the command): "
            f"{timeline('nc')}. {method}",
        ),
        Row.measured(
            issue="#16",
            task=f"first slice of a dataset of {FILES} remote files (the same year split along "
            "time)",
            ours_runs=measured["ours-files"],
            anchor_name=f"{anchor_name} (open_mfdataset)",
            anchor_runs=measured["xarray-files"],
            unit="ms",
            goal=1,
            target="no slower",
            note="Ours: the source {kind: 'files', locations: [10 URLs]}: data/combined/"
            "references (each file's references by Range requests, combined along time by "
            "kerchunk's MultiZarrToZarr), then the first day's chunk. Anchor: "
            "xr.open_mfdataset(urls, engine='h5netcdf'), the first day's imshow saved as PNG. "
            f"Ours on the one file of the same year: {one_file:,.0f} ms "
            "(the issue's 'no slower than one file'). First round on the fresh servers: ours "
            f"{first['ours-files']:,.0f} ms, anchor {first['xarray-files']:,.0f} ms. Ours's data "
            f"requests in the last round: {timeline('files')}. {method}",
        ),
        Row.measured(
            issue="#16",
            task="first slice over OPeNDAP (DAP2), the same file served by pydap's server",
            ours_runs=measured["ours-opendap"],
            anchor_name=f"{anchor_name} (xarray's pydap engine)",
            anchor_runs=measured["xarray-opendap"],
            unit="ms",
            goal=3,
            target="≥ 3x faster",
            note="Ours: the source {kind: 'opendap', url}: the server opens the URL with "
            "pydap's client through the proxy's allow-list (DDS, DAS, the coordinates) and "
            "serves it as a virtual Zarr store; the first picture is the server's overview of "
            "the first day (data/opendap-overview with the URL alone, in parallel with the "
            "store's metadata: one DAP request for the day, 16-bit block means to the browser; "
            f"resolution shown: {shown['opendap']}). Anchor: "
            "xr.open_dataset(url, engine='pydap'), ds.tas.isel(time=0).plot.imshow(), the "
            "figure saved as PNG. Both read the same slice from the same server (the demo's "
            "pydap server, espri_vre.demo.services.opendap_server, on the loopback). First "
            f"round: ours {first['ours-opendap']:,.0f} ms, anchor "
            f"{first['xarray-opendap']:,.0f} ms. Ours's data requests in the last round: "
            f"{timeline('opendap')}. {method}",
        ),
        Row.measured(
            issue="#16",
            task="first slice of the remote file, its references cached by the server",
            ours_runs=measured["ours-cached"],
            anchor_name=anchor_name,
            anchor_runs=measured["xarray-nc"],
            unit="ms",
            kind=CACHE_HIT,
            note="Ours: the same URL every round, so the server answers data/remote/references "
            "from its reference cache (kept by URL, ETag, Last-Modified and size) after one "
            "8-byte probe; the anchor has no such cache (its figure is the uncached row's). "
            f"First round (references computed then): {first['ours-cached']:,.0f} ms.",
        ),
        Row.measured(
            issue="#16",
            task="full resolution of the remote file (open command to every value drawn)",
            ours_runs=measured["ours-nc-full"],
            anchor_name=anchor_name,
            anchor_runs=measured["xarray-nc"],
            unit="ms",
            goal=1,
            target="no slower",
            note="Ours: the first picture's time plus the time from a click on 'Full "
            "resolution' (as soon as the picture is drawn, on the next day the driver moved "
            "to) to the canvas saying data-resolution='full': the day's chunk by one Range "
            "request through data/remote/bytes, decoded in the browser. Anchor: the same cell "
            f"as the first-slice row's (its figure). {method}",
        ),
        Row.measured(
            issue="#16",
            task="full resolution over OPeNDAP (open command to every value drawn)",
            ours_runs=measured["ours-opendap-full"],
            anchor_name=f"{anchor_name} (xarray's pydap engine)",
            anchor_runs=measured["xarray-opendap"],
            unit="ms",
            goal=1,
            target="no slower",
            note="Ours: the first picture's time plus the time from a click on 'Full "
            "resolution' to every value drawn: the day's chunks of the virtual Zarr store, each "
            f"one DAP request made by the server. {method}",
        ),
    ]
