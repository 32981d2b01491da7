"""A real IPython kernel (ipykernel through jupyter_client, the venv's Python) opens the demo
data: the demo notebook's cells run without error and print the values computed here."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import real_kernel, run_cell
from jupyter_client.blocking.client import BlockingKernelClient

import espri_vre


@pytest.fixture(scope="module")
def kernel(demo_dir: Path) -> Iterator[BlockingKernelClient]:
    """One kernel for the module, started in the demo's notebooks folder as JupyterLab would."""
    with real_kernel(demo_dir / "notebooks") as client:
        yield client


def test_kernel_runs_the_venv_python(kernel: BlockingKernelClient):
    printed = run_cell(kernel, "import sys; print(sys.executable)").printed
    assert Path(printed.strip()).resolve() == Path(sys.executable).resolve()


def test_kernel_imports_espri_vre_and_opens_the_demo_netcdf(
    kernel: BlockingKernelClient, demo_dir: Path
):
    path = demo_dir / "data" / "tas_demo_monthly.nc"
    code = f"""
import json
import espri_vre
import xarray as xr
with xr.open_dataset({str(path)!r}) as ds:
    print(json.dumps({{
        "version": espri_vre.__version__,
        "shape": list(ds["tas"].shape),
        "first_time": type(ds.time.values[0]).__name__ + " " + str(ds.time.values[0]),
        "mean": round(float(ds["tas"].mean()), 4),
        "point": round(float(ds["tas"].isel(time=6, lat=70, lon=90)), 4),
    }}))
"""
    seen = json.loads(run_cell(kernel, code).printed)
    with xr.open_dataset(path) as ds:
        expected_mean = round(float(ds["tas"].mean()), 4)
        expected_point = round(float(ds["tas"].isel(time=6, lat=70, lon=90)), 4)
    assert seen == {
        "version": espri_vre.__version__,
        "shape": [36, 90, 180],
        "first_time": "DatetimeNoLeap 2000-01-16 12:00:00",
        "mean": expected_mean,
        "point": expected_point,
    }


def test_demo_notebook_cells_run_in_the_kernel(kernel: BlockingKernelClient, demo_dir: Path):
    notebook = json.loads((demo_dir / "notebooks" / "open_demo_data.ipynb").read_text())
    outputs = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        outputs.append(run_cell(kernel, "".join(cell["source"])).printed)
    with xr.open_dataset(demo_dir / "data" / "tas_demo_monthly.nc") as ds:
        weights = np.cos(np.deg2rad(ds["lat"]))
        first = float(ds["tas"].isel(time=0).weighted(weights).mean(("lat", "lon")))
    with xr.open_dataset(demo_dir / "data" / "tos_demo_curvilinear.nc") as tos:
        warmest = float(tos["tos"].max())
    assert outputs == [
        "",
        f"2000-01-16 12:00:00: {first:.2f} K\n",
        f"(36, 90, 180) ('time', 'y', 'x') {warmest}\n",
    ]
