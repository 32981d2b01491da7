"""Dask on the real Slurm of the test set-up, through dask-labextension's cluster manager and its
REST API: a SLURMCluster of two workers started from a preset of the cluster configuration, an
xarray reduction over the demo Zarr store on it checked against the same reduction without Dask,
a scale to one worker, a stop that cancels the worker jobs, the default factory behind
dask-labextension's own "New" route, and a cluster whose jobs were killed outside Dask."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

pytestmark = pytest.mark.timeout(600)

CLUSTERS = [
    {
        "id": "slurm",
        "title": "The test set-up's Slurm",
        "kind": "slurm",
        "limits": {"cpus": 2, "memory": "4G"},
        "dask": {
            "interface": "lo",
            "max_workers": 2,
            "presets": [
                {
                    "id": "two",
                    "title": "2 workers",
                    "workers": 2,
                    "cores": 1,
                    "memory": "1G",
                    "walltime": "00:10:00",
                    "partition": "debug",
                },
                {"id": "one", "workers": 1, "cores": 1, "memory": "1G", "walltime": "00:10:00"},
            ],
        },
    },
    {"id": "here", "kind": "local"},
]


@pytest.fixture
def jp_server_config(slurm: Any, tmp_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True, "dask_labextension": True}},
        "EspriVreApp": {"clusters": CLUSTERS, "job_store_dir": str(tmp_path / "store")},
    }


@pytest.fixture(autouse=True)
def no_dask_cluster_left() -> Iterator[None]:
    """Cancels the worker jobs of the Dask clusters a failed test left running, and forgets
    them: dask-labextension's manager lives as long as the process."""
    yield
    from dask_labextension.manager import manager

    for cluster_id, cluster in list(manager._clusters.items()):
        for job in list(getattr(cluster, "workers", {}).values()):
            if getattr(job, "job_id", None):
                subprocess.run(["scancel", job.job_id], check=False, timeout=30)
        manager._clusters.pop(cluster_id, None)
        manager._cluster_names.pop(cluster_id, None)


async def call(jp_fetch: Any, *parts: str, method: str = "GET", body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"method": method, "raise_error": False}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    r = await jp_fetch(*parts, **kwargs)
    return r.code, json.loads(r.body) if r.body else None


async def start(jp_fetch: Any, body: dict[str, Any]) -> tuple[int, Any]:
    """The Dask panel's Start button: POST /espri-vre/api/dask/clusters."""
    return await call(jp_fetch, "espri-vre", "api", "dask", "clusters", method="POST", body=body)


async def overview(jp_fetch: Any) -> dict[str, Any]:
    code, body = await call(jp_fetch, "espri-vre", "api", "dask")
    assert code == 200, body
    return body


async def wait_for(jp_fetch: Any, name: str, check: Any, what: str, limit: float = 240) -> dict:
    deadline = time.monotonic() + limit
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        running = {r["name"]: r for r in (await overview(jp_fetch))["running"]}
        last = running.get(name, {})
        if last and check(last):
            return last
        await asyncio.sleep(1)
    raise AssertionError(f"{what} did not happen in {limit:.0f} s; last state: {last}")


def squeue_ids() -> set[str]:
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


async def test_two_slurm_workers_compute_scale_and_stop(jp_fetch: Any, demo_dir: Path) -> None:
    ov = await overview(jp_fetch)
    slurm = next(c for c in ov["clusters"] if c["id"] == "slurm")
    assert [p["id"] for p in slurm["presets"]] == ["two", "one"]
    assert slurm["max_workers"] == 2 and slurm["problem"] is None

    code, started = await start(jp_fetch, {"cluster": "slurm", "preset": "two"})
    assert code == 201, started
    assert started["kind"] == "SLURMCluster"
    assert started["cluster"] == "slurm" and started["preset"] == "two"
    assert started["jobs_requested"] == 2
    assert started["scheduler_address"].startswith("tcp://127.0.0.1:")
    assert started["code"].endswith(f'Client("{started["scheduler_address"]}")\n')
    name, cid = started["name"], started["id"]
    # Named apart from the worker jobs of an earlier server, still listed by Slurm.
    assert re.fullmatch(r"slurm-two-\d+-[0-9a-f]{4}", name)

    # dask-labextension lists it too, under its own routes.
    code, models = await call(jp_fetch, "dask", "clusters")
    assert code == 200 and [m["name"] for m in models] == [name]

    ready = await wait_for(jp_fetch, name, lambda r: r["workers"] == 2, "two workers connecting")
    assert len(ready["jobs"]) == 2
    assert {j["state"] for j in ready["jobs"]} == {"RUNNING"}
    job_ids = [j["id"] for j in ready["jobs"]]
    assert set(job_ids) <= squeue_ids()

    # An xarray reduction over the demo Zarr store, on the Slurm workers.
    from dask.distributed import Client

    store = demo_dir / "data" / "tas_demo_monthly.zarr"
    async with Client(started["scheduler_address"], asynchronous=True) as client:
        identity = await client.scheduler.identity()
        assert len(identity["workers"]) == 2
        lazy = xr.open_zarr(store).tas.mean(("lat", "lon"))
        on_workers = await client.compute(lazy)
    expected = xr.open_zarr(store).tas.load().mean(("lat", "lon"))
    np.testing.assert_allclose(on_workers.values, expected.values, rtol=1e-6)
    assert on_workers.sizes["time"] == 36

    # Scale to one worker through dask-labextension's REST API.
    code, _ = await call(jp_fetch, "dask", "clusters", cid, method="PATCH", body={"workers": 1})
    assert code == 200
    one = await wait_for(
        jp_fetch,
        name,
        lambda r: r["workers"] == 1 and sum(j["state"] == "RUNNING" for j in r["jobs"]) == 1,
        "the scale to one worker",
    )
    assert sum(j["state"] == "ENDED" for j in one["jobs"]) == 1

    # A scale past the cap is held at the cap.
    code, _ = await call(jp_fetch, "dask", "clusters", cid, method="PATCH", body={"workers": 50})
    assert code == 200
    from espri_vre.dask.clusters import REGISTRY

    assert len(REGISTRY.started[name].dask_cluster.worker_spec) == 2
    code, _ = await call(jp_fetch, "dask", "clusters", cid, method="PATCH", body={"workers": 0})

    # Stop: dask-labextension closes it and the worker jobs leave the queue.
    code, _ = await call(jp_fetch, "dask", "clusters", cid, method="DELETE")
    assert code == 204
    deadline = time.monotonic() + 60
    while set(job_ids) & squeue_ids() and time.monotonic() < deadline:
        await asyncio.sleep(1)
    assert not set(job_ids) & squeue_ids()
    assert (await overview(jp_fetch))["running"] == []


