"""The Slurm back end (espri_vre.jobs.slurm): every recorded Slurm output of
../shared/fixtures/jobs/slurm parsed with its real values, then real jobs on the real Slurm 22.05
started by the `slurm` fixture (a GPU job watched through PENDING, RUNNING and COMPLETED, a log
read while its job runs, a failing job's exit code, cancel, hold and release, an array, a
papermill notebook) and the fallbacks: squeue's text forms, sacct without accounting, a
controller that times out."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from espri_vre.jobs import scheduler as scheduler_module
from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.commands import (
    SQUEUE_CODES,
    SQUEUE_JSON_ARGV,
    squeue_fields_argv,
    squeue_lines_argv,
    squeue_rows_argv,
)
from espri_vre.jobs.slurm.parse import (
    accounting_disabled,
    expand_path,
    gpus_in,
    parse_sacct_json,
    parse_sbatch_parsable,
    parse_scontrol_show_job,
    parse_squeue_fields,
    parse_squeue_json,
    parse_squeue_lines,
    parse_time_limit,
    slurm_state,
)
from espri_vre.jobs.slurm.partitions import parse_sdiag_json, parse_sinfo_gres, parse_sinfo_json
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.transport import CommandResult, LocalTransport
from espri_vre.jobs.types import (
    ClusterConfig,
    JobInfo,
    JobKind,
    JobNotFound,
    JobSpec,
    JobState,
    JobValidationError,
    SchedulerError,
    TransientSchedulerError,
)

TIMED_OUT = "slurm_load_jobs error: Socket timed out on send/recv operation\n"


def local_iso(epoch: float | None) -> str | None:
    """Slurm's text outputs are in local time: compare in local time, whatever the TZ."""
    return datetime.fromtimestamp(epoch).isoformat() if epoch is not None else None


# Recorded outputs


def test_squeue_json_of_slurm_21_08_with_both_number_shapes(recorded):
    text = recorded("slurm/squeue/squeue_json_21.08.5_openapi-v0.0.37__rivosinc.json").read_text()
    running, pending = parse_squeue_json(text)
    assert (running.id, running.name, running.user, running.partition) == (
        "26515966",
        "job_name",
        "bkd",
        "hw-l",
    )
    assert (running.state, running.nodes, running.cpus, running.memory) == (
        JobState.RUNNING,
        "cs75",
        1,
        "62.50G",
    )
    assert (running.submit_time, running.start_time, running.end_time) == (
        1684114900.0,
        1684114921.0,
        None,
    )
    assert running.time_limit == 30240 * 60
    assert (running.stdout_path, running.stderr_path) == (
        "/nfs/user/stdout.log",
        "/nfs/user/stderr.log",
    )
    # The second record writes its numbers as {"set", "infinite", "number"} objects.
    assert (pending.id, pending.state, pending.reason) == (
        "58948420",
        JobState.PENDING,
        "Dependency",
    )
    assert (pending.array_job_id, pending.array_task_id) == ("58948420", "1-10")
    assert pending.time_limit == 1439 * 60
    assert pending.dependency == "afterok:58948419(unfulfilled)"
    assert pending.stdout_path == "/path/to/some/dir/./logs/slurm-58948420.out"
    assert pending.exit_code is None  # not finished: exit codes are not read yet


# `squeue -o` with SQUEUE_CODES, as the local Slurm 22.05 printed it (the lines of four jobs
# kept): a job that failed, a held GPU job with a dependency and the separator in its name, a
# held array whose tasks are one record, a running job. Only the working directory was changed.
SQUEUE_O_ROWS_22_05 = (
    "JOBID\x1fUSER\x1fSTATE\x1fREASON\x1fPARTITION\x1fNODELIST\x1fNODES\x1fCPUS\x1fMIN_MEMORY"
    "\x1fSUBMIT_TIME\x1fSTART_TIME\x1fEND_TIME\x1fTIME_LIMIT\x1fTRES_PER_NODE\x1fDEPENDENCY"
    "\x1fWORK_DIR\x1fNAME\n"
    "10180\x1froot\x1fFAILED\x1fNonZeroExitCode\x1fdebug\x1flocalhost\x1f1\x1f1\x1f0"
    "\x1f2026-12-07T09:53:08\x1f2026-12-07T09:53:08\x1f2026-12-07T09:53:08\x1f10:00\x1fN/A"
    "\x1f(null)\x1f/srv/runs\x1fdone\n"
    "10179\x1froot\x1fPENDING\x1fJobHeldUser\x1fdebug\x1f\x1f1\x1f2\x1f2048M"
    "\x1f2026-12-07T09:53:08\x1fN/A\x1fN/A\x1f1:30:00\x1fgres:gpu:1"
    "\x1fafterok:10176_*(unfulfilled)\x1f/srv/runs\x1fa\x1fb name\n"
    "10176_[0-3]\x1froot\x1fPENDING\x1fJobHeldUser\x1fdebug\x1f\x1f1\x1f1\x1f0"
    "\x1f2026-12-07T09:53:07\x1fN/A\x1fN/A\x1f10:00\x1fN/A\x1f(null)\x1f/srv/runs\x1farr\n"
    "10181\x1froot\x1fRUNNING\x1fNone\x1fdebug\x1flocalhost\x1f1\x1f1\x1f0"
    "\x1f2026-12-07T09:53:08\x1f2026-12-07T09:53:08\x1f2026-12-07T09:58:08\x1f5:00\x1fN/A"
    "\x1f(null)\x1f/srv/runs\x1frun\n"
)


