"""Shared fixtures: a demo built once per session, a real local HTTP server, the shared folder."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# h5py's HDF5 and the hdf5plugin filters first: netCDF4's wheel carries its own libhdf5, and
# when it is loaded first the filters bind to it, so writing a blosc dataset through h5py fails
# ("error during user callback") in every test collected after a module that imports netCDF4.
import h5py  # noqa: F401, I001
import hdf5plugin  # noqa: F401
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "slurm_fixture",
    "jobs_fixtures",
    "jobs_server_fixtures",
    "sshd_fixture",
    "local_hub_fixture",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
"""The project's shared folder (real data and recorded fixtures), beside the repository."""

KERNEL_TIMEOUT = 120


PART_VARIABLE = "ESPRI_VRE_PYTEST_PART"
"""scripts/test.sh runs the suite as two pytest processes at once: `slurm` (every module with a
test that uses the one-node Slurm, one test after another) and `others` (the rest, in two
pytest-xdist workers, each module whole on one worker: `-n 2 --dist loadfile`). Most of a test
here is waiting for a kernel, a server or Slurm. Slurm tests expect the node's CPUs for their own
jobs (a start estimate counts the jobs ahead), and some point the shared MailProg at their own
SMTP server: they never run beside each other. Unset: every test, in one process.
(xdist's own grouping, --dist loadgroup, marks tests through a node attribute pytest 9.2 no
longer reads: every test was shared out alone, and two Slurm tests met on the node.)"""
SLURM_FIXTURES = {"slurm", "jobs_server_config"}
"""jobs_server_config asks for the `slurm` fixture at run time when its clusters include Slurm."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    part = os.environ.get(PART_VARIABLE)
    if not part:
        return
    if part not in ("slurm", "others"):
        raise pytest.UsageError(f"{PART_VARIABLE} is 'slurm' or 'others', not {part!r}")
    uses_slurm = {
        item.nodeid.split("::", 1)[0] for item in items if SLURM_FIXTURES & set(item.fixturenames)
    }
    slurm_part = part == "slurm"
    keep, drop = [], []
    for item in items:
        in_part = (item.nodeid.split("::", 1)[0] in uses_slurm) == slurm_part
        (keep if in_part else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


@contextmanager
def real_kernel(cwd: Path | None = None) -> Iterator[BlockingKernelClient]:
    """A real IPython kernel (this venv's python3 spec) started by jupyter_client, as
    JupyterLab starts one; shut down on exit."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(**({"cwd": str(cwd)} if cwd is not None else {}))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=KERNEL_TIMEOUT)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@dataclass
class Cell:
    """A cell run in a real kernel: what it printed on stdout and the comm messages it sent
    (a widget's)."""

    printed: str
    comms: list[dict[str, Any]]


def run_cell(
    client: BlockingKernelClient,
    code: str,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> Cell:
    """Runs `code` as a notebook cell; fails with the cell's traceback when it raised.
    `on_message` sees each comm message as it comes (to answer it as a browser would)."""
    printed: list[str] = []
    comms: list[dict[str, Any]] = []
    errors: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            printed.append(content["text"])
        elif kind == "error":
            errors.extend(content["traceback"])
        elif kind in ("comm_open", "comm_msg"):
            comms.append(msg)
            if on_message:
                on_message(msg)

    reply = client.execute_interactive(code, timeout=KERNEL_TIMEOUT, output_hook=hook)
    assert reply["content"]["status"] == "ok", "\n".join(errors)
    return Cell("".join(printed), comms)


@contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A real file system of `size` (tmpfs's size=) mounted at `mount`, to fill: the test is
    skipped where it cannot be mounted (it needs root and mount(8), as in CI); unmounted on
    exit."""
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip(f"a {size} tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system."""
    with tmpfs(tmp_path / "tiny", "64k") as mount:
        yield mount


needs_shared = pytest.mark.skipif(
    not (SHARED / "data").is_dir(),
    reason=f"the shared folder with real data ({SHARED / 'data'}) is absent",
)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo, built once through the command line as a user runs it: (DIR, printed text)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    args = [sys.executable, "-m", "espri_vre.demo", "build", str(out)]
    if (SHARED / "data").is_dir():
        args += ["--shared", str(SHARED)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out, done.stdout


@pytest.fixture(scope="session")
def demo_dir(demo_build: tuple[Path, str]) -> Path:
    return demo_build[0]


class _Handler(http.server.BaseHTTPRequestHandler):
    """200 with a small JSON body on /catalog.json, 404 elsewhere."""

    def do_GET(self) -> None:
        if self.path == "/catalog.json":
            body = b'{"type": "Catalog", "id": "local", "stac_version": "1.0.0", "links": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b"not here"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def http_catalog_server() -> Iterator[str]:
    """A real HTTP server on a free local port; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
