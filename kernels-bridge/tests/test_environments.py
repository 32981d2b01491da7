"""The single-user environments (environments/): the locks, their conda mirrors, the images'
recipes, and the CPU lock installed for real into a fresh virtual environment.

The install test is the slow one of this file (`test_cpu_lock_installs...`, a 20-minute
timeout): it installs the whole CPU lock from PyPI with uv (PyPI's `uv`, a test extra), whose
cache makes later runs take seconds to a minute; the first run downloads about 1 GB.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from packaging.requirements import Requirement
from packaging.version import Version
from uv import find_uv_bin

from espri_vre.provenance import validation

ENV = REPO_ROOT / "environments"
sys.path.insert(0, str(ENV))
import lock  # noqa: E402  (environments/lock.py: the lock maker, read here as a module)

LABEXTENSIONS = REPO_ROOT / "kernels-bridge" / "src" / "espri_vre" / "labextensions" / "@espri-vre"
EXTENSIONS = sorted(p.name for p in LABEXTENSIONS.iterdir()) if LABEXTENSIONS.is_dir() else []


def pins(variant: str) -> dict[str, str]:
    return lock.read_lock(ENV / f"requirements-{variant}.txt")


@pytest.mark.parametrize("variant", lock.VARIANTS)
def test_every_package_asked_for_is_pinned_in_the_lock(variant) -> None:
    locked = pins(variant)
    missing = [name for name in lock.top_level(variant) if name not in locked]
    assert missing == []
    for name in ("jupyterlab", "xarray", "dask-jobqueue", "intake-esm", "kerchunk", "cartopy"):
        assert name in locked
    assert Version(locked["jupyterlab"]).release[:2] == (4, 6)


@pytest.mark.parametrize("variant", lock.VARIANTS)
def test_the_lock_satisfies_espri_vre_s_own_requirements(variant) -> None:
    locked = pins(variant)
    project = tomllib.loads((REPO_ROOT / "kernels-bridge" / "pyproject.toml").read_text())
    unmet = []
    for text in project["project"]["dependencies"]:
        req = Requirement(text)
        version = locked.get(lock.normalise(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            unmet.append(f"{text} (locked: {version})")
    assert unmet == []


def test_the_gpu_lock_is_the_cpu_lock_plus_pytorch() -> None:
    cpu, gpu = pins("cpu"), pins("gpu")
    assert {name: gpu.get(name) for name in cpu} == cpu
    assert "torch" in gpu and "torch" not in cpu
    # PyTorch's Linux wheels on PyPI are the CUDA builds: their CUDA libraries are in the lock.
    assert any(name.startswith("nvidia-") for name in set(gpu) - set(cpu))


def test_the_conda_files_mirror_the_locks() -> None:
    assert lock.main(["--check"]) == 0
    conda = (ENV / "environment-gpu.yml").read_text()
    assert f"  - pytorch={pins('gpu')['torch']}=cuda*\n" in conda
    assert f"  - xarray={pins('gpu')['xarray']}\n" in conda


def test_the_conda_mirror_check_catches_a_drift(tmp_path, monkeypatch) -> None:
    for name in ("requirements-cpu.in", "requirements-gpu.in"):
        (tmp_path / name).write_text((ENV / name).read_text())
    for variant in lock.VARIANTS:
        (tmp_path / f"requirements-{variant}.txt").write_text(
            (ENV / f"requirements-{variant}.txt").read_text()
        )
        (tmp_path / f"environment-{variant}.yml").write_text(lock.conda_environment(variant))
    monkeypatch.setattr(lock, "HERE", tmp_path)
    assert lock.main(["--check"]) == 0
    cpu = tmp_path / "requirements-cpu.txt"
    cpu.write_text(re.sub(r"^xarray==\S+", "xarray==2000.1.0", cpu.read_text(), flags=re.M))
    assert lock.main(["--check"]) == 1


def test_the_images_install_the_locks_and_load_the_capture_in_every_kernel() -> None:
    cpu = (ENV / "Dockerfile").read_text()
    # The base is a build argument: the registry's Debian for the centre's CI, a debootstrap
    # base for scripts/images.sh; Debian's own Python 3.11.
    assert re.search(r"^ARG BASE=debian:bookworm-slim\nFROM \$\{BASE\}$", cpu, re.M)
    assert "python3 python3-venv" in cpu
    assert "ARG LOCK=requirements-cpu.txt" in cpu
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in cpu
    assert "--no-deps /tmp/wheels/espri_vre-*.whl" in cpu and "pip check" in cpu
    assert "$VIRTUAL_ENV/etc/ipython/ipython_kernel_config.py" in cpu
    # The wheel carries the prebuilt labextensions: no Node.js stage, no npm in the image.
    instructions = "\n".join(line for line in cpu.splitlines() if not line.startswith("#"))
    assert "npm" not in instructions and "node" not in instructions
    gpu = (ENV / "Dockerfile.gpu").read_text()
    assert "requirements-gpu.txt" in gpu and "singleuser-cpu" in gpu
    # The per-Dockerfile ignore files (BuildKit reads them; scripts/images.sh passes them to
    # buildah) let only what the image installs into the build context.
    ignored = (ENV / "Dockerfile.dockerignore").read_text().split()
    assert ignored[ignored.index("*") :] == [
        "*",
        "!environments/requirements-cpu.txt",
        "!environments/requirements-gpu.txt",
        "!environments/ipython_kernel_config.py",
        "!dist/espri_vre-*.whl",
    ]
    assert "!environments/requirements-gpu.txt" in (ENV / "Dockerfile.gpu.dockerignore").read_text()
    config = (ENV / "ipython_kernel_config.py").read_text()
    assert 'c.InteractiveShellApp.extensions.append("espri_vre")' in config


def dockerfile_instructions(text: str) -> list[str]:
    """The instructions of a Dockerfile, continuation lines joined, comments left out."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.split(r"(?<!\\)\n", "\n".join(lines).replace("\\\n", " ")) if i]


