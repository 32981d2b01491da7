"""The Slurm back end's parsers (espri_vre.jobs.slurm) on every recorded real Slurm output of
../shared/fixtures/jobs/slurm, with their real values: squeue in its JSON and text forms,
scontrol, sacct, sbatch, sinfo and sdiag answers of several Slurm versions. The real Slurm's own
jobs are in test_jobs_slurm.py."""

from __future__ import annotations

from datetime import datetime

import pytest

from espri_vre.jobs.slurm.commands import (
    SQUEUE_CODES,
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
from espri_vre.jobs.types import (
    JobInfo,
    JobState,
)


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
