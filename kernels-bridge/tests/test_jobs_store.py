"""The SQLite record of submitted jobs (espri_vre.jobs.store): history that survives a restart,
never overwritten by an UNKNOWN, and safe when threads and processes write at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import espri_vre
from espri_vre.jobs.store import JobStore, default_store_dir
from espri_vre.jobs.types import JobInfo, JobKind, JobSpec, JobState

SRC = str(Path(espri_vre.__file__).parents[1])
SPEC = JobSpec(
    kind=JobKind.NOTEBOOK,
    path="/home/u/analysis.ipynb",
    name="analysis",
    cluster="gpu-cluster",
    partition="gpu",
    gpus=1,
    parameters={"alpha": 0.5, "years": [1990, 2020]},
    afterok=("12",),
)


def info(job_id: str, state: JobState = JobState.PENDING, **values) -> JobInfo:
    return JobInfo(id=job_id, name="analysis", state=state, raw_state=state.value, **values)


def test_a_record_keeps_the_spec_script_and_state_across_a_restart(tmp_path):
    store = JobStore(tmp_path)
    store.add("gpu-cluster", info("101", output_notebook="/home/u/analysis-101.ipynb"), SPEC, "#!")
    store.update_info("gpu-cluster", "101", info("101", JobState.COMPLETED, exit_code=0))
    reopened = JobStore(tmp_path).get("gpu-cluster", "101")
    assert reopened is not None
    assert reopened.spec == SPEC
    assert reopened.script == "#!"
    assert reopened.state is JobState.COMPLETED
    assert reopened.info.exit_code == 0
    assert reopened.info.output_notebook is None  # update_info replaces the whole JobInfo


def test_unknown_never_overwrites_the_last_real_state(job_store):
    job_store.add("c", info("1", JobState.RUNNING), SPEC, "")
    assert not job_store.update_info("c", "1", info("1", JobState.UNKNOWN, reason="timeout"))
    assert job_store.get("c", "1").state is JobState.RUNNING


def test_a_guarded_transition_happens_once(job_store):
    job_store.add("c", info("1"), SPEC, "")
    running = info("1", JobState.RUNNING)
    assert job_store.update_info("c", "1", running, only_from=JobState.PENDING)
    assert not job_store.update_info("c", "1", running, only_from=JobState.PENDING)


def test_listing_is_newest_first_and_filters_by_cluster_and_state(job_store):
    for n, state in enumerate([JobState.COMPLETED, JobState.RUNNING, JobState.PENDING]):
        job_store.add("a", info(str(n), state, submit_time=1000.0 + n), SPEC, "")
    job_store.add("b", info("9", submit_time=2000.0), SPEC, "")
    assert [r.job_id for r in job_store.list("a")] == ["2", "1", "0"]
    assert [r.job_id for r in job_store.list()] == ["9", "2", "1", "0"]
    live = job_store.list("a", {JobState.PENDING, JobState.RUNNING})
    assert [r.job_id for r in live] == ["2", "1"]
    assert [r.job_id for r in job_store.list("a", limit=1)] == ["2"]


def test_process_bookkeeping_merges_and_cancel_requests_stick(job_store):
    job_store.add("c", info("1"), SPEC, "", process={"script": "/x/1.sh"})
    job_store.update_process("c", "1", pid=42)
    job_store.request_cancel("c", "1")
    record = job_store.get("c", "1")
    assert record.process == {"script": "/x/1.sh", "pid": 42}
    assert record.cancel_requested


def test_ids_are_unique_across_threads(job_store):
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: job_store.next_id("local:x"), range(200)))
    assert sorted(ids) == list(range(1, 201))
    assert job_store.next_id("local:y") == 1


def test_ids_and_writes_are_safe_across_processes(tmp_path):
    store = JobStore(tmp_path)
    store.add("c", info("shared"), SPEC, "")
    worker = textwrap.dedent(
        """
        import sys
        from espri_vre.jobs.store import JobStore
        from espri_vre.jobs.types import JobInfo, JobState
        store = JobStore(sys.argv[1])
        for i in range(40):
            n = store.next_id("local:p")
            store.update_process("c", "shared", **{f"w{sys.argv[2]}": i})
            print(n)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", worker, str(tmp_path), str(w)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": SRC},
        )
        for w in range(4)
    ]
    ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        ids += [int(line) for line in out.split()]
    assert sorted(ids) == list(range(1, 161))
    # Every writer's last value survived: no update was lost to another.
    assert store.get("c", "shared").process == {f"w{w}": 39 for w in range(4)}


def test_a_database_from_a_newer_version_is_refused_with_a_clear_message(tmp_path):
    JobStore(tmp_path)
    with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(RuntimeError, match="written by a newer espri-vre"):
        JobStore(tmp_path)


def test_the_default_place_is_the_users_jupyter_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jd"))
    assert default_store_dir() == tmp_path / "jd" / "espri-vre"
    assert JobStore().path == tmp_path / "jd" / "espri-vre" / "jobs.sqlite"


def test_a_record_with_a_spec_field_this_version_does_not_know_still_reads(job_store):
    job_store.add("c", info("1"), SPEC, "")
    with sqlite3.connect(job_store.path) as db:
        db.execute("UPDATE jobs SET spec = json_set(spec, '$.retired_field', 1)")
    assert job_store.get("c", "1").spec == SPEC


def test_deleting_a_record(job_store):
    job_store.add("c", info("1"), SPEC, "")
    assert job_store.delete("c", "1")
    assert job_store.get("c", "1") is None
    assert not job_store.delete("c", "1")