def test_squeue_o_rows_of_slurm_22_05_with_the_list_codes():
    assert SQUEUE_O_ROWS_22_05.splitlines()[0].split("\x1f") == [n for n, _ in SQUEUE_CODES]
    failed, held, array, running = parse_squeue_fields(SQUEUE_O_ROWS_22_05, cluster="slurm")
    assert (failed.id, failed.name, failed.state, failed.raw_state, failed.reason) == (
        "10180",
        "done",
        JobState.FAILED,
        "FAILED",
        "NonZeroExitCode",
    )
    assert (failed.cluster, failed.user, failed.partition, failed.nodes, failed.node_count) == (
        "slurm",
        "root",
        "debug",
        "localhost",
        1,
    )
    assert (failed.cpus, failed.memory, failed.time_limit, failed.gres, failed.gpus) == (
        1,
        None,
        600,
        None,
        0,
    )
    assert local_iso(failed.end_time) == "2026-12-07T09:53:08"
    assert (failed.exit_code, failed.stdout_path, failed.working_dir) == (None, None, "/srv/runs")
    assert (held.id, held.name, held.state, held.reason) == (
        "10179",
        "a\x1fb name",
        JobState.HELD,
        "JobHeldUser",
    )
    assert (held.nodes, held.cpus, held.memory, held.time_limit) == (None, 2, "2048M", 5400)
    assert (held.gres, held.gpus, held.dependency) == (
        "gres:gpu:1",
        1,
        "afterok:10176_*(unfulfilled)",
    )
    assert (held.start_time, held.end_time) == (None, None)
    assert local_iso(held.submit_time) == "2026-12-07T09:53:08"
    assert (array.id, array.array_job_id, array.array_task_id, array.state) == (
        "10176",
        "10176",
        "0-3",
        JobState.HELD,
    )
    assert (running.id, running.state, running.array_job_id, running.end_time) == (
        "10181",
        JobState.RUNNING,
        None,
        None,
    )
    assert local_iso(running.start_time) == "2026-12-07T09:53:08"
    assert running.time_limit == 300
    task = (
        "10176_3\x1froot\x1fRUNNING\x1fNone\x1fdebug\x1flocalhost\x1f1\x1f1\x1f0\x1f\x1f\x1f\x1f5"
    )
    # Empty trailing fields: DEPENDENCY, WORK_DIR, NAME and the two before them.
    task += "\x1f" * 4 + "\n"
    (one,) = parse_squeue_fields(SQUEUE_O_ROWS_22_05.splitlines()[0] + "\n" + task)
    assert (one.id, one.array_job_id, one.array_task_id, one.name) == ("10176_3", "10176", "3", "")


@pytest.mark.parametrize("cut", [-1, -20, -60])
def test_squeue_o_rows_cut_short_raise_instead_of_listing_a_partial_row(cut):
    """An answer cut mid-row (a dropped SSH session, a killed squeue) must not list a job with
    the fields it lost as empty, or a job name cut short: it raises, and the refresh says so."""
    with pytest.raises(ValueError, match="squeue output was cut"):
        parse_squeue_fields(SQUEUE_O_ROWS_22_05[:cut])


def test_squeue_o_rows_parsed_once_while_they_do_not_change():
    cache: dict[str, JobInfo] = {}
    first = parse_squeue_fields(SQUEUE_O_ROWS_22_05, cache=cache)
    changed = SQUEUE_O_ROWS_22_05.replace(
        "\x1f10:00\x1fN/A\x1f(null)\x1f/srv/runs\x1farr",
        "\x1f20:00\x1fN/A\x1f(null)\x1f/srv/runs\x1farr",
    )
    second = parse_squeue_fields(changed, cache=cache)
    assert [a is b for a, b in zip(first, second, strict=True)] == [True, True, False, True]
    assert (second[2].id, second[2].time_limit) == ("10176", 1200)
    assert len(cache) == 4


