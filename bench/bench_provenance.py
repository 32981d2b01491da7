"""Issue 7: provenance capture overhead on a generated 100-cell analysis notebook run in a real
kernel, against no capture and against noWorkflow (installed from PyPI into a venv of its own
under .test-runtime/bench/anchors/), and replay time against a plain papermill run.

Every cell is sent as JupyterLab sends it (an execute_request with the cell id in its
metadata) and timed from the request to the kernel's idle status. Our runs and their
no-capture baseline use the repository's .venv's Python; noWorkflow and its own no-capture baseline
use the anchor venv's Python, so each overhead is measured against the same interpreter.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from harness import OVERHEAD, Context, Row, anchor_venv, interleaved_rounds

N_CELLS = 100
ANCHOR_PACKAGES = ("noworkflow", "ipykernel", "numpy", "xarray", "netCDF4", "scipy")
CELL_TIMEOUT = 300.0
ROUNDS = 3
"""Interleaved rounds of every comparison: each side's figure is the median over them."""


def analysis_cells(data_dir: Path) -> list[str]:
    """100 small analysis cells: numpy and xarray computations, .npy, text and netCDF files
    written and read back in `data_dir`."""
    cells = [
        "import os\nimport numpy as np\nimport xarray as xr\n"
        f"DATA = {str(data_dir)!r}\nos.makedirs(DATA, exist_ok=True)\n"
        "rng = np.random.default_rng(0)"
    ]
    for i in range(1, N_CELLS):
        step = i % 6
        if step == 1:
            cells.append(
                f"a{i} = rng.normal(size=(200, 200))\nc{i} = a{i} @ a{i}.T\n"
                f"print(round(float(c{i}.trace()), 6))"
            )
        elif step == 2:
            cells.append(
                f"ds{i} = xr.Dataset(\n"
                f'    {{"tas": (("time", "lat", "lon"), rng.normal(280, 5, size=(24, 18, 36)))}},\n'
                f'    coords={{"time": np.arange(24), "lat": np.linspace(-85, 85, 18),'
                f' "lon": np.arange(0, 360, 10)}},\n)\n'
                f'clim{i} = ds{i}.tas.mean("time")\nfloat(clim{i}.mean())'
            )
        elif step == 3:
            cells.append(f'np.save(os.path.join(DATA, "a{i - 2}.npy"), a{i - 2})')
        elif step == 4:
            cells.append(
                f'b{i} = np.load(os.path.join(DATA, "a{i - 3}.npy"))\n'
                f"assert np.array_equal(b{i}, a{i - 3})\nprint(round(float(b{i}.std()), 6))"
            )
        elif step == 5:
            if i % 12 == 5:
                cells.append(
                    f'path{i} = os.path.join(DATA, "clim{i - 3}.nc")\n'
                    f"ds{i - 3}.to_netcdf(path{i})\n"
                    f"with xr.open_dataset(path{i}) as back{i}:\n"
                    f"    print(float(back{i}.tas.max()))"
                )
            else:
                cells.append(
                    f'with open(os.path.join(DATA, "stats{i}.txt"), "w") as f:\n'
                    f'    f.write(f"{{float(clim{i - 3}.std()):.6f}}\\n")\n'
                    f'with open(os.path.join(DATA, "stats{i}.txt")) as f:\n'
                    f"    print(f.read().strip())"
                )
        else:
            cells.append(
                f"anom{i} = ds{i - 4}.tas - clim{i - 4}\n"
                f'z{i} = (anom{i} / anom{i}.std("time")).quantile([0.1, 0.5, 0.9])\n'
                f"print(np.round(z{i}.values, 4))"
            )
    return cells


class NotebookRun:
    """One run of the notebook. (No dataclass: the harness loads this module outside
    sys.modules, where dataclasses cannot resolve their module.)"""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.cell_ms: list[float] = []  # the 100 analysis cells, in order
        self.total_ms = 0.0  # every cell sent, including the one that loads the capture
        self.outputs: list[list[dict[str, Any]]] = []
        self.counts: list[int | None] = []
        self.errors: list[str] = []


