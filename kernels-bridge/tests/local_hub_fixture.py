"""pytest plugin: the local JupyterHub of environments/local-hub, started once per session.

The session fixture `local_hub` runs environments/local-hub/start.sh (JupyterHub from .venv,
configurable-http-proxy from npm, the dummy login, one local process per user) on three free
ports, with the suite configured from the session's demo; `hub_login(name)` logs a user in
through the hub's login form, as a browser does, and returns the client with its cookies.
The hub stops its users' servers when it stops.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START = REPO_ROOT / "environments" / "local-hub" / "start.sh"
PASSWORD = "class-rehearsal"
START_TIMEOUT = 120


@dataclass(frozen=True)
class LocalHub:
    url: str
    state_dir: Path
    log: Path

    def home(self, name: str) -> Path:
        return self.state_dir / "home" / name


def _free_port_triple() -> int:
    """A port p with p, p+1, p+2 free (public proxy, hub, proxy API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base > 65000:
            continue
        try:
            for offset in (1, 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no three consecutive free ports")


@pytest.fixture(scope="session")
def local_hub(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[LocalHub]:
    state = tmp_path_factory.mktemp("local-hub")
    port = _free_port_triple()
    log = state / "hub.log"
    env = {
        **os.environ,
        "ESPRI_VRE_HUB_DIR": str(state),
        "ESPRI_VRE_HUB_PORT": str(port),
        "ESPRI_VRE_HUB_PASSWORD": PASSWORD,
        "ESPRI_VRE_DEMO_DIR": str(demo_dir),
    }
    with open(log, "wb") as out:
        hub = subprocess.Popen(
            ["bash", str(START)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if hub.poll() is not None:
                pytest.fail(f"the local hub exited ({hub.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/hub/login", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the local hub did not answer in time:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield LocalHub(url, state, log)
    finally:
        # JupyterHub stops the users' servers on SIGTERM; then the proxy goes with the group.
        hub.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            hub.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(hub.pid, signal.SIGTERM)


def login(hub: LocalHub, name: str, password: str = PASSWORD) -> httpx.Client:
    """A client logged in as `name` through the hub's login form (XSRF token included)."""
    client = httpx.Client(base_url=hub.url, follow_redirects=True, timeout=60)
    page = client.get("/hub/login")
    page.raise_for_status()
    match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
    xsrf = match.group(1) if match else client.cookies.get("_xsrf", "")
    done = client.post("/hub/login", data={"username": name, "password": password, "_xsrf": xsrf})
    if done.status_code != 200 or "jupyterhub-hub-login" not in client.cookies:
        client.close()
        raise AssertionError(f"{name} could not log in to the hub ({done.status_code})")
    return client


def wait_for_lab(
    client: httpx.Client, owner: str, timeout: float = START_TIMEOUT
) -> httpx.Response:
    """GET /user/<owner>/lab until JupyterLab itself answers (the server may still be starting;
    the first visit also goes through the hub's OAuth, which sets the server's cookie)."""
    deadline = time.monotonic() + timeout
    while True:
        response = authorize(client, client.get(f"/user/{owner}/lab"))
        if response.url.path == f"/user/{owner}/lab" and response.status_code == 200:
            return response
        if response.status_code == 403 or time.monotonic() > deadline:
            return response
        time.sleep(1)


def authorize(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Presses "Authorize" when the hub asks a user to confirm access to another user's server
    (a teacher opening a student's), as the user would; any other response is returned as is."""
    if response.url.path != "/hub/api/oauth2/authorize" or response.status_code != 200:
        return response
    form = re.search(r'<form method="post".*?</form>', response.text, re.S)
    assert form, response.text[:2000]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post(str(response.url), data=data)


@pytest.fixture(scope="session")
def hub_login(local_hub: LocalHub) -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        client = login(local_hub, name)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