def test_squeue_O_with_unit_separators_and_a_non_utf8_name(recorded):
    raw = recorded("slurm/squeue/squeue_O_x1F_separated__ood_core__non_utf8_job_name.txt")
    (job,) = parse_squeue_fields(raw.read_bytes().decode("utf-8", errors="replace"))
    assert (job.id, job.array_job_id, job.array_task_id) == ("29471683_9", "29471683", "9")
    assert job.name == "\ufffd non-utf8"
    assert (job.state, job.raw_state, job.user) == (JobState.COMPLETED, "COMPLETED", "annie.oakley")
    assert (job.partition, job.nodes, job.cpus, job.memory) == (
        "condo-ccapp-backfill-serial",
        "p0220",
        40,
        "4556M",
    )
    assert (job.time_limit, job.gres, job.gpus) == (1800, "gres/gpfs:ess:1", 0)
    assert local_iso(job.submit_time) == "2024-06-26T14:01:13"
    assert local_iso(job.start_time) == "2024-06-26T14:16:35"
    assert local_iso(job.end_time) == "2024-06-26T14:19:40"
    # No STDOUT column: Open OnDemand keeps the path in the comment.
    assert job.stdout_path == "/tmp/job.output"


def test_squeue_O_rows_whose_job_name_holds_the_separator(recorded):
    text = recorded("slurm/squeue/squeue_O_x1F_separated__ood_core__null_submit_time.txt")
    jobs = parse_squeue_fields(text.read_text())
    assert [(j.id, j.state, j.user, j.partition) for j in jobs] == [
        ("6779842", JobState.RUNNING, "nxs892", "cpu"),
        ("6787542", JobState.RUNNING, "crokosky", "quick"),
        ("6769365", JobState.RUNNING, "ahmed179", "quick"),
        ("6783828", JobState.TIMEOUT, "psienceguy", "quick"),
    ]
    assert jobs[0].name == "cupd3_n_fcc_mix_n15\x1fcohp"
    assert (jobs[0].cpus, jobs[0].memory, jobs[0].time_limit) == (96, "4956M", 4 * 86400)
    assert jobs[0].working_dir.endswith("/n_bind/fcc_mix/cohp")
    assert (jobs[3].reason, jobs[3].time_limit) == ("TimeLimit", 7200)
    assert local_iso(jobs[3].end_time) == "2026-03-10T16:26:12"


def test_squeue_o_json_like_lines_skip_what_is_not_json(recorded):
    text = recorded("slurm/squeue/squeue_o_jsonlike_fallback__rivosinc.txt").read_text()
    jobs, skipped = parse_squeue_lines(text)
    assert skipped == 3  # a '#' comment and two lines with "cpu": xx
    assert [(j.id, j.state, j.partition, j.cpus, j.memory) for j in jobs] == [
        ("26515966", JobState.RUNNING, "hw-h", 1, "128G"),
        ("50580016", JobState.RUNNING, "hw-l", 1, "62.50G"),
        ("51447051", JobState.PENDING, "hw-h", 1, "40000M"),
        ("51447052", JobState.PENDING, "hw-h", 1, "40000M"),
        ("51447053", JobState.PENDING, "hw-h", 1, "40000M"),
        ("18804", JobState.PENDING, "magma", 24, "118G"),
    ]
    assert [j.reason for j in jobs[2:]] == [
        "Dependency",
        "(ReqNodeNotAvail, UnavailableNodes:cs[100,101,102])",
        "Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority "
        "partitions",
        "Priority",
    ]
    assert jobs[0].nodes == "cs10"


def test_scontrol_show_job(recorded):
    text = recorded("slurm/scontrol/scontrol_show_job__batcheuphoria.txt").read_text()
    (job,) = parse_scontrol_show_job(text)
    assert (job.id, job.name, job.user, job.state) == (
        "267858",
        "r230620",
        "user",
        JobState.RUNNING,
    )
    assert (job.partition, job.nodes, job.node_count, job.cpus, job.memory) == (
        "compute",
        "compute038",
        1,
        76,
        "300G",
    )
    assert job.time_limit == 20 * 3600
    assert local_iso(job.submit_time) == "2023-06-20T07:07:33"
    assert local_iso(job.start_time) == "2023-06-20T07:07:34"
    assert (job.stdout_path, job.stderr_path, job.working_dir) == (
        "/path/to/outputFile",
        "/path/to/errorFile",
        "/home/user",
    )
    assert (job.reason, job.dependency, job.exit_code) == (None, None, None)


def test_sacct_json_completed_not_started_and_requeued(recorded):
    base = "slurm/sacct/sacct_json_22.05.2_openapi-dbv0.0.37__batcheuphoria__"
    (done,) = parse_sacct_json(recorded(base + "sacct.json").read_text())
    assert (done.id, done.name, done.state, done.exit_code) == (
        "267854",
        "r230620",
        JobState.COMPLETED,
        0,
    )
    assert (done.nodes, done.cpus, done.memory, done.time_limit) == (
        "compute013",
        2,
        "7168M",
        18000,
    )
    assert (done.start_time, done.end_time) == (1687234198.0, 1687234436.0)
    (never,) = parse_sacct_json(recorded(base + "sacct_not_started.json").read_text())
    assert (never.id, never.state, never.nodes, never.start_time) == (
        "275097",
        JobState.CANCELLED,
        None,
        None,
    )
    # A requeued job is listed once per run: the last run (TIMEOUT) is its state.
    (requeued,) = parse_sacct_json(recorded(base + "sacct_requeued.json").read_text())
    assert (requeued.id, requeued.state, requeued.nodes) == (
        "268210",
        JobState.TIMEOUT,
        "compute015",
    )
    assert (requeued.start_time, requeued.end_time) == (1687355570.0, 1687356482.0)