class Kernel:
    """A kernel of a given Python (a kernel spec written for it), run by jupyter_client."""

    def __init__(self, python: Path, specs: Path, cwd: Path, env: dict[str, str]) -> None:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        name = "bench-" + python.parent.parent.name.replace(".", "")
        spec_dir = specs / name
        spec_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec = {"argv": argv, "display_name": name, "language": "python"}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        ksm = KernelSpecManager(kernel_dirs=[str(specs)])
        self.manager = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, cell_id: str) -> tuple[float, str, list[dict[str, Any]], Any]:
        """(ms from request to idle, status, nbformat outputs, execution_count)."""
        from nbformat.v4 import output_from_msg

        client = self.client
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = client.session.msg("execute_request", content, metadata={"cellId": cell_id})
        start = time.perf_counter()
        client.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        outputs: list[dict[str, Any]] = []
        deadline = time.monotonic() + CELL_TIMEOUT
        while True:
            message = self._next(client.get_iopub_msg, deadline)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
            if kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append(output_from_msg(message))
        elapsed = (time.perf_counter() - start) * 1000
        while True:
            reply = self._next(client.get_shell_msg, deadline)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return elapsed, reply["content"]["status"], outputs, reply["content"].get("execution_count")

    @staticmethod
    def _next(get: Any, deadline: float) -> dict[str, Any]:
        try:
            return get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("the kernel did not finish a cell in time") from None

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "ESPRI_VRE_"))}
    env.update(extra)
    return env


def run_notebook(
    python: Path,
    specs: Path,
    cwd: Path,
    cells: list[str],
    mode: str,
    env: dict[str, str],
    preamble: list[str] = (),
    wrap: str = "",
) -> NotebookRun:
    result = NotebookRun(mode)
    kernel = Kernel(python, specs, cwd, env)
    try:
        start = time.perf_counter()
        for j, code in enumerate(preamble):
            _, status, outputs, _ = kernel.run(code, f"pre-{j}")
            if status != "ok":
                result.errors.append(f"preamble {code!r}: {outputs}")
        for i, code in enumerate(cells):
            ms, status, outputs, count = kernel.run(wrap + code, f"cell-{i}")
            result.cell_ms.append(ms)
            result.outputs.append(outputs)
            result.counts.append(count)
            if status != "ok" or any(o["output_type"] == "error" for o in outputs):
                result.errors.append(f"cell {i}: {json.dumps(outputs)[:300]}")
        result.total_ms = (time.perf_counter() - start) * 1000
    finally:
        kernel.stop()
    return result


