"""Export of a recorded run as a Provenance Run Crate: a real kernel (jupyter_client) with
`%load_ext espri_vre` runs a notebook that opens a real CMIP6 file (a copy in tmp) with xarray,
prints a mean and writes a NetCDF; the crate written by `espri-vre export` is read back with the
`rocrate` library and checked against the files themselves (sha256 computed here, tracking_id
read here with netCDF4, package versions installed here)."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import SHARED

from espri_vre.provenance.replay import fresh_kernel
from espri_vre.provenance.store import kept_hash, verify
from espri_vre.provenance.validation import offline_cache

CMIP6_FILE = (
    SHARED
    / "data/cmip6-sample/CMIP6/CMIP/CNRM-CERFACS/CNRM-CM6-1/historical/r4i1p1f2/Amon/prsn/gr"
    / "v20190125/prsn/prsn_Amon_CNRM-CM6-1_historical_r4i1p1f2_gr_185001-201412.nc"
)
SKIP_NO_CMIP6 = (
    f"the real CMIP6 sample (in the shared folder beside the repository) is absent: {CMIP6_FILE}"
)
DOI = "10.22033/ESGF/CMIP6.4066"

ANALYSIS_CELLS: list[tuple[str, dict[str, Any]]] = [
    ("%load_ext espri_vre", {}),
    ("import numpy as np\nimport xarray as xr", {}),
    (
        "ds = xr.open_dataset('data/prsn.nc')\nprint('mean prsn', float(ds['prsn'].mean()))",
        {},
    ),
    ("ds['prsn'].mean('time').to_netcdf('prsn_mean.nc')", {}),
    ("ds['prsn'].isel(time=-1).values[:2, :3]", {}),
    ("print(np.random.rand())", {}),
    ("print(np.random.rand())\n", {"espri_vre": {"atol": 1.0}}),
    (
        "import os\nfrom espri_vre.kernel import record_dataset\n"
        "from espri_vre.provenance.identifiers import DatasetIdentifiers\n"
        f"record_dataset(DatasetIdentifiers(doi={DOI!r}), path=os.path.abspath('data/prsn.nc'))",
        {},
    ),
    ("print(np.random.rand())", {"espri-vre": {"replay": "varies", "reason": "an unseeded draw"}}),
]


@dataclass
class Recorded:
    work: Path
    notebook: Path
    log: Path
    data: Path
    output: Path
    cell_ids: list[str]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256(path.read_bytes())


def record_notebook(work: Path, cells: list[tuple[str, dict[str, Any]]]) -> Recorded:
    """Writes the notebook, runs its cells in a real kernel that records (the notebook is
    named by JPY_SESSION_NAME, as jupyter_server does), and saves the outputs into it."""
    (work / "data").mkdir(parents=True)
    data = work / "data/prsn.nc"
    shutil.copyfile(CMIP6_FILE, data)
    data.chmod(0o644)
    notebook = work / "analysis.ipynb"
    nb = run_and_save(notebook, cells)
    (log,) = sorted((work / ".espri-vre-provenance/analysis").glob("*.jsonl"))
    return Recorded(work, notebook, log, data, work / "prsn_mean.nc", [c.id for c in nb.cells])


def run_and_save(notebook: Path, cells: list[tuple[str, dict[str, Any]]]) -> nbformat.NotebookNode:
    """Writes the notebook, runs its cells in a real kernel that records (the notebook named
    by JPY_SESSION_NAME, as jupyter_server does), and saves the outputs into it."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata=meta) for src, meta in cells]
    nbformat.write(nb, notebook)
    with fresh_kernel(notebook.parent, JPY_SESSION_NAME=str(notebook)) as kernel:
        for cell in nb.cells:
            result = kernel.run(cell.source, cell.id, timeout=90)
            assert result.status == "ok", result.outputs
            cell.outputs = [nbformat.from_dict(o) for o in result.outputs]
            cell.execution_count = result.execution_count
    nbformat.write(nb, notebook)
    return nb


