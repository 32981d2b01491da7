"""The Jupyter server restarted while jobs run: a real Jupyter server process is killed (SIGKILL:
nothing is saved on the way out) while a local job and a job of the real Slurm 22.05 run, and a
new server process starts on the same configuration and job store. The history (a completed job,
its exit code and log) and the live state (both jobs still RUNNING, the running job's log, cancel
reaching both) come back through the new server's routes.

Each server is a process of its own, forked from the test's process (which has jupyter_server
imported already) and started as `jupyter server` starts one (`ServerApp.launch_instance`): a cold
`python -m jupyter_server` spends about 7 s importing jsonschema's format checkers here
(rfc3987_syntax compiles its grammars at import), twice per test."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.process
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_job_handlers import FINISHED

from espri_vre.jobs.store import JobStore

CLUSTERS = [
    {"id": "local", "title": "This server", "kind": "local", "max_running": 2},
    {"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"},
]
OTHER_EXTENSIONS = (
    "jupyterlab",
    "jupyter_lsp",
    "jupyter_server_proxy",
    "jupyter_server_terminals",
    "dask_labextension",
    "nbgitpuller",
    "notebook_shim",
)
"""Server extensions this environment enables, left out: the restart is the jobs' alone."""
START_TIMEOUT = 60


@dataclass
class Server:
    """A `jupyter server` process of this environment, on the loopback."""

    url: str
    token: str
    process: multiprocessing.process.BaseProcess

    def call(self, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, JSON body) of a GET, or of a POST when `body` is given."""
        request = urllib.request.Request(
            f"{self.url}/espri-vre/api/jobs{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The server's root, its Jupyter folders and its configuration (the same for both)."""
    for name in ("home", "config", "data", "runtime"):
        (tmp_path / name).mkdir()
    config = {
        "ServerApp": {
            "jpserver_extensions": {
                "espri_vre": True,
                **{name: False for name in OTHER_EXTENSIONS},
            },
            "root_dir": str(tmp_path / "home"),
            "open_browser": False,
            "ip": "127.0.0.1",
            # These machines run the tests as root; the server refuses root unless told.
            "allow_root": os.geteuid() == 0,
        },
        "EspriVreApp": {"clusters": CLUSTERS, "job_store_dir": str(tmp_path / "job-store")},
    }
    (tmp_path / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    return tmp_path


def _serve(argv: list[str], env: dict[str, str], log: str) -> None:
    """The forked server process: its own environment, output and event loop."""
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from jupyter_server.serverapp import ServerApp

    ServerApp.launch_instance(argv=argv)


def start_server(workspace: Path, slurm: Any) -> Server:
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **slurm.env,
        "JUPYTER_CONFIG_DIR": str(workspace / "config"),
        "JUPYTER_DATA_DIR": str(workspace / "data"),
        "JUPYTER_RUNTIME_DIR": str(workspace / "runtime"),
        "JUPYTER_TOKEN": token,
    }
    log = workspace / f"server-{port}.log"
    argv = [f"--port={port}", "--port-retries=0"]
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(argv, env, str(log)), daemon=False
    )
    process.start()
    server = Server(f"http://127.0.0.1:{port}", token, process)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if server.call("/clusters")[0] == 200:
                return server
        except OSError:
            pass
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            said = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"jupyter server did not start:\n{said}")
        time.sleep(0.2)


@pytest.fixture
def servers(workspace: Path, slurm: Any) -> Iterator[list[Server]]:
    """The servers a test starts; each killed at the end, and the Slurm jobs left cancelled."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.is_alive():
            server.process.kill()
            server.process.join(timeout=30)
    store = workspace / "job-store"
    if not (store / "jobs.sqlite").exists():
        return
    live = [r.job_id for r in JobStore(store).list("slurm") if not r.info.finished]
    if live:
        subprocess.run(
            ["scancel", *live], check=False, capture_output=True, timeout=30, env=slurm.env
        )
    for record in JobStore(store).list("local"):
        supervisor = record.process.get("supervisor_pid")
        if not record.info.finished and supervisor:
            with contextlib.suppress(ProcessLookupError):
                os.kill(supervisor, signal.SIGTERM)  # it stops the job and records it


def wait_for(server: Server, cluster: str, job_id: str, until: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        code, info = server.call(f"/{cluster}/{job_id}")
        assert code == 200, info
        if until(info):
            return info
        if time.monotonic() > deadline:
            pytest.fail(f"job {cluster}/{job_id} still {info['state']} after 90 s")
        time.sleep(0.25)


def running(info: dict[str, Any]) -> bool:
    return info["state"] == "RUNNING"


def finished(info: dict[str, Any]) -> bool:
    return info["state"] in FINISHED


def test_a_server_killed_while_jobs_run_gives_their_history_and_live_state_back(
    workspace, servers, slurm
):
    home = workspace / "home"
    (home / "done.sh").write_text("echo done\n")
    (home / "work.sh").write_text("echo started\nexec sleep 300\n")
    first = start_server(workspace, slurm)
    servers.append(first)
    submitted = {}
    for cluster, path in (("local", "done.sh"), ("local", "work.sh"), ("slurm", "work.sh")):
        code, info = first.call("", {"cluster": cluster, "spec": {"kind": "script", "path": path}})
        assert code == 201, info
        submitted[(cluster, path)] = info["id"]
    done = submitted[("local", "done.sh")]
    local, remote = submitted[("local", "work.sh")], submitted[("slurm", "work.sh")]
    assert wait_for(first, "local", done, finished)["state"] == "COMPLETED"
    wait_for(first, "local", local, running)
    wait_for(first, "slurm", remote, running)

    first.process.kill()  # SIGKILL
    first.process.join(timeout=30)
    assert first.process.exitcode == -signal.SIGKILL
    second = start_server(workspace, slurm)
    servers.append(second)

    code, listed = second.call("?cluster=all&mine=true")
    assert (code, listed["problems"]) == (200, [])
    states = {(j["cluster"], j["id"]): (j["state"], j.get("exit_code")) for j in listed["jobs"]}
    assert states[("local", done)] == ("COMPLETED", 0)
    assert states[("local", local)][0] == "RUNNING"
    assert states[("slurm", remote)][0] == "RUNNING"
    for cluster, job_id, text in (("local", done, "done\n"), ("local", local, "started\n")):
        code, chunk = second.call(f"/{cluster}/{job_id}/logs")
        assert (code, chunk["text"]) == (200, text)

    for cluster, job_id in (("local", local), ("slurm", remote)):
        code, info = second.call(f"/{cluster}/{job_id}/cancel", {})
        assert code == 200, info
        assert wait_for(second, cluster, job_id, finished)["state"] == "CANCELLED"
    assert os.path.isfile(workspace / "job-store" / "jobs.sqlite")
