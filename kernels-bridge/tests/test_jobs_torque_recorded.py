"""The Torque back end (espri_vre.jobs.torque), REPLAYED FROM RECORDED OUTPUTS: no Torque server
can be installed here. Every recorded Torque output of ../shared/fixtures/jobs/torque is parsed
with its real values; the scheduler then runs against tests/fake_torque, a fake qsub, qstat, qdel,
qhold, qrls and pbsnodes that replay those recordings with a small state machine (Q -> R -> C).
Every test name says `replayed`."""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import datetime

import pytest

from espri_vre.jobs import scheduler as scheduler_module
from espri_vre.jobs.probe import parse_pbsnodes_xml
from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.torque.parse import (
    parse_pbsnodes_text,
    parse_pbsnodes_xml_nodes,
    parse_qstat_f,
    parse_qstat_table,
    parse_qstat_xml,
    parse_qsub,
    short_job_id,
    torque_state,
)
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

BATCHEUPHORIA = "torque/qstat_x__torque__batcheuphoria__"
REFUSED = "qstat: cannot connect to server pbsserver (errno=111) Connection refused"
SAID = "Torque did not answer: cannot connect to server pbsserver (errno=111) Connection refused"


# Recorded outputs, parsed


def test_replayed_qstat_x_of_a_queued_job(recorded):
    (job,) = parse_qstat_xml(recorded(BATCHEUPHORIA + "outputQueued.xml").read_text())
    assert (job.id, job.name, job.user, job.partition) == (
        "4499334",
        "r180328_183957634_pid_4_starAlignment",
        "otp-data",
        "otp",
    )
    assert (job.state, job.raw_state, job.node_count, job.cpus, job.memory) == (
        JobState.PENDING,
        "Q",
        1,
        4,
        "37888mb",
    )
    assert (job.time_limit, job.submit_time, job.start_time) == (5 * 3600, 1522255162.0, None)
    assert job.stdout_path.endswith(
        "/exec_180328_183957634_otp-data_RNA/"
        "r180328_183957634_pid_4_starAlignment.o4499334.pbsserver"
    )
    assert not job.stdout_path.startswith("subm:")


def test_replayed_qstat_x_of_a_finished_job_with_dependencies(recorded):
    (job,) = parse_qstat_xml(recorded(BATCHEUPHORIA + "outputFinished.xml").read_text())
    assert (job.id, job.state, job.exit_code, job.signal) == (
        "4564045",
        JobState.COMPLETED,
        0,
        None,
    )
    assert (job.nodes, job.node_count, job.cpus) == ("denbi5-int", 1, 3)
    assert (job.start_time, job.end_time) == (1522939183.0, 1522939194.0)
    assert job.dependency == (
        "afterok:6059780.pbsserver@pbsserver:6059781.pbsserver@pbsserver,"
        "beforeok:6059788.pbsserver@pbsserver"
    )


def test_replayed_qstat_x_with_running_queued_and_array_jobs(recorded):
    jobs = parse_qstat_xml(recorded("torque/qstat_x__torque_stanford__fyrd.xml").read_text())
    assert [(j.id, j.state, j.user, j.partition) for j in jobs] == [
        ("665199", JobState.RUNNING, "johnfox", "interactive"),
        ("667999", JobState.PENDING, "robby", "batch"),
        ("673174", JobState.COMPLETED, "dacre", "tiny"),
        ("673175[]", JobState.COMPLETED, "dacre", "jolly"),
        ("673175[19]", JobState.COMPLETED, "dacre", "batch"),
        ("673175[20]", JobState.COMPLETED, "dacre", "batch"),
    ]
    running, queued, _, array, task, _ = jobs
    assert running.exit_code is None  # Torque writes -3 on a running job: not an exit yet
    assert (running.nodes, running.memory, running.start_time) == ("node01", "4gb", 1479339665.0)
    assert (queued.time_limit, queued.memory, queued.cpus) == (86340, "32gb", 1)
    assert (array.array_job_id, array.array_task_id) == ("673175", "1-20")
    assert (task.array_job_id, task.array_task_id, task.nodes) == ("673175", "19", "node11")
    assert task.stdout_path == "/home/dacre/t.sh.o673175-19"


