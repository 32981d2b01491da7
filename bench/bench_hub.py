"""Issue 19: many users at once. The local JupyterHub (environments/local-hub: the real hub,
configurable-http-proxy and one real jupyterhub-singleuser server per user) with N_USERS
students, each doing what an open JupyterLab of the suite does for DURATION seconds, all at
the same time, on the loopback only:

- the Jobs panel and the Dask panel each poll the job list every 2 s (two requests per user
  every 2 s, as two open panels make);
- every 30 s, the catalogue table of the CMIP6 sample (intake-esm) is loaded;
- every 30 s, a file is previewed: data/info, data/references, then its first chunk by a
  Range request, as the preview does;
- every 10 s, the hub's own API is asked who the user is (GET /hub/api/user).

Reported: the latency of each kind of request through the hub's proxy (median with min-max,
p95 in the note) against jupyter_server's own GET /api/status of the same servers under the
same load (the floor of an authenticated JSON answer through the same proxy); errors (target:
none); each server's memory; and the squeue calls that reach Slurm (slurmctld's own RPC
counters, `sdiag`), against one per job-list request (what a handler that runs squeue on
every request, as jupyterlab-slurm's does, would send). Target: at most one squeue per server
every 2 s.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from harness import Context, Row, median_range

# The local hub's own helpers, as its tests use them (kernels-bridge/tests/local_hub_fixture.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels-bridge" / "tests"))
from local_hub_fixture import LocalHub, _free_port_triple, wait_for_lab  # noqa: E402
from local_hub_fixture import login as hub_login  # noqa: E402

N_USERS = int(os.environ.get("ESPRI_VRE_BENCH_HUB_USERS", "20"))
DURATION = float(os.environ.get("ESPRI_VRE_BENCH_HUB_SECONDS", "300"))
POLL = 2.0
EVERY = 30.0
PASSWORD = "bench-many-users"
SLURM_DIR = Path(os.environ.get("ESPRI_SLURM_DIR", "/tmp/espri-vre-slurm"))
SLURM_RPCS = ("REQUEST_JOB_INFO", "REQUEST_JOB_USER_INFO")
"""The RPCs squeue sends (all jobs; one user's jobs)."""


def squeue_rpcs(env: dict[str, str]) -> int:
    """squeue's RPCs counted by slurmctld since it started (`sdiag`)."""
    out = subprocess.run(["sdiag"], env=env, capture_output=True, text=True, check=True).stdout
    total = 0
    for name in SLURM_RPCS:
        m = re.search(rf"^\s*{name}\s+\(\s*\d+\)\s+count:(\d+)", out, re.M)
        total += int(m.group(1)) if m else 0
    return total


def login(url: str, state: Path, name: str) -> httpx.Client:
    """`name` logged in through the hub's form, its server started (the tests' own steps)."""
    client = hub_login(LocalHub(url, state, state / "hub.log"), name, PASSWORD)
    lab = wait_for_lab(client, name, timeout=300)
    if lab.url.path != f"/user/{name}/lab" or lab.status_code != 200:
        raise RuntimeError(f"{name}'s server did not start ({lab.status_code} {lab.url})")
    return client


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_pids() -> dict[str, int]:
    """The jupyterhub-singleuser process of each user (JUPYTERHUB_USER in its environment)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if not any(part.endswith(b"jupyterhub-singleuser") for part in cmd[:2]):
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for var in env:
            if var.startswith(b"JUPYTERHUB_USER="):
                found[var.split(b"=", 1)[1].decode()] = int(proc.name)
    return found


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def call(self, kind: str, fn) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = fn()
        except httpx.HTTPError as e:
            with self.lock:
                self.errors[kind].append(f"{type(e).__name__}: {e}")
            return None
        elapsed = (time.perf_counter() - start) * 1000
        with self.lock:
            if response.status_code >= 400:
                self.errors[kind].append(f"HTTP {response.status_code}: {response.text[:120]}")
            else:
                self.times[kind].append(elapsed)
        return response


def preview(client: httpx.Client, name: str, path: str, rec: Recorder) -> None:
    api = f"/user/{name}/espri-vre/api"
    info = rec.call("preview", lambda: client.get(f"{api}/data/info", params={"path": path}))
    refs = rec.call("preview", lambda: client.get(f"{api}/data/references", params={"path": path}))
    if info is None or refs is None or info.status_code != 200 or refs.status_code != 200:
        return
    url = f"/user/{name}/{info.json()['files_url']}"  # relative to the server's base URL
    chunk = next(
        (v for k, v in refs.json()["refs"].items() if re.fullmatch(r"tas/0(\.0)*", k)), None
    )
    if not isinstance(chunk, list) or len(chunk) != 3:
        rec.errors["preview"].append("the references have no first chunk of tas")
        return
    _, offset, length = chunk
    headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
    rec.call("preview", lambda: client.get(url, headers=headers))


def user_loop(client: httpx.Client, name: str, data: Path, until: float, rec: Recorder) -> None:
    api = f"/user/{name}/espri-vre/api"
    path = str(data / "tas_demo_monthly.nc")
    # Users do not act in step: each starts at its own point of the cycles.
    offset = (hash(name) % 1000) / 1000
    next_poll = time.monotonic() + offset * POLL
    next_table = time.monotonic() + offset * EVERY / 4
    next_preview = next_table + EVERY / 8
    polls = 0
    while time.monotonic() < until:
        now = time.monotonic()
        if now >= next_poll:
            for _ in range(2):  # the Jobs panel and the Dask panel
                rec.call(
                    "jobs",
                    lambda: client.get(f"{api}/jobs", params={"cluster": "all", "mine": "true"}),
                )
            rec.call("status", lambda: client.get(f"/user/{name}/api/status"))
            polls += 1
            if polls % 5 == 0:  # the hub itself, every 10 s: what its home page asks
                rec.call("hub", lambda: client.get("/hub/api/user"))
            next_poll += POLL
        if now >= next_table:
            rec.call(
                "catalogue",
                lambda: client.get(f"{api}/catalogs/cmip6-sample/table"),
            )
            next_table += EVERY
        if now >= next_preview:
            preview(client, name, path, rec)
            next_preview += EVERY
        time.sleep(max(0.0, min(next_poll, next_table, next_preview) - time.monotonic()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def run(ctx: Context) -> list[Row]:
    root = ctx.root
    subprocess.run(["bash", str(root / "scripts" / "slurm" / "start.sh")], check=True)
    env = dict(os.environ, SLURM_CONF=str(SLURM_DIR / "slurm.conf"))
    demo = ctx.work / "hub-demo"
    subprocess.run(
        [sys.executable, "-m", "espri_vre.demo", "build", str(demo)], env=env, check=True
    )
    state = ctx.work / "hub-state"
    subprocess.run(["rm", "-rf", str(state)], check=True)
    port = _free_port_triple()
    users = [f"load{i:02d}" for i in range(1, N_USERS + 1)]
    # Every squeue our servers run goes through this wrapper, which writes the user's name to
    # a log: the count of our calls alone, whoever else uses this Slurm (sdiag counts all).
    wrappers = ctx.work / "hub-bin"
    wrappers.mkdir(exist_ok=True)
    calls = ctx.work / "hub-squeue-calls.log"
    calls.write_text("")
    real = shutil.which("squeue")
    if real is None:
        raise RuntimeError("squeue is not installed")
    wrapper = wrappers / "squeue"
    wrapper.write_text(f'#!/bin/sh\necho "$JUPYTERHUB_USER" >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    hub_env = {
        **env,
        "PATH": f"{wrappers}:{env['PATH']}",
        "ESPRI_VRE_HUB_DIR": str(state),
        "ESPRI_VRE_HUB_PORT": str(port),
        "ESPRI_VRE_HUB_PASSWORD": PASSWORD,
        "ESPRI_VRE_DEMO_DIR": str(demo),
        "ESPRI_VRE_HUB_EXTRA_USERS": " ".join(users),
    }
    log = (ctx.work / "hub.log").open("wb")
    hub = subprocess.Popen(
        ["bash", str(root / "environments" / "local-hub" / "start.sh")],
        env=hub_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/hub/login", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if hub.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local hub did not start; see {log.name}")
            time.sleep(0.5)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            clients = list(pool.map(lambda n: login(url, state, n), users))
        spawn_s = time.monotonic() - started
        rec = Recorder()
        before = squeue_rpcs(env)
        calls.write_text("")  # the calls of the logins and first loads are not the load's
        t0 = time.monotonic()
        until = t0 + DURATION
        with ThreadPoolExecutor(len(users)) as pool:
            loops = [
                pool.submit(user_loop, client, name, demo / "data", until, rec)
                for client, name in zip(clients, users, strict=True)
            ]
            for loop in loops:
                loop.result()  # a loop that broke is the benchmark's failure, said
        elapsed = time.monotonic() - t0
        slurm_rpcs = squeue_rpcs(env) - before
        ours_calls = calls.read_text().split()
        squeue_calls = len(ours_calls)
        pids = server_pids()
        memory = [rss_mb(pids[n]) for n in users if n in pids]
        hub_pid = int((state / "jupyterhub.pid").read_text().strip())
        hub_memory = rss_mb(hub_pid)
    finally:
        for client in clients:
            client.close()
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
        log.close()

    errors = {k: v for k, v in rec.errors.items() if v}
    n_errors = sum(len(v) for v in errors.values())
    said_errors = (
        "none"
        if not errors
        else "; ".join(f"{k}: {len(v)} (first: {v[0]})" for k, v in errors.items())
    )
    floor = rec.times["status"]
    where = (
        f"{N_USERS} users at once for {elapsed:.0f} s through the local hub's proxy "
        f"({len(memory)} servers)"
    )
    server_mb = median_range(memory)
    common = (
        f"Errors of every kind: {n_errors} ({said_errors}). Servers started in {spawn_s:.0f} s "
        f"(4 logins at a time). Memory: each server {server_mb[0]:.0f} MB "
        f"(min–max {server_mb[1]:.0f}–{server_mb[2]:.0f}), the hub {hub_memory:.0f} MB."
    )
    rows = []
    for kind, task in (
        ("jobs", "a job-list request (the Jobs and Dask panels' 2 s polls)"),
        ("catalogue", "the CMIP6 sample's catalogue table"),
        ("preview", "a preview request (data/info, data/references, the first chunk)"),
        ("hub", "the hub's own API (GET /hub/api/user with the user's cookie, every 10 s)"),
    ):
        got = rec.times[kind]
        if not got or not floor:
            raise RuntimeError(f"no {kind} request succeeded; errors: {said_errors}")
        rows.append(
            Row.measured(
                issue="#19",
                task=f"{task}, {where}: each request's time",
                ours_runs=got,
                anchor_name="jupyter_server GET /api/status of the same servers, same load",
                anchor_runs=floor,
                unit="ms",
                target="informational",
                note=f"p95 ours {percentile(got, 0.95):.0f} ms over {len(got)} requests; "
                f"p95 of the anchor {percentile(floor, 0.95):.0f} ms over {len(floor)}. " + common,
            )
        )
    requests = len(rec.times["jobs"]) + len(rec.errors.get("jobs", []))
    windows = elapsed / POLL
    per_user = {n: ours_calls.count(n) for n in users}
    top = max(per_user, key=per_user.__getitem__)
    busiest = f"{top}: {per_user[top]}"
    asked = requests / windows / N_USERS
    rows.append(
        Row(
            issue="#19",
            task=f"squeue calls reaching Slurm per server every 2 s, {where}",
            ours=squeue_calls / windows / N_USERS,
            anchor_name="one squeue per job-list request (jupyterlab-slurm's handler)",
            anchor=asked,
            unit="calls",
            target="at most one per server every 2 s",
            goal=asked,
            note=f"our servers ran squeue {squeue_calls} times (counted by a wrapper on their "
            f"PATH; the busiest server {busiest}) for {requests} job-list requests in "
            f"{elapsed:.0f} s; slurmctld counted {slurm_rpcs} squeue RPCs "
            f"({', '.join(SLURM_RPCS)}, `sdiag`) from every user of this Slurm meanwhile. The "
            "target is met when the ratio is at least the number of job-list requests each "
            "server receives every 2 s (two panels).",
        )
    )
    return rows