def test_sbatch_outputs(recorded):
    lines = recorded("slurm/sbatch/sbatch_output__documented_samples.txt").read_text().splitlines()
    assert parse_sbatch_parsable(lines[lines.index("167871")]) == ("167871", None)
    assert parse_sbatch_parsable("167871;cluster") == ("167871", "cluster")
    with pytest.raises(ValueError, match="not a job id"):
        parse_sbatch_parsable("Submitted batch job 209")


def test_sinfo_gres_per_node_of_a_large_cluster(recorded):
    rows = parse_sinfo_gres(recorded("slurm/sinfo/sinfo_gres__ood_core.txt").read_text())
    nodes = {r.node: r for r in rows}
    assert (len(rows), len(nodes)) == (2348, 298)
    assert (nodes["a0001"].gpus, nodes["a0001"].gpus_used, nodes["a0001"].state) == (4, 4, "mixed-")
    assert sum(n.gpus for n in nodes.values()) == 664
    assert sum(n.gpus_used for n in nodes.values()) == 627


def test_sinfo_json_of_slurm_21_08(recorded):
    rows = parse_sinfo_json(
        recorded("slurm/sinfo/sinfo_json_21.08.5_openapi-v0.0.37__rivosinc.json").read_text()
    )
    assert [(r.node, r.state, r.partition, r.gpus) for r in rows] == [
        ("cs2.example.company.com", "mixed", "hw", 0),
        ("cs3.example.company.com", "idle", "hw", 0),
        ("cs4.example.company.com", "allocated", "hw", 0),
        ("cs5.example.company.com", "down", "hw", 0),
    ]


def test_sdiag_json_of_slurm_23_02(recorded):
    load = parse_sdiag_json(
        recorded("slurm/sinfo/sdiag_json_23.02.4_data_parser-v0.0.39__rivosinc.json").read_text()
    )
    assert (load.jobs_pending, load.jobs_running, load.server_threads, load.agent_queue) == (
        13455,
        4993,
        3,
        0,
    )
    assert (load.cycle_mean_us, load.backfill_cycle_mean_us) == (30921, 2382553)


@pytest.mark.parametrize(
    ("raw", "reason", "state"),
    [
        ("RUNNING", None, JobState.RUNNING),
        ("CG", None, JobState.RUNNING),
        ("PENDING", "JobHeldUser", JobState.HELD),
        ("PENDING", "Priority", JobState.PENDING),
        ("CANCELLED by 0", None, JobState.CANCELLED),
        ("OUT_OF_MEMORY", None, JobState.FAILED),
        ("DL", None, JobState.TIMEOUT),
        ("SUSPENDED", None, JobState.HELD),
        ("BOGUS", None, JobState.UNKNOWN),
    ],
)
def test_slurm_states_are_normalised(raw, reason, state):
    assert slurm_state(raw, reason) is state


def test_small_slurm_formats():
    assert [parse_time_limit(t) for t in ("30", "10:00", "1:00:00", "1-00:00:00", "4-00:00")] == [
        1800,
        600,
        3600,
        86400,
        345600,
    ]
    assert parse_time_limit("UNLIMITED") is None
    assert [
        gpus_in(g) for g in ("gres:gpu:1", "gres/gpu:a100:2", "gpu:2(IDX:0-1)", "cpu=1,gres/gpu=3")
    ] == [
        1,
        2,
        2,
        3,
    ]
    assert expand_path("/l/%x-%A_%a.out", "16", "15", "0", "arr") == "/l/arr-15_0.out"
    assert expand_path("/l/%j-%a.out", "15", "15", "1-2") == "/l/15-%a.out"
    assert accounting_disabled("Slurm accounting storage is disabled\n")


# Scripts and command lines


def test_the_sbatch_options_and_the_preview_come_from_one_spec(user_root, job_store):
    (user_root / "train.py").write_text("print('x')\n")
    sched = SlurmScheduler(
        ClusterConfig(id="gpu", kind="slurm", python="/opt/py/bin/python"), job_store, [user_root]
    )
    spec = JobSpec(
        kind=JobKind.PYTHON,
        path="train.py",
        name="train",
        partition="gpu",
        nodes=1,
        tasks=2,
        cpus=4,
        memory="16G",
        walltime="1-00:00:00",
        gpus=2,
        gpu_type="a100",
        account="climate",
        afterok=("12", "13"),
        arguments=("--epochs", "10"),
        conda_env="ml",
        hold=True,
    )
    logs = user_root / ".espri-vre-jobs"
    assert sched.preview(spec).splitlines() == [
        "#!/bin/bash",
        f"# espri-vre python job train: {user_root / 'train.py'}",
        "#SBATCH --job-name=train",
        "#SBATCH --partition=gpu",
        "#SBATCH --nodes=1",
        "#SBATCH --ntasks=2",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=16384M",
        "#SBATCH --time=24:00:00",
        "#SBATCH --gres=gpu:a100:2",
        "#SBATCH --account=climate",
        "#SBATCH --dependency=afterok:12:13",
        f"#SBATCH --chdir={user_root}",
        f"#SBATCH --output={logs}/train-%j.out",
        f"#SBATCH --error={logs}/train-%j.err",
        "#SBATCH --hold",
        'job_id="${SLURM_JOB_ID}"',
        f"cd {user_root} || exit 1",
        "conda_hook=$(conda shell.bash hook) || exit 1",
        'eval "$conda_hook"',
        "conda activate ml || exit 1",
        f"exec python {user_root / 'train.py'} --epochs 10",
    ]


