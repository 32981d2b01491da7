"""The Slurm back end (espri_vre.jobs.slurm) on the real Slurm 22.05 started by the `slurm`
fixture (a GPU job watched through PENDING, RUNNING and COMPLETED, a log read while its job runs,
a failing job's exit code, cancel, hold and release, an array, a papermill notebook) and the
fallbacks: squeue's text forms, sacct without accounting, a controller that times out. The
recorded outputs of other Slurm versions are parsed in test_jobs_slurm_recorded.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from espri_vre.jobs import scheduler as scheduler_module
from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.commands import (
    SQUEUE_JSON_ARGV,
    squeue_fields_argv,
    squeue_lines_argv,
    squeue_rows_argv,
)
from espri_vre.jobs.slurm.parse import (
    parse_squeue_fields,
)
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
