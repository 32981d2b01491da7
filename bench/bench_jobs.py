"""Issue 4: one refresh of the job list with 10,000 jobs in the real Slurm queue, against
jupyterlab-slurm's own squeue handler (installed from PyPI into a venv of its own under
.test-runtime/bench/anchors/), and the time from submit to the job being visible in the list.

Both servers are real `jupyter server` processes run by the same user against the same queue:
one held array job of 10,000 tasks (nothing runs), cancelled at the end.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import Context, Row, median_time
from serverproc import request, start_server, stop

N_TASKS = 10_000
ANCHOR_PACKAGES = ("jupyterlab-slurm", "jupyter_server")
SLURM_CONF = Path("/tmp/espri-vre-slurm/slurm.conf")


def anchor_venv(ctx: Context) -> tuple[Path | None, str]:
    """The anchor's venv (made once, reused); (python, '') or (None, why not)."""
    venv = ctx.work / "anchors" / "jupyterlab-slurm"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python, ""
    log = ctx.work / "anchors" / "jupyterlab-slurm-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # A plain venv of the system's Python: the anchor never touches the repository's .venv.
        made = subprocess.run(
            ["python3", "-m", "venv", "--clear", str(venv)], stdout=out, stderr=out
        )
        if made.returncode == 0:
            made = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *ANCHOR_PACKAGES],
                stdout=out,
                stderr=out,
            )
    if made.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return None, f"pip install {' '.join(ANCHOR_PACKAGES)} failed: {tail[0]}"
    marker.write_text("ok\n")
    return python, ""


