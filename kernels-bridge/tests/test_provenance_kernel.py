"""Provenance captured by real kernels (ipykernel through jupyter_client, the venv's Python):
`%load_ext espri_vre`, then cells that open a real CMIP6 file with xarray, compute a mean and
write a NetCDF result. The log is checked against the files themselves: sizes and sha256
computed here, the tracking_id read here with netCDF4, the package versions installed here."""

from __future__ import annotations

import hashlib
import os
import platform
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from espri_vre.provenance.events import validation_errors
from espri_vre.provenance.store import read_log, verify

CMIP6_FILE = (
    SHARED
    / "data/cmip6-sample/CMIP6/CMIP/CNRM-CERFACS/CNRM-CM6-1/historical/r4i1p1f2/Amon/prsn/gr"
    / "v20190125/prsn/prsn_Amon_CNRM-CM6-1_historical_r4i1p1f2_gr_185001-201412.nc"
)
needs_cmip6 = pytest.mark.skipif(
    not CMIP6_FILE.is_file(),
    reason=f"the real CMIP6 sample (in the shared folder beside the repository) is absent: "
    f"{CMIP6_FILE}",
)
TIMEOUT = 90


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Kernel:
    manager: KernelManager
    client: BlockingKernelClient

    def run(self, code: str) -> tuple[dict[str, Any], str, str]:
        """Runs a cell; returns the execute reply's content, its stdout and its stderr."""
        out: list[str] = []
        err: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                (out if msg["content"]["name"] == "stdout" else err).append(msg["content"]["text"])

        reply = self.client.execute_interactive(code, timeout=TIMEOUT, output_hook=hook)
        return reply["content"], "".join(out), "".join(err)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


def start_kernel(cwd: Path, **env: str) -> Kernel:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "ESPRI_VRE_"))}
    environ.update(env)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd), env=environ)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=TIMEOUT)
    return Kernel(manager, client)


@dataclass
class RecordedRun:
    log: Path
    events: list[dict[str, Any]]
    cells: list[str]
    replies: list[dict[str, Any]]
    output: Path
    notes: Path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordedRun]:
    if not CMIP6_FILE.is_file():
        pytest.skip(f"the real CMIP6 sample is absent: {CMIP6_FILE}")
    work = tmp_path_factory.mktemp("analysis")
    notebook = work / "analysis.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    output, notes = work / "prsn_mean.nc", work / "notes.txt"
    cells = [
        "import xarray as xr",
        f"ds = xr.open_dataset({str(CMIP6_FILE)!r})\n"
        "mean = float(ds['prsn'].mean())\n"
        f"ds['prsn'].mean('time').to_netcdf({str(output)!r})",
        f"with open({str(notes)!r}, 'w') as f:\n    f.write(f'mean prsn {{mean:.6g}}')",
        "1 / 0",
        "%provenance pause",
        f"print(open({str(notes)!r}).read())",
        "%provenance resume",
        "%provenance where",
    ]
    kernel = start_kernel(
        work,
        JPY_SESSION_NAME=str(notebook),
        ESPRI_VRE_PROVENANCE_DIR=str(work / "elsewhere"),
        SECRET_TOKEN="do-not-record",
    )
    try:
        reply, _, err = kernel.run("%load_ext espri_vre")
        assert reply["status"] == "ok", err
        replies = [kernel.run(cell) for cell in cells]
    finally:
        kernel.stop()
    where = replies[-1][1].strip()
    log = Path(where)
    yield RecordedRun(
        log=log,
        events=list(read_log(log).events()),
        cells=cells,
        replies=[r[0] for r in replies],
        output=output,
        notes=notes,
    )


def of_kind(run: RecordedRun, kind: str) -> list[dict[str, Any]]:
    return [e for e in run.events if e["kind"] == kind]


def test_the_log_lies_next_to_the_notebook_and_its_chain_verifies(recorded: RecordedRun):
    assert recorded.log.parent == recorded.output.parent / ".espri-vre-provenance/analysis"
    result = verify(recorded.log, schema=True)
    assert result.ok, result.problems
    assert result.ended and result.torn_bytes == 0
    assert result.events == len(recorded.events)
    for event in recorded.events:
        assert validation_errors(event) == [], event
    assert recorded.events[-1]["reason"] == "kernel exit"


def test_the_session_records_python_and_the_package_lock(recorded: RecordedRun):
    session = recorded.events[0]
    assert session["kind"] == "session"
    assert session["python"]["version"] == platform.python_version()
    assert session["notebook"] == str(recorded.output.parent / "analysis.ipynb")
    packages = {p["name"].lower(): p["version"] for p in session["packages"]}
    assert packages["xarray"] == version("xarray")
    assert packages["netcdf4"] == version("netCDF4")
    assert session["kernel"]["ipykernel"] == version("ipykernel")
    assert "SECRET_TOKEN" not in session["env"]
    assert "do-not-record" not in recorded.log.read_text()