# The real Slurm


class Recording:
    """A transport that runs the real commands and can answer some of them itself."""

    def __init__(self, fake: dict[tuple[str, ...], list[CommandResult]] | None = None) -> None:
        self.real = LocalTransport()
        self.fake = fake or {}
        self.calls: list[tuple[str, ...]] = []

    async def run(self, argv: Sequence[str], *, timeout: float, input: bytes | None = None):
        key = tuple(argv)
        self.calls.append(key)
        for prefix, answers in self.fake.items():
            if key[: len(prefix)] == prefix and answers:
                return answers.pop(0)
        return await self.real.run(argv, timeout=timeout, input=input)


def failed(argv: Sequence[str], stderr: str) -> CommandResult:
    return CommandResult(tuple(argv), 1, b"", stderr.encode(), 0.01)


@pytest.fixture
def cluster() -> ClusterConfig:
    return ClusterConfig(id="slurm", kind="slurm", title="the test Slurm")


@pytest.fixture
def sched(slurm, cluster, job_store, user_root):
    scheduler = SlurmScheduler(cluster, job_store, [user_root])
    yield scheduler
    # Leave no job of this test behind on the shared cluster.
    live = [r.job_id for r in job_store.list("slurm") if not r.info.finished]
    if live:
        subprocess.run(["scancel", *live], check=False, capture_output=True, timeout=30)


def waiting_script(root: Path, name: str, flag: str, before: str = "", after: str = "") -> JobSpec:
    """A job that waits (at most 2 minutes) for `flag` to appear in the user root."""
    wait = f"for i in $(seq 600); do [ -e {root / flag} ] && break; sleep 0.2; done"
    body = f"{before}\n{wait}\n{after}\n"
    (root / f"{name}.sh").write_text(body)
    return JobSpec(kind=JobKind.SCRIPT, path=f"{name}.sh", name=name)


@pytest.mark.anyio
async def test_a_gpu_job_goes_pending_running_completed_and_its_log_is_read_while_it_runs(
    sched, user_root, poll
):
    first = await sched.submit(waiting_script(user_root, "first", "go-first"))
    gpu_spec = waiting_script(
        user_root,
        "gpu",
        "go-gpu",
        before="echo started; env | grep SLURM_GPUS_ON_NODE",
        after="echo done",
    )
    gpu = await sched.submit(replace(gpu_spec, gpus=1, afterok=(first.id,)))
    seen: list[JobInfo] = []
    pending = await poll(
        lambda: sched.status(gpu.id), lambda i: i.reason == "Dependency", seen=seen
    )
    assert pending.state is JobState.PENDING
    assert (pending.gres, pending.gpus) == ("gres:gpu:1", 1)
    (user_root / "go-first").touch()
    running = await poll(
        lambda: sched.status(gpu.id), lambda i: i.state is JobState.RUNNING, seen=seen
    )
    assert running.nodes == "localhost"
    log = await poll(lambda: sched.logs(gpu.id), lambda c: "SLURM_GPUS_ON_NODE" in c.text)
    assert log.text == "started\nSLURM_GPUS_ON_NODE=1\n"
    assert (await sched.status(gpu.id)).state is JobState.RUNNING  # read while it runs
    (user_root / "go-gpu").touch()
    done = await poll(lambda: sched.status(gpu.id), lambda i: i.finished, seen=seen)
    assert (done.state, done.exit_code) == (JobState.COMPLETED, 0)
    assert (await sched.logs(gpu.id, offset=log.next_offset)).text == "done\n"
    states = list(dict.fromkeys(i.state for i in seen))
    assert states == [JobState.PENDING, JobState.RUNNING, JobState.COMPLETED]
    listed = {j.id: j for j in (await sched.list(states={JobState.COMPLETED})).jobs}
    assert listed[gpu.id].gpus == 1 and listed[first.id].state is JobState.COMPLETED


