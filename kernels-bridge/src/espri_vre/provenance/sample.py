"""A small analysis, run and recorded for real, exported as the crate a reviewer would receive:
for trying the reviewer's path (the Galata review spec, the Binder folder's test) without an
author at hand.

    python -m espri_vre.provenance.sample OUT_DIR

runs the notebook in batch in a real kernel that records (nbclient, as notebook jobs run), then
writes OUT_DIR/crate and deletes the analysis folder (--keep-analysis keeps it), so that only
the crate is left, as a reviewer receives it. Its cells read a table, write a result that
replays identical, write a random draw declared to vary (`"espri-vre": {"replay": "varies"}`),
and write the time, which differs undeclared: a replay of the crate shows each kind of
verdict."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .crate import export_crate

STATIONS = "station,tas\nTrappes,11.8\nBrest,12.1\nNice,16.2\nStrasbourg,11.0\n"
"""The input: a few stations' annual mean temperature (°C)."""

VARIES_REASON = "an unseeded random draw"
CELLS: list[tuple[str, dict]] = [
    ("%load_ext espri_vre", {}),
    (
        "import csv\nwith open('stations.csv') as f:\n    rows = list(csv.DictReader(f))\n"
        "print(len(rows), 'stations')",
        {},
    ),
    (
        "mean = sum(float(r['tas']) for r in rows) / len(rows)\n"
        "with open('mean.txt', 'w') as f:\n    f.write(f'{mean:.2f}\\n')\n"
        "print('mean', round(mean, 2))",
        {},
    ),
    (
        "import random\nwith open('draw.txt', 'w') as f:\n    f.write(str(random.random()))",
        {"espri-vre": {"replay": "varies", "reason": VARIES_REASON}},
    ),
    (
        "import time\nwith open('stamp.txt', 'w') as f:\n    f.write(str(time.time_ns()))",
        {},
    ),
]
NOTEBOOK = "stations.ipynb"


def record_sample(folder: Path) -> Path:
    """Writes the input and the notebook into `folder`, runs it in a recording kernel whose log
    lies beside the notebook (named by JPY_SESSION_NAME, as jupyter_server names it), and saves
    the executed notebook. Returns the notebook."""
    import nbformat
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stations.csv").write_text(STATIONS)
    notebook = folder / NOTEBOOK
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata=meta) for src, meta in CELLS]
    nb.metadata["license"] = "https://spdx.org/licenses/CC-BY-4.0"
    nbformat.write(nb, notebook)  # the kernel finds its notebook only if the file exists
    env = {**os.environ, "JPY_SESSION_NAME": str(notebook)}
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}
    ).execute(env=env)
    nbformat.write(nb, notebook)
    return notebook


def write_sample_crate(out: Path, keep_analysis: bool = False) -> Path:
    """Records the sample in `out/analysis`, exports `out/crate`, then deletes the analysis
    (unless `keep_analysis`): only the crate is left, as a reviewer receives it. Returns the
    crate's folder."""
    analysis = out / "analysis"
    if analysis.exists() or (out / "crate").exists():
        raise FileExistsError(f"{out} already holds a sample: choose a new folder")
    notebook = record_sample(analysis)
    crate = export_crate(notebook, out / "crate")
    if not keep_analysis:
        shutil.rmtree(analysis)
    return crate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m espri_vre.provenance.sample", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", help="a new or empty folder: the crate is written to OUT/crate")
    parser.add_argument(
        "--keep-analysis",
        action="store_true",
        help="keep OUT/analysis (the notebook, its log and files), as its author has them",
    )
    args = parser.parse_args(argv)
    try:
        print(write_sample_crate(Path(args.out).resolve(), args.keep_analysis))
    except (OSError, ValueError) as error:
        print(f"sample: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
