"""A real `jupyter server` process for the benchmarks: start on a free port, call, stop.

Shared by the bench_*.py modules that measure a route of ours against another tool."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ours_config(**app: object) -> dict:
    """A server of ours: the espri_vre extension with no catalogue, cluster or data root but
    the EspriVreApp traits given by name."""
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {"catalogs": [], "clusters": [], "data_roots": [], **app},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, token: str, body: dict | None = None, method: str | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": f"token {token}"}
    )
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.read()


def start_server(
    python: Path,
    config: dict,
    root: Path,
    log: Path,
    env: dict[str, str],
    config_path: Path | None = None,
) -> tuple[subprocess.Popen, str, str]:
    """A real jupyter server on a free port; waits until /api/status answers. Its
    configuration is written to `config_path` (default: root/jupyter_server_config.json)."""
    port, token = free_port(), secrets.token_hex(16)
    cfg = config_path or root / "jupyter_server_config.json"
    cfg.write_text(json.dumps(config))
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "jupyter",
            "server",
            "--config",
            str(cfg),
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            "--allow-root",  # these machines run as root; jupyter refuses root without it
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env=env,
        cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            request(f"{base}/api/status", token)
            return server, base, token
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                stop(server)
                raise RuntimeError(f"the Jupyter server did not start; see {log}") from None
            time.sleep(0.2)


@contextmanager
def running(
    python: Path, config: dict, root: Path, log: Path, env: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """start_server's server as (base URL, token), stopped on leaving the block."""
    server, base, token = start_server(python, config, root, log, env)
    try:
        yield base, token
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
