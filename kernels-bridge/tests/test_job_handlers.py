"""/espri-vre/api/jobs through a real Jupyter server (pytest-jupyter) and the real Slurm 22.05 of
the `slurm` fixture, with the local back end beside it and an SSH cluster that cannot be used
here: clusters with their partitions, submission, the state of real jobs until they end, logs,
cancel, hold and release, a failing job's exit code, the preview, refusals (injection attempts,
unknown clusters and jobs, no token) and the record that outlives a restart of the server."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from jobs_server_fixtures import api

from espri_vre.jobs.store import JobStore
from espri_vre.schema import validation_errors
from espri_vre.server.app import EspriVreApp

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
SSH_UNREACHABLE = "cannot reach me@127.0.0.1:9"
pytestmark = pytest.mark.usefixtures("slurm_jobs_cancelled")


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    return [
        {"id": "local", "title": "This server", "kind": "local", "max_running": 2},
        {"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"},
        {
            "id": "login",
            "title": "Torque over SSH",
            "kind": "torque",
            "transport": "ssh",
            # A login node that cannot be reached (nothing listens on port 9 here).
            "ssh": {"host": "127.0.0.1", "port": 9, "user": "me"},
        },
        # An SSH cluster with no host: unusable, said as such.
        {"id": "broken", "title": "No host", "kind": "torque", "transport": "ssh"},
    ]


@pytest.fixture
def jp_server_config(jobs_server_config: dict[str, Any]) -> dict[str, Any]:
    return jobs_server_config


async def call(
    jp_fetch: Any,
    *parts: str,
    body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a GET, or of a POST when `body` is given (a str is sent as is)."""
    return await api(jp_fetch, "jobs", *parts, body=body, params=params, headers=headers)


async def submit(jp_fetch: Any, cluster: str, **spec: Any) -> dict[str, Any]:
    code, info = await call(jp_fetch, body={"cluster": cluster, "spec": spec})
    assert code == 201, info
    return info


async def job(jp_fetch: Any, cluster: str, job_id: str) -> dict[str, Any]:
    code, info = await call(jp_fetch, cluster, job_id)
    assert code == 200, info
    return info


async def wait_for(jp_fetch: Any, poll: Any, info: dict[str, Any], until: Any) -> dict[str, Any]:
    return await poll(lambda: job(jp_fetch, info["cluster"], info["id"]), until, timeout=60)


def finished(info: dict[str, Any]) -> bool:
    return info["state"] in FINISHED


async def log(jp_fetch: Any, info: dict[str, Any], **params: Any) -> dict[str, Any]:
    code, chunk = await call(jp_fetch, info["cluster"], info["id"], "logs", params=params)
    assert code == 200, chunk
    return chunk


async def test_clusters_list_the_real_slurm_partitions_and_the_unusable_cluster_with_its_reason(
    jp_fetch,
):
    code, body = await call(jp_fetch, "clusters")
    assert code == 200
    clusters = {c["id"]: c for c in body["clusters"]}
    assert list(clusters) == ["local", "slurm", "login", "broken"]
    slurm = clusters["slurm"]
    assert (slurm["title"], slurm["kind"], slurm["transport"], slurm["problem"]) == (
        "Local Slurm",
        "slurm",
        "local",
        None,
    )
    debug, gpu = slurm["partitions"]
    assert (debug["name"], debug["default"], debug["max_time"], debug["gpus"]) == (
        "debug",
        True,
        3600,
        2,
    )
    assert (gpu["name"], gpu["default"], gpu["max_time"], gpu["gres"]) == (
        "gpu",
        False,
        14400,
        ["gpu:2"],
    )
    assert [p["name"] for p in clusters["local"]["partitions"]] == ["local"]
    assert clusters["login"]["partitions"] == []
    assert SSH_UNREACHABLE in clusters["login"]["problem"]
    assert "the ssh transport needs ssh.host" in clusters["broken"]["problem"]


