"""Writes the demo: every file-system side effect of the demo builder is here; the content comes
from the pure functions of fields.py, catalogs.py and notebook.py.

Layout of DIR:
    data/        tas_demo_monthly.nc, .zarr (v2), .v3.zarr (v3), tos_demo_curvilinear.nc,
                 stations_demo.parquet, balloon_demo_trajectory.parquet and .nc
    catalogs/    demo-esm.json + .csv (intake-esm), stac/ (static STAC),
                 cmip6-sample.json + .csv (when the shared CMIP6 sample exists)
    notebooks/   open_demo_data.ipynb
    jupyter_server_config.json, .demo-version
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from . import catalogs, fields
from .notebook import demo_notebook

BUILDER_VERSION = "2"
"""Bump when the demo's data or layout changes: existing demo folders are then rebuilt."""
STAMP = ".demo-version"

TAS = "tas_demo_monthly"
TOS = "tos_demo_curvilinear"
STATIONS = "stations_demo.parquet"
BALLOON = "balloon_demo_trajectory"
ESM = "demo-esm"
CMIP6 = "cmip6-sample"
NOTEBOOK = "open_demo_data.ipynb"
CONFIG = "jupyter_server_config.json"

SHARED_CMIP6 = Path("data") / "cmip6-sample"
SHARED_ESM = Path("data") / "intake-esm-catalogs" / "cmip6-netcdf.json"


@dataclass(frozen=True)
class Output:
    path: Path
    what: str


DASK_PRESET = {
    "id": "small",
    "title": "2 workers, 1 core and 1 GiB each",
    "workers": 2,
    "cores": 1,
    "memory": "1G",
    "walltime": "00:30:00",
}
DASK_GPU_PRESET = {
    "id": "gpu",
    "title": "1 worker with 1 GPU",
    "workers": 1,
    "cores": 1,
    "memory": "1G",
    "gpus": 1,
    "walltime": "00:30:00",
}


def find_shared(explicit: str | None) -> Path | None:
    """The project's shared folder (`<repo>/../shared`), from --shared, else found from this
    package's location (an editable install) or from the working directory. None when absent."""
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "kernels-bridge").is_dir():
                candidate = folder.parent / "shared"
                if (candidate / SHARED_CMIP6).is_dir():
                    return candidate
                break
    return None


KERNEL_CONFIG = ".ipython/profile_default/ipython_kernel_config.py"
"""The IPython kernel configuration of the demo (IPYTHONDIR=<demo>/.ipython)."""


