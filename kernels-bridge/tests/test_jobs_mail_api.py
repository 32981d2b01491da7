"""The `mail` field of a job through /espri-vre/api/jobs on a real Jupyter server (pytest-jupyter)
with the real Slurm 22.05 of the `slurm` fixture and the local back end: a job with mail is
submitted with its options and its record keeps them; the local back end, a cluster whose
configuration says `mail = false` and injected addresses are refused with the field named,
nothing submitted. The clusters listing says which clusters allow e-mail (`mail`)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from jobs_server_fixtures import JOB_CLUSTERS, api

from espri_vre.jobs.slurm.parse import parse_scontrol_record
from espri_vre.jobs.store import JobStore
from espri_vre.schema import validation_errors

ADDRESS = "ada@climate-lab.example.org"
pytestmark = pytest.mark.usefixtures("slurm_jobs_cancelled")


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    # The same real Slurm, configured as a cluster whose e-mail the centre has switched off.
    quiet = {"id": "quiet", "title": "Slurm, no mail", "kind": "slurm", "mail": False}
    return [*JOB_CLUSTERS, quiet]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


async def post(jp_fetch: Any, *parts: str, body: Any) -> tuple[int, Any]:
    return await api(jp_fetch, "jobs", *parts, body=body)


@pytest.mark.anyio
async def test_mail_through_the_api_reaches_slurm_and_bad_mail_is_refused(
    jp_fetch, jp_root_dir, store_dir
):
    (Path(jp_root_dir) / "mailed.sh").write_text("echo mailed\n")
    spec = {
        "kind": "script",
        "path": "mailed.sh",
        "hold": True,
        "mail": {"address": ADDRESS, "when": "fail"},
    }
    code, preview = await post(jp_fetch, "preview", body={"cluster": "slurm", "spec": spec})
    assert code == 200, preview
    assert ["--mail-type=FAIL", f"--mail-user={ADDRESS}"] == [
        word for word in preview["argv"] if word.startswith("--mail-")
    ]
    code, info = await post(jp_fetch, body={"cluster": "slurm", "spec": spec})
    assert code == 201, info
    shown = parse_scontrol_record(
        subprocess.run(
            ["scontrol", "show", "job", info["id"]],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    )
    assert (shown["MailUser"], shown["MailType"]) == (ADDRESS, "FAIL")
    record = JobStore(store_dir).get("slurm", info["id"])
    assert record.spec.to_dict()["mail"] == {"address": ADDRESS, "when": "fail"}

    code, refused = await post(jp_fetch, body={"cluster": "local", "spec": spec})
    assert (code, refused["error"]) == (400, "invalid-job")
    assert [p["field"] for p in refused["problems"]] == ["mail"]
    injected = {**spec, "mail": {"address": f"{ADDRESS}\nTo: all@example.org"}}
    code, refused = await post(jp_fetch, body={"cluster": "slurm", "spec": injected})
    assert code == 400
    assert [p["field"] for p in refused["problems"]] == ["mail.address"]
    wrong = {**spec, "mail": {"address": ADDRESS, "when": "sometimes"}}
    code, refused = await post(jp_fetch, body={"cluster": "slurm", "spec": wrong})
    assert code == 400
    assert [p["field"] for p in refused["problems"]] == ["mail.when"]
    assert [r.job_id for r in JobStore(store_dir).list("slurm")] == [info["id"]]
    assert JobStore(store_dir).list("local") == []


@pytest.mark.anyio
async def test_the_clusters_say_which_allow_mail_and_mail_false_is_refused_by_name(
    jp_fetch, jp_root_dir, store_dir
):
    code, listing = await api(jp_fetch, "jobs", "clusters")
    assert code == 200 and validation_errors("JobClustersResponse", listing) == []
    # local: no mail program; slurm: the real slurmctld's MailProg is set; quiet: mail = false.
    assert {c["id"]: c["mail"] for c in listing["clusters"]} == {
        "local": False,
        "slurm": True,
        "quiet": False,
    }
    (Path(jp_root_dir) / "mailed.sh").write_text("echo mailed\n")
    spec = {"kind": "script", "path": "mailed.sh", "hold": True, "mail": {"address": ADDRESS}}
    for parts in ((), ("preview",)):
        code, refused = await post(jp_fetch, *parts, body={"cluster": "quiet", "spec": spec})
        assert (code, refused["error"]) == (400, "invalid-job")
        assert refused["problems"] == [
            {
                "field": "mail",
                "message": "this cluster sends no e-mail: "
                "the configuration of Slurm, no mail says mail = false",
            }
        ]
    # Without mail the same job is accepted there: only the e-mail is switched off.
    code, info = await post(
        jp_fetch, body={"cluster": "quiet", "spec": {**spec, "mail": None, "hold": True}}
    )
    assert code == 201, info
    assert [r.job_id for r in JobStore(store_dir).list("quiet")] == [info["id"]]
    subprocess.run(["scancel", info["id"]], check=False, capture_output=True, timeout=30)
