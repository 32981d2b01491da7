"""The espri-vre wheel, as the images install it (environments/Dockerfile installs the lock, then
this wheel without dependencies, and has no Node.js): built here with uv from kernels-bridge/
after `npm run build`, then listed. It must carry every prebuilt labextension, file for file,
and the server extension's enabling configuration."""

from __future__ import annotations

import json
import subprocess
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from uv import find_uv_bin

LABEXTENSIONS = REPO_ROOT / "kernels-bridge" / "src" / "espri_vre" / "labextensions" / "@espri-vre"
DATA = "espri_vre-0.1.0.data/data/"
SHARED_LABEXT = DATA + "share/jupyter/labextensions/@espri-vre/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    if not (LABEXTENSIONS / "catalog" / "package.json").is_file():
        pytest.fail(f"the labextensions are not built in {LABEXTENSIONS}: run npm run build")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            find_uv_bin(),
            "build",
            "--wheel",
            "--out-dir",
            str(out),
            str(REPO_ROOT / "kernels-bridge"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [path] = out.glob("espri_vre-*.whl")
    archive = zipfile.ZipFile(path)
    yield archive
    archive.close()


def built_files(extension: Path) -> set[str]:
    return {p.relative_to(extension).as_posix() for p in extension.rglob("*") if p.is_file()}


def test_the_wheel_carries_every_prebuilt_labextension_file_for_file(wheel) -> None:
    names = sorted(p.name for p in LABEXTENSIONS.iterdir() if p.is_dir())
    assert {"catalog", "jobs", "preview", "globe", "provenance", "dask"} <= set(names)
    listed = wheel.namelist()
    for name in names:
        prefix = f"{SHARED_LABEXT}{name}/"
        in_wheel = {n[len(prefix) :] for n in listed if n.startswith(prefix)}
        assert in_wheel == built_files(LABEXTENSIONS / name), name
        package = json.loads(wheel.read(prefix + "package.json"))
        assert package["name"] == f"@espri-vre/{name}"
        # The federated entry point JupyterLab loads is in the wheel.
        assert prefix + package["jupyterlab"]["_build"]["load"] in listed, name
    # Shipped once, as data files: not a second copy inside the package.
    assert not [n for n in listed if n.startswith("espri_vre/labextensions/")]


def test_the_wheel_enables_the_server_extension_and_names_its_requirements(wheel) -> None:
    config = json.loads(wheel.read(DATA + "etc/jupyter/jupyter_server_config.d/espri_vre.json"))
    assert config == {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}
    assert "espri_vre/server/app.py" in wheel.namelist()
    [metadata_name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    assert metadata["Name"] == "espri-vre"
    requires = metadata.get_all("Requires-Dist")
    assert "jupyterlab<4.7,>=4.6" in requires
    assert not any("extra ==" not in r and r.startswith("pytest") for r in requires)