def espri_vre_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it (until the `espri-vre` script is installed)."""
    return subprocess.run(
        [sys.executable, "-m", "espri_vre.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    if not CMIP6_FILE.is_file():
        pytest.skip(SKIP_NO_CMIP6)
    return record_notebook(tmp_path_factory.mktemp("analysis"), ANALYSIS_CELLS)


@pytest.fixture(scope="module")
def crate_dir(recorded: Recorded, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "crate"
    done = espri_vre_cli("export", str(recorded.notebook), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def graph(crate: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((crate / "ro-crate-metadata.json").read_text())
    return {e["@id"]: e for e in data["@graph"]}


def ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [i["@id"] for i in items]


def test_the_crate_loads_with_rocrate_and_declares_the_profiles(crate_dir: Path):
    from rocrate.rocrate import ROCrate

    crate = ROCrate(crate_dir)
    assert crate.mainEntity.id == "analysis.ipynb"
    types = crate.mainEntity.type
    assert {"File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"} <= set(types)
    entities = graph(crate_dir)
    assert set(ids(entities["./"]["conformsTo"])) == {
        "https://w3id.org/ro/wfrun/process/0.5",
        "https://w3id.org/ro/wfrun/workflow/0.5",
        "https://w3id.org/ro/wfrun/provenance/0.5",
        "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
    }
    assert ids(entities["ro-crate-metadata.json"]["conformsTo"]) == [
        "https://w3id.org/ro/crate/1.1",
        "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
    ]
    assert entities["#python"]["@type"] == "ComputerLanguage"


def test_each_cell_is_a_step_and_each_execution_an_action(crate_dir: Path, recorded: Recorded):
    entities = graph(crate_dir)
    workflow = entities["analysis.ipynb"]
    steps = [entities[i] for i in ids(workflow["step"])]
    # every cell but the one that loaded the extension (it ran before recording started)
    assert sorted(s["position"] for s in steps) == [str(i) for i in range(1, len(ANALYSIS_CELLS))]
    for step in steps:
        tool = entities[step["workExample"]["@id"]]
        assert tool["@type"] == "SoftwareApplication"
        assert tool["identifier"].startswith("sha256:")
    actions = [
        e for e in entities.values() if e["@type"] == "CreateAction" and "#execution/" in e["@id"]
    ]
    assert len(actions) == len(ANALYSIS_CELLS) - 1
    for action in actions:
        assert action["startTime"] <= action["endTime"]
        assert action["actionStatus"] == "http://schema.org/CompletedActionStatus"
        assert entities[action["instrument"]["@id"]]["@type"] == "SoftwareApplication"
    controls = [e for e in entities.values() if e["@type"] == "ControlAction"]
    assert len(controls) == len(actions)
    organize = entities["#organize"]
    run = entities[organize["result"]["@id"]]
    assert run["instrument"]["@id"] == "analysis.ipynb"
    assert ids(entities["./"]["mentions"]) == [run["@id"], *sorted(a["@id"] for a in actions)]


def test_input_and_output_files_carry_their_hashes_and_the_cmip6_identifiers(
    crate_dir: Path, recorded: Recorded
):
    import netCDF4

    entities = graph(crate_dir)
    run = entities[entities["#organize"]["result"]["@id"]]
    (source,) = [entities[i] for i in ids(run["object"])]
    # the catalogue's DOI names the input; the file's own tracking_id is an identifier
    assert source["@id"] == f"https://doi.org/{DOI}"
    assert source["sha256"] == sha256_file(recorded.data)
    assert source["contentSize"] == str(recorded.data.stat().st_size)
    with netCDF4.Dataset(recorded.data) as ds:
        tracking_id = ds.getncattr("tracking_id")
    values = {entities[i]["propertyID"]: entities[i]["value"] for i in ids(source["identifier"])}
    assert values["tracking_id"] == tracking_id
    assert values["dataset_id"] == (
        "CMIP6.CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.r4i1p1f2.Amon.prsn.gr"
    )
    (output,) = [entities[i] for i in ids(run["result"])]
    assert output["sha256"] == sha256_file(recorded.output)
    # small outputs are copied into the crate, unchanged
    assert sha256_file(crate_dir / output["@id"]) == output["sha256"]
    mean_action = next(
        e
        for e in entities.values()
        if e["@type"] == "CreateAction" and ids(e.get("object", [])) and "#execution/" in e["@id"]
    )
    assert ids(mean_action["object"]) == [source["@id"]]


def test_the_environment_and_the_log_are_in_the_crate(crate_dir: Path, recorded: Recorded):
    entities = graph(crate_dir)
    engine = entities["#engine"]
    requirements = {entities[i]["name"]: entities[i] for i in ids(engine["softwareRequirements"])}
    assert requirements["xarray"]["softwareVersion"] == version("xarray")
    assert requirements["netCDF4"]["softwareVersion"] == version("netCDF4")
    assert requirements[f"Python {sys.version.split()[0]}"]["@type"] == "SoftwareApplication"
    log_id = f"provenance/{recorded.log.name}"
    assert entities[log_id]["sha256"] == sha256_file(recorded.log)
    assert (crate_dir / log_id).read_bytes() == recorded.log.read_bytes()
    # the hash kept when the log was closed travels with it: a cut end is caught in the crate
    kept = crate_dir / f"provenance/{recorded.log.stem}.last-hash"
    assert kept_hash(crate_dir / log_id) == sha256(recorded.log.read_bytes().splitlines()[-1])
    assert entities[f"provenance/{kept.name}"]["about"] == {"@id": log_id}
    assert verify(crate_dir / log_id).ok


def test_the_recommended_fields_are_there(crate_dir: Path):
    data = json.loads((crate_dir / "ro-crate-metadata.json").read_text())
    # sha256 is not a term of RO-Crate 1.1's context: the crate defines it as 1.2's does
    assert data["@context"] == [
        "https://w3id.org/ro/crate/1.1/context",
        {"sha256": "http://schema.org/sha256"},
    ]
    entities = graph(crate_dir)
    root = entities["./"]
    author = entities[root["author"]["@id"]]
    assert author["@type"] == "Person" and author["name"] == getpass.getuser()
    actions = [e for e in entities.values() if e["@type"] in ("CreateAction", "OrganizeAction")]
    assert actions and all(a["agent"] == root["author"] for a in actions)
    assert all(a["description"] for a in actions)
    licence = entities[root["license"]["@id"]]
    assert licence["@type"] == "CreativeWork" and "no licence was given" in licence["name"]
    engine = entities["#engine"]
    for requirement in ids(engine["softwareRequirements"]):
        assert requirement.startswith(("https://pypi.org/project/", "https://www.python.org/"))
    source = entities["https://doi.org/" + DOI]
    assert isinstance(source["identifier"], list)  # several identifiers: a list
    tracking = entities[ids(source["identifier"])[0]]
    assert tracking["propertyID"] == "tracking_id"


def test_the_agent_is_the_hub_user_and_the_publisher_the_hub(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from espri_vre.provenance.crate import export_crate

    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "https://hub.example.org/hub/api")
    out = export_crate(
        recorded.notebook, tmp_path / "crate", license="https://spdx.org/licenses/CC-BY-4.0"
    )
    entities = graph(out)
    root = entities["./"]
    assert entities[root["author"]["@id"]]["name"] == "alice"
    assert entities[root["publisher"]["@id"]] == {
        "@id": "https://hub.example.org/",
        "@type": "Organization",
        "name": "JupyterHub https://hub.example.org/",
    }
    assert entities[entities["#organize"]["agent"]["@id"]]["name"] == "alice"
    assert root["license"] == {"@id": "https://spdx.org/licenses/CC-BY-4.0"}
    assert entities["https://spdx.org/licenses/CC-BY-4.0"]["@type"] == "CreativeWork"


RO_CRATE_CONTEXTS = SHARED / "schemas/ro-crate"
"""The genuine RO-Crate contexts, one folder per version (see its SOURCES.txt)."""


def offline_validator_cache(cache: Path) -> Path:
    """An HTTP cache for rocrate-validator's offline mode (this machine cannot reach w3id.org)
    holding each genuine RO-Crate context under its own address only, as the server's crate
    validation makes it: a crate that uses a term its declared version lacks must fail, as it
    would online."""
    return offline_cache(RO_CRATE_CONTEXTS, cache)


def test_the_crate_passes_rocrate_validator_for_the_provenance_run_crate_profile(
    crate_dir: Path, tmp_path: Path
):
    pytest.importorskip(
        "rocrate_validator", reason="rocrate-validator (PyPI roc-validator) is not installed"
    )
    from rocrate_validator import models, services

    # One pass at the RECOMMENDED level, which runs the REQUIRED checks too (each pass costs
    # seconds of SHACL); the levels are told apart by each issue's severity. That the same
    # validator fails a broken crate, naming the check, is tested through the crate view's route
    # (test_provenance_handlers).
    settings = models.ValidationSettings(
        rocrate_uri=str(crate_dir),
        profile_identifier="provenance-run-crate-0.5",
        requirement_severity=models.Severity.RECOMMENDED,
        offline=True,
        cache_path=offline_validator_cache(tmp_path / "validator-http-cache"),
    )
    result = services.validate(settings)
    required = models.Severity.REQUIRED
    assert result.passed(required), [str(i.message) for i in result.get_issues(required)]

    # at the RECOMMENDED level, the checks the crate is built to meet (the others need what the
    # recorder cannot know: a version and a URL for each cell, a result for a cell that wrote
    # nothing, a README, the DOI reachable from here)
    failed = {issue.check.name for issue in result.get_issues()}
    met = {
        "Action SHOULD be referenced via mentions from root",
        "Action description",
        "Action endTime",
        "Action startTime",
        "Action agent",
        "Action actionStatus",
        "Root Data Entity: `license` SHOULD link to a Contextual Entity",
        "Root Data Entity: `author` property",
        "Main Workflow Bioschemas compliance",
    }
    assert not failed & met, failed & met


def test_a_file_is_copied_only_while_it_holds_the_recorded_content(tmp_path: Path):
    """Its size and time as recorded: not re-hashed; else its hash decides."""
    from espri_vre.provenance.crate import _still_recorded
    from espri_vre.provenance.hashing import iso_mtime

    path = tmp_path / "input.txt"
    path.write_text("one")
    event = {"size": 3, "mtime": iso_mtime(path.stat().st_mtime_ns), "sha256": sha256(b"one")}
    assert _still_recorded(path, event)
    path.write_text("two")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1000))
    assert not _still_recorded(path, event)
    path.write_text("one")  # the recorded content again, at another time
    assert _still_recorded(path, event)
