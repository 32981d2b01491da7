"""The crate of a notebook run by the local back end links its job, as those of Slurm and Torque
jobs do (test_provenance_batch_script*.py): the job is run for real, its Python file runs the
reviewer's sample (espri_vre.provenance.sample: a notebook in a real kernel that records, then
the crate), and the crate names the job (scheduler, id, resources, host), holds the script the
local back end ran, and validates at the REQUIRED level of provenance-run-crate-0.5 from the
crate view (roc-validator on the genuine contexts of ../shared)."""

from __future__ import annotations

import hashlib
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, needs_shared
from test_provenance_batch_script import RUN_SAMPLE, assert_the_crate_holds, graph_of, session_of
from test_provenance_validation import validate

from espri_vre.jobs.local import LocalScheduler
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.types import ClusterConfig, JobKind, JobSpec, JobState
from espri_vre.provenance.crate_job import job_entities


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}


@needs_shared
async def test_a_local_job_s_crate_names_the_job_holds_its_script_and_validates(
    jp_fetch, jp_root_dir: Path, tmp_path: Path, poll, monkeypatch: pytest.MonkeyPatch
):
    user_root = Path(jp_root_dir)
    data = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))  # the job inherits it; so does the export
    store = JobStore(data / "espri-vre")
    cluster = ClusterConfig(id="here", kind="local", python=sys.executable)
    local = LocalScheduler(cluster, store, [user_root])
    (user_root / "run_sample.py").write_text(RUN_SAMPLE)
    spec = JobSpec(
        kind=JobKind.PYTHON,
        path="run_sample.py",
        name="sample",
        arguments=("out",),
        cpus=1,
        memory="512M",
        walltime="00:10:00",
    )
    job = await local.submit(spec)
    done = await poll(lambda: local.status(job.id), lambda j: j.finished, timeout=180)
    assert done.state is JobState.COMPLETED, Path(done.stderr_path).read_text()
    submitted = store.get("here", job.id).script
    assert submitted.startswith("#!/bin/bash\n# espri-vre python job sample: ")

    crate = user_root / "out" / "crate"
    host = socket.gethostname()
    entity = f"#job/local/{host}/{job.id}"
    assert session_of(crate)["job_script"]["scheduler"] == "local"
    assert_the_crate_holds(crate, entity, job.id, submitted)
    graph = graph_of(crate)
    assert graph[entity] | {"subjectOf": None} == {
        "@id": entity,
        "@type": "PropertyValue",
        "propertyID": "local_job_id",
        "name": f"Local job {job.id} on host {host}",
        "value": job.id,
        "description": "the batch job the notebook ran in: job name sample, cluster here,"
        f" node {host}, CPUs 1, memory 512M, time limit (s) 600, submitted from {user_root}",
        "subjectOf": None,
    }
    (run,) = [e for e in graph.values() if e["@id"].startswith("#run/")]
    assert run["identifier"] == {"@id": entity}
    assert graph[f"job/{job.id}.sh"]["name"] == f"batch script of Local job {job.id}"

    monkeypatch.setenv("ESPRI_VRE_ROCRATE_CONTEXTS", str(SHARED / "schemas/ro-crate"))
    code, result = await validate(jp_fetch, "out/crate", timeout=300)
    assert (code, result["path"], result["passed"]) == (200, "out/crate", True), result
    assert (result["required"], result["required_count"]) == ([], 0)


def test_a_local_job_exported_away_from_its_store_keeps_its_id_and_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Exported where the job store is not (another machine, a data folder moved): the job is
    still named by its kept script and the session's host, without resources to invent."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "elsewhere"))
    text = "#!/bin/bash\necho\n"
    sha = hashlib.sha256(text.encode()).hexdigest()
    session = {
        "hostname": "laptop",
        "env": {},
        "job_script": {"scheduler": "local", "job_id": "4", "sha256": sha, "text": text},
    }
    (entity,) = job_entities(session)
    assert entity == (
        "#job/local/laptop/4",
        {
            "@type": "PropertyValue",
            "propertyID": "local_job_id",
            "name": "Local job 4 on host laptop",
            "value": "4",
            "description": "the batch job the notebook ran in: node laptop",
        },
    )
    # a Torque job's kept script names no local job
    session["job_script"] = {**session["job_script"], "scheduler": "torque"}
    assert job_entities(session) == []
