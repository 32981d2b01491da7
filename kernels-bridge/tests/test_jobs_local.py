"""The embedded back end (espri_vre.jobs.local): real jobs run as processes on this machine, with
the same interface as Slurm's: states, logs, exit codes, cancel, hold and release, walltime,
dependencies, a papermill notebook job, and jobs that outlive a restart of the server."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import nbformat
import pytest

from espri_vre.jobs import local as local_module
from espri_vre.jobs.local import LocalScheduler
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.transport import LocalTransport
from espri_vre.jobs.types import (
    ClusterConfig,
    JobInfo,
    JobKind,
    JobNotFound,
    JobSpec,
    JobState,
    JobValidationError,
    SchedulerError,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def local(job_store, user_root, local_cluster) -> LocalScheduler:
    return LocalScheduler(local_cluster, job_store, [user_root])


def shell(root: Path, name: str, body: str) -> JobSpec:
    (root / name).write_text(body)
    return JobSpec(kind=JobKind.SCRIPT, path=name)


async def test_a_script_job_runs_to_completion_with_its_logs(local, user_root, poll):
    spec = shell(user_root, "hello.sh", "echo hello from $ESPRI_VRE_JOB_ID\necho oops >&2\n")
    job = await local.submit(spec)
    assert job.state in (JobState.PENDING, JobState.RUNNING)
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert (done.state, done.exit_code, done.signal) == (JobState.COMPLETED, 0, None)
    assert done.start_time is not None and done.end_time >= done.start_time
    assert done.stdout_path == str(user_root / ".espri-vre-jobs" / f"hello-{job.id}.out")
    assert (await local.logs(job.id)).text == f"hello from {job.id}\n"
    assert (await local.logs(job.id, "stderr")).text == "oops\n"


async def test_a_failing_job_reports_its_exit_code(local, user_root, poll):
    job = await local.submit(shell(user_root, "bad.sh", "echo before\nexit 3\n"))
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert (done.state, done.exit_code, done.reason) == (JobState.FAILED, 3, "NonZeroExitCode")


async def test_the_log_of_a_running_job_is_read_from_an_offset(local, user_root, poll):
    go = user_root / "go"
    body = (
        f"echo first\nfor i in $(seq 300); do [ -e {go} ] && break; sleep 0.1; done\necho second\n"
    )
    job = await local.submit(shell(user_root, "tail.sh", body))
    chunk = await poll(lambda: local.logs(job.id), lambda c: c.text == "first\n")
    assert (await local.status(job.id)).state is JobState.RUNNING
    assert (chunk.offset, chunk.next_offset, chunk.size) == (0, 6, 6)
    go.touch()
    await poll(lambda: local.status(job.id), lambda i: i.finished)
    rest = await local.logs(job.id, offset=chunk.next_offset)
    assert (rest.text, rest.offset, rest.next_offset) == ("second\n", 6, 13)
    assert (await local.logs(job.id, offset=100)).text == ""


async def test_a_log_chunk_never_cuts_a_utf8_character(local, user_root, poll):
    job = await local.submit(shell(user_root, "utf.sh", "printf 'aé'\n"))
    await poll(lambda: local.status(job.id), lambda i: i.finished)
    first = await local.logs(job.id, limit=2)  # 'a' and the first byte of 'é'
    assert (first.text, first.next_offset) == ("a", 1)
    assert (await local.logs(job.id, offset=1)).text == "é"


async def test_cancelling_a_running_job_stops_all_its_processes(local, user_root, poll):
    pidfile = user_root / "child.pid"
    job = await local.submit(
        shell(user_root, "long.sh", f"sleep 300 &\necho $! > {pidfile}\nwait\n")
    )
    await poll(lambda: local.status(job.id), lambda i: i.state is JobState.RUNNING)
    await poll(lambda: _read(pidfile), bool)
    await local.cancel(job.id)
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert done.state is JobState.CANCELLED
    child = int(pidfile.read_text())
    assert not Path(f"/proc/{child}").exists() or _zombie(child)


async def test_hold_and_release_a_waiting_job(local, user_root, poll):
    spec = shell(user_root, "held.sh", "echo released\n")
    job = await local.submit(JobSpec(kind=spec.kind, path=spec.path, hold=True))
    assert (job.state, job.reason) == (JobState.HELD, "JobHeldUser")
    assert (await local.status(job.id)).state is JobState.HELD
    assert not (await local.logs(job.id)).exists  # nothing written before it runs
    await local.release(job.id)
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert done.state is JobState.COMPLETED
    with pytest.raises(SchedulerError, match=f"job {job.id} is completed: only a pending job"):
        await local.hold(job.id)
    with pytest.raises(SchedulerError, match="is completed, not held"):
        await local.release(job.id)


async def test_jobs_wait_for_a_free_slot_and_can_be_held_and_cancelled_meanwhile(
    job_store, user_root, poll
):
    one = LocalScheduler(
        ClusterConfig(id="one", kind="local", max_running=1), job_store, [user_root]
    )
    go = user_root / "go"
    blocker = await one.submit(
        shell(
            user_root, "block.sh", f"for i in $(seq 300); do [ -e {go} ] && exit 0; sleep 0.1; done"
        )
    )
    waiting = await one.submit(shell(user_root, "next.sh", "echo next\n"))
    doomed = await one.submit(shell(user_root, "doomed.sh", "echo never\n"))
    assert ((await one.status(waiting.id)).state, (await one.status(waiting.id)).reason) == (
        JobState.PENDING,
        "Resources",
    )
    await one.hold(waiting.id)
    await one.cancel(doomed.id)
    assert (await one.status(doomed.id)).state is JobState.CANCELLED
    go.touch()
    await poll(lambda: one.status(blocker.id), lambda i: i.finished)
    assert (await one.status(waiting.id)).state is JobState.HELD
    await one.release(waiting.id)
    assert (
        await poll(lambda: one.status(waiting.id), lambda i: i.finished)
    ).state is JobState.COMPLETED
    assert not Path((await one.status(doomed.id)).stdout_path).exists()  # it never ran


async def test_a_job_past_its_walltime_is_stopped_as_timeout(local, user_root, poll):
    spec = shell(user_root, "slow.sh", "sleep 300\n")
    job = await local.submit(JobSpec(kind=spec.kind, path=spec.path, walltime="00:00:01"))
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert (done.state, done.reason) == (JobState.TIMEOUT, "it ran past its walltime")


async def test_afterok_waits_for_success_and_gives_up_after_a_failure(local, user_root, poll):
    first = await local.submit(shell(user_root, "a.sh", "sleep 0.5\n"))
    second = await local.submit(
        JobSpec(
            kind=JobKind.SCRIPT, path=shell(user_root, "b.sh", "echo b\n").path, afterok=(first.id,)
        )
    )
    assert (await local.status(second.id)).reason == "Dependency"
    assert (
        await poll(lambda: local.status(second.id), lambda i: i.finished)
    ).state is JobState.COMPLETED
    assert (await local.status(first.id)).end_time <= (await local.status(second.id)).start_time

    failing = await local.submit(shell(user_root, "f.sh", "exit 1\n"))
    after = await local.submit(JobSpec(kind=JobKind.SCRIPT, path="b.sh", afterok=(failing.id,)))
    done = await poll(lambda: local.status(after.id), lambda i: i.finished)
    assert done.state is JobState.CANCELLED
    assert done.reason == f"DependencyNeverSatisfied: job {failing.id} ended FAILED"


async def test_python_arguments_reach_the_program_verbatim_and_are_never_run(
    local, user_root, poll
):
    (user_root / "args.py").write_text("import sys, json\nprint(json.dumps(sys.argv[1:]))\n")
    hostile = ("$(touch pwned1)", "`touch pwned2`", "a; touch pwned3", "it's", '"q"')
    job = await local.submit(JobSpec(kind=JobKind.PYTHON, path="args.py", arguments=hostile))
    done = await poll(lambda: local.status(job.id), lambda i: i.finished)
    assert done.state is JobState.COMPLETED
    assert json.loads((await local.logs(job.id)).text) == list(hostile)
    assert not list(user_root.glob("pwned*"))


async def test_a_notebook_job_writes_its_output_notebook_next_to_the_input(
    local, user_root, notebook_kernel, poll, write_notebook
):
    write_notebook(
        user_root / "analysis.ipynb",
        ["result = alpha * 2\nprint('result', result, label)"],
        parameters="alpha = 1\nlabel = 'default'",
    )
    spec = JobSpec(
        kind=JobKind.NOTEBOOK,
        path="analysis.ipynb",
        name="trend",
        kernel=notebook_kernel,
        parameters={"alpha": 21, "label": "$(touch pwned) it's"},
    )
    job = await local.submit(spec)
    done = await poll(lambda: local.status(job.id), lambda i: i.finished, timeout=120)
    assert done.state is JobState.COMPLETED, (await local.logs(job.id, "stderr")).text
    output = user_root / f"trend-{job.id}.ipynb"
    assert done.output_notebook == str(output)
    nb = nbformat.read(output, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert printed == "result 42 $(touch pwned) it's\n"
    assert nb.metadata["papermill"]["parameters"] == {"alpha": 21, "label": "$(touch pwned) it's"}
    assert not (user_root / "pwned").exists()


async def test_jobs_outlive_the_scheduler_object_and_a_lost_supervisor_is_reported(
    job_store, user_root, local_cluster, poll
):
    go = user_root / "go"
    first = LocalScheduler(local_cluster, job_store, [user_root])
    body = f"for i in $(seq 300); do [ -e {go} ] && exit 0; sleep 0.1; done\nexit 9\n"
    survivor = await first.submit(shell(user_root, "survivor.sh", body))
    orphan = await first.submit(shell(user_root, "orphan.sh", body))
    for job in (survivor, orphan):
        await poll(lambda job=job: first.status(job.id), lambda i: i.state is JobState.RUNNING)
    # The server restarts: a new scheduler and store over the same data directory.

    again = LocalScheduler(local_cluster, JobStore(job_store.data_dir), [user_root])
    record = again.store.get("local", orphan.id)
    await poll(lambda: _has(again.store, orphan.id, "pgid"), bool)
    os.kill(record.process["supervisor_pid"], signal.SIGKILL)
    os.killpg(again.store.get("local", orphan.id).process["pgid"], signal.SIGKILL)
    lost = await poll(lambda: again.status(orphan.id), lambda i: i.finished)
    assert (lost.state, lost.reason) == (JobState.FAILED, "its process ended without reporting how")

    go.touch()
    done = await poll(lambda: again.status(survivor.id), lambda i: i.finished)
    assert (done.state, done.exit_code) == (JobState.COMPLETED, 0)
    listing = await again.list(states={JobState.COMPLETED, JobState.FAILED})
    assert [j.id for j in listing.jobs] == [orphan.id, survivor.id]


async def test_the_preview_is_the_script_that_runs(local, user_root):
    spec = shell(user_root, "p.sh", "echo\n")
    job = await local.submit(spec)
    record = local.store.get("local", job.id)
    assert local.preview(spec) == record.script
    assert Path(record.process["script"]).read_text() == record.script
    assert record.script.splitlines()[-1] == f"exec /bin/bash {user_root / 'p.sh'}"


async def test_what_the_local_back_end_cannot_do_is_refused_before_running(local, user_root):
    spec = shell(user_root, "x.sh", "echo\n")
    for fields, expected in [
        ({"array": "0-3"}, "the local back end runs no job arrays: submit the array to a cluster"),
        ({"gpus": 1}, "partition local has no GPUs"),
        ({"afterok": ("999",)}, "there is no job 999 to wait for"),
        ({"partition": "gpu"}, "there is no partition 'gpu' (there is local)"),
    ]:
        with pytest.raises(JobValidationError) as caught:
            await local.submit(JobSpec(kind=spec.kind, path=spec.path, **fields))
        assert str(caught.value) == expected
    assert (await local.list()).jobs == []
    with pytest.raises(JobNotFound, match="job 42 is not known on local"):
        await local.status("42")


class ThroughCommands:
    """Runs every command through a LocalTransport without being one: logs are then read with
    `stat` and `dd`, as over SSH."""

    def __init__(self) -> None:
        self.real = LocalTransport()
        self.calls: list[str] = []

    async def run(self, argv, *, timeout, input=None):
        self.calls.append(argv[0])
        return await self.real.run(argv, timeout=timeout, input=input)


async def test_logs_read_through_commands_match_the_local_read(
    job_store, user_root, local_cluster, poll
):
    through = LocalScheduler(local_cluster, job_store, [user_root], transport=ThroughCommands())
    job = await through.submit(
        shell(user_root, "remote.sh", "printf 'line 1\\nzweite Zeile ü\\n'\n")
    )
    await poll(lambda: through.status(job.id), lambda i: i.finished)
    whole = await through.logs(job.id)
    assert whole.text == "line 1\nzweite Zeile ü\n"
    part = await through.logs(job.id, offset=7, limit=14)  # stops before the cut 'ü'
    assert (part.text, part.next_offset, part.size) == ("zweite Zeile ", 20, 23)
    assert through.transport.calls == ["stat", "dd", "stat", "dd"]
    empty = await through.logs(job.id, "stderr")
    assert (empty.exists, empty.text, empty.size) == (True, "", 0)


async def test_a_job_claimed_by_a_server_that_stopped_before_starting_it_fails(
    job_store, user_root, local_cluster, monkeypatch
):
    monkeypatch.setattr(local_module, "STARTING_GRACE", 0.0)
    spec = shell(user_root, "s.sh", "echo\n")
    info = JobInfo("77", "s", JobState.RUNNING, "RUNNING", reason="starting")
    job_store.add("local", info, spec, "")
    sched = LocalScheduler(local_cluster, job_store, [user_root])
    lost = await sched.status("77")
    assert (lost.state, lost.reason) == (
        JobState.FAILED,
        "it was never started (the server stopped while starting it)",
    )


async def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


async def _has(store: JobStore, job_id: str, key: str):
    return store.get("local", job_id).process.get(key)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"
