"""When a job would start on Slurm, before it is submitted: `sbatch --test-only` with the job's own
script and options (Slurm's scheduler answers "Job N to start at T using C processors on nodes X in
partition P" and submits nothing), and the partitions' current load from `sinfo` (cores allocated,
idle, in total) and `squeue` (jobs running and waiting in each). A pending job's expected start is
squeue's START_TIME (%S, what `squeue --start` shows), in the job list already."""

from __future__ import annotations

import re
import time
from typing import NamedTuple

from ..probe import short_error
from ..scheduler import CliScheduler
from ..types import JobSpec
from ..validation import check_resources

SINFO_LOAD_ARGV = ("sinfo", "--noheader", "--format=%R|%C")
SQUEUE_LOAD_ARGV = ("squeue", "--noheader", "--all", "--states=PENDING,RUNNING", "--format=%P|%T")


class Load(NamedTuple):
    """One partition's cores and jobs now."""

    name: str
    cpus_allocated: int
    cpus_idle: int
    cpus_total: int
    jobs_running: int
    jobs_pending: int


class TestOnly(NamedTuple):
    """Where and when `sbatch --test-only` says the job would start."""

    start: float
    cores: int
    nodes: str
    partition: str


_TEST_ONLY = re.compile(
    r"Job \d+ to start at (\S+) using (\d+) processors on nodes (\S+) in partition (\S+)"
)


def parse_test_only(said: str) -> TestOnly | None:
    """(start, cores, nodes, partition) from what `sbatch --test-only` wrote; its start time is
    the controller's local time, as this machine reads it."""
    m = _TEST_ONLY.search(said)
    if m is None:
        return None
    start = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return TestOnly(start, int(m.group(2)), m.group(3), m.group(4))


def parse_load(sinfo: str, squeue: str) -> list[Load]:
    """Each partition's cores (`sinfo %C`: allocated/idle/other/total) and jobs (a job asked of
    several partitions, 'debug,gpu', counts in each)."""
    jobs: dict[str, dict[str, int]] = {}
    for line in squeue.splitlines():
        names, _, state = line.strip().partition("|")
        for name in filter(None, names.split(",")):
            counts = jobs.setdefault(name, {"RUNNING": 0, "PENDING": 0})
            if state in counts:
                counts[state] += 1
    loads = []
    for line in sinfo.splitlines():
        name, _, cpus = line.strip().partition("|")
        parts = cpus.split("/")
        if not name or len(parts) != 4 or not all(p.isdigit() for p in parts):
            continue
        allocated, idle, _, total = (int(p) for p in parts)
        counts = jobs.get(name, {})
        running, pending = counts.get("RUNNING", 0), counts.get("PENDING", 0)
        loads.append(Load(name, allocated, idle, total, running, pending))
    return loads


async def test_only(
    scheduler: CliScheduler, spec: JobSpec
) -> tuple[TestOnly | None, str, list[Load]]:
    """When Slurm would start the job now (or None, with why), and the partitions' load;
    nothing is submitted. A refusal of --test-only (a partition too small) is said, not
    raised: the form shows it while the user changes the resources."""
    prepared = scheduler.prepare(spec)
    check_resources(prepared.checked, scheduler.cluster.limits, await scheduler.partitions())
    argv = [*scheduler.submission_argv(prepared), "--test-only"]
    tested = await scheduler.transport.run(argv, timeout=60.0, input=prepared.script.encode())
    found = parse_test_only(tested.stderr_text + tested.stdout_text)
    why = "" if found else short_error(tested.stderr_text) or "sbatch --test-only said nothing"
    sinfo = await scheduler.transport.run(SINFO_LOAD_ARGV, timeout=30.0)
    squeue = await scheduler.transport.run(SQUEUE_LOAD_ARGV, timeout=30.0)
    loads = parse_load(sinfo.stdout_text, squeue.stdout_text) if sinfo.ok and squeue.ok else []
    return found, why, loads
