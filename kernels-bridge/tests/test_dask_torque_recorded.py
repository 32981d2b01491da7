"""Dask workers on Torque, with the recorded-output fake Torque CLI (no Torque server can be
installed here): the PBSCluster job script of a preset holds the directives Torque accepts
(`-l nodes=1:ppn=N,mem=..gb`, `-l walltime=`, `-q`; never PBS Pro's `select=`), its worker job
is submitted through the job launcher's transport with the script on stdin (as `qsub` reads
it), is seen by the Torque scheduler's own `qstat`, and is deleted with `qdel` on close."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from espri_vre.dask.clusters import REGISTRY, SELECTION, Selection, start_cluster
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.types import ClusterConfig, JobState

# Resource names of Torque's qsub(1) -l list (Torque 6 Administrator Guide, "Requesting
# resources"): what a PBS directive of ours may name.
TORQUE_RESOURCES = {"nodes", "mem", "pmem", "vmem", "pvmem", "walltime", "cput", "gres", "nice"}

CONFIG: dict[str, Any] = {
    "id": "cpu",
    "title": "Torque CPU cluster",
    "kind": "torque",
    "limits": {"cpus": 16, "memory": "64G", "walltime": "48:00:00", "queues": ["batch"]},
    "dask": {
        "presets": [
            {"id": "p", "cores": 4, "memory": "8G", "walltime": "02:00:00", "queue": "batch"},
            {"id": "long", "cores": 2, "memory": "4G", "walltime": "72:00:00", "queue": "long"},
        ]
    },
}


@pytest.fixture
def torque_registry(fake_torque: Any, tmp_path: Path) -> Any:
    cluster = ClusterConfig.from_settings(CONFIG)
    scheduler = TorqueScheduler(cluster, JobStore(tmp_path / "store"), [tmp_path])
    REGISTRY.configure([("cpu", CONFIG, None)], {"cpu": scheduler}, tmp_path / "logs")
    yield scheduler
    REGISTRY.configure([], {}, None)
    REGISTRY.started.clear()


def test_torque_presets_over_the_queue_limits_are_left_out(torque_registry: Any) -> None:
    settings = REGISTRY.settings["cpu"]
    assert [p.id for p in settings.presets] == ["p"]
    said = " ".join(settings.problems)
    assert "walltime 72:00:00 is more than the 48:00:00 allowed" in said
    assert "partition 'long' is not offered here (batch)" in said


async def test_pbscluster_on_the_fake_torque_cli_uses_torque_directives(
    torque_registry: TorqueScheduler, fake_torque: Any
) -> None:
    token = SELECTION.set(Selection("cpu", "p", "cpu-p-1"))
    try:
        cluster = await start_cluster()
    finally:
        SELECTION.reset(token)
    try:
        script = cluster.job_script()
        directives = [line for line in script.splitlines() if line.startswith("#PBS")]
        assert "#PBS -N dask-cpu-p-1" in directives
        assert "#PBS -q batch" in directives
        assert "#PBS -l nodes=1:ppn=4,mem=8gb" in directives
        assert "#PBS -l walltime=02:00:00" in directives
        for line in directives:
            assert "select=" not in line and "ncpus" not in line, line
            if line.startswith("#PBS -l "):
                names = {item.split("=")[0] for item in line[8:].split(",")}
                assert names <= TORQUE_RESOURCES, line

        cluster.scale(1)
        started = REGISTRY.started["cpu-p-1"]
        for _ in range(100):
            if started.job_ids:
                break
            await asyncio.sleep(0.1)
        assert len(started.job_ids) == 1
        job_id = started.job_ids[0]
        assert re.fullmatch(r"\d+\.pbsserver", job_id)
        recorded = fake_torque.jobs()[job_id.split(".")[0]]
        sent = recorded["script"]
        assert [line for line in sent.splitlines() if line.startswith("#PBS")] == directives
        assert "distributed.cli.dask_worker" in sent and "--name cpu-p-1-0" in sent

        # The job launcher's own Torque back end sees it (qstat -x through the same transport).
        info = await torque_registry.status(job_id)
        assert info.name == "dask-cpu-p-1"
        assert info.partition == "batch"
        assert info.state in (JobState.PENDING, JobState.RUNNING)
    finally:
        await cluster.close()
    assert fake_torque.jobs()[job_id.split(".")[0]]["state"] == "C"