def notebook(cells: list[str], runs: NotebookRun | None = None) -> dict[str, Any]:
    nb_cells = []
    for i, code in enumerate(cells):
        cell = {
            "cell_type": "code",
            "id": f"cell-{i}",
            "metadata": {},
            "source": code,
            "execution_count": None,
            "outputs": [],
        }
        if runs is not None:
            cell["outputs"] = runs.outputs[i]
            cell["execution_count"] = runs.counts[i]
        nb_cells.append(cell)
    return {
        "cells": nb_cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def cell_median(run: NotebookRun) -> float:
    return statistics.median(run.cell_ms)


def overheads(runs: list[NotebookRun], base: list[NotebookRun]) -> list[float]:
    """Whole-notebook overhead (%) of each round against the same round's run without capture."""
    return [(r.total_ms - b.total_ms) / b.total_ms * 100 for r, b in zip(runs, base, strict=True)]


def fig(runs: list[NotebookRun]) -> str:
    cell = statistics.median(cell_median(r) for r in runs)
    total = statistics.median(r.total_ms for r in runs)
    return f"{cell:.2f} ms/cell, {total / 1000:.2f} s/notebook"


def capture_round(
    python: Path,
    specs: Path,
    work: Path,
    recorded: dict[int, tuple[Path, Path]],
    mode: str,
    r: int,
) -> NotebookRun:
    """Round `r` of the notebook in a kernel, without capture (mode 'none') or with ours
    ('espri': its notebook and log kept in `recorded[r]` for the replay)."""
    cwd = work / f"{mode}-{r}"
    cwd.mkdir()
    cells = analysis_cells(cwd / "data")
    record = cwd / "provenance"
    env = clean_env(ESPRI_VRE_PROVENANCE_DIR=str(record))
    pre = ["%load_ext espri_vre"] if mode == "espri" else []
    got = run_notebook(python, specs, cwd, cells, mode, env, pre)
    if got.errors:
        raise RuntimeError(f"{mode} run failed: {got.errors[:2]}")
    if mode == "espri":
        nb_path = cwd / "analysis.ipynb"
        full = notebook(cells, got)
        pre_cell = notebook(["%load_ext espri_vre"])["cells"][0]
        full["cells"].insert(0, dict(pre_cell, id="pre-0", execution_count=1))
        nb_path.write_text(json.dumps(full))
        logs = sorted(record.rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
        if not logs:
            raise RuntimeError(f"the capture wrote no log under {record}")
        recorded[r] = (nb_path, logs[-1])
    return got


def script_round(python: Path, work: Path, mode: str, r: int) -> float:
    """Seconds of round `r` of the notebook as one script, run by the anchor venv's `python`
    ('plain') or by noWorkflow's `now run` ('now'), interpreter start included."""
    cwd = work / f"script-{mode}-{r}"
    cwd.mkdir()
    script = cwd / "analysis.py"
    script.write_text("\n\n".join(analysis_cells(cwd / "data")) + "\n")
    argv = [str(python), script.name]
    if mode == "now":
        argv = [str(python.parent / "now"), "run", script.name]
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=240, env=clean_env()
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])}: {done.stderr[-400:]}")
    return elapsed