def test_replayed_qstat_f_joins_tab_continued_lines(recorded):
    text = recorded("torque/qstat_f__torque_dkfz__batcheuphoria__output1.txt").read_text()
    done, queued, running, held = parse_qstat_f(text)
    assert (done.id, done.state, done.exit_code, done.nodes) == (
        "14973441",
        JobState.COMPLETED,
        0,
        "tbi-dsx50",
    )
    # Output_Path spans five lines in the recording, the later ones starting with a TAB.
    assert done.stdout_path == (
        "/icgc/dkfzlsdf/project/hipo/hipo_A056/sequencing/whole_genome_sequencing/view-by-pid/"
        "A056-XQH5TD/cnv_results/paired/metastasis_blood/results_ACEseqWorkflow-1.2.8-1_v1_0_"
        "2017-06-23_06h33_+0200/roddyExecutionStore/exec_170623_063520503_otproddy_WGS/"
        "r170623_063520503_A056-XQH5TD_createControlBafPlots.o14973441"
    )
    assert (done.memory, done.time_limit) == ("5120mb", 3600)
    assert _local(done.start_time) == "2017-06-23T10:55:46"
    assert _local(done.end_time) == "2017-06-23T10:59:30"
    assert (queued.id, queued.state, queued.user, queued.partition) == (
        "14973792",
        JobState.PENDING,
        "pastor",
        "long",
    )
    assert (queued.memory, queued.time_limit, queued.cpus) == ("10gb", 3 * 3600, 1)
    assert (running.state, running.time_limit, running.dependency) == (
        JobState.RUNNING,
        48 * 3600,
        "beforeok:14973775.tbi-pbs-ng.inet.dkfz-heidelberg.de",
    )
    assert (held.id, held.state, held.cpus, held.time_limit) == (
        "14973745",
        JobState.HELD,
        2,
        180 * 3600,
    )


def test_replayed_qsub_and_plain_qstat_table(recorded):
    lines = recorded("torque/qsub_qstat_output__documented_samples.txt").read_text()
    full = parse_qsub(lines.splitlines()[2])
    assert (full, short_job_id(full)) == ("1584224.biocluster.igb.illinois.edu", "1584224")
    assert [(j.id, j.name, j.user, j.state, j.partition) for j in parse_qstat_table(lines)] == [
        ("1584184", "STDIN", "krkptrc2", JobState.RUNNING, "biotech"),
        ("1584224", "STDIN", "krkptrc2", JobState.RUNNING, "default"),
    ]
    with pytest.raises(ValueError, match="not a job id"):
        parse_qsub("qsub: submit error (Unknown queue MSG=cannot locate queue)")


def test_replayed_pbsnodes_x(recorded):
    text = recorded("torque/pbsnodes_x__torque__qhost__output_00.xml").read_text()
    nodes = parse_pbsnodes_xml_nodes(text)
    assert [(n.name, n.state, n.np, n.jobs) for n in nodes] == [
        ("node1", "free", 12, 0),
        ("node14", "down", 12, 0),
        ("node150", "job-exclusive", 12, 1),
        ("node163", "offline", 12, 4),
        ("node164", "job-exclusive", 12, 1),
    ]
    assert nodes[0].memory_mb == 24660000 // 1024
    assert parse_pbsnodes_xml(text).nodes == len(nodes)  # the status probe agrees


def test_replayed_plain_pbsnodes_with_gpus_and_down_nodes(recorded):
    (gpu,) = parse_pbsnodes_text(recorded("torque/vsc__pbsnodes_gpu.txt").read_text())
    assert (gpu.name, gpu.state, gpu.np, gpu.gpus, gpu.jobs) == ("r22g35", "free", 36, 4, 3)
    assert gpu.memory_mb == 192494548 // 1024
    assert "type_skylake_gpu" in gpu.properties
    down = parse_pbsnodes_text(recorded("torque/vsc__pbsnodes_down.txt").read_text())
    assert [(n.name, n.state, n.gpus) for n in down] == [
        ("r22g41", "down", 4),
        ("r24g35", "down", 4),
    ]


