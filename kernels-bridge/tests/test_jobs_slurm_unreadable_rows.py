"""One squeue row with a value the parsers cannot read is left out, and the listing says which
and why; the other jobs are listed (before, one such row failed every user's listing). Each test
takes a recorded real squeue answer of ../shared/fixtures/jobs/slurm/squeue and corrupts one of
its rows, for each form the scheduler reads (-o rows, -O fields, --json, JSON-like lines)."""

from __future__ import annotations

import json

import pytest
from test_jobs_slurm_recorded import SQUEUE_O_ROWS_22_05

from espri_vre.jobs.service import JobService
from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.parse import (
    parse_squeue_fields,
    parse_squeue_json,
    parse_squeue_lines,
)
from espri_vre.jobs.slurm.unreadable import BadRow
from espri_vre.jobs.transport import CommandResult
from espri_vre.jobs.types import ClusterConfig, JobInfo, JobKind, JobSpec, JobState

FIELDS = "slurm/squeue/squeue_O_x1F_separated__ood_core__null_submit_time.txt"
JSON = "slurm/squeue/squeue_json_21.08.5_openapi-v0.0.37__rivosinc.json"
LINES = "slurm/squeue/squeue_o_jsonlike_fallback__rivosinc.txt"


def corrupt_field(text: str, job_id: str, column: str, value: str) -> str:
    """The -o/-O answer with `column` of job `job_id`'s row set to `value`."""
    lines = text.split("\n")
    at = lines[0].split("\x1f").index(column)
    for i, line in enumerate(lines[1:], 1):
        values = line.split("\x1f")
        if values[0] == job_id or (len(values) > 1 and values[1] == job_id):
            values[at] = value
            lines[i] = "\x1f".join(values)
            return "\n".join(lines)
    raise AssertionError(f"no row of job {job_id}")


def corrupted_fields(recorded) -> str:
    text = recorded(FIELDS).read_text()
    return corrupt_field(text, "6787542", "TIME_LIMIT", "XYZ")


def corrupted_json(recorded) -> str:
    data = json.loads(recorded(JSON).read_text())
    data["jobs"][0]["standard_output"] = 42  # a number where Slurm writes a path
    return json.dumps(data)


def corrupted_lines(recorded) -> str:
    text = recorded(LINES).read_text()
    row = '{"a": "account1", "id": 50580016, "end_time"'
    assert text.count(row) == 1
    return text.replace(row, '{"a": "account1", "id": 50580016, "limit": "XYZ", "end_time"')


# The parsers


def test_rows_form_recorded_output_one_row_corrupted_keeps_the_others():
    text = corrupt_field(SQUEUE_O_ROWS_22_05, "10179", "TIME_LIMIT", "XYZ")
    with pytest.raises(ValueError, match="time limit 'XYZ'"):
        parse_squeue_fields(text)  # without a place for them, a bad row is an error
    bad: list[BadRow] = []
    jobs = parse_squeue_fields(text, unreadable=bad)
    assert [j.id for j in jobs] == [
        j.id for j in parse_squeue_fields(SQUEUE_O_ROWS_22_05) if j.id != "10179"
    ]
    assert [j.id for j in jobs] == ["10180", "10176", "10181"]
    assert bad == [BadRow("10179", "root", "time limit 'XYZ'")]


def test_fields_form_recorded_output_one_row_corrupted_keeps_the_others(recorded):
    whole = parse_squeue_fields(recorded(FIELDS).read_text())
    cache: dict[str, JobInfo] = {}
    bad: list[BadRow] = []
    jobs = parse_squeue_fields(corrupted_fields(recorded), cache=cache, unreadable=bad)
    assert len(whole) == 4
    assert jobs == [j for j in whole if j.id != "6787542"]
    assert bad == [BadRow("6787542", "crokosky", "time limit 'XYZ'")]
    # The unreadable row is not kept as read: the next answer reads it again.
    assert len(cache) == 3


def test_json_form_recorded_output_one_row_corrupted_keeps_the_others(recorded):
    bad: list[BadRow] = []
    jobs = parse_squeue_json(corrupted_json(recorded), bad)
    assert [(j.id, j.state) for j in jobs] == [("58948420", JobState.PENDING)]
    ((job_id, user, why),) = bad
    assert (job_id, user) == ("26515966", "bkd")
    assert why.startswith("a value of another type (")
    with pytest.raises(AttributeError):
        parse_squeue_json(corrupted_json(recorded))


def test_json_form_recorded_output_one_job_id_corrupted_is_named_unknown(recorded):
    data = json.loads(recorded(JSON).read_text())
    data["jobs"][1]["job_id"] = "x"
    bad: list[BadRow] = []
    (job,) = parse_squeue_json(json.dumps(data), bad)
    assert job.id == "26515966"
    assert bad == [BadRow("?", data["jobs"][1]["user_name"], "job_id 'x'")]


def test_lines_form_recorded_output_one_row_corrupted_keeps_the_others(recorded):
    bad: list[BadRow] = []
    jobs, skipped = parse_squeue_lines(corrupted_lines(recorded), bad)
    assert [j.id for j in jobs] == ["26515966", "51447051", "51447052", "51447053", "18804"]
    # The recorded answer's own two lines with "cpu": xx are not JSON; its '#' comment is no job.
    assert skipped == 4
    assert bad == [
        BadRow("50580016", None, "time limit 'XYZ'"),
        BadRow("18805", None, "not JSON"),
        BadRow("18806", None, "not JSON"),
    ]


