"""Each Slurm partition's default memory (issue 21): DefMemPerNode / DefMemPerCPU read from
`scontrol --oneliner show partition`, on answers of this project's Slurm 22.05.8 and on the real
Slurm's own partitions through the cluster listing."""

from __future__ import annotations

import os
import subprocess

import pytest

from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.commands import SCONTROL_PARTITIONS_ARGV
from espri_vre.jobs.slurm.parse import parse_scontrol_record
from espri_vre.jobs.slurm.partitions import (
    DefaultMemory,
    parse_scontrol_partitions,
    with_default_memory,
)
from espri_vre.jobs.types import ClusterConfig, JobKind, JobSpec, JobState, Partition
from espri_vre.jobs.validation import parse_memory_mb

# Captured from this project's Slurm 22.05.8 with SCONTROL_PARTITIONS_ARGV (and --all) on a
# partition created for the capture (`scontrol create PartitionName=bigmem ... DefMemPerCPU=512`),
# then updated with DefMemPerNode=3000, then deleted: the shared test Slurm's own partitions set
# no default memory, and a partition added there would show in the other tests' listings.
PER_CPU = (
    "PartitionName=bigmem AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
    "Default=NO QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
    "Hidden=YES MaxNodes=UNLIMITED MaxTime=02:00:00 MinNodes=1 LLN=NO "
    "MaxCPUsPerNode=UNLIMITED Nodes=localhost PriorityJobFactor=1 PriorityTier=1 "
    "RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF "
    "State=DOWN TotalCPUs=2 TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) "
    "DefMemPerCPU=512 MaxMemPerNode=UNLIMITED TRES=cpu=2,mem=24105M,node=1,billing=2"
)
PER_NODE = (
    "PartitionName=bigmem AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
    "Default=NO QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
    "Hidden=YES MaxNodes=UNLIMITED MaxTime=02:00:00 MinNodes=1 LLN=NO "
    "MaxCPUsPerNode=UNLIMITED Nodes=localhost PriorityJobFactor=1 PriorityTier=1 "
    "RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF "
    "State=DOWN TotalCPUs=2 TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) "
    "DefMemPerNode=3000 MaxMemPerNode=UNLIMITED TRES=cpu=2,mem=24105M,node=1,billing=2"
)


def test_default_memory_per_cpu_and_per_node():
    assert PER_CPU.replace("DefMemPerCPU=512", "DefMemPerNode=3000") == PER_NODE
    assert parse_scontrol_partitions(PER_CPU) == {"bigmem": DefaultMemory(512, True)}
    assert parse_scontrol_partitions(PER_NODE + "\n") == {"bigmem": DefaultMemory(3000, False)}
    unlimited = PER_NODE.replace("DefMemPerNode=3000", "DefMemPerNode=UNLIMITED")
    assert parse_scontrol_partitions(unlimited) == {"bigmem": DefaultMemory(None, False)}


def test_partitions_get_their_default_memory_and_the_others_none():
    listed = with_default_memory(
        [Partition("bigmem"), Partition("debug")], parse_scontrol_partitions(PER_CPU)
    )
    assert [(p.name, p.default_memory, p.default_memory_per_cpu) for p in listed] == [
        ("bigmem", 512, True),
        ("debug", None, False),
    ]
    assert listed[0].to_dict()["default_memory"] == 512


@pytest.mark.parametrize("answer", ["slurm_load_partitions error: Invalid user", PER_CPU[40:]])
def test_an_answer_that_is_not_a_partition_says_so(answer):
    with pytest.raises(ValueError, match="scontrol show partition answered .*, not a partition"):
        parse_scontrol_partitions(answer)


@pytest.mark.anyio
async def test_the_real_partitions_set_no_default_memory(slurm, job_store, user_root):
    sched = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    said = subprocess.run(
        SCONTROL_PARTITIONS_ARGV, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    # slurm.conf gives them no DefMemPerNode: scontrol says DefMemPerNode=UNLIMITED.
    assert said.count("DefMemPerNode=UNLIMITED") == 2 and "DefMemPerCPU" not in said
    debug, gpu = await sched.partitions()
    for partition in (debug, gpu):
        assert (partition.default_memory, partition.default_memory_per_cpu) == (None, False)
        assert partition.to_dict()["default_memory"] is None


@pytest.fixture
def per_cpu_partition(slurm):
    """A hidden partition of the real Slurm with DefMemPerCPU=512, deleted afterwards: hidden,
    it is in no listing the other tests read (sinfo and scontrol without --all)."""
    name = f"espri-defmem-{os.getpid()}"
    scontrol = ["scontrol", "create", f"PartitionName={name}", "Nodes=localhost"]
    subprocess.run(
        [*scontrol, "DefMemPerCPU=512", "Hidden=YES", "MaxTime=00:05:00", "State=UP"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    try:
        yield name
    finally:
        subprocess.run(
            ["scontrol", "delete", f"PartitionName={name}"], capture_output=True, timeout=30
        )


@pytest.mark.anyio
async def test_a_job_left_to_a_per_cpu_default_gets_it_times_its_cpus_on_the_real_slurm(
    per_cpu_partition, job_store, user_root
):
    """The figure the submission form shows for an untouched memory field on such a partition
    (form-defaults.ts: 512M per CPU = 1024M for 2 CPUs) is what the real Slurm gives the job
    that the form sends: cores per task, and no --mem."""
    said = subprocess.run(
        [*SCONTROL_PARTITIONS_ARGV, "--all"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert parse_scontrol_partitions(said)[per_cpu_partition] == DefaultMemory(512, True)

    (user_root / "defmem.sh").write_text("true\n")
    sched = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    spec = JobSpec(
        kind=JobKind.SCRIPT, path="defmem.sh", partition=per_cpu_partition, cpus=2, hold=True
    )
    assert "--mem" not in sched.preview(spec)
    job = await sched.submit(spec)
    try:
        shown = subprocess.run(
            ["scontrol", "--oneliner", "show", "job", job.id],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    finally:
        await sched.cancel(job.id)
    fields = parse_scontrol_record(shown)
    tres = dict(item.split("=", 1) for item in fields["TRES"].split(","))
    assert (fields["MinMemoryCPU"], fields["NumCPUs"], parse_memory_mb(tres["mem"])) == (
        "512M",
        "2",
        512 * 2,
    )
    # A job cancelled while pending, whose partition is then deleted, stays in squeue for
    # MinJobAge with the time limit NOT_SET: that once made the whole listing unreadable, for
    # every user of the cluster and for five minutes. It is read, with no limit.
    subprocess.run(
        ["scontrol", "delete", f"PartitionName={per_cpu_partition}"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    listing = await sched.list()
    assert listing.problem is None
    gone = {info.id: info for info in listing.jobs}[job.id]
    assert (gone.state, gone.time_limit) == (JobState.CANCELLED, None)