def build(
    out_dir: Path,
    *,
    shared: Path | None,
    force: bool = False,
    slurm: bool | None = None,
    say: Callable[[str], None] = print,
) -> list[Output]:
    """Builds the demo in `out_dir`; returns what was written (empty when it was up to date)."""
    out_dir = out_dir.expanduser().resolve()
    if slurm is None:
        slurm = shutil.which("sinfo") is not None
    cmip6 = shared / SHARED_CMIP6 if shared and (shared / SHARED_CMIP6).is_dir() else None
    if shared and cmip6 is None:
        say(f"no CMIP6 sample in {shared / SHARED_CMIP6}: the demo goes on without it")
    inputs = {
        "builder": BUILDER_VERSION,
        "dir": str(out_dir),
        "cmip6_sample": str(cmip6) if cmip6 else None,
        "slurm": slurm,
    }
    stamp = out_dir / STAMP
    if not force and _read_json(stamp) == inputs:
        say(f"the demo in {out_dir} is up to date (builder {BUILDER_VERSION}); --force rebuilds it")
        return []

    out_dir.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)  # a build that stops half-way is redone next time
    data, cat_dir, nb_dir = out_dir / "data", out_dir / "catalogs", out_dir / "notebooks"
    for folder in (data, cat_dir, nb_dir):
        folder.mkdir(exist_ok=True)

    outputs: list[Output] = []
    tas = fields.tas_monthly()
    outputs += _write_gridded(tas, data)
    tos = fields.tos_curvilinear()
    _write_netcdf(tos, data / f"{TOS}.nc", chunks={"tos": (1, *tos["tos"].shape[1:])})
    outputs.append(Output(data / f"{TOS}.nc", "sea surface temperature, curvilinear grid"))
    stations = fields.stations()
    _write_parquet(stations, data / STATIONS, fields.STATION_UNITS)
    outputs.append(Output(data / STATIONS, f"{stations['station_id'].nunique()} stations, daily"))
    flight = fields.balloon_flight()
    _write_parquet(flight, data / f"{BALLOON}.parquet", fields.BALLOON_UNITS)
    outputs.append(Output(data / f"{BALLOON}.parquet", f"balloon flight, {len(flight)} points"))
    _write_netcdf(fields.balloon_dsg(flight), data / f"{BALLOON}.nc", chunks={})
    outputs.append(Output(data / f"{BALLOON}.nc", "the same flight, CF trajectory"))

    outputs += _write_esm(data, cat_dir)
    outputs += _write_stac(tas, tos, stations, flight, data, cat_dir / "stac")
    catalog_entries = [
        {
            "id": "demo-esm",
            "title": "Demo data (intake-esm)",
            "kind": "intake-esm",
            "url": str(cat_dir / f"{ESM}.json"),
            "description": "Synthetic gridded fields as NetCDF4 and Zarr v2/v3",
        },
        {
            "id": "demo-stac",
            "title": "Demo data (static STAC)",
            "kind": "stac",
            "url": str(cat_dir / "stac" / "catalog.json"),
            "description": "Every demo dataset: gridded fields, stations, a balloon flight",
        },
    ]
    data_roots = [{"id": "demo-data", "title": "Demo data", "path": str(data)}]
    if cmip6 and shared:
        outputs += _write_cmip6_catalog(shared / SHARED_ESM, cmip6, cat_dir, say)
        catalog_entries.append(
            {
                "id": "cmip6-sample",
                "title": "CMIP6 sample (real model output)",
                "kind": "intake-esm",
                "url": str(cat_dir / f"{CMIP6}.json"),
                "description": "Subsets of real CMIP6 files (BCC, CNRM-CERFACS, IPSL, MIROC)",
            }
        )
        data_roots.append({"id": "cmip6-sample", "title": "CMIP6 sample", "path": str(cmip6)})
    clusters: list[dict[str, Any]] = [
        {
            "id": "local",
            "title": "This server (local processes)",
            "kind": "local",
            "transport": "local",
            "dask": {"max_workers": 2, "presets": [DASK_PRESET]},
        }
    ]
    if slurm:
        clusters.append(
            {
                "id": "local-slurm",
                "title": "Local Slurm",
                "kind": "slurm",
                "transport": "local",
                # Workers run on this machine: they dial the scheduler on the loopback.
                "dask": {
                    "interface": "lo",
                    "max_workers": 2,
                    "presets": [
                        {**DASK_PRESET, "partition": "debug"},
                        {**DASK_GPU_PRESET, "partition": "gpu"},
                    ],
                },
            }
        )

    # Every kernel of the demo records its provenance: IPYTHONDIR points here (demo.sh, the
    # Galata server's configuration), as /etc/ipython does in the images.
    _write_text(out_dir / KERNEL_CONFIG, "c.IPKernelApp.extensions = ['espri_vre']\n")
    outputs.append(Output(out_dir / KERNEL_CONFIG, "kernels load espri_vre (provenance)"))
    _write_text(nb_dir / NOTEBOOK, json.dumps(demo_notebook(), indent=1) + "\n")
    outputs.append(Output(nb_dir / NOTEBOOK, "notebook opening the demo data"))
    config = catalogs.server_config(str(out_dir), catalog_entries, data_roots, clusters)
    _write_text(out_dir / CONFIG, json.dumps(config, indent=2) + "\n")
    outputs.append(
        Output(
            out_dir / CONFIG,
            f"server config: {len(catalog_entries)} catalogues, {len(data_roots)} data roots, "
            f"{len(clusters)} clusters",
        )
    )
    _write_text(stamp, json.dumps(inputs, indent=2) + "\n")
    for out in outputs:
        say(f"  {out.path.relative_to(out_dir)}  {_human(_size(out.path))}  {out.what}")
    say(f"built the demo in {out_dir} ({_human(_size(out_dir))})")
    return outputs


