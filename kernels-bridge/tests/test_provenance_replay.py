"""Replay of a recorded run in a fresh kernel (jupyter_client): the analysis of
test_provenance_crate (a copy of a real CMIP6 file read with xarray, a mean printed, a NetCDF
written, two cells printing np.random.rand(), the second with `espri_vre: {atol: 1}` in its
metadata) is recorded in a real kernel, then replayed from its crate, after its input changed,
and with an edited package lock. The reference outputs are the ones saved in the notebook."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from test_provenance_crate import (
    ANALYSIS_CELLS,
    CMIP6_FILE,
    SKIP_NO_CMIP6,
    Recorded,
    espri_vre_cli,
    record_notebook,
)

from espri_vre.provenance.replay import replay
from espri_vre.provenance.replay_compare import Tolerance, compare_outputs, numbers_close
from espri_vre.provenance.replay_report import CellVerdict, ReplayReport, report_html

MEAN_CELL = 2  # index in ANALYSIS_CELLS
ARRAY_CELL = 4
RANDOM_CELL = 5
RANDOM_CELL_WITH_ATOL = 6
RANDOM_CELL_DECLARED = 8


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    if not CMIP6_FILE.is_file():
        pytest.skip(SKIP_NO_CMIP6)
    return record_notebook(tmp_path_factory.mktemp("analysis"), ANALYSIS_CELLS)


def verdicts(report_cells: list[dict], recorded: Recorded) -> dict[int, str]:
    """Verdict per index in ANALYSIS_CELLS."""
    index = {cell_id: i for i, cell_id in enumerate(recorded.cell_ids)}
    return {index[c["cell_id"]]: c["verdict"] for c in report_cells}


def test_replay_of_the_crate_reproduces_every_deterministic_cell(
    recorded: Recorded, tmp_path: Path
):
    crate = tmp_path / "crate"
    assert espri_vre_cli("export", str(recorded.notebook), "--out", str(crate)).returncode == 0
    out = tmp_path / "report"
    done = espri_vre_cli("replay", str(crate), "--report", str(out))
    assert done.returncode == 1, done.stdout + done.stderr  # the random cell differs
    report = json.loads((out / "report.json").read_text())
    found = verdicts(report["cells"], recorded)
    # the cell that loaded the extension ran before recording started: it is not replayed
    assert 0 not in found
    expected = dict.fromkeys(range(1, len(ANALYSIS_CELLS)), "identical")
    expected[RANDOM_CELL] = "differs"
    expected[RANDOM_CELL_WITH_ATOL] = "equivalent"
    expected[RANDOM_CELL_DECLARED] = "differs"
    assert found == expected
    by_index = {i: c for i, c in zip(found, report["cells"], strict=True)}
    assert by_index[RANDOM_CELL_WITH_ATOL]["tolerance"]["atol"] == 1.0
    assert "numbers within atol=1" in by_index[RANDOM_CELL_WITH_ATOL]["reason"]
    # declared in its metadata: it differs, says why, and would not fail the replay alone
    declared = by_index[RANDOM_CELL_DECLARED]
    assert declared["declared"] == "varies: an unseeded draw"
    assert declared["reason"].startswith("declared to vary (varies: an unseeded draw); ")
    assert by_index[RANDOM_CELL]["declared"] is None
    # the NetCDF the analysis wrote was written again, into the replay's own folder
    (written,) = by_index[3]["outputs"]
    assert written["original"] == str(recorded.output) and written["verdict"] == "identical"
    assert written["path"] == str(out / "work" / "prsn_mean.nc")
    (check,) = report["inputs"]
    assert check["status"] == "ok" and check["source"] == "crate"
    diff = by_index[RANDOM_CELL]["diff"]
    assert diff.startswith("--- recorded\n+++ replayed") and "[stream:stdout] 0." in diff
    assert report["environment"]["changed"] == []
    assert report["warnings"] == []
    assert report["summary"] == {"identical": 5, "equivalent": 1, "differs": 2, "unverifiable": 0}
    # the report is a crate too, with the page and the replayed notebook and log
    from rocrate.rocrate import ROCrate

    report_crate = ROCrate(out)
    assert {e.id for e in report_crate.data_entities} >= {
        "report.json",
        "report.html",
        f"recorded/{recorded.log.name}",
        "recorded/analysis.ipynb",
    }
    page = (out / "report.html").read_text()
    assert "<script" not in page and "identical: 5" in page


def test_a_changed_input_is_flagged_and_the_mean_cell_differs(recorded: Recorded, tmp_path: Path):
    import netCDF4

    original = recorded.data.read_bytes()
    try:
        with netCDF4.Dataset(recorded.data, "a") as ds:
            ds["prsn"][0, :, :] = ds["prsn"][0, :, :] * 1000.0
        report = replay(recorded.notebook, workdir=tmp_path / "work").to_dict()
    finally:
        recorded.data.write_bytes(original)
    (check,) = report["inputs"]
    assert check["status"] == "changed"
    assert check["location"] == str(recorded.data)
    assert check["detail"] == "same tracking_id, different content"
    assert check["sha256"] != check["recorded_sha256"]
    assert any(w.startswith("input changed: ") for w in report["warnings"])
    found = verdicts(report["cells"], recorded)
    assert found[MEAN_CELL] == "differs"
    assert found[ARRAY_CELL] == "identical"  # the last time step was not touched
    mean = next(c for c in report["cells"] if c["cell_id"] == recorded.cell_ids[MEAN_CELL])
    assert "-[stream:stdout] mean prsn" in mean["diff"]
    assert "+[stream:stdout] mean prsn" in mean["diff"]


def test_an_edited_package_lock_is_reported_and_the_broken_chain_is_a_warning(
    recorded: Recorded, tmp_path: Path
):
    lines = recorded.log.read_text().splitlines()
    session = json.loads(lines[0])
    for package in session["packages"]:
        if package["name"] == "xarray":
            real, package["version"] = package["version"], "2000.1.0"
    lines[0] = json.dumps(session, separators=(",", ":"))
    edited = tmp_path / recorded.log.name
    edited.write_text("\n".join(lines) + "\n")

    report = replay(recorded.notebook, log=edited, workdir=tmp_path / "work").to_dict()
    assert {"name": "xarray", "recorded": "2000.1.0", "current": real} in report["environment"][
        "changed"
    ]
    assert "provenance log: line 2: prev does not match the hash of line 1" in report["warnings"]
    assert any("hash chain is broken" in w for w in report["warnings"])
    found = verdicts(report["cells"], recorded)
    assert found[MEAN_CELL] == found[ARRAY_CELL] == "identical"


def test_cells_without_saved_outputs_are_unverifiable(recorded: Recorded, tmp_path: Path):
    work = tmp_path / "copy"
    shutil.copytree(recorded.work, work)
    notebook = work / "analysis.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[MEAN_CELL].outputs = []
    nb.cells[ARRAY_CELL].source += "  # edited after the run"
    nbformat.write(nb, notebook)
    (log,) = (work / ".espri-vre-provenance/analysis").glob("*.jsonl")
    report = replay(notebook, log=log, workdir=tmp_path / "work").to_dict()
    by_id = {c["cell_id"]: c for c in report["cells"]}
    mean, array = by_id[recorded.cell_ids[MEAN_CELL]], by_id[recorded.cell_ids[ARRAY_CELL]]
    assert mean["verdict"] == "unverifiable"
    assert mean["reason"] == "output not recorded (the notebook saved none for this cell)"
    assert array["verdict"] == "unverifiable"
    assert array["reason"] == "the notebook's cell was edited after this execution"


def test_printed_arrays_compare_number_by_number():
    a = "array([[2.4610615e-06, 2.4610615e-06],\n       [1.0000000e+00, 3.5      ]])"
    b = "array([[2.4610616e-06, 2.4610615e-06],\n       [1.0000001e+00, 3.5000001]])"
    assert numbers_close(a, b, atol=0, rtol=1e-6)
    assert not numbers_close(a, b, atol=0, rtol=1e-9)
    assert not numbers_close("mean 1.0", "max 1.0", atol=1, rtol=1)
    assert numbers_close("x nan", "x nan", atol=0, rtol=0)


def png(pixels: list[list[int]]) -> str:
    from PIL import Image

    image = Image.new("L", (len(pixels[0]), len(pixels)))
    image.putdata([v for row in pixels for v in row])
    buffer = io.BytesIO()
    image.resize((64, 64)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_compare_by_structural_similarity():
    pytest.importorskip("PIL", reason="Pillow is not installed")
    stripes = [[255 if x < 4 else 0 for x in range(8)] for _ in range(8)]
    # one pixel of an edge rendered a little differently, as another renderer's antialiasing
    edge = [[255 if x < 4 else (8 if (x, y) == (4, 2) else 0) for x in range(8)] for y in range(8)]
    turned = [[255 if y < 4 else 0 for _ in range(8)] for y in range(8)]

    def shown(b64: str) -> list[dict]:
        return [{"output_type": "display_data", "data": {"image/png": b64}, "metadata": {}}]

    verdict, reason, _ = compare_outputs(shown(png(stripes)), shown(png(edge)), Tolerance())
    assert verdict == "equivalent" and reason.startswith("structural similarity 0.99")
    verdict, _, diff = compare_outputs(shown(png(stripes)), shown(png(turned)), Tolerance())
    assert verdict == "differs" and diff
    verdict, _, _ = compare_outputs(
        shown(png(stripes)), shown(png(turned)), Tolerance(image_ssim=-1.0)
    )
    assert verdict == "equivalent"


def test_the_html_report_escapes_everything():
    report = ReplayReport(
        run_id="<b>run</b>", notebook="a.ipynb", log="a.jsonl", started="now", warnings=["<i>"]
    )
    report.cells.append(
        CellVerdict(1, "<script>x</script>", "0" * 64, "differs", diff="-<img src=x>\n+ok")
    )
    page = report_html(report)
    assert "<script>" not in page and "<img" not in page and "<i>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "&lt;img src=x&gt;" in page
