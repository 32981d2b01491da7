"""A notebook run in batch, as notebook jobs run (nbclient, under papermill), is recorded
without cell ids: nbclient sends none. Its replay matches each execution to its notebook cell by
source, so its cells are compared instead of all being unverifiable. A real kernel records the
run through nbclient; the replay runs in a real kernel too."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from espri_vre.provenance.crate import export_crate, load_run
from espri_vre.provenance.replay import MATCHED_NOTE, replay

CELLS = [
    "%load_ext espri_vre",
    "x = 6 * 7",
    "print('answer', x)",
    "with open('out.txt', 'w') as f:\n    f.write(str(x))",
    "print('again')",
    "print(open('out.txt').read())",
    "print('again')",
]


def test_a_batch_run_without_cell_ids_replays_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder, logs = tmp_path / "job", tmp_path / "logs"
    folder.mkdir()
    monkeypatch.setenv("ESPRI_VRE_PROVENANCE_DIR", str(logs))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    notebook = folder / "job-output.ipynb"
    nbformat.write(nb, notebook)
    (log,) = logs.glob("*.provenance/*.jsonl")
    recorded = load_run(log)
    assert [e.cell_id for e in recorded.executions] == [None] * (len(CELLS) - 1)

    report = replay(notebook, log=log, workdir=tmp_path / "work").to_dict()
    ids = [c.id for c in nb.cells]
    assert [c["cell_id"] for c in report["cells"]] == ids[1:]
    assert report["summary"] == {"identical": 6, "equivalent": 0, "differs": 0, "unverifiable": 0}
    assert all(c["notes"][0] == MATCHED_NOTE for c in report["cells"])
    (written,) = report["cells"][2]["outputs"]
    assert written["original"] == str(folder / "out.txt") and written["verdict"] == "identical"

    # its crate names each step after its notebook cell, at its place in the notebook
    crate = export_crate(notebook, tmp_path / "crate", log=log)
    graph = json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]
    steps = {e["@id"]: e["position"] for e in graph if e.get("@type") == "HowToStep"}
    assert steps == {f"#step/{cell_id}": str(i) for i, cell_id in enumerate(ids) if i > 0}