@pytest.mark.anyio
async def test_a_failing_job_reports_its_exit_code_and_stderr(sched, user_root, poll):
    (user_root / "fail.sh").write_text("echo 'no such file: input.nc' >&2\nexit 3\n")
    job = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="fail.sh"))
    done = await poll(lambda: sched.status(job.id), lambda i: i.finished)
    assert (done.state, done.raw_state, done.reason, done.exit_code) == (
        JobState.FAILED,
        "FAILED",
        "NonZeroExitCode",
        3,
    )
    assert (await sched.logs(job.id, "stderr")).text == "no such file: input.nc\n"
    listed = {j.id: j for j in (await sched.list(states={JobState.FAILED})).jobs}
    assert listed[job.id].exit_code == 3  # read once with scontrol: squeue -O has none


@pytest.mark.anyio
async def test_cancel_a_running_job(sched, user_root, poll):
    job = await sched.submit(waiting_script(user_root, "cancelme", "never"))
    await poll(lambda: sched.status(job.id), lambda i: i.state is JobState.RUNNING)
    await sched.cancel(job.id)
    done = await poll(lambda: sched.status(job.id), lambda i: i.finished)
    assert (done.state, done.raw_state) == (JobState.CANCELLED, "CANCELLED")
    with pytest.raises(JobNotFound):
        await sched.cancel("99999999")


@pytest.mark.anyio
async def test_hold_and_release(sched, user_root, poll):
    (user_root / "held.sh").write_text("echo released\n")
    job = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="held.sh", hold=True))
    held = await sched.status(job.id)
    assert (held.state, held.reason) == (JobState.HELD, "JobHeldUser")
    await sched.release(job.id)
    done = await poll(lambda: sched.status(job.id), lambda i: i.finished)
    assert done.state is JobState.COMPLETED
    assert (await sched.logs(job.id)).text == "released\n"

    blocker = await sched.submit(waiting_script(user_root, "blocker", "go-blocker"))
    waiting = await sched.submit(
        replace(waiting_script(user_root, "w", "x"), afterok=(blocker.id,))
    )
    await sched.hold(waiting.id)
    assert (await sched.status(waiting.id)).state is JobState.HELD
    await sched.release(waiting.id)
    assert (await sched.status(waiting.id)).state is JobState.PENDING
    await poll(lambda: sched.status(blocker.id), lambda i: i.state is JobState.RUNNING)
    with pytest.raises(SchedulerError, match=f"job {blocker.id} is running: only a pending job"):
        await sched.hold(blocker.id)
    await sched.cancel(waiting.id)
    (user_root / "go-blocker").touch()
    await poll(lambda: sched.status(blocker.id), lambda i: i.finished)


@pytest.mark.anyio
async def test_an_array_job_lists_its_tasks_and_ends_as_one(sched, user_root, poll):
    (user_root / "task.sh").write_text('echo "task $SLURM_ARRAY_TASK_ID"\n')
    job = await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="task.sh", array="0-1"))
    done = await poll(lambda: _listed(sched, job.id), lambda i: i is not None and i.finished)
    assert done.state is JobState.COMPLETED
    tasks = [j for j in (await sched.list()).jobs if j.array_job_id == job.id and j.id != job.id]
    assert sorted(t.id for t in tasks) == [f"{job.id}_0", f"{job.id}_1"]
    assert (await sched.logs(f"{job.id}_1")).text == "task 1\n"


@pytest.mark.anyio
async def test_the_squeue_o_rows_of_the_real_slurm_say_what_scontrol_says(sched, user_root):
    (user_root / "held.sh").write_text("true\n")
    spec = JobSpec(kind=JobKind.SCRIPT, path="held.sh", hold=True)
    first = await sched.submit(replace(spec, name="first"))
    job = await sched.submit(
        replace(spec, name="gpu-held", gpus=1, cpus=2, walltime="0:45:00", afterok=(first.id,))
    )
    ran = subprocess.run(squeue_rows_argv("root"), capture_output=True, text=True, check=True)
    listed = {j.id: j for j in parse_squeue_fields(ran.stdout, cluster="slurm")}[job.id]
    shown = await sched.status(job.id)
    fields = (
        "name",
        "state",
        "raw_state",
        "reason",
        "user",
        "partition",
        "node_count",
        "cpus",
        "submit_time",
        "time_limit",
        "gres",
        "gpus",
        "working_dir",
    )
    assert {f: getattr(listed, f) for f in fields} == {f: getattr(shown, f) for f in fields}
    assert (listed.state, listed.gpus, listed.time_limit) == (JobState.HELD, 1, 2700)
    assert listed.dependency == f"afterok:{first.id}(unfulfilled)"
    assert listed.working_dir == str(user_root)


async def _listed(sched, job_id: str) -> JobInfo | None:
    return next((j for j in (await sched.list()).jobs if j.id == job_id), None)


