"""A notebook run as a job on the real Slurm (scripts/slurm, through slurm_fixture) gives a crate
that links the job and replays; its Binder folder is what makes it replay on Binder:
repo2docker installs `binder/requirements.txt` for the recorded Python (`binder/runtime.txt`),
then runs `binder/postBuild` in the crate's folder, which replays the run. The job runs the
sample a reviewer receives (espri_vre.provenance.sample: nbclient in a real kernel that
records, as notebook jobs run; the author's folder deleted after the export).

The pip install of the pinned packages needs the internet (PyPI), which these machines do not
have: the test checks what requirements.txt pins against the recorded lock, and runs postBuild
itself in a clean environment (a copy of the crate as Binder clones it, a new HOME, no
PYTHONPATH, IPYTHONDIR or virtualenv activation; only the interpreter's bin folder on PATH, where
the packages it pins are installed)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from espri_vre.provenance.sample import VARIES_REASON


@pytest.fixture(scope="module")
def job(slurm: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the crate, the job id) of the sample run as a Slurm batch job."""
    out = tmp_path_factory.mktemp("job") / "sample"
    command = shlex.join([sys.executable, "-m", "espri_vre.provenance.sample", str(out)])
    done = subprocess.run(
        ["sbatch", "--wait", "--parsable", f"--output={out}.log", "--wrap", command],
        env=slurm.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    said = Path(f"{out}.log").read_text() if Path(f"{out}.log").exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + said
    return out / "crate", done.stdout.strip().split(";")[0]


@pytest.fixture(scope="module")
def crate(job: tuple[Path, str]) -> Path:
    return job[0]


def test_the_crate_of_a_slurm_job_links_the_job(job: tuple[Path, str]):
    crate, job_id = job
    graph = {
        e["@id"]: e for e in json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]
    }
    (run,) = [e for i, e in graph.items() if i.startswith("#run/")]
    linked = graph[f"#job/slurm/espri-vre/{job_id}"]
    assert run["identifier"] == {"@id": f"#job/slurm/espri-vre/{job_id}"}
    assert (linked["@type"], linked["propertyID"], linked["value"]) == (
        "PropertyValue",
        "slurm_job_id",
        job_id,
    )
    assert linked["name"] == f"Slurm job {job_id} on cluster espri-vre"
    assert "partition debug" in linked["description"]
    assert "node localhost" in linked["description"]
    assert "job name wrap" in linked["description"]
    # the batch script Slurm ran (sbatch --wrap writes one), in the crate, about the job
    script = f"job/{job_id}.sh"
    assert linked["subjectOf"] == {"@id": script}
    assert graph[script]["about"] == {"@id": f"#job/slurm/espri-vre/{job_id}"}
    assert {"@id": script} in graph["./"]["hasPart"]
    text = (crate / script).read_text()
    assert text.startswith("#!/bin/sh\n# This script was created by sbatch --wrap.")
    assert "espri_vre.provenance.sample" in text
    assert graph[script]["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def clean_env(home: Path) -> dict[str, str]:
    """What a Binder image's build step has: its Python's bin folder on PATH, its own HOME."""
    home.mkdir()
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


def run_post_build(crate: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(crate / "binder/postBuild")],
        cwd=home.parent,  # repo2docker's cwd is the repository; postBuild goes there itself
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_binder_folder_pins_the_recorded_lock_and_python(crate: Path):
    (log,) = (crate / "provenance").glob("*.jsonl")
    session = json.loads(log.read_text().splitlines()[0])
    assert session["kind"] == "session"
    pinned = (crate / "binder/requirements.txt").read_text().splitlines()
    assert pinned[0].startswith("#")
    names = [line.split("==")[0] for line in pinned[1:]]
    assert names == sorted(names, key=str.lower)
    assert set(pinned[1:]) == {f"{p['name']}=={p['version']}" for p in session["packages"]}
    assert f"espri-vre=={version('espri-vre')}" in pinned
    assert f"xarray=={version('xarray')}" in pinned
    major, minor = sys.version_info[:2]
    assert (crate / "binder/runtime.txt").read_text() == f"python-{major}.{minor}\n"
    assert os.access(crate / "binder/postBuild", os.X_OK)
    # the crate lists them with their hashes, as it does every file it holds
    graph = {
        e["@id"]: e for e in json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]
    }
    for name in ("requirements.txt", "runtime.txt", "postBuild"):
        entity = graph[f"binder/{name}"]
        digest = hashlib.sha256((crate / "binder" / name).read_bytes()).hexdigest()
        assert entity["sha256"] == digest
        assert {"@id": f"binder/{name}"} in graph["./"]["hasPart"]


def test_binder_post_build_replays_the_crate_in_a_clean_environment_pip_install_needs_internet(
    crate: Path, tmp_path: Path
):
    cloned = tmp_path / "repo"
    shutil.copytree(crate, cloned)
    done = run_post_build(cloned, tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "some cells differ from the recorded run" in done.stdout

    report = json.loads((cloned / "replay-report/report.json").read_text())
    assert report["summary"] == {"identical": 2, "equivalent": 0, "differs": 2, "unverifiable": 0}
    assert [c["declared"] for c in report["cells"]] == [
        None,
        None,
        f"varies: {VARIES_REASON}",
        None,
    ]
    (mean,) = report["cells"][1]["outputs"]
    assert mean["verdict"] == "identical"
    assert Path(mean["path"]) == cloned / "replay-report/work/mean.txt"
    (stations,) = report["inputs"]
    assert (stations["status"], stations["source"]) == ("ok", "crate")
    # the replay wrote only into its report folder: the crate's own files are untouched
    assert sorted(p.name for p in cloned.iterdir()) == sorted(
        [*(p.name for p in crate.iterdir()), "replay-report"]
    )


def test_binder_post_build_fails_the_build_when_the_crate_cannot_be_replayed(
    crate: Path, tmp_path: Path
):
    cloned = tmp_path / "repo"
    shutil.copytree(crate, cloned)
    (cloned / "ro-crate-metadata.json").write_text("{ not json")
    done = run_post_build(cloned, tmp_path / "home")
    assert done.returncode == 2
    assert "the crate could not be replayed (espri-vre exit 2)" in done.stderr
    assert "ro-crate-metadata.json" in done.stderr
    assert not (cloned / "replay-report").exists()
