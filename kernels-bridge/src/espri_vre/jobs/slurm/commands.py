"""The Slurm commands the back end runs, as argv lists: the forms of `squeue` from the cheapest
to the plainest, `sinfo` for partitions and GPUs, `sdiag` for the controller's load."""

from __future__ import annotations

SEP = "\x1f"
SQUEUE_JSON_ARGV = ("squeue", "--json")
SQUEUE_CODES = (
    ("JOBID", "%i"),
    ("USER", "%u"),
    ("STATE", "%T"),
    ("REASON", "%r"),
    ("PARTITION", "%P"),
    ("NODELIST", "%N"),
    ("NODES", "%D"),
    ("CPUS", "%C"),
    ("MIN_MEMORY", "%m"),
    ("SUBMIT_TIME", "%V"),
    ("START_TIME", "%S"),
    ("END_TIME", "%e"),
    ("TIME_LIMIT", "%l"),
    ("TRES_PER_NODE", "%b"),
    ("DEPENDENCY", "%E"),
    ("WORK_DIR", "%Z"),
    # Last: a job name may hold the separator itself.
    ("NAME", "%j"),
)
"""The list's fields as `squeue -o` codes, with the column each prints in its header line (the
same names as -O's). -o costs squeue less per job than -O, which pads every field: measured on
10,000 queued tasks, 1.2 MB of output instead of 1.8 MB. The array ids come from %i ('7_3'); the
log paths, which -o cannot print, are read on demand (`status`)."""
SQUEUE_ROWS_ARGV = (
    "squeue",
    "--all",
    "--states=all",
    "--noconvert",
    "-o",
    SEP.join(code for _, code in SQUEUE_CODES),
)
SQUEUE_FIELDS = (
    "JobID",
    "ArrayJobID",
    "ArrayTaskID",
    "UserName",
    "State",
    "Reason",
    "Partition",
    "NodeList",
    "NumNodes",
    "NumCPUs",
    "MinMemory",
    "SubmitTime",
    "StartTime",
    "EndTime",
    "TimeLimit",
    "tres-per-node",
    "Dependency",
    "STDOUT",
    "STDERR",
    "WorkDir",
    # Last: a job name may hold the separator itself (seen in Open OnDemand's recordings).
    "Name",
)
SQUEUE_O_ARGV = (
    "squeue",
    "--all",
    "--states=all",
    "--noconvert",
    "-O",
    ",".join(f"{f}:{SEP}" for f in SQUEUE_FIELDS),
)
# Last resort for a squeue whose -O refuses a field: one JSON-like object per line, in the style
# of prometheus-slurm-exporter's fallback. Free-text fields (the job name) are left out: they
# could hold a quote and break the line.
SQUEUE_O_FORMAT = (
    '{"id": "%i", "array_job": "%F", "array_id": "%K", "u": "%u", "state": "%T", "p": "%P",'
    ' "cpu": %C, "mem": "%m", "nodes": %D, "r": "%R", "submit": "%V", "start": "%S",'
    ' "end_time": "%e", "limit": "%l", "gres": "%b", "a": "%a"}'
)
SQUEUE_LINES_ARGV = ("squeue", "--all", "--states=all", "--noheader", "--noconvert", "-o")


def squeue_rows_argv(user: str | None = None) -> tuple[str, ...]:
    """`squeue -o` with the list's fields and its header line, the user's jobs only when `user`
    is given."""
    return (SQUEUE_ROWS_ARGV[0], *(("--user", user) if user else ()), *SQUEUE_ROWS_ARGV[1:])


def squeue_fields_argv(user: str | None = None) -> tuple[str, ...]:
    """`squeue -O` with the list's fields, the user's jobs only when `user` is given."""
    return (SQUEUE_O_ARGV[0], *(("--user", user) if user else ()), *SQUEUE_O_ARGV[1:])


def squeue_lines_argv(user: str | None = None) -> tuple[str, ...]:
    only = ("--user", user) if user else ()
    return (SQUEUE_LINES_ARGV[0], *only, *SQUEUE_LINES_ARGV[1:], SQUEUE_O_FORMAT)


SINFO_PARTITIONS_ARGV = ("sinfo", "--noheader", "--format=%P|%a|%l|%L|%D|%c|%m|%G|%s")
SINFO_JSON_ARGV = ("sinfo", "--json")
# sinfo has no field for a partition's default memory (DefMemPerNode / DefMemPerCPU): scontrol has.
SCONTROL_PARTITIONS_ARGV = ("scontrol", "--oneliner", "show", "partition")
SINFO_GRES_COLUMNS = ("node", "partition", "gres", "gres_used", "state")
SINFO_GRES_ARGV = (
    "sinfo",
    "--noheader",
    "--Node",
    "-O",
    "NodeHost:200,Partition:200,Gres:1000,GresUsed:1000,StateLong:50",
)
SDIAG_JSON_ARGV = ("sdiag", "--json")
SDIAG_ARGV = ("sdiag",)
