"""#9 Dask on the clusters, on the real Slurm of the test set-up.

1. From the click to two workers connected: our route (POST /espri-vre/api/dask/clusters, the
   Dask panel's Start button, then the panel's status route until two workers are connected)
   against plain dask-jobqueue code doing the same in a Python process of its own
   (`SLURMCluster(...)`, `scale(2)`, `wait_for_workers(2)`), same resources, same Slurm,
   interleaved rounds. The anchor's clock starts after its imports, as ours starts with a
   running server.
2. A chunked xarray mean over a generated Zarr store on the two Slurm workers, against the same
   computation in the notebook's own process (dask's threaded scheduler, every core).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from harness import Context, Row, interleave, interleaved_rounds
from serverproc import request, start_server, stop

SLURM_CONF = Path(os.environ.get("ESPRI_SLURM_DIR", "/tmp/espri-vre-slurm")) / "slurm.conf"
ROUNDS = 3
PRESET = {"cores": 1, "memory": "1G", "walltime": "00:20:00", "partition": "debug"}
SHAPE = (240, 360, 720)
"""float32, 249 MB: 40 chunks of one week-like slab (6, 360, 720)."""

ANCHOR = textwrap.dedent(
    """
    import sys, time
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster
    t0 = time.perf_counter()
    cluster = SLURMCluster(cores=1, processes=1, memory="1024MiB", walltime="00:20:00",
                           queue="debug", interface="lo", log_directory=sys.argv[1])
    cluster.scale(2)
    client = Client(cluster)
    client.wait_for_workers(2, timeout=300)
    print(time.perf_counter() - t0)
    client.close()
    cluster.close()
    """
)


def queue_ids(env: dict[str, str]) -> set[str]:
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, env=env, check=True
    ).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def wait_queue_empty_of(ids: set[str], env: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    while ids & queue_ids(env) and time.monotonic() < deadline:
        time.sleep(0.5)


def make_store(path: Path) -> float:
    """The Zarr store of the throughput benchmark; returns its size in MB."""
    import numpy as np
    import xarray as xr

    if not path.exists():
        rng = np.random.default_rng(9)
        data = rng.normal(280, 10, SHAPE).astype("float32")
        ds = xr.Dataset({"tas": (("time", "lat", "lon"), data)})
        ds.chunk({"time": 6}).to_zarr(path, mode="w")
    return np.prod(SHAPE) * 4 / 1e6


def run(ctx: Context) -> list[Row]:
    root = ctx.root
    subprocess.run(["bash", str(root / "scripts" / "slurm" / "start.sh")], check=True)
    env = dict(os.environ, SLURM_CONF=str(SLURM_CONF))
    work = ctx.work / "dask"
    (work / "server").mkdir(parents=True, exist_ok=True)
    (work / "anchor-logs").mkdir(exist_ok=True)
    config = {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True, "dask_labextension": True}},
        "EspriVreApp": {
            "job_store_dir": str(work / "store"),
            "clusters": [
                {
                    "id": "slurm",
                    "kind": "slurm",
                    "dask": {
                        "interface": "lo",
                        "presets": [{"id": "two", "workers": 2, **PRESET}],
                    },
                }
            ],
        },
    }
    server, base, token = start_server(
        Path(sys.executable), config, work / "server", work / "server.log", env
    )
    throughput_rows: list[Row] = []

    def ours(i: int) -> float:
        """The click, then the panel's status until two workers are connected."""
        t0 = time.perf_counter()
        started = json.loads(
            request(f"{base}/espri-vre/api/dask/clusters", token, {"cluster": "slurm"})
        )
        while True:
            overview = json.loads(request(f"{base}/espri-vre/api/dask", token))
            mine = [r for r in overview["running"] if r["id"] == started["id"]]
            if mine and mine[0]["workers"] == 2:
                break
            if time.perf_counter() - t0 > 300:
                raise RuntimeError(f"two workers did not connect in 300 s: {mine}")
            time.sleep(0.1)
        took = time.perf_counter() - t0
        jobs = {j["id"] for j in mine[0]["jobs"]}
        if i == ROUNDS - 1:
            throughput_rows.extend(throughput(ctx, work, started["scheduler_address"]))
        request(f"{base}/dask/clusters/{started['id']}", token, method="DELETE")
        wait_queue_empty_of(jobs, env)
        return took

    def anchor(_: int) -> float:
        """Plain dask-jobqueue in its own process."""
        before = queue_ids(env)
        done = subprocess.run(
            [sys.executable, "-c", ANCHOR, str(work / "anchor-logs")],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"plain dask-jobqueue failed: {done.stderr[-2000:]}")
        wait_queue_empty_of(queue_ids(env) - before, env)
        return float(done.stdout.strip().splitlines()[-1])

    try:
        got = interleaved_rounds({"ours": ours, "anchor": anchor}, ROUNDS)
    finally:
        stop(server)
    return [
        Row.measured(
            issue="#9",
            task=f"click to two Dask workers connected on the real Slurm, median of {ROUNDS} "
            "interleaved rounds",
            ours_runs=got["ours"],
            anchor_name="plain dask-jobqueue SLURMCluster + scale(2) + wait_for_workers(2)",
            anchor_runs=got["anchor"],
            unit="s",
            goal=1 / 1.1,
            target="overhead < 10% (ratio >= 0.91)",
            note=(
                "Rounds interleaved (ours, then plain dask-jobqueue in a fresh Python process, "
                "each cluster stopped and its jobs gone before the next). Ours goes through "
                "the REST route, dask-labextension's manager and our job transport "
                "(sbatch --parsable, the script on stdin), and is timed by polling the "
                "panel's status route every 0.1 s, as the panel does every few seconds."
            ),
        ),
        *throughput_rows,
    ]


def throughput(ctx: Context, work: Path, address: str) -> list[Row]:
    import dask
    import xarray as xr
    from dask.distributed import Client

    store = work / "throughput.zarr"
    size_mb = make_store(store)

    def mean_local() -> float:
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads"):
            xr.open_zarr(store).tas.mean("time").compute()
        return time.perf_counter() - t0

    def mean_workers(client: Client) -> float:
        t0 = time.perf_counter()
        client.compute(xr.open_zarr(store).tas.mean("time")).result()
        return time.perf_counter() - t0

    with Client(address) as client:
        remote, local = interleave(lambda: mean_workers(client), mean_local, ROUNDS)
    r, loc = statistics.median(remote), statistics.median(local)
    return [
        Row.measured(
            issue="#9",
            task=f"chunked xarray mean over a {size_mb:.0f} MB Zarr store, median of {ROUNDS} "
            "interleaved rounds",
            ours_runs=[size_mb / t for t in remote],
            anchor_name="the same mean in the notebook's process (threaded, every core)",
            anchor_runs=[size_mb / t for t in local],
            unit="MB/s",
            target="informational",
            lower_is_better=False,
            note=(
                f"two Slurm workers of one core each: {r:.2f} s; in-process: {loc:.2f} s on "
                f"{os.cpu_count()} cores. Both read the same store from this machine's disk; "
                "on one machine the workers can only match the process (same cores), the gain "
                "comes with nodes of their own."
            ),
        )
    ]