@pytest.mark.parametrize(
    ("code", "exit_status", "started", "expected"),
    [
        ("Q", None, False, (JobState.PENDING, None)),
        ("E", None, True, (JobState.RUNNING, None)),
        ("H", None, False, (JobState.HELD, None)),
        ("C", 0, True, (JobState.COMPLETED, None)),
        ("C", 3, True, (JobState.FAILED, "NonZeroExitCode")),
        ("C", 271, True, (JobState.FAILED, "killed by signal 15")),
        (
            "C",
            -11,
            True,
            (JobState.TIMEOUT, "the job ran past its walltime (JOB_EXEC_OVERLIMIT_WT)"),
        ),
        ("C", None, False, (JobState.CANCELLED, "deleted before it ran")),
    ],
)
def test_replayed_torque_states_are_normalised(code, exit_status, started, expected):
    assert torque_state(code, exit_status, started) == expected


# The scheduler against the fake Torque CLI


@pytest.fixture
def torque(fake_torque, job_store, user_root):
    cluster = ClusterConfig(id="cpu", kind="torque", defaults={"queue": "batch"})
    return TorqueScheduler(cluster, job_store, [user_root])


def script(root, name="work", body="echo work\n", **fields) -> JobSpec:
    (root / f"{name}.sh").write_text(body)
    return JobSpec(kind=JobKind.SCRIPT, path=f"{name}.sh", name=name, **fields)


@pytest.mark.anyio
async def test_replayed_submission_passes_resources_as_one_l_and_the_job_runs_out(
    torque, fake_torque, user_root
):
    job = await torque.submit(script(user_root, cpus=4, memory="2G", walltime="02:00:00"))
    assert (job.id, job.state) == ("4499335", JobState.PENDING)
    submitted = fake_torque.jobs()["4499335"]
    assert submitted["resources"] == {"nodes": "1:ppn=4", "mem": "2048mb", "walltime": "02:00:00"}
    assert (submitted["queue"], submitted["workdir"]) == ("batch", str(user_root))
    assert submitted["output"] == f"{user_root}/.espri-vre-jobs/work.o$PBS_JOBID"
    assert job.stdout_path == f"{user_root}/.espri-vre-jobs/work.o4499335.pbsserver"
    assert submitted["script"] == torque.preview(
        script(user_root, cpus=4, memory="2G", walltime="02:00:00")
    )
    seen = [await torque.status(job.id) for _ in range(3)]
    assert [i.state for i in seen] == [JobState.RUNNING, JobState.COMPLETED, JobState.COMPLETED]
    assert (seen[1].exit_code, seen[1].nodes, seen[1].cpus, seen[1].memory) == (
        0,
        "node1",
        4,
        "2048mb",
    )
    assert seen[1].stdout_path == job.stdout_path


@pytest.mark.anyio
async def test_replayed_ids_work_with_and_without_the_server_suffix(torque, user_root):
    job = await torque.submit(script(user_root))
    assert (await torque.status("4499335.pbsserver")).id == (await torque.status("4499335")).id
    assert torque.store.get("cpu", job.id).process["torque_id"] == "4499335.pbsserver"


@pytest.mark.anyio
async def test_replayed_failing_job_reports_its_exit_status(torque, fake_torque, user_root):
    fake_torque.set_outcome("broken", 3)
    job = await torque.submit(script(user_root, "broken"))
    done = await _until_finished(torque, job.id)
    assert (done.state, done.exit_code, done.reason) == (JobState.FAILED, 3, "NonZeroExitCode")


@pytest.mark.anyio
async def test_replayed_listing_mine_and_all_with_the_recorded_jobs_of_others(torque, user_root):
    job = await torque.submit(script(user_root))
    mine = await torque.list()
    assert [j.id for j in mine.jobs] == [job.id]
    everyone = {j.id: j for j in (await torque.list(mine=False)).jobs}
    assert everyone["665199"].user == "johnfox" and everyone["665199"].state is JobState.RUNNING
    assert everyone[job.id].user == getpass.getuser()
    assert everyone["673175[]"].reason == "2 of 2 tasks completed"
    running = await torque.list(mine=False, states={JobState.RUNNING})
    assert {j.id for j in running.jobs} >= {"665199"}
    assert all(j.state is JobState.RUNNING for j in running.jobs)


@pytest.mark.anyio
async def test_replayed_cancel_of_a_queued_and_of_a_running_job(torque, user_root):
    queued = await torque.submit(script(user_root, "q", hold=True))
    await torque.cancel(queued.id)
    done = await torque.status(queued.id)
    assert (done.state, done.reason) == (JobState.CANCELLED, "deleted before it ran")

    running = await torque.submit(script(user_root, "r"))
    assert (await torque.status(running.id)).state is JobState.RUNNING
    await torque.cancel(running.id)
    done = await torque.status(running.id)
    # Torque ends it with 271 (256 + SIGTERM); the record knows the user asked for it.
    assert (done.state, done.signal) == (JobState.CANCELLED, 15)
    with pytest.raises(JobNotFound, match="job 1 is not known on cpu"):
        await torque.cancel("1")


@pytest.mark.anyio
async def test_replayed_hold_and_release(torque, user_root):
    job = await torque.submit(script(user_root, hold=True))
    assert (await torque.status(job.id)).state is JobState.HELD  # a held job stays held
    await torque.release(job.id)
    assert (await torque.status(job.id)).state is JobState.RUNNING
    with pytest.raises(
        SchedulerError, match=r"^Request invalid for state of job 4499335\.pbsserver$"
    ):
        await torque.hold(job.id)
    other = await torque.submit(script(user_root, "other", afterok=(job.id,)))
    assert (await torque.status(other.id)).state is JobState.PENDING  # waits for afterok
    await torque.hold(other.id)
    assert (await torque.status(other.id)).state is JobState.HELD


@pytest.mark.anyio
async def test_replayed_afterok_waits_for_the_first_job(torque, user_root, fake_torque):
    first = await torque.submit(script(user_root, "first"))
    second = await torque.submit(script(user_root, "second", afterok=(first.id,)))
    assert fake_torque.jobs()[second.id]["depend"] == "afterok:4499335"
    assert (await torque.status(second.id)).state is JobState.PENDING
    assert (await _until_finished(torque, first.id)).state is JobState.COMPLETED
    assert (await _until_finished(torque, second.id)).state is JobState.COMPLETED


@pytest.mark.anyio
async def test_replayed_server_that_cannot_be_reached_makes_jobs_unknown_not_finished(
    torque, fake_torque, user_root, monkeypatch
):
    monkeypatch.setattr(scheduler_module, "RETRY_DELAYS", (0.01, 0.01))
    job = await torque.submit(script(user_root))
    assert (await torque.status(job.id)).state is JobState.RUNNING
    fake_torque.fail_next(3, REFUSED)
    status = await torque.status(job.id)
    assert (status.state, status.reason) == (JobState.UNKNOWN, SAID)
    fake_torque.fail_next(3, REFUSED)
    listing = await torque.list()
    assert listing.problem == SAID
    assert [j.state for j in listing.jobs] == [JobState.UNKNOWN]
    assert torque.store.get("cpu", job.id).state is JobState.RUNNING
    fake_torque.fail_next(1, REFUSED)  # one failure: the retry answers
    assert (await torque.status(job.id)).state is JobState.COMPLETED


@pytest.mark.anyio
async def test_replayed_xml_that_does_not_parse_falls_back_to_qstat_f(
    torque, fake_torque, user_root
):
    job = await torque.submit(script(user_root))
    fake_torque.break_xml()
    listing = await torque.list(mine=False)
    ids = {j.id for j in listing.jobs}
    assert {job.id, "14973441", "14973745"} <= ids  # ours and the recorded qstat -f jobs
    assert next(j for j in listing.jobs if j.id == job.id).stdout_path == job.stdout_path


