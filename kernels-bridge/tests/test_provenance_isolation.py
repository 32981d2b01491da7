"""A replay never writes the author's or the user's files, and replays from a copy of the crate
alone. A real kernel records a notebook that reads a NetCDF file (written here with xarray),
writes a NetCDF file beside it (the user's file a replay once emptied), a text file by an
absolute path outside its folder and a CSV by an absolute path inside it, then reads its own
NetCDF back with netCDF4 (C). The replays run in real kernels too; the originals are compared
byte for byte (and by mtime) with what they were before."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_provenance_crate import run_and_save

from espri_vre.provenance.crate import export_crate, load_run
from espri_vre.provenance.replay import accepted, fresh_kernel, replay, replay_to
from espri_vre.provenance.replay_inputs import resolve_inputs
from espri_vre.provenance.workdir import ENV, OUTSIDE, WorkFolder


@dataclass
class Analysis:
    folder: Path
    """The author's folder: the notebook, its input, the files it wrote."""
    elsewhere: Path
    """A folder outside it that the notebook wrote into by an absolute path."""
    notebook: Path
    cell_ids: list[str]


def cells(folder: Path, elsewhere: Path) -> list[tuple[str, dict]]:
    return [
        ("%load_ext espri_vre", {}),
        ("import os\nimport pandas as pd\nimport xarray as xr", {}),
        ("ds = xr.open_dataset('input.nc')\nprint('mean', float(ds['t'].mean()))", {}),
        (
            "with xr.open_dataset('input.nc') as src:\n"
            "    (src['t'] * 2).to_dataset(name='t2').to_netcdf('result.nc')",
            {},
        ),
        (
            f"with open({str(elsewhere / 'summary.txt')!r}, 'w') as f:\n"
            "    f.write('max ' + str(float(ds['t'].max())))",
            {},
        ),
        (
            f"pd.DataFrame({{'x': [1, 2, 3]}}).to_csv({str(folder / 'table.csv')!r}, index=False)",
            {},
        ),
        (
            "import netCDF4\nwith netCDF4.Dataset(os.path.abspath('result.nc')) as nc:\n"
            "    print('sum', float(nc['t2'][:].sum()))",
            {},
        ),
    ]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    base = tmp_path_factory.mktemp("author")
    folder, elsewhere = base / "analysis", base / "results-elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    values = np.arange(24, dtype="float64").reshape(2, 3, 4)
    xr.Dataset({"t": (("time", "lat", "lon"), values)}).to_netcdf(folder / "input.nc")
    notebook = folder / "analysis.ipynb"
    nb = run_and_save(notebook, cells(folder, elsewhere))
    return Analysis(folder, elsewhere, notebook, [c.id for c in nb.cells])