@pytest.mark.anyio
async def test_a_notebook_job_on_slurm_writes_its_output_notebook(
    sched, user_root, poll, write_notebook, notebook_kernel
):
    write_notebook(
        user_root / "trend.ipynb",
        ["import os\nprint(os.environ['SLURM_JOB_ID'], years[-1] - years[0])"],
        parameters="years = [2000, 2001]",
    )
    job = await sched.submit(
        JobSpec(
            kind=JobKind.NOTEBOOK,
            path="trend.ipynb",
            kernel=notebook_kernel,
            parameters={"years": [1990, 2020]},
        )
    )
    assert job.output_notebook == str(user_root / f"trend-{job.id}.ipynb")
    done = await poll(lambda: sched.status(job.id), lambda i: i.finished, timeout=120)
    assert done.state is JobState.COMPLETED, (await sched.logs(job.id, "stderr")).text
    nb = nbformat.read(done.output_notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert printed == f"{job.id} 30\n"  # it ran as that Slurm job, with the parameters
    assert nb.metadata["papermill"]["parameters"] == {"years": [1990, 2020]}


@pytest.mark.anyio
async def test_the_real_partitions_and_load(sched):
    debug, gpu = await sched.partitions()
    assert (debug.name, debug.default, debug.max_time, debug.default_time) == (
        "debug",
        True,
        3600,
        600,
    )
    assert (gpu.name, gpu.default, gpu.max_time, gpu.default_time) == ("gpu", False, 14400, 1800)
    assert (debug.nodes, debug.gpus, debug.gres) == (1, 2, ("gpu:2",))
    assert debug.cpus >= 1 and debug.max_memory >= 1
    assert 0 <= debug.gpus_used <= 2
    load = await sched.load()  # 22.05's sdiag has no --json: its text is read
    assert load.server_threads >= 1
    assert load.jobs_pending >= 0 and load.cycle_mean_us >= 0


@pytest.mark.anyio
async def test_limits_are_checked_before_sbatch_and_sbatch_refusals_are_reported(sched, user_root):
    (user_root / "x.sh").write_text("true\n")
    # Slurm 22.05 accepts this job and leaves it pending forever (PartitionTimeLimit).
    with pytest.raises(JobValidationError, match="01:00:00 allowed on partition debug"):
        await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="x.sh", walltime="02:00:00"))
    with pytest.raises(JobValidationError, match="GPUs 3 is more than the 2 allowed"):
        await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="x.sh", gpus=3))
    with pytest.raises(SchedulerError) as caught:
        await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="x.sh", gpus=1, gpu_type="a100"))
    assert (
        str(caught.value)
        == "Batch job submission failed: Requested node configuration is not available"
    )
    assert sched.store.list("slurm") == []


@pytest.mark.anyio
async def test_a_job_slurm_forgot_keeps_its_record_and_sacct_says_accounting_is_off(sched):
    spec = JobSpec(kind=JobKind.SCRIPT, path="/x.sh")
    store: JobStore = sched.store
    done = JobInfo("99999998", "old", JobState.COMPLETED, "COMPLETED", exit_code=0)
    store.add("slurm", done, spec, "")
    store.add("slurm", JobInfo("99999999", "lost", JobState.RUNNING, "RUNNING"), spec, "")
    assert (await sched.status("99999998")).state is JobState.COMPLETED
    lost = await sched.status("99999999")
    assert (lost.state, lost.reason) == (
        JobState.UNKNOWN,
        "Slurm no longer lists this job and its end was not seen",
    )
    assert sched.accounting is False  # sacct answered "Slurm accounting storage is disabled"
    listed = {j.id: j.state for j in (await sched.list()).jobs}
    assert (listed["99999998"], listed["99999999"]) == (JobState.COMPLETED, JobState.UNKNOWN)
    with pytest.raises(JobNotFound, match="job 99999997 is not known on slurm"):
        await sched.status("99999997")


@pytest.mark.anyio
async def test_squeue_forms_fall_back_from_rows_to_fields_to_json_to_lines(
    slurm, cluster, job_store, user_root, poll
):
    """`squeue -o` with the list's fields first (filtered by user in slurmctld, no exit code:
    read once with scontrol), then -O when -o refuses a code, then --json when -O refuses a
    field, then the plainer -o lines."""
    real = SlurmScheduler(cluster, job_store, [user_root])
    (user_root / "t.sh").write_text("echo text\nexit 4\n")
    job = await real.submit(JobSpec(kind=JobKind.SCRIPT, path="t.sh", name="textform"))
    listed = await poll(lambda: _listed(real, job.id), lambda i: i is not None and i.finished)
    assert (listed.name, listed.state, listed.user) == ("textform", JobState.FAILED, "root")
    assert listed.exit_code == 4  # read with scontrol once, then kept in the record
    assert listed.stdout_path == str(user_root / ".espri-vre-jobs" / f"textform-{job.id}.out")
    assert real._queue_form == "rows"
    assert job_store.get("slurm", job.id).info.exit_code == 4

    rows = squeue_rows_argv("root")
    refuse_code = "squeue: error: Invalid job format specification: b\n"
    transport = Recording({rows: [failed(rows, refuse_code)]})
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    listed = await _listed(sched, job.id)
    assert (listed.name, listed.state, listed.exit_code) == ("textform", JobState.FAILED, 4)
    assert squeue_fields_argv("root") in transport.calls and sched._queue_form == "fields"

    refuse_o = "squeue: error: Invalid job format specification: NumCPUs\n"
    fields = squeue_fields_argv("root")
    transport = Recording({rows: [failed(rows, refuse_code)], fields: [failed(fields, refuse_o)]})
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    listed = await _listed(sched, job.id)
    assert (listed.state, listed.exit_code) == (JobState.FAILED, 4)  # --json's wait status
    assert SQUEUE_JSON_ARGV in transport.calls and sched._queue_form == "json"

    refuse = "squeue: unrecognized option '--json'\n"
    transport = Recording(
        {
            rows: [failed(rows, refuse_code)],
            fields: [failed(fields, refuse_o)],
            SQUEUE_JSON_ARGV: [failed(SQUEUE_JSON_ARGV, refuse)],
        }
    )
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    listed = await _listed(sched, job.id)
    assert (listed.state, listed.raw_state, listed.partition) == (
        JobState.FAILED,
        "FAILED",
        "debug",
    )
    assert squeue_lines_argv("root") in transport.calls and sched._queue_form == "lines"


