"""The `mail` field of a job through /espri-vre/api/jobs on a real Jupyter server (pytest-jupyter)
with the real Slurm 22.05 of the `slurm` fixture and the local back end: a job with mail is
submitted with its options and its record keeps them; the local back end and injected addresses
are refused with the field named, nothing submitted."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from espri_vre.jobs.slurm.parse import parse_scontrol_record
from espri_vre.jobs.store import JobStore

CLUSTERS = [
    {"id": "local", "title": "This server", "kind": "local"},
    {"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"},
]
ADDRESS = "ada@climate-lab.example.org"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "job-store"


@pytest.fixture
def jp_server_config(slurm: Any, store_dir: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {"clusters": CLUSTERS, "job_store_dir": str(store_dir)},
    }


@pytest.fixture(autouse=True)
def no_job_left_behind(store_dir: Path) -> Iterator[None]:
    yield
    if (store_dir / "jobs.sqlite").exists():
        live = [r.job_id for r in JobStore(store_dir).list("slurm") if not r.info.finished]
        if live:
            subprocess.run(["scancel", *live], check=False, capture_output=True, timeout=30)


async def post(jp_fetch: Any, *parts: str, body: Any) -> tuple[int, dict[str, Any]]:
    try:
        response = await jp_fetch(
            "espri-vre", "api", "jobs", *parts, method="POST", body=json.dumps(body)
        )
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, json.loads(e.response.body)
    return response.code, json.loads(response.body)


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