def run(ctx: Context) -> list[Row]:
    root = ctx.root
    subprocess.run(["bash", str(root / "scripts" / "slurm" / "start.sh")], check=True)
    env = dict(os.environ, SLURM_CONF=str(SLURM_CONF))
    work = ctx.work / "jobs"
    work.mkdir(parents=True, exist_ok=True)
    (work / "ours").mkdir(exist_ok=True)
    (work / "anchor").mkdir(exist_ok=True)
    script = work / "ours" / "tiny.sh"
    script.write_text("#!/bin/bash\necho hello\n")
    anchor_python, anchor_problem = anchor_venv(ctx)
    repeat = max(5, min(ctx.repeat, 10))

    # slurmctld keeps finished records for MinJobAge (300 s), and 10,000 split tasks per run
    # count against MaxJobCount: a rerun within minutes may be told to wait, so retry.
    deadline = time.monotonic() + 360
    while True:
        done = subprocess.run(
            ["sbatch", "--parsable", "--hold", f"--array=0-{N_TASKS - 1}", "--wrap", "sleep 1"],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
        )
        array_id = done.stdout.strip()
        if done.returncode == 0 and array_id:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"sbatch of the 10,000-task array failed: {done.stderr.strip()}")
        time.sleep(10)
    array_id = array_id.split(";")[0]
    # A pending array is one record in slurmctld, which squeue shows as one '<id>_[0-9999]'
    # row. Updating its tasks by id splits them into 10,000 records, as a queue of 10,000 jobs
    # holds: each is then one row for squeue (and one entry for squeue --json).
    for first in range(0, N_TASKS, 500):
        ids = ",".join(f"{array_id}_{i}" for i in range(first, min(first + 500, N_TASKS)))
        subprocess.run(
            ["scontrol", "update", f"JobId={ids}", "Comment=espri-vre-bench"],
            check=True,
            capture_output=True,
            env=env,
        )
    submitted: list[str] = []
    servers: list[subprocess.Popen] = []
    try:
        ours_cfg = {
            "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
            "EspriVreApp": {
                "catalogs": [],
                "data_roots": [],
                "clusters": [
                    {"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"}
                ],
            },
        }
        server, base, token = start_server(
            Path(sys.executable), ours_cfg, work / "ours", ctx.work / "jobs-ours.log", env
        )
        servers.append(server)
        list_url = f"{base}/espri-vre/api/jobs?cluster=slurm&mine=false"
        listing = json.loads(request(list_url, token))
        in_array = [j for j in listing["jobs"] if (j.get("array_job_id") or "") == array_id]
        ours_n = len(in_array)
        ours_problems = listing.get("problems") or []
        # Cold: the Refresh button (fresh=true: squeue is called). Warm: the panel's polling,
        # served by the server's shared snapshot of the queue (at most QUEUE_TTL old).
        ours = median_time(lambda: request(f"{list_url}&fresh=true", token), repeat)
        ours_warm = median_time(lambda: request(list_url, token), repeat)

        # (c) submit to visible: POST, then poll the list until the new id shows.
        latencies = []
        for _ in range(3):
            start = time.perf_counter()
            info = json.loads(
                request(
                    f"{base}/espri-vre/api/jobs",
                    token,
                    {
                        "cluster": "slurm",
                        "spec": {"kind": "script", "path": "tiny.sh", "hold": True},
                    },
                )
            )
            submitted.append(info["id"])
            while True:
                jobs = json.loads(request(list_url, token))["jobs"]
                if any(j["id"] == info["id"] for j in jobs):
                    break
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"job {info['id']} not listed 60 s after submission")
            latencies.append((time.perf_counter() - start) * 1000)
        stop(server)

        anchor, anchor_n, anchor_note = float("nan"), 0, anchor_problem
        if anchor_python is not None:
            slurm_cfg = {"ServerApp": {"jpserver_extensions": {"jupyterlab_slurm": True}}}
            try:
                aserver, abase, atoken = start_server(
                    anchor_python,
                    slurm_cfg,
                    work / "anchor",
                    ctx.work / "jobs-anchor.log",
                    env,
                )
            except RuntimeError as e:
                anchor_note = f"jupyterlab-slurm's server did not start: {e}"
            else:
                servers.append(aserver)
                squeue_url = f"{abase}/jupyterlab_slurm/squeue"
                answer = json.loads(request(squeue_url, atoken))
                if not answer.get("success"):
                    anchor_note = f"jupyterlab-slurm's squeue failed: {answer.get('errorMessage')}"
                else:
                    rows = answer["data"]["rows"]
                    anchor_n = sum(1 for r in rows if r[0].startswith(f"{array_id}_"))
                    anchor = median_time(lambda: request(squeue_url, atoken), repeat)
                stop(aserver)
    finally:
        for server in servers:
            stop(server)
        subprocess.run(["scancel", array_id, *submitted], env=env, check=False)

    listed = (
        f"one held array job of {N_TASKS:,} tasks, split into one record per task with "
        "`scontrol update JobId=<id>_<i>,... Comment=` (a pending array is otherwise one "
        f"collapsed record, listed as one row by both tools); our route lists {ours_n} entries "
        "for it (squeue -O with the list's fields, one JobInfo per task record)"
    )
    if ours_problems:
        listed += f"; problems reported: {ours_problems}"
    if anchor_note:
        anchor_name, anchor_value = "jupyterlab-slurm GET /jupyterlab_slurm/squeue (n/a)", 0.0
        note = f"{listed}. Anchor not measured: {anchor_note}"
    else:
        anchor_name, anchor_value = "jupyterlab-slurm GET /jupyterlab_slurm/squeue", anchor
        same = (
            "both list the same 10,000 entries"
            if anchor_n == ours_n == N_TASKS
            else f"jupyterlab-slurm's route (`squeue -o ... -h`, no -r) lists {anchor_n} "
            "row(s) for the array job, so the two listings differ"
        )
        note = f"{listed}; {same}."
    rows = [
        Row(
            issue="#4",
            task=f"refresh of the job list (Refresh button, squeue called), {N_TASKS:,} held "
            f"array tasks in the real Slurm queue, median of {repeat}",
            ours=ours,
            anchor_name=anchor_name,
            anchor=anchor_value,
            unit="ms",
            target="ours >= 5x faster",
            note=note,
        ),
        Row(
            issue="#4",
            task=f"polling refresh of the same list (the panel's timer), median of {repeat}",
            ours=ours_warm,
            anchor_name=anchor_name,
            anchor=anchor_value,
            unit="ms",
            target="ours >= 5x faster",
            note="the panels' polls share one squeue answer for QUEUE_TTL (2 s) and the refreshes "
            "that arrive while squeue runs wait for that call; a submission, cancel, hold or "
            "release clears it, and the Refresh button asks with fresh=true (the row above). "
            "jupyterlab-slurm runs squeue on every request.",
        ),
        Row(
            issue="#4",
            task="submit (POST /espri-vre/api/jobs) to visible in the list route, median of 3",
            ours=statistics.median(latencies),
            anchor_name="one list refresh (ours, same queue)",
            anchor=ours,
            unit="ms",
            target="informational",
            note="the time includes the sbatch call and at least one full refresh of the "
            f"{N_TASKS:,}-entry list; the anchor column is one refresh alone.",
        ),
    ]
    return rows
