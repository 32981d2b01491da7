"""Issue 2: the status endpoint's round trip against jupyter_server's own /api/status.

Both are answered by the same real server, started with the demo configuration, so the
ratio shows what the concurrent reachability checks of every catalogue, cluster and data
root cost over a plain authenticated JSON answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness import Context, Row, interleaved_times
from serverproc import request, start_server, stop


def run(ctx: Context) -> list[Row]:
    demo = ctx.work / "demo"
    subprocess.run([sys.executable, "-m", "espri_vre.demo", "build", str(demo)], check=True)
    config = json.loads((demo / "jupyter_server_config.json").read_text())
    server, base, token = start_server(
        Path(sys.executable), config, demo, ctx.work / "status-server.log", dict(os.environ)
    )
    get = request
    try:
        status = json.loads(get(f"{base}/espri-vre/api/status", token))
        n = len(status["catalogs"]) + len(status["clusters"]) + len(status["data_roots"])
        ours, anchor = interleaved_times(
            lambda: get(f"{base}/espri-vre/api/status", token),
            lambda: get(f"{base}/api/status", token),
            ctx.repeat,
        )
    finally:
        stop(server)
    return [
        Row.measured(
            issue="#2",
            task=f"GET /espri-vre/api/status ({n} reachability checks), median of {ctx.repeat} "
            "interleaved rounds",
            ours_runs=ours,
            anchor_name="jupyter_server GET /api/status",
            anchor_runs=anchor,
            unit="ms",
            target="informational (harness check)",
            note="the ratio is below 1 by design: our endpoint checks every catalogue, cluster "
            "and data root concurrently, each within reachability_timeout.",
        )
    ]