async def test_dask_labextension_new_button_uses_the_first_configured_preset(
    jp_fetch: Any,
) -> None:
    code, model = await call(jp_fetch, "dask", "clusters", method="PUT", body={})
    assert code == 200, model
    running = (await overview(jp_fetch))["running"]
    assert len(running) == 1
    assert running[0]["cluster"] == "slurm" and running[0]["preset"] == "two"
    assert running[0]["kind"] == "SLURMCluster" and running[0]["workers"] == 0
    code, _ = await call(jp_fetch, "dask", "clusters", model["id"], method="DELETE")
    assert code == 204


async def test_worker_jobs_killed_outside_dask_are_reported(jp_fetch: Any) -> None:
    code, started = await start(jp_fetch, {"cluster": "slurm", "preset": "one"})
    assert code == 201, started
    name = started["name"]
    ready = await wait_for(jp_fetch, name, lambda r: r["workers"] == 1, "one worker connecting")
    job_id = ready["jobs"][0]["id"]
    subprocess.run(["scancel", job_id], check=True, timeout=30)
    broken = await wait_for(
        jp_fetch, name, lambda r: r["problem"] is not None, "the report of the killed job"
    )
    assert "ended outside Dask" in broken["problem"] and job_id in broken["problem"]
    code, _ = await call(jp_fetch, "dask", "clusters", started["id"], method="DELETE")
    assert code == 204


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ({"cluster": "nowhere"}, 400, "there is no cluster 'nowhere'"),
        ({"cluster": "slurm", "preset": "huge"}, 400, "no preset 'huge'"),
        ({"cluster": "slurm", "workers": 3}, 400, "3 workers is more than the 2 allowed"),
        ({"cluster": "slurm", "queue": "x"}, 400, "Additional properties"),
        ({"cluster": "slurm; rm -rf /"}, 400, "there is no cluster"),
    ],
)
async def test_bad_start_requests_are_refused_and_start_nothing(
    jp_fetch: Any, body: dict[str, Any], status: int, said: str
) -> None:
    code, answer = await start(jp_fetch, body)
    assert code == status, answer
    assert said in answer["detail"]
    assert (await overview(jp_fetch))["running"] == []


@pytest.fixture
def unreachable_scheduler(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The Slurm cluster with a scheduler address the workers cannot reach (a closed port)."""
    slurm = {
        **CLUSTERS[0],
        "dask": {
            **CLUSTERS[0]["dask"],
            "contact_address": "tcp://127.0.0.1:9",
            "connect_timeout": 3,
        },
    }
    jp_server_config["EspriVreApp"]["clusters"] = [slurm]
    return jp_server_config


async def test_workers_that_cannot_reach_the_scheduler_are_explained(
    unreachable_scheduler: dict[str, Any], jp_fetch: Any
) -> None:
    code, started = await start(jp_fetch, {"cluster": "slurm", "preset": "one"})
    assert code == 201, started
    from espri_vre.dask.clusters import REGISTRY

    script = REGISTRY.started[started["name"]].dask_cluster.job_script()
    assert "dask_worker tcp://127.0.0.1:9 " in script  # the workers dial the contact address
    told = await wait_for(
        jp_fetch, started["name"], lambda r: r["problem"] is not None, "the address problem"
    )
    assert "no worker connected back to the scheduler at tcp://127.0.0.1:9" in told["problem"]
    assert "contact_address" in told["problem"] and "'slurm'" in told["problem"]
    assert told["workers"] == 0
    code, _ = await call(jp_fetch, "dask", "clusters", started["id"], method="DELETE")
    assert code == 204