def test_the_image_fetches_each_ro_crate_context_from_its_own_address_no_internet_here(
    tmp_path,
) -> None:
    """The build machine reaches w3id.org, this one does not: the Dockerfile is read, and the
    fetch it runs is run against a refused proxy (no request leaves the machine)."""
    instructions = dockerfile_instructions((ENV / "Dockerfile").read_text())
    # the folder by default; an empty build argument leaves the server to validate online
    arg = f"ARG ROCRATE_CONTEXTS={validation.IMAGE_CONTEXTS}"
    env = "ENV ESPRI_VRE_ROCRATE_CONTEXTS=${ROCRATE_CONTEXTS}"
    (fetch,) = [i for i in instructions if "fetch-contexts" in i]
    assert instructions.index(arg) + 1 == instructions.index(env) < instructions.index(fetch)
    assert '&& if [ -n "$ESPRI_VRE_ROCRATE_CONTEXTS" ]; then' in fetch
    assert validation.contexts_folder({"ESPRI_VRE_ROCRATE_CONTEXTS": ""}) is None
    # after the wheel's install, which brings the module and roc-validator
    wheel = next(i for i in instructions if "espri_vre-*.whl" in i and i.startswith("RUN"))
    assert instructions.index(wheel) < instructions.index(fetch)
    command = re.search(r"; then\s+(python -m .*?);\s+fi$", fetch)
    assert command is not None, fetch
    words = shlex.split(command.group(1))
    assert words[:5] == [
        "python",
        "-m",
        "espri_vre.provenance.validation",
        "fetch-contexts",
        "$ESPRI_VRE_ROCRATE_CONTEXTS",
    ]
    assert words[5:] == [
        "https://w3id.org/ro/crate/1.1/context",
        "https://w3id.org/ro/crate/1.2/context",
        "https://w3id.org/ro/crate/1.3/context",
    ]
    assert tuple(w.split("/")[-2] for w in words[5:]) == validation.VERSIONS

    # the same command where w3id.org cannot be reached: exit 2, saying so, nothing written
    refused = {**os.environ, "HTTPS_PROXY": f"http://127.0.0.1:{_free_port()}"}
    done = subprocess.run(
        [sys.executable, *words[1:4], str(tmp_path / "contexts"), *words[5:]],
        env=refused,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "fetch-contexts: https://w3id.org/ro/crate/1.1/context did not answer"
    )
    assert not (tmp_path / "contexts").exists()
    # an address that is not an RO-Crate context's is refused before anything is fetched
    assert validation.main(["fetch-contexts", str(tmp_path / "c"), "https://w3id.org/x"]) == 2
    assert not (tmp_path / "c").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    out = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colours
    assert done.returncode == 0, f"{' '.join(args)}\n{out[-4000:]}"
    return out