# The scheduler's listing, squeue's answers given by a recorded CLI (no real Slurm is run)


def recorded_cli(stdout: str):
    """The scheduler's read commands: squeue answers `stdout`; anything else fails the test
    (a job whose row was unreadable must not be looked for in sacct)."""
    asked: list[list[str]] = []

    async def query(argv):
        asked.append(list(argv))
        assert argv[0] == "squeue", argv
        return CommandResult(tuple(argv), 0, stdout.encode(), b"", 0.0)

    return query, asked


PROBLEM = "1 job of squeue's answer could not be read (job {}: {}); the others are shown"


async def list_with_our_job(recorded, job_store, user_root, form, corrupted, job_id):
    """The listing of squeue's `corrupted` answer in `form`, the job `job_id` (the one made
    unreadable) submitted from here and last seen running: the listing and its jobs by id."""
    sched = SlurmScheduler(ClusterConfig(id="hpc", kind="slurm"), job_store, [user_root])
    sched._query, asked = recorded_cli(corrupted(recorded))
    sched._queue_form = form
    # The unreadable job was submitted from here and last seen running.
    last = JobInfo(job_id, "ours", JobState.RUNNING, "RUNNING", cluster="hpc", user="me")
    job_store.add("hpc", last, JobSpec(kind=JobKind.SCRIPT, path="run.sh"), "#!/bin/sh\n")

    listing = await sched.list(mine=False)
    stored = job_store.get("hpc", job_id)
    assert stored is not None and stored.info == last  # the store is not rewritten
    assert [a[0] for a in asked] == ["squeue"]
    by_id = {j.id: j for j in listing.jobs}
    assert by_id[job_id] == last  # its last known record, neither finished nor forgotten
    return listing, by_id


@pytest.mark.anyio
async def test_listing_of_recorded_rows_output_one_row_corrupted(job_store, user_root):
    listing, by_id = await list_with_our_job(
        None,
        job_store,
        user_root,
        "rows",
        lambda _: corrupt_field(SQUEUE_O_ROWS_22_05, "10181", "TIME_LIMIT", "1:xx:00"),
        "10181",
    )
    assert listing.problem == PROBLEM.format("10181", "time limit '1:xx:00'")
    assert sorted(by_id) == ["10176", "10179", "10180", "10181"]


@pytest.mark.anyio
async def test_listing_of_recorded_fields_output_one_row_corrupted(recorded, job_store, user_root):
    listing, by_id = await list_with_our_job(
        recorded, job_store, user_root, "fields", corrupted_fields, "6787542"
    )
    assert listing.problem == PROBLEM.format("6787542", "time limit 'XYZ'")
    assert len(by_id) == 4  # the three rows read and ours


@pytest.mark.anyio
async def test_listing_of_recorded_json_output_one_row_corrupted(recorded, job_store, user_root):
    listing, by_id = await list_with_our_job(
        recorded, job_store, user_root, "json", corrupted_json, "26515966"
    )
    assert listing.problem is not None
    assert listing.problem.startswith(
        "1 job of squeue's answer could not be read (job 26515966: a value of another type ("
    )
    assert listing.problem.endswith("); the others are shown")
    assert by_id["58948420"].state is JobState.PENDING
    assert len(by_id) == 2


@pytest.mark.anyio
async def test_listing_of_recorded_lines_output_one_row_corrupted(recorded, job_store, user_root):
    listing, by_id = await list_with_our_job(
        recorded, job_store, user_root, "lines", corrupted_lines, "50580016"
    )
    assert listing.problem == (
        "3 jobs of squeue's answer could not be read (job 50580016: time limit 'XYZ'; job 18805:"
        " not JSON; job 18806: not JSON); the others are shown"
    )
    assert len(by_id) == 6


@pytest.mark.anyio
async def test_listing_of_recorded_output_without_corruption_has_no_problem(
    recorded, job_store, user_root
):
    sched = SlurmScheduler(ClusterConfig(id="hpc", kind="slurm"), job_store, [user_root])
    sched._query, _ = recorded_cli(recorded(FIELDS).read_text())
    sched._queue_form = "fields"
    listing = await sched.list(mine=False)
    assert (listing.problem, len(listing.jobs)) == (None, 4)


@pytest.mark.anyio
async def test_service_lists_recorded_fields_output_one_row_corrupted_as_answered(
    recorded, job_store, user_root
):
    """The service shows the jobs read as Slurm said them, with the problem, not as a silent
    scheduler's (every job UNKNOWN); the next clean answer clears the problem."""
    sched = SlurmScheduler(ClusterConfig(id="hpc", kind="slurm"), job_store, [user_root])
    service = JobService(
        clusters=[("hpc", "HPC", "slurm", "local")], schedulers={"hpc": sched}, store=job_store
    )
    sched._query, _ = recorded_cli(corrupted_fields(recorded))
    sched._queue_form = "fields"
    jobs, problem = await service._list("hpc", False, None)
    assert problem == PROBLEM.format("6787542", "time limit 'XYZ'")
    read = parse_squeue_fields(recorded(FIELDS).read_text())
    states = sorted((j.id, j.state) for j in read if j.id != "6787542")
    assert sorted((j.id, j.state) for j in jobs) == states
    assert JobState.UNKNOWN not in {s for _, s in states}
    assert "hpc" not in service.last_problem  # a later silence is not blamed on this row

    sched._query, _ = recorded_cli(recorded(FIELDS).read_text())
    sched.invalidate()
    jobs, problem = await service._list("hpc", False, None)
    assert (problem, len(jobs)) == (None, 4)
