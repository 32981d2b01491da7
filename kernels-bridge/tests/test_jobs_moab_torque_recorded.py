"""Moab's `showstart` on a Torque cluster configured with `moab: true` (issue 21), FROM RECORDED
DOCUMENTED OUTPUTS: no Moab can run here, and ../shared/fixtures/jobs/torque holds no showstart
output. The outputs are the ones Moab's documentation and a site's user guide print
(tests/fake_torque/moab/*.txt, source and date in each header); the parser reads each with its
real values, and the scheduler runs against tests/fake_torque, whose `showstart` replays them.
Every test name says `recorded_documented_moab_output`."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from espri_vre.config import validate
from espri_vre.jobs.estimate import estimate_start
from espri_vre.jobs.service import JobService
from espri_vre.jobs.ssh import SSHSettings, SSHTransport
from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.torque.moab import (
    MoabOutputError,
    PendingStarts,
    job_argv,
    parse_duration,
    parse_showstart,
    showstart,
)
from espri_vre.jobs.transport import LocalTransport
from espri_vre.jobs.types import (
    ClusterConfig,
    JobKind,
    JobSpec,
    JobState,
    JobValidationError,
    TransientSchedulerError,
)

MOAB = Path(__file__).resolve().parent / "fake_torque" / "moab"
EXAMPLE_1 = "showstart_job__moab_docs_example1.txt"
EXAMPLE_2 = "showstart_request__moab_docs_example2.txt"
PITT = "showstart_job__pitt_sam_sharedmem.txt"


def documented(name: str) -> str:
    """The sample's output, after its header's last line '# ---'."""
    return (MOAB / name).read_text().split("# ---\n", 1)[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def moab_cluster() -> ClusterConfig:
    return ClusterConfig.from_settings(
        {"id": "cpu", "kind": "torque", "moab": True, "defaults": {"queue": "batch"}}
    )


@pytest.fixture
def moab_jobs(fake_torque, job_store, user_root, moab_cluster) -> JobService:
    return JobService(
        clusters=[("cpu", "Torque with Moab", "torque", "local")],
        schedulers={"cpu": TorqueScheduler(moab_cluster, job_store, [user_root])},
        store=job_store,
        roots=(str(user_root),),
    )


def showstart_calls(fake_torque) -> list[list[str]]:
    path = fake_torque.state_dir / "showstart.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# The documented outputs, parsed


def test_showstart_of_a_job_recorded_documented_moab_output():
    found = parse_showstart(documented(EXAMPLE_1))
    assert (found.job, found.procs, found.duration) == ("orion.13762", 2, 33 * 60 + 20)
    # -e all prints three estimates: the reservation's is Moab's default and the one shown.
    assert (found.basis, found.start_in, found.completion_in) == ("reservation", 3895, 9895)
    assert found.partition == "fast"
    assert found.describe() == (
        "Moab's reservation-based estimate for 2 cores during 00:33:20 in partition fast"
    )


def test_showstart_of_a_request_recorded_documented_moab_output():
    found = parse_showstart(documented(EXAMPLE_2))
    assert (found.job, found.procs, found.duration) == ("12@3600", 12, 3600)
    assert (found.basis, found.start_in, found.completion_in) == ("reservation", 99, 3699)
    assert found.partition == "32Bit"


def test_showstart_with_days_and_blank_lines_recorded_documented_moab_output():
    found = parse_showstart(documented(PITT))
    assert (found.job, found.procs, found.duration) == ("2165961", 8, 36 * 3600)
    assert (found.start_in, found.completion_in) == (3 * 3600 + 31 * 60 + 22, 142282)
    assert found.partition == "SharedMem"


def test_priority_estimate_alone_recorded_documented_moab_output():
    lines = [ln for ln in documented(EXAMPLE_1).splitlines() if "Rsv" not in ln]
    found = parse_showstart("\n".join(lines))
    assert (found.basis, found.start_in, found.completion_in) == ("priority", 18895, 24895)


def test_moab_durations_read_with_days_and_sign():
    cases = {"00:00:00": 0, "0:33:20": 2000, "1:15:31:22": 142282, "-00:01:00": -60, "45": 45}
    assert {text: parse_duration(text) for text in cases} == cases
    for bad in ("1:2:3:4:5", "1:xx:55", "", "-", "1h"):
        with pytest.raises(MoabOutputError, match=r"\[\[\[DD:\]HH:\]MM:\]SS"):
            parse_duration(bad)


def test_malformed_showstart_output_is_a_clear_error_recorded_documented_moab_output():
    example = documented(EXAMPLE_1)
    cut = example[: example.index("Estimated")]  # the answer cut after its first line
    cases = {
        "": "printed no start estimate (it began with 'nothing')",
        cut: "printed no start estimate (it began with 'job orion.13762 requires 2 procs",
        example.replace("1:04:55", "1:o4:55"): "'1:o4:55' where a",
        example.replace(" on Fri Jul 15 12:53:40", ""): "an estimate that cannot be read",
        "ERROR:  cannot locate job 'orion.1'\n": "showstart said: cannot locate job 'orion.1'",
        "<Data><Job><Job_Id>1.s</Job_Id></Job></Data>": "no start estimate",
    }
    for text, said in cases.items():
        with pytest.raises(MoabOutputError, match=re.escape(said)):
            parse_showstart(text)


# Configuration


def test_the_moab_key_is_read_on_torque_clusters_only():
    checked = validate(
        [],
        [
            {"id": "a", "title": "A", "kind": "torque", "moab": True},
            {"id": "b", "title": "B", "kind": "torque", "moab": "yes"},
            {"id": "c", "title": "C", "kind": "slurm", "moab": True},
        ],
        [],
    )
    assert checked.warnings == [
        "EspriVreApp.clusters[1] ('b'): moab must be true or false, not 'yes': ignored",
        "EspriVreApp.clusters[2] ('c'): moab is read on Torque clusters only: ignored",
    ]
    moab = [ClusterConfig.from_settings(c.settings).moab for c in checked.clusters]
    assert moab == [True, False, False]


# Through the fake Torque CLI's showstart


@pytest.mark.anyio
async def test_form_estimate_recorded_documented_moab_output(moab_jobs, fake_torque, user_root):
    (user_root / "run.sh").write_text("echo run\n")
    spec = {"kind": "script", "path": "run.sh", "tasks": 2, "cpus": 2, "walltime": "02:00:00"}
    before = time.time()
    estimate = await estimate_start(moab_jobs, "cpu", spec)
    after = time.time()
    # The cores and walltime of the form reach showstart as <procs>@<seconds>.
    assert showstart_calls(fake_torque) == [["4@7200"]]
    assert before + 99 <= estimate.start_time <= after + 99  # "Earliest start in 00:01:39"
    assert estimate.detail == (
        "Moab's reservation-based estimate for 12 cores during 01:00:00 in partition 32Bit"
    )


@pytest.mark.anyio
async def test_torque_without_moab_says_it_has_no_estimate_recorded_documented_moab_output(
    torque_jobs, fake_torque, user_root
):
    (user_root / "run.sh").write_text("echo run\n")
    estimate = await estimate_start(torque_jobs, "cpu", {"kind": "script", "path": "run.sh"})
    assert (estimate.start_time, estimate.detail) == (
        None,
        "cpu gives no start estimate (Torque alone has none; no Moab here)",
    )
    assert showstart_calls(fake_torque) == []


@pytest.mark.anyio
async def test_malformed_and_failing_showstart_in_the_form_recorded_documented_moab_output(
    moab_jobs, fake_torque, user_root
):
    (user_root / "run.sh").write_text("echo run\n")
    spec = {"kind": "script", "path": "run.sh"}
    (fake_torque.state_dir / "showstart_output").write_text("Best Partition: fast\n")
    estimate = await estimate_start(moab_jobs, "cpu", spec)
    assert (estimate.start_time, estimate.detail) == (
        None,
        "Moab gives no start time: showstart printed no start estimate "
        "(it began with 'Best Partition: fast')",
    )
    assert showstart_calls(fake_torque) == [["1@1"]]  # no walltime: Moab's default, 1 s


@pytest.mark.anyio
async def test_injections_never_reach_showstart_recorded_documented_moab_output(
    moab_jobs, fake_torque, user_root
):
    (user_root / "run.sh").write_text("echo run\n")
    hostile = {
        "cpus": "4 -e all",
        "walltime": "01:00:00;reboot",
        "tasks": "$(reboot)",
        "partition": "batch -e all",
    }
    for field, value in hostile.items():
        with pytest.raises(JobValidationError) as refused:
            await estimate_start(
                moab_jobs, "cpu", {"kind": "script", "path": "run.sh", field: value}
            )
        assert refused.value.fields == [field]
    for job_id in ("-e", "1 -e all", "$(reboot)", "1;reboot", "1\n2"):
        with pytest.raises(JobValidationError, match="is not a job id"):
            job_argv(job_id)
    assert showstart_calls(fake_torque) == []


@pytest.mark.anyio
async def test_a_showstart_that_hangs_is_killed_recorded_documented_moab_output(fake_torque):
    (fake_torque.state_dir / "showstart_hangs").touch()
    with pytest.raises(TransientSchedulerError, match="showstart did not answer within 1 s"):
        await showstart(LocalTransport(), ["showstart", "1@60"], timeout=1.0)
    assert showstart_calls(fake_torque) == [["1@60"]]


@pytest.mark.anyio
async def test_a_waiting_job_gets_moab_start_recorded_documented_moab_output(
    moab_jobs, fake_torque, user_root
):
    torque = moab_jobs.scheduler("cpu")
    (user_root / "first.sh").write_text("echo first\n")
    (user_root / "then.sh").write_text("echo then\n")
    held = await torque.submit(JobSpec(kind=JobKind.SCRIPT, path="first.sh", hold=True))
    # Waits for the held job: queued (Q), PENDING, as long as the first is held.
    then = await torque.submit(JobSpec(kind=JobKind.SCRIPT, path="then.sh", afterok=(held.id,)))
    before = time.time()
    listing = await torque.list(mine=False)
    after = time.time()
    jobs = {j.id: j for j in listing.jobs}
    assert (jobs[held.id].state, jobs[held.id].start_time) == (JobState.HELD, None)
    assert jobs[then.id].state is JobState.PENDING
    assert before + 3895 <= jobs[then.id].start_time <= after + 3895  # Rsv based start 1:04:55
    # The recorded queued job of another user is not asked about: only this user's waiting job.
    other = jobs["4499334"]
    assert (other.state, other.user, other.start_time) == (JobState.PENDING, "otp-data", None)
    assert showstart_calls(fake_torque) == [[then.id]]
    # The estimate is kept: the panel's next listing and the job's status ask Moab nothing.
    assert (await torque.status(then.id)).start_time == jobs[then.id].start_time
    assert showstart_calls(fake_torque) == [[then.id]]


@pytest.mark.anyio
async def test_waiting_jobs_listed_when_showstart_fails_or_hangs_recorded_documented_moab_output(
    moab_cluster, fake_torque, job_store, user_root
):
    torque = TorqueScheduler(moab_cluster, job_store, [user_root])
    (user_root / "first.sh").write_text("echo first\n")
    (user_root / "then.sh").write_text("echo then\n")
    held = await torque.submit(JobSpec(kind=JobKind.SCRIPT, path="first.sh", hold=True))
    then = await torque.submit(JobSpec(kind=JobKind.SCRIPT, path="then.sh", afterok=(held.id,)))
    (fake_torque.state_dir / "showstart_output").write_text("ERROR:  Moab is down\n")
    listed = {j.id: j for j in (await torque.list()).jobs}
    assert (listed[then.id].state, listed[then.id].start_time) == (JobState.PENDING, None)
    (fake_torque.state_dir / "showstart_hangs").touch()
    starts = PendingStarts(LocalTransport(), timeout=1.0)
    (waiting,) = await starts.fill([listed[then.id]], torque.cluster.user_name)
    assert (waiting.state, waiting.start_time) == (JobState.PENDING, None)
    assert showstart_calls(fake_torque) == [[then.id], [then.id]]


@pytest.mark.anyio
async def test_showstart_over_ssh_recorded_documented_moab_output(
    sshd, fake_torque, job_store, user_root
):
    """showstart goes through the cluster's transport, here a real OpenSSH server on the
    loopback, like qsub and qstat."""
    env = {k: os.environ[k] for k in ("PATH", "FAKE_TORQUE_DIR", "FAKE_TORQUE_FIXTURES")}
    ssh = SSHTransport(SSHSettings.from_settings(sshd.settings()), env=env)
    settings = {"id": "cpu", "kind": "torque", "moab": True, "transport": "ssh"}
    cluster = ClusterConfig.from_settings({**settings, "ssh": sshd.settings()})
    jobs = JobService(
        clusters=[("cpu", "Torque with Moab", "torque", "ssh")],
        schedulers={"cpu": TorqueScheduler(cluster, job_store, [user_root], transport=ssh)},
        store=job_store,
        roots=(str(user_root),),
    )
    (user_root / "run.sh").write_text("echo run\n")
    try:
        spec = {"kind": "script", "path": "run.sh", "cpus": 3, "walltime": "1-00:00:00"}
        before = time.time()
        estimate = await estimate_start(jobs, "cpu", spec)
        assert before + 99 <= estimate.start_time <= time.time() + 99
        assert showstart_calls(fake_torque) == [["3@86400"]]
    finally:
        await ssh.close()