async def test_a_script_job_and_a_gpu_job_complete_on_slurm_and_their_logs_are_read(
    jp_fetch, root, poll
):
    (root / "hello.sh").write_text('echo "hello from $SLURM_JOB_ID"\n')
    (root / "gpu.sh").write_text('echo "gpus=$SLURM_GPUS_ON_NODE"\n')
    hello = await submit(jp_fetch, "slurm", kind="script", path="hello.sh")
    gpu = await submit(jp_fetch, "slurm", kind="script", path="gpu.sh", gpus=1, partition="gpu")
    assert (hello["cluster"], hello["name"], hello["state"]) == ("slurm", "hello", "PENDING")
    assert (gpu["gpus"], gpu["gres"], gpu["partition"]) == (1, "gpu:1", "gpu")
    assert gpu["stdout_path"] == str(root / ".espri-vre-jobs" / f"gpu-{gpu['id']}.out")

    hello_done = await wait_for(jp_fetch, poll, hello, finished)
    gpu_done = await wait_for(jp_fetch, poll, gpu, finished)
    assert (hello_done["state"], hello_done["exit_code"]) == ("COMPLETED", 0)
    assert (gpu_done["state"], gpu_done["exit_code"], gpu_done["gpus"]) == ("COMPLETED", 0, 1)

    chunk = await log(jp_fetch, hello)
    text = f"hello from {hello['id']}\n"
    assert chunk == {
        "stream": "stdout",
        "path": hello["stdout_path"],
        "offset": 0,
        "next_offset": len(text),
        "size": len(text),
        "text": text,
        "exists": True,
    }
    assert (await log(jp_fetch, hello, offset=6))["text"] == text[6:]
    assert (await log(jp_fetch, gpu))["text"] == "gpus=1\n"
    assert (await log(jp_fetch, gpu, stream="stderr"))["text"] == ""

    code, listed = await call(jp_fetch, params={"cluster": "slurm", "state": "COMPLETED"})
    assert code == 200 and listed["problems"] == []
    by_id = {j["id"]: j for j in listed["jobs"]}
    assert by_id[gpu["id"]]["gpus"] == 1 and by_id[hello["id"]]["name"] == "hello"
    assert {j["state"] for j in listed["jobs"]} == {"COMPLETED"}


async def test_cancel_a_running_slurm_job(jp_fetch, root, poll):
    (root / "long.sh").write_text("echo started\nsleep 60\n")
    info = await submit(jp_fetch, "slurm", kind="script", path="long.sh")
    await wait_for(jp_fetch, poll, info, lambda i: i["state"] == "RUNNING")
    code, after = await call(jp_fetch, "slurm", info["id"], "cancel", body={})
    assert code == 200 and after["id"] == info["id"]
    done = await wait_for(jp_fetch, poll, info, finished)
    assert (done["state"], done["raw_state"]) == ("CANCELLED", "CANCELLED")


async def test_hold_and_release_pending_slurm_jobs(jp_fetch, root, poll):
    (root / "first.sh").write_text("echo first\n")
    (root / "second.sh").write_text("echo second\n")
    first = await submit(jp_fetch, "slurm", kind="script", path="first.sh", hold=True)
    assert first["state"] == "HELD"
    second = await submit(jp_fetch, "slurm", kind="script", path="second.sh", afterok=[first["id"]])
    waiting = await job(jp_fetch, "slurm", second["id"])
    assert (waiting["state"], waiting["reason"]) == ("PENDING", "Dependency")

    code, held = await call(jp_fetch, "slurm", second["id"], "hold", body={})
    assert (code, held["state"]) == (200, "HELD")
    code, released = await call(jp_fetch, "slurm", second["id"], "release", body={})
    assert (code, released["state"]) == (200, "PENDING")
    assert (await job(jp_fetch, "slurm", first["id"]))["reason"] == "JobHeldUser"

    code, _ = await call(jp_fetch, "slurm", first["id"], "release", body={})
    assert code == 200
    assert (await wait_for(jp_fetch, poll, first, finished))["state"] == "COMPLETED"
    assert (await wait_for(jp_fetch, poll, second, finished))["state"] == "COMPLETED"
    assert (await log(jp_fetch, second))["text"] == "second\n"

    code, refused = await call(jp_fetch, "slurm", first["id"], "hold", body={})
    assert (code, refused["error"]) == (502, "scheduler-error")
    assert "only a pending job can be held" in refused["detail"]


async def test_a_failing_slurm_job_reports_its_exit_code_and_stderr(jp_fetch, root, poll):
    (root / "fail.sh").write_text("echo 'no such file: input.nc' >&2\nexit 3\n")
    info = await submit(jp_fetch, "slurm", kind="script", path="fail.sh", name="failing")
    done = await wait_for(jp_fetch, poll, info, finished)
    assert (done["state"], done["exit_code"], done["reason"]) == ("FAILED", 3, "NonZeroExitCode")
    assert (await log(jp_fetch, info, stream="stderr"))["text"] == "no such file: input.nc\n"


