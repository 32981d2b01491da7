"""Issues 4 and 15: a refresh of the job list with 10,000 jobs in the real Slurm queue, against
jupyterlab-slurm's own squeue handler (installed from PyPI into a venv of its own under
.test-runtime/bench/anchors/), and the time from submit to the job being visible in the list.

Both servers are real `jupyter server` processes run by the same user against the same queue,
both running through the whole module, called in interleaved rounds (ours, jupyterlab-slurm,
ours, ...): one held array job of 10,000 tasks (nothing runs), cancelled at the end. Rows, like
for like: the fresh refresh (`fresh=true`: both call squeue; the target), the same after the
queue changed between calls (one task, then every task: what is parsed again), and the panel's
poll answered from the shared snapshot (a cache hit, no target).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from espri_vre.jobs.slurm.commands import squeue_rows_argv
from harness import (
    CACHE_HIT,
    Context,
    Row,
    anchor_venv,
    interleave,
    interleaved_times,
    poll_until,
    timed_ms,
)
from serverproc import ours_config, request, running

N_TASKS = 10_000
ANCHOR_PACKAGES = ("jupyterlab-slurm", "jupyter_server")
SLURM_CONF = Path("/tmp/espri-vre-slurm/slurm.conf")
ANCHOR_NAME = "jupyterlab-slurm GET /jupyterlab_slurm/squeue"
OURS_SQUEUE = squeue_rows_argv()
ANCHOR_SQUEUE = ("squeue", "-o", "%.18i %.9P %j %.20u %.2t %.15M %.6D %R", "-h")
"""The command jupyterlab-slurm's handler runs (SqueueHandler.output_formatting)."""


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
    anchor_python, anchor_problem = anchor_venv(ctx, "jupyterlab-slurm", ANCHOR_PACKAGES)
    if anchor_python is None:
        raise RuntimeError(f"jupyterlab-slurm cannot be installed: {anchor_problem}")
    rounds = max(5, min(ctx.repeat, 15))
    array_id = queue_tasks(env, work)
    submitted: list[str] = []
    ours_cfg = ours_config(
        clusters=[{"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"}]
    )
    slurm_cfg = {"ServerApp": {"jpserver_extensions": {"jupyterlab_slurm": True}}}
    ours = running(Path(sys.executable), ours_cfg, work / "ours", ctx.work / "jobs-ours.log", env)
    anchor_server = running(
        anchor_python, slurm_cfg, work / "anchor", ctx.work / "jobs-anchor.log", env
    )
    try:
        with ours as (base, token), anchor_server as (abase, atoken):
            list_url = f"{base}/espri-vre/api/jobs?cluster=slurm&mine=false"
            squeue_url = f"{abase}/jupyterlab_slurm/squeue"
            listing = json.loads(request(f"{list_url}&fresh=true", token))
            ours_n = sum(1 for j in listing["jobs"] if j.get("array_job_id") == array_id)
            answer = json.loads(request(squeue_url, atoken))
            if not answer.get("success"):
                raise RuntimeError(
                    f"jupyterlab-slurm's squeue failed: {answer.get('errorMessage')}"
                )
            anchor_n = sum(1 for r in answer["data"]["rows"] if r[0].startswith(f"{array_id}_"))
            if not ours_n == anchor_n == N_TASKS:
                raise RuntimeError(f"ours lists {ours_n} tasks, jupyterlab-slurm {anchor_n}")
            listed_n, anchor_rows = len(listing["jobs"]), len(answer["data"]["rows"])
            listed_bytes = len(request(f"{list_url}&fresh=true", token))
            anchor_bytes = len(request(squeue_url, atoken))

            def ours_fresh() -> bytes:
                return request(f"{list_url}&fresh=true", token)

            def anchor() -> bytes:
                return request(squeue_url, atoken)

            fresh = interleaved_times(ours_fresh, anchor, rounds)
            # The queue changes before each call of either side (not timed): the time limit of one
            # task, then of every task (the whole array in one scontrol call).
            one = changed_rounds(env, f"{array_id}_0", ours_fresh, anchor, rounds)
            every = changed_rounds(env, array_id, ours_fresh, anchor, max(5, rounds // 2))
            # The floor under both routes: the squeue each runs, alone, from this process.
            alone = interleaved_times(
                lambda: subprocess.run(OURS_SQUEUE, capture_output=True, check=True, env=env),
                lambda: subprocess.run(ANCHOR_SQUEUE, capture_output=True, check=True, env=env),
                rounds,
            )
            # The panel's poll: answered from the shared snapshot (at most QUEUE_TTL old).
            warm = interleaved_times(lambda: request(list_url, token), anchor, rounds)

            # Submit to visible: POST, then poll the list until the new id shows.
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
                # Asked again at once: the time to visible is what is measured.
                poll_until(
                    lambda: json.loads(request(list_url, token))["jobs"],
                    lambda jobs, job=info["id"]: any(j["id"] == job for j in jobs),
                    f"job {info['id']} listed after submission",
                    60,
                    every=0,
                )
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        subprocess.run(["scancel", array_id, *submitted], env=env, check=False)
    sizes = (listed_n, listed_bytes, anchor_rows, anchor_bytes)
    return rows(rounds, fresh, one, every, alone, warm, latencies, sizes)


FINISHED = {
    "COMPLETED",
    "CANCELLED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
}
"""States of the records squeue --states=all shows (ours) and plain squeue leaves out."""


def finished_records(env: dict[str, str]) -> int:
    listed = subprocess.run(
        ["squeue", "--all", "--states=all", "--noheader", "-o", "%T"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return sum(1 for state in listed.stdout.split() if state in FINISHED)


def queue_tasks(env: dict[str, str], work: Path) -> str:
    """The held array of N_TASKS tasks, each its own record; its id. First waits until the
    finished records of an earlier run are gone: slurmctld keeps them for MinJobAge (300 s), our
    list shows them (the panel shows what ended lately) and jupyterlab-slurm's does not, so the
    two would not list the same jobs."""
    deadline = time.monotonic() + 420
    while finished_records(env) > 100 and time.monotonic() < deadline:
        time.sleep(10)
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
    return array_id


def changed_rounds(
    env: dict[str, str],
    job: str,
    ours: Callable[[], object],
    anchor: Callable[[], object],
    rounds: int,
) -> tuple[list[float], list[float]]:
    """Interleaved rounds where `job`'s time limit changes (untimed) before every call of
    either side: each side sets it alternately to 9 and 10 minutes, so that each of its calls
    finds a queue other than the one its last call saw."""

    def after_change(call: Callable[[], object]) -> Callable[[], float]:
        timed = timed_ms(call)
        calls = iter(range(10**6))

        def run() -> float:
            limit = 9 + next(calls) % 2
            subprocess.run(
                ["scontrol", "update", f"JobId={job}", f"TimeLimit={limit}"],
                check=True,
                capture_output=True,
                env=env,
            )
            return timed()

        return run

    return interleave(after_change(ours), after_change(anchor), rounds)


def rows(
    rounds: int,
    fresh: tuple[list[float], list[float]],
    one: tuple[list[float], list[float]],
    every: tuple[list[float], list[float]],
    alone: tuple[list[float], list[float]],
    warm: tuple[list[float], list[float]],
    latencies: list[float],
    sizes: tuple[int, int, int, int],
) -> list[Row]:
    listed_n, listed_bytes, anchor_rows, anchor_bytes = sizes
    queue = f"{N_TASKS:,} held array tasks in the real Slurm queue"
    both = (
        f"One held array job of {N_TASKS:,} tasks, split into one record per task with "
        "`scontrol update JobId=<id>_<i>,... Comment=` (a pending array is otherwise one "
        f"collapsed record); both routes list the {N_TASKS:,} tasks (checked), with the other "
        "jobs of this shared Slurm (the finished ones of an earlier run waited out). Ours: "
        f"squeue -o with the list's codes, one JobInfo per job, {listed_n:,} jobs in JSON "
        f"without null fields ({listed_bytes / 1e6:.1f} MB); jupyterlab-slurm: `squeue -o "
        "'%.18i %.9P %j %.20u %.2t %.15M %.6D %R' -h`, split and HTML-escaped, "
        f"{anchor_rows:,} rows ({anchor_bytes / 1e6:.1f} MB). "
        "Both servers run at once; interleaved rounds, HTTP from this process."
    )

    def versus_slurm(task: str, runs: tuple[list[float], list[float]], **kw: object) -> Row:
        """A row of issue 15: ours against jupyterlab-slurm's route (unless another anchor is
        named), in ms, informational unless a target is given."""
        kw = {"anchor_name": ANCHOR_NAME, "target": "informational", **kw}
        return Row.measured("#15", task, runs[0], anchor_runs=runs[1], unit="ms", **kw)

    return [
        versus_slurm(
            task=f"fresh refresh of the job list (Refresh button: squeue called), {queue}, "
            f"{rounds} rounds",
            runs=fresh,
            goal=2,
            target="ours ≥ 2x faster",
            note=f"{both} The queue does not change between the rounds: squeue answers the "
            "same bytes, from which our server keeps the list it made (the rows, the listing "
            "and its JSON), so that a fresh refresh costs squeue and the HTTP answer (compare the "
            "squeue-alone row); the next two rows change the queue before each call.",
        ),
        versus_slurm(
            task=f"fresh refresh after one task of the queue changed (its time limit), {queue}, "
            f"{rounds} rounds",
            runs=one,
            note="`scontrol update JobId=<id>_0 TimeLimit=9|10` before each call of either side "
            "(not timed): ours parses the changed row again and builds the listing and its "
            "JSON anew from the rows it keeps.",
        ),
        versus_slurm(
            task=f"fresh refresh after every task of the queue changed (its time limit), {queue}, "
            f"{len(every[0])} rounds",
            runs=every,
            note="`scontrol update JobId=<id> TimeLimit=9|10` (the whole array) before each call "
            "of either side (not timed): ours parses every row again, makes every JobInfo and "
            "its JSON: what a refresh costs with nothing kept from the one before.",
        ),
        versus_slurm(
            task=f"squeue alone, the command each route runs, {queue}, {rounds} rounds",
            runs=alone,
            anchor_name="jupyterlab-slurm's squeue command",
            note="run from the benchmark's process (no server): ours `"
            + " ".join(OURS_SQUEUE).replace("\x1f", "\\x1f")
            + "` (the list's 17 fields, the finished jobs too), jupyterlab-slurm's `"
            + " ".join(ANCHOR_SQUEUE)
            + "` (8 padded fields). A fresh refresh takes at least its squeue: the target (ours "
            "in half of jupyterlab-slurm's time) needs our squeue to take less than half of "
            "jupyterlab-slurm's whole answer.",
        ),
        versus_slurm(
            task=f"polling refresh of the same list (the panel's timer), {rounds} rounds",
            runs=warm,
            target="",
            kind=CACHE_HIT,
            note="the panels' polls share one squeue answer for QUEUE_TTL (2 s) and the "
            "refreshes that arrive while squeue runs wait for that call; a submission, cancel, "
            "hold or release clears it, and the Refresh button asks with fresh=true (the first "
            "row). jupyterlab-slurm runs squeue on every request.",
        ),
        Row(
            issue="#4",
            task="submit (POST /espri-vre/api/jobs) to visible in the list route, median of 3",
            ours=statistics.median(latencies),
            anchor_name="one fresh refresh (ours, same queue)",
            anchor=statistics.median(fresh[0]),
            unit="ms",
            target="informational",
            ours_runs=latencies,
            note="the time includes the sbatch call and at least one refresh of the "
            f"{N_TASKS:,}-entry list; the anchor column is one fresh refresh alone.",
        ),
    ]