def _write_gridded(tas: xr.Dataset, data: Path) -> list[Output]:
    nt, ny, nx = tas["tas"].shape
    _write_netcdf(tas, data / f"{TAS}.nc", chunks={"tas": (12, ny, nx)})
    zarr_chunks = {"tas": (12, max(ny // 2, 1), max(nx // 2, 1))}
    _write_zarr(tas, data / f"{TAS}.zarr", 2, zarr_chunks)
    _write_zarr(tas, data / f"{TAS}.v3.zarr", 3, zarr_chunks)
    what = f"tas, {nt} months on a {ny}x{nx} grid"
    return [
        Output(data / f"{TAS}.nc", f"{what}, NetCDF4"),
        Output(data / f"{TAS}.zarr", f"{what}, Zarr v2 (consolidated)"),
        Output(data / f"{TAS}.v3.zarr", f"{what}, Zarr v3 (consolidated)"),
    ]


def _encoding(ds: xr.Dataset, chunks: dict[str, tuple[int, ...]], netcdf: bool) -> dict[str, Any]:
    """Fields compressed, as float32 with a CF _FillValue; coordinates and cell bounds without
    _FillValue (CF forbids missing values there)."""
    bounds = {str(v.attrs["bounds"]) for v in ds.variables.values() if "bounds" in v.attrs}
    encoding: dict[str, Any] = {}
    for name, var in ds.variables.items():
        if var.dtype.kind not in "fc":
            continue
        if name not in ds.data_vars or name in bounds:
            encoding[name] = {"_FillValue": None}
            continue
        enc: dict[str, Any] = {"_FillValue": fields.FILL_VALUE, "dtype": "float32"}
        if netcdf:
            enc |= {"zlib": True, "complevel": 4, "shuffle": True}
        if name in chunks:
            enc["chunksizes" if netcdf else "chunks"] = chunks[name]
        encoding[name] = enc
    return encoding


def _write_netcdf(ds: xr.Dataset, path: Path, chunks: dict[str, tuple[int, ...]]) -> None:
    path.unlink(missing_ok=True)
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=_encoding(ds, chunks, True))


def _write_zarr(
    ds: xr.Dataset, path: Path, zarr_format: int, chunks: dict[str, tuple[int, ...]]
) -> None:
    if path.exists():
        shutil.rmtree(path)
    with warnings.catch_warnings():
        # Consolidated metadata is not (yet) in the Zarr v3 specification; zarr-python, xarray
        # and zarrita read it, and it saves a browser one request per array.
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        ds.to_zarr(
            path,
            mode="w",
            zarr_format=zarr_format,
            consolidated=True,
            encoding=_encoding(ds, chunks, False),
        )


def _write_parquet(frame: pd.DataFrame, path: Path, units: dict[str, str]) -> None:
    """Times as UTC milliseconds (what Arrow JS reads without loss); units in field metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_fields = []
    for f in table.schema:
        meta = {b"units": units[f.name].encode()} if f.name in units else None
        kind = pa.timestamp("ms", tz="UTC") if pa.types.is_timestamp(f.type) else f.type
        schema_fields.append(pa.field(f.name, kind, nullable=f.nullable, metadata=meta))
    schema = pa.schema(schema_fields, metadata={b"source": b"espri-vre demo builder (synthetic)"})
    pq.write_table(table.cast(schema), path, compression="zstd")


def _write_esm(data: Path, cat_dir: Path) -> list[Output]:
    # Zarr stores are named by file:// URI: intake-esm hands zarr-python storage options, which
    # zarr 3 accepts only with a URI, not with a plain path.
    tas_zarr = {
        "zarr-v2": (data / f"{TAS}.zarr").as_uri(),
        "zarr-v3": (data / f"{TAS}.v3.zarr").as_uri(),
    }
    assets = [
        catalogs.EsmAsset("tas", "Amon", "gr", "200001-200212", "netcdf4", str(data / f"{TAS}.nc")),
        *(
            catalogs.EsmAsset("tas", "Amon", "gr", "200001-200212", storage, uri)
            for storage, uri in tas_zarr.items()
        ),
        catalogs.EsmAsset("tos", "Omon", "gn", "200001-200012", "netcdf4", str(data / f"{TOS}.nc")),
    ]
    _write_text(cat_dir / f"{ESM}.csv", catalogs.esm_table(assets))
    descriptor = catalogs.esm_descriptor(f"{ESM}.csv")
    _write_text(cat_dir / f"{ESM}.json", json.dumps(descriptor, indent=2) + "\n")
    return [
        Output(cat_dir / f"{ESM}.json", "intake-esm catalogue of the demo data"),
        Output(cat_dir / f"{ESM}.csv", f"its table, {len(assets)} assets"),
    ]


def _write_stac(
    tas: xr.Dataset,
    tos: xr.Dataset,
    stations: pd.DataFrame,
    flight: pd.DataFrame,
    data: Path,
    stac_dir: Path,
) -> list[Output]:
    def href(name: str) -> str:
        # Items live in stac/<collection>/<item>/: four levels below the demo folder.
        return os.path.relpath(data / name, stac_dir / catalogs.COLLECTION_ID / "item")

    netcdf, zarr, parquet = (
        "application/netcdf",
        "application/vnd+zarr",
        "application/vnd.apache.parquet",
    )
    tos_bbox = _bbox(tos["longitude"].values, tos["latitude"].values)
    st_bbox = _bbox(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    fl_bbox = _bbox(flight["lon"].to_numpy(), flight["lat"].to_numpy())
    positions = stations.drop_duplicates("station_id")[["lon", "lat"]].to_numpy().tolist()
    track = flight[["lon", "lat", "altitude"]].to_numpy()[:: max(len(flight) // 200, 1)]
    items = [
        catalogs.StacItem(
            id=TAS.replace("_", "-"),
            title="Monthly near-surface air temperature (demo)",
            description="Global regular 2-degree grid, 2000-2002, noleap calendar.",
            bbox=(-180.0, -90.0, 180.0, 90.0),
            geometry=catalogs.bbox_polygon((-180.0, -90.0, 180.0, 90.0)),
            start="2000-01-01T00:00:00Z",
            end="2002-12-31T23:59:59Z",
            assets=(
                catalogs.StacAsset("netcdf", href(f"{TAS}.nc"), netcdf, "NetCDF4"),
                catalogs.StacAsset("zarr-v2", href(f"{TAS}.zarr"), zarr, "Zarr v2 store"),
                catalogs.StacAsset("zarr-v3", href(f"{TAS}.v3.zarr"), zarr, "Zarr v3 store"),
            ),
            properties={"variables": ["tas"], "frequency": "mon"},
        ),
        catalogs.StacItem(
            id=TOS.replace("_", "-"),
            title="Sea surface temperature on a curvilinear grid (demo)",
            description="ORCA-like distorted ocean grid, land masked, 2000.",
            bbox=tos_bbox,
            geometry=catalogs.bbox_polygon(tos_bbox),
            start="2000-01-01T00:00:00Z",
            end="2000-12-31T23:59:59Z",
            assets=(catalogs.StacAsset("netcdf", href(f"{TOS}.nc"), netcdf, "NetCDF4"),),
            properties={"variables": ["tos"], "frequency": "mon"},
        ),
        catalogs.StacItem(
            id="stations-demo",
            title="Station daily temperatures (demo)",
            description=f"{len(positions)} land stations, daily mean temperature through 2000.",
            bbox=st_bbox,
            geometry={"type": "MultiPoint", "coordinates": positions},
            start="2000-01-01T00:00:00Z",
            end="2000-12-31T23:59:59Z",
            assets=(catalogs.StacAsset("parquet", href(STATIONS), parquet, "Parquet table"),),
            properties={"variables": ["temperature"], "frequency": "day"},
        ),
        catalogs.StacItem(
            id=BALLOON.replace("_", "-"),
            title="Sounding balloon flight (demo)",
            description="Ascent to 30 km from Trappes and descent, every 10 s.",
            bbox=fl_bbox,
            geometry={"type": "LineString", "coordinates": track.round(5).tolist()},
            start=_iso(flight["time"].iloc[0]),
            end=_iso(flight["time"].iloc[-1]),
            assets=(
                catalogs.StacAsset("parquet", href(f"{BALLOON}.parquet"), parquet, "Parquet table"),
                catalogs.StacAsset("netcdf", href(f"{BALLOON}.nc"), netcdf, "CF trajectory NetCDF"),
            ),
            properties={"variables": ["altitude", "temperature"]},
        ),
    ]
    if stac_dir.exists():
        shutil.rmtree(stac_dir)
    docs = catalogs.stac_documents(items)
    for rel, doc in docs.items():
        _write_text(stac_dir / rel, json.dumps(doc, indent=2) + "\n")
    return [Output(stac_dir, f"static STAC catalogue (catalog.json), {len(items)} items")]


def _write_cmip6_catalog(
    source: Path, cmip6: Path, cat_dir: Path, say: Callable[[str], None]
) -> list[Output]:
    descriptor = json.loads(source.read_text("utf-8"))
    table = (source.parent / descriptor["catalog_file"]).read_text("utf-8")
    derived, derived_table, rewritten = catalogs.rewrite_esm_paths(
        descriptor,
        table,
        catalogs.CMIP6_PATH_PREFIX,
        str(cmip6) + "/",
        catalog_id="cmip6-sample",
        catalog_file=f"{CMIP6}.csv",
    )
    _write_text(cat_dir / f"{CMIP6}.csv", derived_table)
    _write_text(cat_dir / f"{CMIP6}.json", json.dumps(derived, indent=2) + "\n")
    say(f"registered the shared CMIP6 sample ({rewritten} files in {cmip6}, not copied)")
    return [
        Output(cat_dir / f"{CMIP6}.json", "intake-esm catalogue of the shared CMIP6 sample"),
        Output(cat_dir / f"{CMIP6}.csv", f"its table, {rewritten} files"),
    ]


def _bbox(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float]:
    return (
        round(float(np.min(lon)), 4),
        round(float(np.min(lat)), 4),
        round(float(np.max(lon)), 4),
        round(float(np.max(lat)), 4),
    )


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.1f} MiB"