def run(ctx: Context) -> list[Row]:
    ours_python = ctx.root / ".venv" / "bin" / "python"
    work = ctx.work / "provenance"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    specs = work / "kernels"
    rounds = ROUNDS
    anchor_python, anchor_problem = anchor_venv(ctx, "noworkflow", ANCHOR_PACKAGES)

    recorded: dict[int, tuple[Path, Path]] = {}
    got = interleaved_rounds(
        {
            m: partial(capture_round, ours_python, specs, work, recorded, m)
            for m in ("none", "espri")
        },
        rounds,
    )
    none, ours = got["none"], got["espri"]
    last_ours = recorded[rounds - 1]
    executions = sum(
        1 for line in last_ours[1].read_text().splitlines() if '"cell_end"' in line or False
    )
    ours_cells = [
        (cell_median(r) / cell_median(b) - 1) * 100 for r, b in zip(ours, none, strict=True)
    ]
    ours_totals = overheads(ours, none)

    rows = [
        Row.measured(
            issue="#7",
            task=f"capture overhead, {N_CELLS}-cell analysis notebook in a real kernel, "
            f"median per cell (whole notebook in the note), {rounds} interleaved rounds",
            ours_runs=[cell_median(r) for r in ours],
            anchor_name="same notebook, no capture",
            anchor_runs=[cell_median(r) for r in none],
            unit="ms/cell",
            goal=1 / 1.05,
            target="overhead < 5% (ratio >= 0.952)",
            note=f"with capture {fig(ours)}; without {fig(none)} (medians of the rounds). "
            "Overhead per round, per cell (median cell): "
            + ", ".join(f"{x:+.1f}%" for x in ours_cells)
            + "; whole notebook (includes the %load_ext cell): "
            + ", ".join(f"{x:+.1f}%" for x in ours_totals)
            + f". Log {last_ours[1].name} holds {executions} cell_end lines.",
        )
    ]

    # noWorkflow: its IPython cell magic (%%now_run --interactive, the mode that keeps the
    # kernel's namespace) imports IPython.utils.py3compat, gone since IPython 8, so it fails
    # in any current kernel. Its main mode is `now run script.py`: the 100 cells as one
    # script, against the same script run by the same venv's Python without capture, in
    # interleaved rounds (plain, now, plain, now, ...).
    now_note = anchor_problem
    if anchor_python is not None:
        try:
            got = interleaved_rounds(
                {m: partial(script_round, anchor_python, work, m) for m in ("plain", "now")},
                rounds,
            )
            plain_s, now_s = got["plain"], got["now"]
            now_totals = [(w - p) / p * 100 for w, p in zip(now_s, plain_s, strict=True)]
        except Exception as e:  # the anchor's failure is reported, not hidden
            now_note = f"noWorkflow could not run the notebook: {type(e).__name__}: {e}"[:600]
    task = f"capture overhead vs noWorkflow's, whole notebook, {rounds} interleaved rounds"
    if now_note:
        rows.append(
            Row(
                issue="#7",
                task=task,
                ours=statistics.median(ours_totals),
                anchor_name="noWorkflow (n/a)",
                anchor=float("nan"),
                unit="% overhead",
                target="ours >= 10x lower",
                note=now_note,
                ours_runs=ours_totals,
                kind=OVERHEAD,
            )
        )
    else:
        rows.append(
            Row.measured(
                issue="#7",
                task=task,
                ours_runs=ours_totals,
                anchor_name="noWorkflow (`now run` on the notebook as a script)",
                anchor_runs=now_totals,
                unit="% overhead",
                goal=10,
                target="ours >= 10x lower",
                kind=OVERHEAD,
                note="noWorkflow: `now run analysis.py` against `python analysis.py` in its "
                "venv, interpreter start included, rounds interleaved (plain, now): "
                + ", ".join(f"{w:.2f} s vs {p:.2f} s" for w, p in zip(now_s, plain_s, strict=True))
                + ". Ours: the whole notebook in a kernel with capture against the same round's "
                "run without (per cell, median cell: "
                + ", ".join(f"{x:+.1f}%" for x in ours_cells)
                + "). Every overhead is shown as measured; one at or below zero is below "
                "this machine's noise, and the ratio has no meaning then (the target is met "
                "when ours x 10 <= noWorkflow's). noWorkflow's per-cell IPython magic "
                "(%%now_run --interactive) imports IPython.utils.py3compat, removed in "
                "IPython 8, so it cannot run in a current kernel: its whole-script mode is "
                "compared, without a per-cell figure.",
            )
        )
    rows.append(replay_row(ctx, work, last_ours))
    rows.extend(export_rows(ours_python, specs))
    return rows


def replay_row(ctx: Context, work: Path, recorded: tuple[Path, Path]) -> Row:
    task = f"replay of the recorded {N_CELLS}-cell run vs a papermill run of the same notebook"
    try:
        from espri_vre.provenance.replay import replay
    except Exception as e:
        nan = float("nan")
        return Row("#7", task, nan, "papermill (n/a)", nan, "s", "within 1.1x", note=f"{e}")
    import papermill

    nb_path, log = recorded
    plain = work / "plain.ipynb"
    cells = json.loads(nb_path.read_text())["cells"][1:]
    plain.write_text(json.dumps(notebook([c["source"] for c in cells])))
    reports = []

    def papermill_run(_: int) -> float:
        start = time.perf_counter()
        papermill.execute_notebook(
            str(plain),
            str(work / "plain-out.ipynb"),
            kernel_name="python3",
            cwd=str(nb_path.parent),
            progress_bar=False,
            log_output=False,
        )
        return time.perf_counter() - start

    def replay_run(n: int) -> float:
        start = time.perf_counter()
        # each replay runs in a new working folder of its own (it never writes beside the notebook)
        reports.append(replay(nb_path, log=log, workdir=work / f"replay-{n}"))
        return time.perf_counter() - start

    got = interleaved_rounds({"papermill": papermill_run, "replay": replay_run}, ROUNDS)
    pm_times, replay_times = got["papermill"], got["replay"]
    verdicts: dict[str, int] = {}
    for cell in reports[-1].cells:
        verdicts[cell.verdict] = verdicts.get(cell.verdict, 0) + 1
    return Row.measured(
        issue="#7",
        task=task + f", median of {ROUNDS} interleaved rounds, kernel start included on both sides",
        ours_runs=replay_times,
        anchor_name="papermill execute_notebook",
        anchor_runs=pm_times,
        unit="s",
        goal=1 / 1.1,
        target="within 1.1x (ratio >= 0.91)",
        note=f"replay verdicts: {json.dumps(verdicts, sort_keys=True)}; the replay also "
        "records (into a temp folder), hashes the inputs and compares every output.",
    )