def snapshot(*folders: Path) -> dict[str, tuple[str, int]]:
    """Every file under the folders: its sha256 and mtime."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[str(path)] = (
                    hashlib.sha256(path.read_bytes()).hexdigest(),
                    path.stat().st_mtime_ns,
                )
    return found


def test_replaying_over_the_originals_leaves_every_original_byte_identical(
    analysis: Analysis, tmp_path: Path
):
    before = snapshot(analysis.folder, analysis.elsewhere)
    assert {Path(p).name for p in before} >= {"input.nc", "result.nc", "table.csv", "summary.txt"}
    out = tmp_path / "report"
    replayed, _ = replay_to(analysis.notebook, out)
    assert accepted(replayed)
    assert snapshot(analysis.folder, analysis.elsewhere) == before

    report = json.loads((out / "report.json").read_text())
    work = Path(report["workdir"])
    assert work == (out / "work").resolve()
    assert report["summary"] == {"identical": 6, "equivalent": 0, "differs": 0, "unverifiable": 0}
    where = {o["original"]: o for c in report["cells"] for o in c["outputs"]}
    assert set(where) == {
        str(analysis.folder / "result.nc"),
        str(analysis.elsewhere / "summary.txt"),
        str(analysis.folder / "table.csv"),
    }
    assert where[str(analysis.folder / "result.nc")]["path"] == str(work / "result.nc")
    outside = work / OUTSIDE / str(analysis.elsewhere / "summary.txt").lstrip("/")
    assert where[str(analysis.elsewhere / "summary.txt")]["path"] == str(outside)
    assert outside.read_text() == (analysis.elsewhere / "summary.txt").read_text()
    assert all(o["verdict"] == "identical" for o in where.values())
    # the input was read where it is (the folder of originals), through a link in the work folder
    (check,) = report["inputs"]
    assert check["source"] == "original" and check["used"] == str(analysis.folder / "input.nc")
    assert (work / "input.nc").is_symlink()
    html = (out / "report.html").read_text()
    assert "Files written" in html and str(outside) in html


def test_changes_that_cannot_be_redirected_are_refused_in_a_real_kernel(tmp_path: Path):
    original, work, private = tmp_path / "original", tmp_path / "work", tmp_path / "private"
    for folder in (original, work, private):
        folder.mkdir()
    keep = original / "keep.txt"
    keep.write_text("the author's\n")
    before = snapshot(original)
    # the links a replay makes to its inputs
    (work / "appended.txt").symlink_to(keep)
    (work / "rewritten.txt").symlink_to(keep)
    spec = WorkFolder(
        root=str(work),
        recorded_cwd=str(original),
        exempt=(str(private),),
        ledger=str(private / "ledger.jsonl"),
    )
    spec.write(private / "spec.json")
    env = {ENV: str(private / "spec.json"), "ESPRI_VRE_PROVENANCE_DIR": str(private / "log")}
    with fresh_kernel(work, **env) as kernel:
        assert kernel.run("%load_ext espri_vre").status == "ok"
        refused = {}
        for name, code in {
            "remove": f"import os\nos.remove({str(keep)!r})",
            "chmod": f"os.chmod({str(keep)!r}, 0o600)",
            "rmtree": f"import shutil\nshutil.rmtree({str(original)!r})",
            "rmtree-folder": "shutil.rmtree(os.getcwd())",
            "io": f"import _io\n_io.open({str(keep)!r}, 'w')",
        }.items():
            result = kernel.run(code)
            (error,) = [o for o in result.outputs if o["output_type"] == "error"]
            refused[name] = (error["ename"], error["evalue"])
        written = kernel.run(
            f"with open({str(keep)!r}, 'w') as f:\n    f.write('the replay')\n"
            f"import netCDF4\nnetCDF4.Dataset({str(original / 'new.nc')!r}, 'w').close()\n"
            f"print(open({str(keep)!r}).read())"
        )
        through_links = kernel.run(
            "with open('appended.txt', 'a') as f:\n    f.write('more')\n"
            "with open('rewritten.txt', 'w') as f:\n    f.write('new')"
        )
        # a command in a shell cannot be confined: it is noted for the report
        assert kernel.run("import subprocess\nsubprocess.run(['true'])").status == "ok"
    assert snapshot(original) == before
    for name, (ename, evalue) in refused.items():
        assert ename == "ConfinementError", (name, evalue)
        assert "refused to" in evalue and f"working folder {work}" in evalue, evalue
    assert written.status == "ok" and written.outputs[0]["text"] == "the replay\n"
    assert (work / "keep.txt").read_text() == "the replay"
    # a write through a link to an input replaced the link (with a copy, for an append)
    assert through_links.status == "ok"
    assert not (work / "appended.txt").is_symlink() and not (work / "rewritten.txt").is_symlink()
    assert (work / "appended.txt").read_text() == "the author's\nmore"
    assert (work / "rewritten.txt").read_text() == "new"
    assert (work / "new.nc").read_bytes()[:4] == b"\x89HDF"
    ledger = [json.loads(line) for line in (private / "ledger.jsonl").read_text().splitlines()]
    assert {
        "kind": "redirected",
        "path": str(keep),
        "to": str(work / "keep.txt"),
        "op": "write",
    } in ledger
    assert {n["verb"] for n in ledger if n["kind"] == "refused"} >= {"remove", "write"}
    assert [n["path"] for n in ledger if n["kind"] == "command"] == ["['true']"]


def test_a_copy_of_the_crate_alone_replays_every_cell_identical(analysis: Analysis, tmp_path: Path):
    exported = export_crate(analysis.notebook, tmp_path / "export" / "crate")
    reviewer = tmp_path / "reviewer" / "crate"
    shutil.copytree(exported, reviewer)
    shutil.rmtree(exported)
    moved = [(p, p.with_name(p.name + "-moved")) for p in (analysis.folder, analysis.elsewhere)]
    for path, away in moved:
        path.rename(away)
    try:
        report = replay(reviewer, workdir=tmp_path / "work").to_dict()
        assert not analysis.folder.exists() and not analysis.elsewhere.exists()
    finally:
        for path, away in moved:
            away.rename(path)
    assert report["summary"] == {"identical": 6, "equivalent": 0, "differs": 0, "unverifiable": 0}
    (check,) = report["inputs"]
    assert check["status"] == "ok" and check["source"] == "crate"
    assert Path(check["used"]).parent == (reviewer / "data").resolve()
    assert check["location"] == str(analysis.folder / "input.nc")
    assert [c["order"] for c in check["cells"]] == [2, 3, 6]  # 6 through result.nc


def test_a_changed_input_in_the_crate_is_detected_and_linked_to_its_cells(
    analysis: Analysis, tmp_path: Path
):
    import netCDF4

    crate = export_crate(analysis.notebook, tmp_path / "crate")
    (copy,) = (crate / "data").glob("*input.nc")
    with netCDF4.Dataset(copy, "a") as ds:
        ds["t"][0, 0, 0] = 1000.0
    report = replay(crate, workdir=tmp_path / "work").to_dict()
    (check,) = report["inputs"]
    assert check["status"] == "changed" and check["source"] == "crate"
    assert check["used"] == str(copy.resolve())
    by_order = {c["order"]: c for c in check["cells"]}
    assert sorted(by_order) == [2, 3, 6]
    assert by_order[2]["through"] is None
    assert by_order[6]["through"] == str(analysis.folder / "result.nc")
    verdicts = {c["order"]: c for c in report["cells"]}
    for order in (2, 3, 6):
        assert verdicts[order]["verdict"] == "differs"
        assert verdicts[order]["depends_on"] == [str(analysis.folder / "input.nc")]
    # the NetCDF the cell wrote is compared by its values
    (result,) = verdicts[3]["outputs"]
    assert result["verdict"] == "differs" and "values differ (xarray)" in result["reason"]
    assert verdicts[5]["verdict"] == "identical" and verdicts[5]["depends_on"] == []


def test_an_input_left_out_of_the_crate_is_found_in_the_reviewer_s_folder_by_its_hash(
    analysis: Analysis, tmp_path: Path
):
    crate = export_crate(analysis.notebook, tmp_path / "crate", copy_limit=0)
    assert not (crate / "data").exists()
    folder = tmp_path / "reviewer-data" / "deep"
    folder.mkdir(parents=True)
    original = (analysis.folder / "input.nc").read_bytes()
    # the same size, another content: not the input
    (folder / "a-decoy.nc").write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    (folder / "renamed.nc").write_bytes(original)
    run = load_run(next((crate / "provenance").glob("*.jsonl")))

    (check,) = resolve_inputs(run, crate_dir=crate, inputs_dir=tmp_path / "reviewer-data")
    assert (check.status, check.source, check.used) == ("ok", "folder", str(folder / "renamed.nc"))
    (folder / "renamed.nc").unlink()
    (check,) = resolve_inputs(run, crate_dir=crate, inputs_dir=tmp_path / "reviewer-data")
    assert (check.status, check.source) == ("ok", "original")  # still where it was recorded
