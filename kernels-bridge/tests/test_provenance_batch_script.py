"""The crate of a batch run holds the script our server submitted: every back end keeps the
submitted script with the job's record (jobs/store.py), and the kernel inside the job takes it
from there (provenance/batch_script.py), before asking Slurm (scontrol) and where Torque gives
nothing back. The Torque job (the recorded fake qsub: no Torque here), like the Slurm one of
test_provenance_batch_script_slurm.py, runs the reviewer's sample (espri_vre.provenance.sample:
a real kernel that records, then the crate); its crate validates at the REQUIRED level of
provenance-run-crate-0.5 from the crate view (roc-validator on the genuine contexts of
../shared). A local job, run for real, prints what its kernel would keep; the store's bound,
the matching of ids and a store older than the kept scripts are checked on their own."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, needs_shared
from test_provenance_validation import validate

from espri_vre.jobs import store as store_module
from espri_vre.jobs.local import LocalScheduler
from espri_vre.jobs.store import MAX_SCRIPT_BYTES, JobStore, submitted_scripts
from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.types import ClusterConfig, JobInfo, JobKind, JobSpec, JobState
from espri_vre.provenance.batch_script import batch_script

RUN_SAMPLE = (
    "import sys\nfrom espri_vre.provenance.sample import main\nsys.exit(main([sys.argv[1]]))\n"
)


def graph_of(crate: Path) -> dict[str, dict[str, Any]]:
    return {
        e["@id"]: e for e in json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]
    }


def session_of(crate: Path) -> dict[str, Any]:
    (log,) = (crate / "provenance").glob("*.jsonl")
    return json.loads(log.read_text().splitlines()[0])


def assert_the_crate_holds(crate: Path, entity: str, job_id: str, submitted: str) -> None:
    graph = graph_of(crate)
    script = f"job/{job_id}.sh"
    assert graph[entity]["subjectOf"] == {"@id": script}
    assert graph[script]["about"] == {"@id": entity}
    assert (crate / script).read_text() == submitted
    assert graph[script]["sha256"] == hashlib.sha256(submitted.encode()).hexdigest()
    assert graph[script]["contentSize"] == str(len(submitted.encode()))


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}


@needs_shared
async def test_a_torque_job_s_crate_holds_the_script_we_submitted_replayed_no_torque_here(
    fake_torque, jp_fetch, jp_root_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """qsub is the fake of tests/fake_torque (recorded outputs); the job's kernel runs here with
    the variables Torque sets in a job, and no Torque command on its PATH. The crate is then
    validated from the crate view, on the contexts folder the images set."""
    user_root = Path(jp_root_dir)
    data = tmp_path / "jupyter-data"
    store = JobStore(data / "espri-vre")
    cluster = ClusterConfig(id="cpu", kind="torque", defaults={"queue": "batch"})
    sched = TorqueScheduler(cluster, store, [user_root])
    (user_root / "run_sample.py").write_text(RUN_SAMPLE)
    spec = JobSpec(kind=JobKind.PYTHON, path="run_sample.py", name="sample", arguments=("out",))
    info = await sched.submit(spec)
    torque_id = store.get("cpu", info.id).process["torque_id"]
    assert torque_id.startswith(f"{info.id}.")
    submitted = fake_torque.jobs()[info.id]["script"]  # what qsub read on its stdin
    assert submitted.startswith("#!/bin/bash\n# espri-vre python job sample: ")

    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin",
        "JUPYTER_DATA_DIR": str(data),
        "PBS_JOBID": torque_id,
        "PBS_JOBNAME": "sample",
        "PBS_QUEUE": "batch",
        "PBS_O_WORKDIR": str(user_root),
    }
    done = subprocess.run(
        [sys.executable, "run_sample.py", "out"],
        cwd=user_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    crate = user_root / "out" / "crate"
    assert session_of(crate)["job_script"]["scheduler"] == "torque"
    assert_the_crate_holds(crate, f"#job/torque/{torque_id}", torque_id, submitted)

    monkeypatch.setenv("ESPRI_VRE_ROCRATE_CONTEXTS", str(SHARED / "schemas/ro-crate"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))  # the validator's cache goes there
    code, result = await validate(jp_fetch, "out/crate", timeout=300)
    assert (code, result["path"], result["passed"]) == (200, "out/crate", True), result
    assert (result["required"], result["required_count"]) == ([], 0)
    assert result["contexts"] == [
        f"https://w3id.org/ro/crate/{v}/context" for v in ("1.1", "1.2", "1.3")
    ]


async def test_a_local_job_finds_the_script_we_submitted(
    user_root: Path, tmp_path: Path, poll, monkeypatch: pytest.MonkeyPatch
):
    """The local back end runs the job for real; inside it, what a recording kernel would keep."""
    data = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))  # the job inherits it
    store = JobStore(data / "espri-vre")
    cluster = ClusterConfig(id="here", kind="local", python=sys.executable)
    local = LocalScheduler(cluster, store, [user_root])
    (user_root / "show.py").write_text(
        "import json, os\nfrom espri_vre.provenance.batch_script import batch_script\n"
        "print(json.dumps(batch_script(os.environ)))\n"
    )
    job = await local.submit(JobSpec(kind=JobKind.PYTHON, path="show.py", name="show"))
    done = await poll(lambda: local.status(job.id), lambda j: j.finished)
    assert done.state is JobState.COMPLETED, Path(done.stderr_path).read_text()
    kept = json.loads(Path(done.stdout_path).read_text())
    submitted = store.get("here", job.id).script
    assert submitted.startswith("#!/bin/bash\n# espri-vre python job show: ")
    assert kept == {
        "scheduler": "local",
        "job_id": job.id,
        "sha256": hashlib.sha256(submitted.encode()).hexdigest(),
        "size": len(submitted.encode()),
        "text": submitted,
        "truncated": False,
    }


def test_the_kept_script_is_bounded_and_found_only_for_its_own_job(tmp_path: Path, user_root):
    """The store keeps at most MAX_SCRIPT_BYTES of a script, with the whole one's hash and size;
    a kernel finds a record only when exactly one matches the ids of its environment."""
    store = JobStore(tmp_path / "store")
    (user_root / "x.py").write_text("")
    cluster = ClusterConfig(id="cpu", kind="torque")
    prepared = TorqueScheduler(cluster, store, [user_root]).prepare(
        JobSpec(kind=JobKind.PYTHON, path="x.py", name="big")
    )
    long = prepared.script + "# é\n" * (MAX_SCRIPT_BYTES // 4)  # past the bound, 2-byte chars
    info = JobInfo("77", "big", JobState.PENDING, "Q", cluster="cpu")
    store.add("cpu", info, prepared.spec, long, process={"torque_id": "77.server"})
    (kept,) = submitted_scripts("77", tmp_path / "store")
    whole = long.encode()
    assert kept.script_size == len(whole) and kept.script_truncated
    assert kept.script_sha256 == hashlib.sha256(whole).hexdigest()
    assert len(kept.script.encode()) <= MAX_SCRIPT_BYTES
    assert whole.startswith(kept.script.encode())

    found = batch_script({"PBS_JOBID": "77.server", "PATH": ""}, tmp_path / "store")
    assert found == {
        "scheduler": "torque",
        "job_id": "77.server",
        "sha256": kept.script_sha256,
        "size": len(whole),
        "text": kept.script,
        "truncated": True,
    }
    # another server's job 77, a Slurm job 77 (the record is Torque's), no store: nothing
    assert batch_script({"PBS_JOBID": "77.other", "PATH": ""}, tmp_path / "store") is None
    assert batch_script({"SLURM_JOB_ID": "77", "PATH": ""}, tmp_path / "store") is None
    assert batch_script({"PBS_JOBID": "77.server", "PATH": ""}, tmp_path / "none") is None
    assert not (tmp_path / "none").exists()
    # a schedule's run, recorded with its script's path: not a script to keep
    run = JobInfo("79", "big", JobState.PENDING, "Q", cluster="cpu")
    store.add("cpu", run, prepared.spec, str(user_root / "x.sh"), process={"torque_id": "79.s"})
    assert batch_script({"PBS_JOBID": "79.s", "PATH": ""}, tmp_path / "store") is None
    # a task of a Torque array finds the array's record (qsub named it 78[].server)
    array = JobInfo("78[]", "big", JobState.PENDING, "Q", cluster="cpu")
    store.add("cpu", array, prepared.spec, prepared.script, process={"torque_id": "78[].server"})
    task = batch_script({"PBS_JOBID": "78[3].server", "PATH": ""}, tmp_path / "store")
    assert task is not None and task["job_id"] == "78[3].server"
    assert task["text"] == prepared.script and not task["truncated"]


def test_a_store_written_before_the_kept_scripts_is_read_then_gains_their_columns(
    tmp_path: Path, user_root: Path
):
    folder = tmp_path / "store"
    folder.mkdir()
    (user_root / "x.py").write_text("")
    cluster = ClusterConfig(id="cpu", kind="torque")
    prepared = TorqueScheduler(cluster, JobStore(tmp_path / "other"), [user_root]).prepare(
        JobSpec(kind=JobKind.PYTHON, path="x.py", name="old")
    )
    info = JobInfo("5", "old", JobState.PENDING, "Q", cluster="cpu")
    with sqlite3.connect(folder / store_module.STORE_FILE) as db:  # the first schema's table
        db.executescript(store_module._SCHEMA)
        db.execute(
            "INSERT INTO jobs (cluster, job_id, name, kind, spec, script, submitted_at, state,"
            " info, process, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "cpu",
                "5",
                "old",
                "python",
                json.dumps(prepared.spec.to_dict()),
                prepared.script,
                1.0,
                "PENDING",
                json.dumps(info.to_dict()),
                '{"torque_id": "5.s"}',
                1.0,
            ),
        )
    db.close()
    (old,) = submitted_scripts("5", folder)  # read as it is, nothing written
    assert (old.script, old.script_sha256, old.script_size) == (prepared.script, None, None)
    # no whole-script hash to vouch for it: not kept
    assert batch_script({"PBS_JOBID": "5.s", "PATH": ""}, folder) is None
    store = JobStore(folder)
    assert store.get("cpu", "5").script_sha256 is None
    store.add("cpu", replace(info, id="6"), prepared.spec, prepared.script)
    assert store.get("cpu", "6").script_size == len(prepared.script.encode())