def test_each_cell_execution_is_recorded_in_order_with_its_source_hash(recorded: RecordedRun):
    ends = of_kind(recorded, "cell_end")
    recorded_cells = [c for c in recorded.cells if c != "%provenance resume"]
    recorded_cells.remove(recorded.cells[5])  # ran while paused
    assert [e["order"] for e in ends] == list(range(1, len(recorded_cells) + 1))
    assert [e["source_sha256"] for e in ends] == [sha256_text(c) for c in recorded_cells]
    counts = [e["execution_count"] for e in ends]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    sources = {e["sha256"]: e["text"] for e in of_kind(recorded, "source")}
    assert all(sources[e["source_sha256"]] == c for e, c in zip(ends, recorded_cells, strict=True))
    for end in ends:
        start = next(e for e in of_kind(recorded, "cell_start") if e["order"] == end["order"])
        assert start["seq"] < end["seq"] and start["start"] == end["start"] <= end["end"]
    assert [e["status"] for e in ends[:3]] == ["ok", "ok", "ok"]


def test_a_cell_that_raises_is_recorded_with_its_error(recorded: RecordedRun):
    assert recorded.replies[3]["status"] == "error"
    end = next(e for e in of_kind(recorded, "cell_end") if e["order"] == 4)
    assert end["source_sha256"] == sha256_text("1 / 0")
    assert end["status"] == "error"
    assert end["error"] == {"name": "ZeroDivisionError", "message": "division by zero"}


def test_the_cmip6_file_read_is_recorded_with_its_real_size_and_hash(recorded: RecordedRun):
    reads = [e for e in of_kind(recorded, "file") if e["path"] == str(CMIP6_FILE)]
    assert len(reads) == 1
    read = reads[0]
    assert read["op"] == "read" and read["cell"] == 2
    assert read["opener"] == "xarray.open_dataset"
    assert read["size"] == CMIP6_FILE.stat().st_size
    assert read["sha256"] == sha256_file(CMIP6_FILE)


def test_the_netcdf_result_written_is_recorded_with_its_hash(recorded: RecordedRun):
    writes = [e for e in of_kind(recorded, "file") if e["path"] == str(recorded.output)]
    assert [(w["op"], w["cell"]) for w in writes] == [("write", 2)]
    assert writes[0]["opener"] == "xarray.DataArray.to_netcdf"
    assert writes[0]["size"] == recorded.output.stat().st_size
    assert writes[0]["sha256"] == sha256_file(recorded.output)
    notes = [e for e in of_kind(recorded, "file") if e["path"] == str(recorded.notes)]
    assert [(n["op"], n["opener"], n["cell"]) for n in notes] == [("write", "open", 3)]
    assert notes[0]["sha256"] == sha256_file(recorded.notes)


def test_the_cmip6_tracking_id_is_the_files_own(recorded: RecordedRun):
    import netCDF4

    with netCDF4.Dataset(CMIP6_FILE) as ds:
        tracking_id = ds.getncattr("tracking_id")
    datasets = of_kind(recorded, "dataset")
    assert len(datasets) == 1
    found = datasets[0]
    assert found["tracking_id"] == tracking_id
    assert found["path"] == str(CMIP6_FILE) and found["cell"] == 2
    assert found["sha256"] == sha256_file(CMIP6_FILE)
    assert found["instance_id"] == (
        "CMIP6.CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.r4i1p1f2.Amon.prsn.gr.v20190125"
    )


def test_nothing_is_recorded_while_paused(recorded: RecordedRun):
    controls = [(e["action"], e["reason"]) for e in of_kind(recorded, "control")]
    assert controls == [
        ("pause", "%provenance pause"),
        ("resume", "%provenance resume"),
        ("end", "kernel exit"),
    ]
    assert sha256_text(recorded.cells[5]) not in {e["sha256"] for e in of_kind(recorded, "source")}
    files = of_kind(recorded, "file")
    assert [e for e in files if e["path"] == str(recorded.notes) and e["op"] == "read"] == []


OTHER_OPENERS = """
import netCDF4, h5py, zarr, numpy as np, pandas as pd, xarray as xr
with netCDF4.Dataset({cmip6!r}) as nc:
    kept = isinstance(nc, netCDF4.Dataset)
with h5py.File({cmip6!r}) as f:
    kept = kept and isinstance(f, h5py.File)
pd.DataFrame({{"a": [1, 2]}}).to_parquet("table.parquet")
xr.Dataset({{"v": ("x", np.arange(4.0))}}, attrs={{"tracking_id": "hdl:21.14100/t"}}).to_zarr(
    "store.zarr", mode="w"
)
print(kept)
"""