async def test_preview_returns_the_script_and_the_sbatch_argv_and_submits_nothing(
    jp_fetch, root, store_dir
):
    (root / "train.sh").write_text("echo training\n")
    spec = {
        "kind": "script",
        "path": "train.sh",
        "name": "previewed",
        "partition": "gpu",
        "gpus": 1,
        "walltime": "00:05:00",
    }
    code, preview = await call(jp_fetch, "preview", body={"cluster": "slurm", "spec": spec})
    assert code == 200, preview
    assert preview["script"].startswith("#!/bin/bash\n# espri-vre script job previewed: ")
    assert "#SBATCH --gres=gpu:1\n" in preview["script"]
    assert f"exec /bin/bash {root / 'train.sh'}\n" in preview["script"]
    assert preview["argv"][:4] == [
        "sbatch",
        "--parsable",
        "--job-name=previewed",
        "--partition=gpu",
    ]
    assert "--gres=gpu:1" in preview["argv"] and "--time=00:05:00" in preview["argv"]

    del spec["partition"]
    code, local = await call(jp_fetch, "preview", body={"cluster": "local", "spec": spec})
    assert code == 400  # checked against the local back end's one partition
    assert local["problems"] == [{"field": "gpus", "message": "partition local has no GPUs"}]
    del spec["gpus"]
    code, local = await call(jp_fetch, "preview", body={"cluster": "local", "spec": spec})
    assert (code, local["argv"]) == (200, [])
    assert JobStore(store_dir).list() == []


INJECTIONS = [
    ({"kind": "script", "path": "ok.sh", "name": "x; rm -rf ~"}, "name"),
    ({"kind": "script", "path": "ok.sh", "name": "a\n#SBATCH --uid=0"}, "name"),
    ({"kind": "script", "path": "../../etc/passwd"}, "path"),
    ({"kind": "script", "path": "ok.sh; id"}, "path"),
    ({"kind": "script", "path": "$(id).sh"}, "path"),
    ({"kind": "script", "path": "/etc/hostname"}, "path"),
    ({"kind": "script", "path": "escape.sh"}, "path"),
    ({"kind": "script", "path": "ok.sh", "partition": "debug\n#SBATCH --uid=0"}, "partition"),
    ({"kind": "script", "path": "ok.sh", "afterok": ["1 --uid=0"]}, "afterok"),
    ({"kind": "script", "path": "ok.sh", "working_dir": "/tmp"}, "working_dir"),
    ({"kind": "script", "path": "ok.sh", "gpus": 3}, "gpus"),
    ({"kind": "script", "path": "ok.sh", "shell": "sh -c id"}, "shell"),
    # papermill would read them as its options (issue 19).
    ({"kind": "notebook", "path": "ok.ipynb", "arguments": ["--cwd", "/etc"]}, "arguments"),
]


