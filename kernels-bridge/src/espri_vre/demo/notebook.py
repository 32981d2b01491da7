"""The demo notebook: opens the demo data with the libraries a user would use."""

from __future__ import annotations

from typing import Any

CELLS: tuple[tuple[str, str], ...] = (
    (
        "markdown",
        "# Open the espri-vre demo data\n\n"
        "The demo builder made these files with numpy: they are synthetic, CF-compliant and small. "
        "The Data panel lists the catalogues that describe them.",
    ),
    (
        "code",
        "from pathlib import Path\n\n"
        "import numpy as np\n"
        "import xarray as xr\n\n"
        'DATA = Path("..") / "data"\n'
        'ds = xr.open_dataset(DATA / "tas_demo_monthly.nc")\n'
        "ds",
    ),
    (
        "markdown",
        "The time axis uses the `noleap` calendar, so xarray decodes it to `cftime` dates. "
        "The global mean weights each latitude by the area of its cells.",
    ),
    (
        "code",
        'weights = np.cos(np.deg2rad(ds["lat"]))\n'
        'global_mean = ds["tas"].weighted(weights).mean(("lat", "lon"))\n'
        'print(f"{ds.time.values[0]}: {float(global_mean[0]):.2f} K")\n'
        'global_mean.groupby("time.month").mean().to_series().round(2)',
    ),
    (
        "markdown",
        "The same field as Zarr (v2 and v3), the curvilinear ocean grid, and the station table:",
    ),
    (
        "code",
        'zarr_v3 = xr.open_zarr(DATA / "tas_demo_monthly.v3.zarr")\n'
        'tos = xr.open_dataset(DATA / "tos_demo_curvilinear.nc")\n'
        'print(zarr_v3["tas"].shape, tos["tos"].dims, float(tos["tos"].max()))\n\n'
        "import pandas as pd\n\n"
        'stations = pd.read_parquet(DATA / "stations_demo.parquet")\n'
        'stations.groupby("name")["temperature"].mean().sort_values().head()',
    ),
)


def demo_notebook() -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
        "cells": [_cell(i, kind, source) for i, (kind, source) in enumerate(CELLS)],
    }


def _cell(index: int, kind: str, source: str) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": f"demo-{index:02d}",
        "metadata": {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell
