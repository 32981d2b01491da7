"""Issue 2: the status endpoint's round trip against jupyter_server's own /api/status.

Both are answered by the same real server, started with the demo configuration, so the
ratio shows what the concurrent reachability checks of every catalogue, cluster and data
root cost over a plain authenticated JSON answer.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from harness import Context, Row, median_time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> bytes:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def run(ctx: Context) -> list[Row]:
    demo = ctx.work / "demo"
    subprocess.run([sys.executable, "-m", "espri_vre.demo", "build", str(demo)], check=True)
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--config",
            str(demo / "jupyter_server_config.json"),
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            "--allow-root",  # these machines run as root; jupyter refuses root without it
        ],
        stdout=subprocess.DEVNULL,
        stderr=(ctx.work / "status-server.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"{base}/api/status", token)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Jupyter server did not start within 60 s") from None
                time.sleep(0.2)
        status = json.loads(get(f"{base}/espri-vre/api/status", token))
        n = len(status["catalogs"]) + len(status["clusters"]) + len(status["data_roots"])
        ours = median_time(lambda: get(f"{base}/espri-vre/api/status", token), ctx.repeat)
        anchor = median_time(lambda: get(f"{base}/api/status", token), ctx.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return [
        Row(
            issue="#2",
            task=f"GET /espri-vre/api/status ({n} reachability checks), median of {ctx.repeat}",
            ours=ours,
            anchor_name="jupyter_server GET /api/status",
            anchor=anchor,
            unit="ms",
            target="informational (harness check)",
            note="the ratio is below 1 by design: our endpoint checks every catalogue, cluster "
            "and data root concurrently, each within reachability_timeout.",
        )
    ]