@pytest.mark.timeout(1200)
@pytest.mark.skipif(not EXTENSIONS, reason="the labextensions are not built (npm run build)")
def test_cpu_lock_installs_into_a_fresh_venv_with_every_extension_enabled(tmp_path) -> None:
    """The whole CPU lock, then espri-vre as the image installs it (a wheel, no dependencies),
    in a new virtual environment; every espri-vre extension enabled; JupyterLab serves the suite;
    a kernel has the provenance capture loaded without being asked."""
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "VIRTUAL_ENV": str(venv),
        "LANG": "C.UTF-8",
    }
    for name in ("UV_CACHE_DIR", "XDG_CACHE_HOME", "SSL_CERT_FILE", "PIP_CERT"):
        if name in os.environ:
            env[name] = os.environ[name]
    if "UV_CACHE_DIR" not in env:  # share the developer's uv cache though HOME is new
        env["UV_CACHE_DIR"] = str(Path.home() / ".cache" / "uv")
    # The uv binary itself: `python -m uv` would aim its pip at this interpreter's environment.
    uv = [find_uv_bin()]
    _run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env)
    _run([*uv, "pip", "install", "--quiet", "-r", str(ENV / "requirements-cpu.txt")], env, 1000)
    _run([*uv, "pip", "install", "--quiet", "--no-deps", str(REPO_ROOT / "kernels-bridge")], env)
    etc = venv / "etc" / "ipython"
    etc.mkdir(parents=True)
    (etc / "ipython_kernel_config.py").write_text((ENV / "ipython_kernel_config.py").read_text())
    py = str(venv / "bin" / "python")
    assert "All installed packages are compatible" in _run(
        [*uv, "pip", "check", "--python", py], env
    )

    servers = _run([str(venv / "bin" / "jupyter"), "server", "extension", "list"], env)
    assert re.search(r"espri_vre\s+enabled", servers), servers
    assert re.search(r"espri_vre \S+ OK", servers), servers
    labexts = _run([str(venv / "bin" / "jupyter"), "labextension", "list"], env)
    for name in EXTENSIONS:
        assert re.search(rf"@espri-vre/{name} v\S+ enabled\s+OK", labexts), labexts
    assert str(venv / "share" / "jupyter" / "labextensions") in labexts  # installed, not linked

    kernel = _run(
        [
            str(venv / "bin" / "jupyter"),
            "run",
            "--kernel=python3",
            str(
                _write(
                    tmp_path / "probe.py", "print(sorted(get_ipython().extension_manager.loaded))"
                )
            ),
        ],
        env,
        180,
    )
    assert "espri_vre" in kernel, kernel

    port = _free_port()
    args = [
        str(venv / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--IdentityProvider.token=env-test",
        f"--ServerApp.root_dir={home}",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    server = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        status = _get_json(f"{base}/espri-vre/api/status?token=env-test", server)
        assert status["version"] == "0.1.0"
        with urllib.request.urlopen(f"{base}/lab?token=env-test", timeout=30) as response:
            page = response.read().decode()
        config = json.loads(
            re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1)
        )
        federated = {e["name"] for e in config["federated_extensions"]}
        assert {f"@espri-vre/{name}" for name in EXTENSIONS} <= federated
    finally:
        server.terminate()
        server.wait(timeout=30)


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path


def _get_json(url: str, server: subprocess.Popen, wait: float = 120) -> dict:
    """The JSON at `url` once the server answers (it may take a while to start)."""
    deadline = time.monotonic() + wait
    while True:
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited: {server.stdout.read().decode()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_binder_replays_in_the_cpu_environment_with_the_capture_loaded() -> None:
    binder = (REPO_ROOT / "binder" / "environment.yml").read_text()
    assert f"  - xarray={pins('cpu')['xarray']}\n" in binder
    assert "  - nodejs=20\n" in binder and "kernels-bridge" not in binder
    post = (REPO_ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps ./kernels-bridge" in post
    assert "environments/ipython_kernel_config.py" in post
    assert os.access(REPO_ROOT / "binder" / "postBuild", os.X_OK)