@needs_cmip6
def test_openers_that_bypass_python_open_are_recorded_and_restored_on_unload(tmp_path: Path):
    kernel = start_kernel(tmp_path, ESPRI_VRE_PROVENANCE_DIR=str(tmp_path / "logs"))
    try:
        kernel.run("%load_ext espri_vre")
        reply, printed, err = kernel.run(OTHER_OPENERS.format(cmip6=str(CMIP6_FILE)))
        assert reply["status"] == "ok", err
        assert printed.strip() == "True"
        kernel.run("total = float(xr.open_zarr('store.zarr').v.sum())")
        kernel.run("print(pd.read_parquet('table.parquet').a.sum())")
        kernel.run("%unload_ext espri_vre")
        _, restored, _ = kernel.run(
            "print(netCDF4.Dataset.__module__, h5py.File.__module__, xr.open_zarr.__module__)"
        )
    finally:
        kernel.stop()
    assert restored.split() == ["netCDF4._netCDF4", "h5py._hl.files", "xarray.backends.zarr"]
    (log,) = (tmp_path / "logs" / "kernel.provenance").glob("*.jsonl")
    result = verify(log, schema=True)
    assert result.ok and result.ended, result.problems
    found = list(read_log(log).events())
    files = [
        (e["cell"], e["op"], e["opener"], Path(e["path"]).name)
        for e in found
        if e["kind"] == "file"
    ]
    assert files == [
        (1, "read", "netCDF4.Dataset", CMIP6_FILE.name),
        (1, "write", "pandas.DataFrame.to_parquet", "table.parquet"),
        (1, "write", "xarray.Dataset.to_zarr", "store.zarr"),
        (2, "read", "xarray.open_zarr", "store.zarr"),
        (3, "read", "pandas.read_parquet", "table.parquet"),
    ]
    store = next(e for e in found if e["kind"] == "file" and e["opener"] == "xarray.open_zarr")
    assert store["tree"]["files"] == len(
        [p for p in (tmp_path / "store.zarr").rglob("*") if p.is_file()]
    )
    table = next(e for e in found if e["kind"] == "file" and e["opener"] == "pandas.read_parquet")
    assert table["sha256"] == sha256_file(tmp_path / "table.parquet")
    ids = [(e["cell"], e["tracking_id"]) for e in found if e["kind"] == "dataset"]
    import netCDF4

    with netCDF4.Dataset(CMIP6_FILE) as ds:
        assert ids == [(1, ds.getncattr("tracking_id")), (2, "hdl:21.14100/t")]


@needs_cmip6
def test_a_killed_kernel_leaves_a_valid_log(tmp_path: Path):
    notebook = tmp_path / "long.ipynb"
    notebook.write_text("{}")
    kernel = start_kernel(tmp_path, JPY_SESSION_NAME=str(notebook))
    try:
        kernel.run("%load_ext espri_vre")
        kernel.run("x = 1")
        kernel.client.execute("import time\ntime.sleep(60)")
        logs = tmp_path / ".espri-vre-provenance/long"
        deadline = time.monotonic() + 30
        while not any(
            e["kind"] == "cell_start" and e["order"] == 2
            for log in logs.glob("*.jsonl")
            for e in read_log(log).events()
        ):
            assert time.monotonic() < deadline, "the long cell never started"
            time.sleep(0.05)
        pid = kernel.manager.provisioner.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        kernel.manager.provisioner.process.wait(timeout=10)  # type: ignore[union-attr]
    finally:
        kernel.client.stop_channels()
        kernel.manager.cleanup_resources()
    (log,) = logs.glob("*.jsonl")
    result = verify(log, schema=True)
    assert result.ok, result.problems
    assert not result.ended
    last = list(read_log(log).events())[-1]
    assert (last["kind"], last["order"]) == ("cell_start", 2)


def test_a_full_disk_stops_recording_and_the_cells_still_run(tiny_tmpfs: Path, tmp_path: Path):
    kernel = start_kernel(tmp_path, ESPRI_VRE_PROVENANCE_DIR=str(tiny_tmpfs))
    try:
        reply, _, err = kernel.run("%load_ext espri_vre")
        assert reply["status"] == "ok", err
        replies = []
        for i in range(30):
            padding = "#" * 6000
            replies.append(kernel.run(f"value_{i} = {i} * 2  {padding}"))
        reply, printed, _ = kernel.run("print(value_29)\n%provenance status")
    finally:
        kernel.stop()
    assert all(r[0]["status"] == "ok" for r in replies)
    assert reply["status"] == "ok" and printed.startswith("58\n")
    warned = [err for _, _, err in replies if "recording stopped" in err]
    assert len(warned) == 1 and "No space left on device" in warned[0]
    assert "state: stopped" in printed
    (log,) = (tiny_tmpfs / "kernel.provenance").glob("*.jsonl")
    result = verify(log, schema=True)
    assert result.ok and result.torn_bytes == 0
    assert 3 < result.events < 30