INPUT_FILES = 8
INPUT_BYTES = 2**30 // INPUT_FILES
"""1 GiB of inputs in 128 MiB files: below the capture's 256 MiB chunk-manifest threshold, so
each gets one sha256 and can be copied into the crate (a file hashed by chunks never is)."""


def big_inputs(folder: Path) -> list[Path]:
    """INPUT_FILES .npy files of random float64, INPUT_BYTES each, written in pieces."""
    import numpy as np

    rng = np.random.default_rng(7)
    folder.mkdir(parents=True)
    paths = []
    for i in range(INPUT_FILES):
        path = folder / f"input{i}.npy"
        values = np.lib.format.open_memmap(
            path, mode="w+", dtype="float64", shape=(INPUT_BYTES // 8,)
        )
        piece = 2**22
        for start in range(0, values.shape[0], piece):
            values[start : start + piece] = rng.standard_normal(min(piece, values.shape[0] - start))
        values.flush()
        del values
        paths.append(path)
    return paths


def export_cells(data_dir: Path, inputs: list[Path]) -> list[str]:
    """The 100-cell analysis with, after its first cell, one cell reading each input."""
    base = analysis_cells(data_dir)
    reads = [
        f"x{i} = np.load({str(p)!r})\nprint(round(float(x{i}[::1000].mean()), 4))\ndel x{i}"
        for i, p in enumerate(inputs)
    ]
    return [base[0], *reads, *base[1 : N_CELLS - len(reads)]]


def crate_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def rocrate_export(
    notebook_path: Path, log: Path, files: list[Path], out: Path, copy: bool
) -> None:
    """The anchor: the `rocrate` library's own export of the same files (the notebook and log
    copied, the run's files copied or referenced by file:// URI), with none of the run's
    provenance (no actions, hashes or environment)."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.add_file(notebook_path, dest_path=notebook_path.name)
    crate.add_file(log, dest_path=f"provenance/{log.name}")
    for f in files:
        if copy:
            crate.add_file(f, dest_path=f"data/{f.parent.name}-{f.name}")
        else:
            crate.add_file(f.as_uri(), fetch_remote=False)
    crate.write(out)


def export_rows(python: Path, specs: Path) -> list[Row]:
    """Issue 18: export time and crate size of a recorded 100-cell notebook that read 1 GiB of
    inputs, inputs copied into the crate or referenced, against a plain `rocrate` export of the
    same files. Everything is generated and written in a temporary folder, deleted after."""
    from espri_vre.provenance.crate import export_crate, load_run

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        inputs = big_inputs(work / "inputs")
        cwd = work / "run"
        cwd.mkdir()
        cells = export_cells(cwd / "data", inputs)
        record = cwd / "provenance"
        env = clean_env(ESPRI_VRE_PROVENANCE_DIR=str(record))
        got = run_notebook(python, specs, cwd, cells, "espri", env, ["%load_ext espri_vre"])
        if got.errors:
            raise RuntimeError(f"the 1 GiB run failed: {got.errors[:2]}")
        nb_path = cwd / "analysis.ipynb"
        nb_path.write_text(json.dumps(notebook(cells, got)))
        (log,) = record.rglob("*.jsonl")
        run = load_run(log)
        files = sorted(
            {Path(e["path"]) for ex in run.executions for e in ex.files if e.get("path")}
        )
        files = [f for f in files if f.is_file()]
        read = [f for f in files if f in inputs]
        if len(read) != INPUT_FILES:
            raise RuntimeError(f"the log records {len(read)} of the {INPUT_FILES} inputs read")

        exporters = {
            "ours": lambda out, copy: export_crate(
                nb_path, out, log=log, copy_limit=2 * INPUT_BYTES if copy else 0
            ),
            "rocrate": lambda out, copy: rocrate_export(nb_path, log, files, out, copy),
        }

        def export_round(side: str, copy: bool, r: int) -> tuple[float, int]:
            """Seconds and bytes of one export, its crate deleted after."""
            out = work / f"crate-{side}-{copy}-{r}"
            start = time.perf_counter()
            exporters[side](out, copy)
            took = time.perf_counter() - start
            size = crate_bytes(out)
            shutil.rmtree(out)
            return took, size

        # each round exports with and without copies, ours then the anchor
        got = interleaved_rounds(
            {
                (side, copy): partial(export_round, side, copy)
                for copy in (True, False)
                for side in exporters
            },
            ROUNDS,
        )
        times = {key: [t for t, _ in runs] for key, runs in got.items()}
        sizes = {key: [b for _, b in runs] for key, runs in got.items()}

    rows = []
    for copy in (True, False):
        how = "inputs copied into the crate" if copy else "inputs referenced (file:// URIs)"
        mb = {side: [b / 2**20 for b in sizes[(side, copy)]] for side in exporters}
        rows.append(
            Row.measured(
                issue="#18",
                task=f"crate export, {N_CELLS}-cell notebook that read 1 GiB of inputs "
                f"({INPUT_FILES} x {INPUT_BYTES // 2**20} MiB), {how}, {ROUNDS} interleaved rounds",
                ours_runs=times[("ours", copy)],
                anchor_name="plain `rocrate` export of the same files",
                anchor_runs=times[("rocrate", copy)],
                unit="s",
                # referenced, the anchor writes little more than a file list: no target then
                goal=1 / 2 if copy else None,
                target="within 2x (ratio >= 0.5)"
                if copy
                else "informational: the anchor writes no provenance",
                note=f"crate size: ours {statistics.median(mb['ours']):.1f} MiB, rocrate "
                f"{statistics.median(mb['rocrate']):.1f} MiB ({len(files)} files read or "
                "written by the run). Ours "
                + (
                    "checks each file's size and time against the record before copying it "
                    "(re-hashing it when they moved: a changed file is not copied as if it were "
                    "the recorded one) and "
                    if copy
                    else ""
                )
                + "writes the run's actions, hashes, identifiers, environment and Binder "
                "folder; the anchor writes the files only.",
            )
        )
        rows.append(
            Row.measured(
                issue="#18",
                task=f"crate size, same notebook and inputs, {how}",
                ours_runs=mb["ours"],
                anchor_name="plain `rocrate` export of the same files",
                anchor_runs=mb["rocrate"],
                unit="MiB",
                goal=1 / 1.01 if copy else None,
                target="within 1% (ratio >= 0.99)"
                if copy
                else "informational: the metadata is most of the crate",
                note="ours adds its metadata (actions, environment: every package of the lock) "
                "and the Binder folder to the same files.",
            )
        )
    return rows


if __name__ == "__main__":  # a quick look without the harness
    print(analysis_cells(Path(tempfile.gettempdir()))[:7], file=sys.stderr)