@pytest.mark.anyio
async def test_replayed_queues_and_nodes_and_limits_checked_before_qsub(torque, user_root):
    batch, long_queue = await torque.partitions()
    assert (batch.name, batch.default, batch.max_time, batch.default_time, batch.max_nodes) == (
        "batch",
        True,
        48 * 3600,
        3600,
        4,
    )
    # 5 recorded nodes, one down and one offline: 3 take jobs, 12 cores each.
    assert (batch.nodes, batch.cpus, batch.max_cpus_per_node, batch.gpus) == (3, 36, 12, 0)
    assert (long_queue.max_memory, batch.max_memory) == (16384, 24660000 // 1024)
    with pytest.raises(JobValidationError, match="walltime 72:00:00 is more than the 48:00:00"):
        await torque.submit(script(user_root, walltime="72:00:00"))
    with pytest.raises(JobValidationError, match=r"no partition 'gpu' \(there is batch, long\)"):
        await torque.submit(script(user_root, partition="gpu"))
    with pytest.raises(JobValidationError, match="partition batch has no GPUs"):
        await torque.submit(script(user_root, gpus=1))


@pytest.mark.anyio
async def test_replayed_job_the_server_forgot_keeps_its_record(torque, job_store):
    spec = JobSpec(kind=JobKind.SCRIPT, path="/x.sh")
    job_store.add("cpu", JobInfo("4400000", "old", JobState.COMPLETED, "C", exit_code=0), spec, "")
    job_store.add("cpu", JobInfo("4400001", "lost", JobState.RUNNING, "R"), spec, "")
    assert (await torque.status("4400000.pbsserver")).state is JobState.COMPLETED
    lost = await torque.status("4400001")
    assert (lost.state, lost.reason) == (
        JobState.UNKNOWN,
        "Torque no longer lists this job and its end was not seen",
    )
    with pytest.raises(JobNotFound):
        await torque.status("4400002")


def test_replayed_preview_has_pbs_directives(fake_torque, job_store, user_root):
    cluster = ClusterConfig(id="cpu", kind="torque", python="/usr/bin/python3")
    sched = TorqueScheduler(cluster, job_store, [user_root])
    (user_root / "run.py").write_text("print(1)\n")
    spec = JobSpec(
        kind=JobKind.PYTHON,
        path="run.py",
        partition="long",
        nodes=2,
        tasks=4,
        cpus=2,
        memory="8G",
        walltime="30:00:00",
        account="climate",
        array="1-10%2",
        afterok=("4499335.pbsserver",),
    )
    logs = user_root / ".espri-vre-jobs"
    assert sched.preview(spec).splitlines() == [
        "#!/bin/bash",
        f"# espri-vre python job run: {user_root / 'run.py'}",
        "#PBS -N run",
        "#PBS -q long",
        "#PBS -l nodes=2:ppn=4,mem=8192mb,walltime=30:00:00",
        "#PBS -A climate",
        "#PBS -t 1-10%2",
        "#PBS -W depend=afterok:4499335.pbsserver",
        f"#PBS -d {user_root}",
        f"#PBS -o {logs}/run.o$PBS_JOBID",
        f"#PBS -e {logs}/run.e$PBS_JOBID",
        'job_id="${PBS_JOBID%%.*}"',
        f"cd {user_root} || exit 1",
        f"exec /usr/bin/python3 {user_root / 'run.py'}",
    ]


async def _until_finished(torque, job_id: str, limit: int = 10) -> JobInfo:
    """Each qstat moves the fake on by one step: a bounded number of looks, no clock."""
    for _ in range(limit):
        info = await torque.status(job_id)
        if info.finished:
            return info
    pytest.fail(f"job {job_id} not finished after {limit} looks: {info!r}")


def _local(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch).isoformat() if epoch else None


def test_replayed_array_summary_counts_tasks():
    parent = JobInfo("7[]", "arr", JobState.COMPLETED, "C")
    tasks = [
        replace(parent, id="7[1]", state=JobState.COMPLETED),
        replace(parent, id="7[2]", state=JobState.FAILED),
    ]
    summary = scheduler_module.array_summary(parent, tasks)
    assert (summary.state, summary.reason) == (JobState.FAILED, "1 of 2 tasks completed")


@pytest.mark.anyio
async def test_replayed_job_ids_that_look_like_options_are_refused(torque, fake_torque):
    for job_id in ("-W", "--version", "1;qdel all", "4499335.pbs server"):
        for call in (torque.status, torque.cancel, torque.hold, torque.release):
            with pytest.raises(JobValidationError, match="is not a job id"):
                await call(job_id)
    assert fake_torque.jobs() == {}