async def test_injection_attempts_are_refused_with_400_and_the_wrong_fields(
    jp_fetch, root, store_dir
):
    (root / "ok.sh").write_text("true\n")
    (root / "ok.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4}')
    (root / "escape.sh").symlink_to("/etc/hostname")
    for spec, wrong in INJECTIONS:
        for route in ((), ("preview",)):
            code, body = await call(jp_fetch, *route, body={"cluster": "slurm", "spec": spec})
            assert (code, body["error"]) == (400, "invalid-job"), (spec, body)
            assert wrong in [p["field"] for p in body["problems"]], (spec, body)
            assert body["detail"].startswith("The job was refused: ")
    code, body = await call(jp_fetch, body="{not json")
    assert (code, body["error"]) == (400, "bad-request")
    code, body = await call(jp_fetch, body={"cluster": "slurm"})
    assert body["problems"] == [
        {"field": "spec", "message": "the job's description (spec) must be an object"}
    ]
    code, body = await call(jp_fetch, "slurm", "--uid=0")
    assert (code, body["problems"][0]["field"]) == (400, "job_id")
    code, body = await call(jp_fetch, "slurm", "1", "logs", params={"stream": "/etc/passwd"})
    assert (code, body["problems"][0]["field"]) == (400, "stream")
    assert JobStore(store_dir).list() == []


async def test_unknown_clusters_and_jobs_are_404_and_an_unusable_cluster_409(jp_fetch, root):
    (root / "ok.sh").write_text("true\n")
    spec = {"kind": "script", "path": "ok.sh"}
    for parts, body, params in [
        (("nowhere", "1"), None, None),
        ((), None, {"cluster": "nowhere"}),
        ((), {"cluster": "nowhere", "spec": spec}, None),
        (("nowhere", "1", "cancel"), {}, None),
    ]:
        code, answer = await call(jp_fetch, *parts, body=body, params=params)
        assert (code, answer["error"]) == (404, "unknown-cluster"), parts
        assert answer["detail"] == (
            "There is no cluster 'nowhere' (configured: local, slurm, login, broken)."
        )
    for parts, body in [
        (("slurm", "99999999"), None),
        (("slurm", "99999999", "cancel"), {}),
        (("slurm", "99999999", "logs"), None),
        (("local", "424242"), None),
        (("local", "424242", "release"), {}),
    ]:
        code, answer = await call(jp_fetch, *parts, body=body)
        assert (code, answer["error"]) == (404, "unknown-job"), parts
    code, answer = await call(jp_fetch, "slurm", "99999999")
    assert answer["detail"] == "There is no job 99999999 on slurm."
    code, answer = await call(jp_fetch, body={"cluster": "broken", "spec": spec})
    assert (code, answer["error"]) == (409, "cluster-unavailable")
    assert "the ssh transport needs ssh.host" in answer["detail"]
    # An SSH login node that cannot be reached: the scheduler did not answer, try again.
    code, answer = await call(jp_fetch, body={"cluster": "login", "spec": spec})
    assert (code, answer["error"]) == (503, "scheduler-unavailable")
    assert SSH_UNREACHABLE in answer["detail"]


async def test_requests_without_a_token_are_refused(jp_fetch):
    for body in (None, {"cluster": "local", "spec": {}}):
        code, answer = await call(jp_fetch, body=body, headers={"Authorization": ""})
        assert code == 403
        assert answer["error"] == "forbidden"


async def test_a_local_job_runs_end_to_end_and_the_list_keeps_other_clusters_problems(
    jp_fetch, root, poll
):
    (root / "greet.sh").write_text('echo "local $1"\n')
    info = await submit(jp_fetch, "local", kind="script", path="greet.sh", arguments=["ok"])
    assert (info["cluster"], info["partition"]) == ("local", "local")
    done = await wait_for(jp_fetch, poll, info, finished)
    assert (done["state"], done["exit_code"]) == ("COMPLETED", 0)
    assert (await log(jp_fetch, info))["text"] == "local ok\n"

    code, listed = await call(jp_fetch, params={"cluster": "all", "state": "completed"})
    assert code == 200
    assert validation_errors("JobListResponse", listed) == []  # every row, not a sample
    problems = {p["cluster"]: p["detail"] for p in listed["problems"]}
    assert list(problems) == ["login", "broken"]
    assert SSH_UNREACHABLE in problems["login"]
    assert "the ssh transport needs ssh.host" in problems["broken"]
    assert [j["id"] for j in listed["jobs"] if j["cluster"] == "local"] == [info["id"]]
    code, listed = await call(jp_fetch, params={"cluster": "local", "state": "RUNNING,PENDING"})
    assert (code, listed) == (200, {"jobs": [], "problems": []})
    code, listed = await call(jp_fetch, params={"cluster": "login", "mine": "false"})
    assert (code, listed["jobs"], len(listed["problems"])) == (200, [], 1)
    assert SSH_UNREACHABLE in listed["problems"][0]["detail"]
    code, refused = await call(jp_fetch, params={"state": "DONE"})
    assert (code, refused["problems"][0]["field"]) == (400, "state")


async def test_resubmit_runs_the_recorded_job_again_with_its_parameters(jp_fetch, root, poll):
    (root / "greet.sh").write_text('echo "again $1"\n')
    first = await submit(jp_fetch, "local", kind="script", path="greet.sh", arguments=["x"])
    await wait_for(jp_fetch, poll, first, finished)
    code, second = await call(jp_fetch, "local", first["id"], "resubmit", body={})
    assert code == 201, second
    assert second["id"] != first["id"] and second["name"] == first["name"]
    done = await wait_for(jp_fetch, poll, second, finished)
    assert (done["state"], done["exit_code"]) == ("COMPLETED", 0)
    assert (await log(jp_fetch, second))["text"] == "again x\n"
    # A job this server did not submit has no recorded parameters.
    code, refused = await call(jp_fetch, "local", "999999", "resubmit", body={})
    assert (code, refused["error"]) == (404, "not-recorded")
    assert "only those can be resubmitted" in refused["detail"]
    code, refused = await call(jp_fetch, params={"fresh": "maybe"})
    assert (code, refused["problems"][0]["field"]) == (400, "fresh")


async def test_jobs_survive_a_restart_of_the_server(jp_fetch, jp_serverapp, root, poll, store_dir):
    (root / "kept.sh").write_text("echo kept\n")
    (root / "later.sh").write_text("echo later\n")
    local = await submit(jp_fetch, "local", kind="script", path="kept.sh")
    await wait_for(jp_fetch, poll, local, finished)
    held = await submit(jp_fetch, "slurm", kind="script", path="later.sh", hold=True)
    first = jp_serverapp.web_app.settings["espri_vre"]

    # A second extension app on the same configuration takes over the server's routes, as the
    # extension of a restarted server would, with nothing kept in memory from the first.
    second = EspriVreApp()
    second._link_jupyter_server_extension(jp_serverapp)
    second._prepare_config()
    second._prepare_settings()
    assert jp_serverapp.web_app.settings["espri_vre"] is second
    assert second.jobs is not first.jobs
    assert second.jobs.store.data_dir == store_dir

    code, listed = await call(jp_fetch, params={"cluster": "local"})
    assert [(j["id"], j["state"]) for j in listed["jobs"]] == [(local["id"], "COMPLETED")]
    assert (await log(jp_fetch, local))["text"] == "kept\n"
    assert (await job(jp_fetch, "slurm", held["id"]))["state"] == "HELD"
    code, cancelled = await call(jp_fetch, "slurm", held["id"], "cancel", body={})
    assert code == 200
    assert (await wait_for(jp_fetch, poll, held, finished))["state"] == "CANCELLED"
    assert os.path.isfile(store_dir / "jobs.sqlite")


OTHER_USER = "espri-vre-other"


@pytest.fixture
def other_user() -> str:
    """A throwaway system account, created when missing: the owner of another user's job."""
    if os.geteuid() != 0:
        pytest.skip("submitting a job as another user needs root (sbatch --uid)")
    known = subprocess.run(["id", "-u", OTHER_USER], capture_output=True, check=False)
    if known.returncode != 0:
        subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", OTHER_USER], check=True)
    return OTHER_USER


def sbatch(*options: str) -> str:
    """A held job submitted behind the server's back; its id."""
    ran = subprocess.run(
        ["sbatch", "--parsable", "--hold", *options, "--wrap", "sleep 30"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return ran.stdout.strip().split(";")[0]


async def test_another_users_job_is_neither_controlled_nor_its_log_read(
    jp_fetch, other_user, tmp_path
):
    job_id = sbatch(f"--uid={other_user}", "--chdir=/tmp", "--output=/tmp/other-%j.out")
    try:
        code, info = await call(jp_fetch, "slurm", job_id)
        assert (code, info["user"], info["state"]) == (200, other_user, "HELD")
        for action in ("release", "hold", "cancel"):
            code, body = await call(jp_fetch, "slurm", job_id, action, body={})
            assert (code, body["error"]) == (403, "forbidden"), (action, body)
            assert f"belongs to {other_user}, not to root" in body["detail"]
        code, body = await call(jp_fetch, "slurm", job_id, "logs")
        assert (code, body["error"]) == (403, "forbidden")
        code, info = await call(jp_fetch, "slurm", job_id)
        assert (code, info["state"]) == (200, "HELD")  # nothing was done to it
    finally:
        subprocess.run(["scancel", job_id], check=False, capture_output=True, timeout=30)


async def test_a_log_outside_the_roots_is_not_read(jp_fetch, root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "away").symlink_to(outside)
    ids = [
        sbatch(f"--chdir={root}", "--output=/etc/espri-vre-never-%j.out"),
        sbatch(f"--chdir={root}", f"--output={root}/away/log-%j.out"),
    ]
    try:
        for job_id in ids:
            code, body = await call(jp_fetch, "slurm", job_id, "logs")
            assert (code, body["error"]) == (403, "forbidden"), body
            assert "outside the server's folder and the data roots" in body["detail"]
        inside = sbatch(f"--chdir={root}", f"--output={root}/in-%j.out")
        ids.append(inside)
        code, chunk = await call(jp_fetch, "slurm", inside, "logs")
        assert (code, chunk["path"], chunk["exists"]) == (200, f"{root}/in-{inside}.out", False)
    finally:
        subprocess.run(["scancel", *ids], check=False, capture_output=True, timeout=30)