@pytest.mark.anyio
async def test_a_controller_that_times_out_makes_jobs_unknown_never_finished(
    slurm, cluster, job_store, user_root, poll, monkeypatch
):
    monkeypatch.setattr(scheduler_module, "RETRY_DELAYS", (0.01, 0.01))
    real = SlurmScheduler(cluster, job_store, [user_root])
    job = await real.submit(waiting_script(user_root, "steady", "go"))
    await poll(lambda: real.status(job.id), lambda i: i.state is JobState.RUNNING)

    transport = Recording(
        {
            ("scontrol", "show", "job"): [failed(["scontrol"], TIMED_OUT)] * 3,
            squeue_rows_argv("root"): [failed(["squeue"], TIMED_OUT)] * 3,
        }
    )
    flaky = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    status = await flaky.status(job.id)
    assert (status.state, status.reason) == (
        JobState.UNKNOWN,
        "Slurm did not answer: slurm_load_jobs error: Socket timed out on send/recv operation",
    )
    assert transport.calls.count(("scontrol", "show", "job", job.id)) == 3  # retried
    listing = await flaky.list()
    assert (
        listing.problem
        == "Slurm did not answer: slurm_load_jobs error: Socket timed out on send/recv operation"
    )
    assert {j.id: j.state for j in listing.jobs}[job.id] is JobState.UNKNOWN
    assert job_store.get("slurm", job.id).state is JobState.RUNNING  # UNKNOWN is not stored
    # Once the controller answers again, the job's real state is read.
    assert (await flaky.status(job.id)).state is JobState.RUNNING
    (user_root / "go").touch()
    done = await poll(lambda: flaky.status(job.id), lambda i: i.finished)
    assert done.state is JobState.COMPLETED


@pytest.mark.anyio
async def test_a_submission_that_times_out_is_not_retried(slurm, cluster, job_store, user_root):
    transport = Recording(
        {
            ("sbatch",): [
                failed(["sbatch"], "sbatch: error: Socket timed out on send/recv operation\n")
            ]
        }
    )
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    (user_root / "once.sh").write_text("true\n")
    with pytest.raises(TransientSchedulerError, match="Socket timed out"):
        await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="once.sh"))
    assert sum(1 for c in transport.calls if c[0] == "sbatch") == 1
    assert json.dumps([r.job_id for r in job_store.list("slurm")]) == "[]"


@pytest.mark.anyio
async def test_job_ids_that_a_command_could_misread_are_refused_before_running_it(
    cluster, job_store, user_root
):
    transport = Recording()
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    for job_id in ("--help", "-u root", "1;scancel -u root", "$(id)", "12 13"):
        for call in (sched.status, sched.cancel, sched.hold, sched.release, sched.logs):
            with pytest.raises(JobValidationError, match="is not a job id"):
                await call(job_id)
    assert transport.calls == []


@pytest.mark.anyio
async def test_refreshes_share_one_squeue_answer_until_an_action_or_the_ttl(
    slurm, cluster, job_store, user_root, poll
):
    """One `squeue` serves the refreshes within QUEUE_TTL (and those that arrive while it
    runs); a submission, cancel, hold or release clears it, so the user sees the action."""
    transport = Recording()
    sched = SlurmScheduler(cluster, job_store, [user_root], transport=transport)
    fields = squeue_rows_argv("root")
    first, second = await asyncio.gather(sched.list(), sched.list())
    assert transport.calls.count(fields) == 1
    assert {j.id for j in first.jobs} == {j.id for j in second.jobs}
    await sched.list()
    assert transport.calls.count(fields) == 1
    job = await sched.submit(waiting_script(user_root, "shared", "never"))
    listed = {j.id for j in (await sched.list()).jobs}
    assert job.id in listed and transport.calls.count(fields) == 2
    await sched.cancel(job.id)
    await sched.list()
    assert transport.calls.count(fields) == 3
    sched._snapshot = {k: (t - 10, q) for k, (t, q) in sched._snapshot.items()}  # TTL passed
    await sched.list()
    assert transport.calls.count(fields) == 4
