"""Slurm: `sbatch --parsable` to submit; `squeue --json` to list (with `squeue -O` and
`squeue -o` text fallbacks for clients that refuse it); `scontrol show job` for one job;
`sacct --json` for jobs the controller has forgotten, when accounting is on; `sinfo` for
partitions and their GPUs; `scancel` and `scontrol hold|release`.

The parsers are pure functions of the commands' text. `squeue --json` answers every job whatever
filter it is given (22.05), so filtering is done here. Shapes read: openapi v0.0.37 (21.08) and
v0.0.38 (22.05), where numbers are plain, and the later data_parser shapes where a number is
{"set", "infinite", "number"} and a state a list."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .probe import count_gpus, short_error, split_gres
from .scheduler import (
    JobInfo,
    JobListing,
    JobNotFound,
    JobSpec,
    JobState,
    Partition,
    Scheduler,
    SchedulerError,
    TransientSchedulerError,
    array_summary,
    complete_from_record,
    retry_transient,
    unknown,
)
from .script import expand_job_paths, option_argv, prepare_job
from .store import JobRecord
from .transport import CommandResult, TransportError
from .validation import check_job_id, check_resources

QUERY_TIMEOUT = 30.0
FORGOTTEN = "Slurm no longer lists this job and its end was not seen"
"""What a recorded job shows once the scheduler has dropped it before its end was seen."""
SUBMIT_TIMEOUT = 60.0
QUEUE_TTL = 2.0
"""Seconds one `squeue` answer serves every list refresh (all panels of all users of this
server share it, and slurmctld is asked at most once per TTL); an action here clears it."""
EXIT_CODE_READS = 16
"""Ended jobs whose exit code one list refresh reads with scontrol (the others on the next)."""
PARTITIONS_TTL = 30.0
"""Seconds a partition listing is reused for (the submission form asks for it often)."""

SEP = "\x1f"
SQUEUE_JSON_ARGV = ("squeue", "--json")
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


def squeue_fields_argv(user: str | None = None) -> tuple[str, ...]:
    """`squeue -O` with the list's fields, the user's jobs only when `user` is given."""
    return (SQUEUE_O_ARGV[0], *(("--user", user) if user else ()), *SQUEUE_O_ARGV[1:])


def squeue_lines_argv(user: str | None = None) -> tuple[str, ...]:
    only = ("--user", user) if user else ()
    return (SQUEUE_LINES_ARGV[0], *only, *SQUEUE_LINES_ARGV[1:], SQUEUE_O_FORMAT)


SINFO_PARTITIONS_ARGV = ("sinfo", "--noheader", "--format=%P|%a|%l|%L|%D|%c|%m|%G|%s")
SINFO_JSON_ARGV = ("sinfo", "--json")
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

_STATES = {
    "PENDING": JobState.PENDING,
    "CONFIGURING": JobState.RUNNING,
    "RUNNING": JobState.RUNNING,
    "COMPLETING": JobState.RUNNING,
    "RESIZING": JobState.RUNNING,
    "SIGNALING": JobState.RUNNING,
    "STAGE_OUT": JobState.RUNNING,
    "COMPLETED": JobState.COMPLETED,
    "FAILED": JobState.FAILED,
    "NODE_FAIL": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED,
    "PREEMPTED": JobState.FAILED,
    "SPECIAL_EXIT": JobState.FAILED,
    "CANCELLED": JobState.CANCELLED,
    "REVOKED": JobState.CANCELLED,
    "TIMEOUT": JobState.TIMEOUT,
    "DEADLINE": JobState.TIMEOUT,
    "SUSPENDED": JobState.HELD,
    "STOPPED": JobState.HELD,
    "REQUEUE_HOLD": JobState.HELD,
    "RESV_DEL_HOLD": JobState.HELD,
    "REQUEUED": JobState.PENDING,
    "REQUEUE_FED": JobState.PENDING,
}
# squeue's compact codes (squeue(1), JOB STATE CODES).
_CODES = {
    "PD": "PENDING",
    "CF": "CONFIGURING",
    "R": "RUNNING",
    "CG": "COMPLETING",
    "RS": "RESIZING",
    "SI": "SIGNALING",
    "SO": "STAGE_OUT",
    "CD": "COMPLETED",
    "F": "FAILED",
    "NF": "NODE_FAIL",
    "BF": "BOOT_FAIL",
    "OOM": "OUT_OF_MEMORY",
    "PR": "PREEMPTED",
    "SE": "SPECIAL_EXIT",
    "CA": "CANCELLED",
    "RV": "REVOKED",
    "TO": "TIMEOUT",
    "DL": "DEADLINE",
    "S": "SUSPENDED",
    "ST": "STOPPED",
    "RH": "REQUEUE_HOLD",
    "RD": "RESV_DEL_HOLD",
    "RQ": "REQUEUED",
    "RF": "REQUEUE_FED",
}
_HELD_REASONS = {"JobHeldUser", "JobHeldAdmin"}
_NO_VALUE = {"", "(null)", "N/A", "None", "NONE", "Unknown", "n/a"}
# Slurm's NO_VAL / INFINITE sentinels (slurm.h), as 16, 32 and 64-bit values.
_SENTINELS = {0xFFFE, 0xFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF}
_TRANSIENT = re.compile(
    r"Socket timed out|Unable to contact slurm controller|Connection refused|"
    r"Connection timed out|Resource temporarily unavailable|Zero Bytes were transmitted|"
    r"Communication connection failure|Transport endpoint|backup controller in standby|"
    r"Slurm controller not responding|Munge encode failed|Protocol authentication error",
    re.IGNORECASE,
)
_INVALID_JOB = re.compile(r"Invalid job id", re.IGNORECASE)
_UNSUPPORTED = re.compile(
    r"unrecognized option|invalid option|Invalid job format specification|"
    r"Invalid job format field|is not a valid format|not supported",
    re.IGNORECASE,
)
_SCONTROL_KEY = re.compile(r"(?:^|\s)([A-Za-z][\w:/]*)=")


# Pure functions: the commands' text in, JobInfo / Partition out.


def slurm_state(raw: str, reason: str | None = None) -> JobState:
    """'RUNNING' -> RUNNING, 'CD' -> COMPLETED, 'CANCELLED by 0' -> CANCELLED, PENDING with
    reason JobHeldUser -> HELD; anything else UNKNOWN."""
    word = raw.strip().split(" ")[0].upper() if raw else ""
    word = _CODES.get(word, word)
    state = _STATES.get(word, JobState.UNKNOWN)
    if state is JobState.PENDING and reason in _HELD_REASONS:
        return JobState.HELD
    return state


def parse_sbatch_parsable(stdout: str) -> tuple[str, str | None]:
    """'167871' -> ('167871', None); '167871;cluster' -> ('167871', 'cluster')."""
    line = next((ln.strip() for ln in stdout.splitlines() if ln.strip()), "")
    job_id, _, cluster = line.partition(";")
    if not re.fullmatch(r"\d+", job_id):
        raise ValueError(f"sbatch --parsable answered {line[:80]!r}, not a job id")
    return job_id, cluster or None


def is_transient_error(text: str) -> bool:
    return bool(_TRANSIENT.search(text))


def accounting_disabled(text: str) -> bool:
    """sacct's answer on a cluster without slurmdbd: 'Slurm accounting storage is disabled'."""
    return "accounting storage is disabled" in text.lower()


def parse_time_limit(text: str | None) -> int | None:
    """Seconds from Slurm's time format: '30' (minutes), '10:00', '1:00:00', '1-00:00:00',
    '4-00:00'; None for 'infinite', 'UNLIMITED', 'N/A'."""
    if text is None:
        return None
    raw = text.strip()
    if raw.upper() in {"INFINITE", "UNLIMITED", "N/A", "NONE", "(NULL)", "INVALID", ""}:
        return None
    days = 0
    if "-" in raw:
        d, raw = raw.split("-", 1)
        days = int(d)
        parts = [int(p) for p in raw.split(":")] + [0, 0]
        h, m, s = parts[:3]
        return days * 86400 + h * 3600 + m * 60 + s
    parts = [int(p) for p in raw.split(":")]
    if len(parts) == 1:
        return parts[0] * 60
    if len(parts) == 2:
        return parts[0] * 60 + parts[1]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def parse_memory_text(text: str | None) -> str | None:
    """'4556M' stays; '0', 'N/A' and empty are None."""
    if not text or text.strip() in _NO_VALUE or text.strip() == "0":
        return None
    return text.strip()


def gpus_in(tres: str | None) -> int:
    """GPUs named in a TRES or gres string: 'gres:gpu:1', 'gres/gpu:a100:2', 'gpu:2(IDX:0-1)',
    'cpu=1,mem=4G,gres/gpu=2'."""
    if not tres or tres in _NO_VALUE:
        return 0
    total = 0
    for item in split_gres(tres):
        item = item.split("(", 1)[0]
        for prefix in ("gres:", "gres/"):
            if item.startswith(prefix):
                item = item[len(prefix) :]
        if "=" in item:
            key, _, value = item.partition("=")
            if key.split(":")[0] == "gpu" and value.isdigit():
                total += int(value)
        else:
            total += count_gpus(item)
    return total


def expand_path(
    pattern: str | None,
    job_id: str,
    array_job_id: str | None = None,
    array_task_id: str | None = None,
    name: str | None = None,
    user: str | None = None,
) -> str | None:
    """Expands sbatch's file name patterns (%j %A %a %x %u %%), as slurmd will; %a stays when
    the task is not one index yet."""
    if not pattern:
        return None
    task = array_task_id if array_task_id and array_task_id.isdigit() else None
    values = {"j": job_id, "A": array_job_id or job_id, "a": task, "x": name, "u": user}

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "%":
            return "%"
        value = values.get(key)
        return value if value is not None else m.group(0)

    return re.sub(r"%([%jAaxu])", sub, pattern)


def parse_squeue_json(text: str) -> list[JobInfo]:
    """`squeue --json` (and slurmrestd's /slurm/vX/jobs). Raises ValueError on other JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"squeue --json did not answer JSON: {e}") from e
    if not isinstance(data, Mapping) or not isinstance(data.get("jobs"), list):
        raise ValueError("squeue --json answered JSON without a jobs list")
    return [_job_from_json(job) for job in data["jobs"]]


def _job_from_json(job: Mapping[str, Any]) -> JobInfo:
    own_id = str(_num(job.get("job_id")))
    array_job = _num(job.get("array_job_id"))
    task = _num(job.get("array_task_id"))
    task_string = job.get("array_task_string") or None
    if array_job and task is not None:
        job_id, array_task = f"{array_job}_{task}", str(task)
    else:
        job_id, array_task = own_id, task_string
    raw_state = _first(job.get("job_state")) or ""
    reason = _text(job.get("state_reason"))
    state = slurm_state(raw_state, reason)
    name = job.get("name") or ""
    user = job.get("user_name") or None
    workdir = job.get("current_working_directory") or None
    default_log = f"{workdir}/slurm-{'%A_%a' if array_job else '%j'}.out" if workdir else None
    stdout = job.get("standard_output") or default_log
    stderr = job.get("standard_error") or stdout
    expand = {
        "job_id": own_id,
        "array_job_id": str(array_job) if array_job else None,
        "array_task_id": str(task) if task is not None else None,
        "name": name,
        "user": user,
    }
    exit_code, signal = _exit_status(job.get("exit_code"))
    gres = job.get("tres_per_node") or job.get("tres_per_job") or job.get("tres_per_task") or ""
    node_count = _num(job.get("node_count"))
    gpus = gpus_in(gres) * (node_count or 1) if job.get("tres_per_node") else gpus_in(gres)
    if not gpus:
        gpus = gpus_in(job.get("tres_alloc_str") or "")
    limit = _num(job.get("time_limit"))
    return JobInfo(
        id=job_id,
        name=name,
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=user,
        partition=job.get("partition") or None,
        nodes=job.get("nodes") or None,
        node_count=node_count,
        cpus=_num(job.get("cpus")),
        memory=_tres_value(job.get("tres_req_str") or "", "mem"),
        submit_time=_epoch(job.get("submit_time")),
        start_time=_epoch(job.get("start_time")) if state is not JobState.PENDING else None,
        end_time=_epoch(job.get("end_time")) if state.finished else None,
        time_limit=limit * 60 if limit is not None else None,
        exit_code=exit_code if state.finished else None,
        signal=signal if state.finished else None,
        gres=gres or None,
        gpus=gpus,
        array_job_id=str(array_job) if array_job else None,
        array_task_id=array_task,
        dependency=job.get("dependency") or None,
        stdout_path=expand_path(stdout, **expand),
        stderr_path=expand_path(stderr, **expand),
        working_dir=workdir,
    )


def parse_squeue_fields(
    text: str,
    sep: str = SEP,
    cache: dict[str, JobInfo] | None = None,
    cluster: str | None = None,
) -> list[JobInfo]:
    """`squeue -O Field:<sep>,...` with its header line (field names in capitals, as Open
    OnDemand's adapter runs it). Columns are found by name, so any order or subset works. A row
    with more fields than the header has the separator in its job name, the one free-text
    field: the extra fields are joined back into NAME."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = [h.strip() for h in lines[0].split(sep)]
    if "JOBID" not in header:
        raise ValueError("squeue -O output has no header line with JOBID")
    jobs = []
    # The rows of a refresh are mostly those of the one before (a waiting job's row does not
    # change): a row parsed before is taken from `cache`, which is refilled with this refresh's.
    previous = dict(cache) if cache is not None else {}
    if cache is not None:
        cache.clear()
    for line in lines[1:]:
        known = previous.get(line)
        if known is not None:
            jobs.append(known)
            if cache is not None:
                cache[line] = known
            continue
        values = [v.strip() for v in line.split(sep)]
        extra = len(values) - len(header)
        if extra > 0 and "NAME" in header:
            i = header.index("NAME")
            values[i : i + extra + 1] = [sep.join(values[i : i + extra + 1])]
        row: dict[str, str] = {}
        for key, value in zip(header, values, strict=False):
            row.setdefault(key, value)  # the first of repeated columns (GROUP twice in OOD's)
        info = _job_from_fields(row, cluster)
        jobs.append(info)
        if cache is not None:
            cache[line] = info
    return jobs


def _job_from_fields(row: Mapping[str, str], cluster: str | None = None) -> JobInfo:
    def get(key: str) -> str | None:
        value = row.get(key)
        return None if value is None or value in _NO_VALUE else value

    raw_id = get("JOBID") or ""
    array_job, task = get("ARRAY_JOB_ID"), get("ARRAY_TASK_ID")
    if array_job and task and task.isdigit():
        job_id = f"{array_job}_{task}"
    else:  # a pending array shows as '7_[0-3]' or as '7'
        job_id = raw_id.split("_", 1)[0]
    own_id = raw_id if raw_id.isdigit() else (array_job or job_id)
    raw_state = get("STATE") or _CODES.get(get("ST") or "", get("ST") or "")
    reason = get("REASON")
    state = slurm_state(raw_state, reason)
    name = row.get("NAME", "")
    user = get("USER")
    node_count = _int(get("NODES"))
    gres = get("TRES_PER_NODE") or ""
    stdout = get("STDOUT") or _comment_path(get("COMMENT"), "stdout")
    expand = {
        "job_id": own_id,
        "array_job_id": array_job,
        "array_task_id": task,
        "name": name,
        "user": user,
    }
    return JobInfo(
        id=job_id,
        cluster=cluster,
        name=name,
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=user,
        partition=get("PARTITION"),
        nodes=get("NODELIST"),
        node_count=node_count,
        cpus=_int(get("CPUS")),
        memory=parse_memory_text(get("MIN_MEMORY")),
        submit_time=_local_time(get("SUBMIT_TIME")),
        start_time=_local_time(get("START_TIME")) if state is not JobState.PENDING else None,
        end_time=_local_time(get("END_TIME")) if state.finished else None,
        time_limit=parse_time_limit(get("TIME_LIMIT")),
        gres=gres or None,
        gpus=gpus_in(gres) * (node_count or 1) or gpus_in(get("TRES_ALLOC") or ""),
        array_job_id=array_job if task else None,
        array_task_id=task,
        dependency=get("DEPENDENCY"),
        stdout_path=expand_path(stdout, **expand),
        stderr_path=expand_path(get("STDERR") or stdout, **expand),
        working_dir=get("WORK_DIR"),
    )


def parse_squeue_lines(text: str) -> tuple[list[JobInfo], int]:
    """`squeue -o` with a JSON-like format (SQUEUE_O_FORMAT, or prometheus-slurm-exporter's
    {"a", "id", "end_time", "u", "state", "p", "cpu", "mem", "array_id", "r"}): one object per
    line. Lines that are not JSON (a '#' comment, a bad value) are skipped and counted."""
    jobs, skipped = [], 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        if not isinstance(row, Mapping) or "id" not in row:
            skipped += 1
            continue
        jobs.append(_job_from_line(row))
    return jobs, skipped


def _job_from_line(row: Mapping[str, Any]) -> JobInfo:
    def get(key: str) -> str | None:
        value = row.get(key)
        return None if value is None or str(value) in _NO_VALUE else str(value)

    job_id = get("id") or ""
    array_job, task = get("array_job"), get("array_id")
    if array_job and task and task.isdigit() and array_job != job_id:
        job_id = f"{array_job}_{task}"
    raw_state = get("state") or ""
    # %R: the reason in parentheses for a pending job, the node list otherwise.
    where = get("r") or ""
    reason = where[1:-1] if where.startswith("(") and where.endswith(")") else None
    state = slurm_state(raw_state, reason)
    return JobInfo(
        id=job_id,
        name="",
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=get("u"),
        partition=get("p"),
        nodes=(where or None) if reason is None else None,
        node_count=_int(get("nodes")),
        cpus=_int(get("cpu")),
        memory=parse_memory_text(get("mem")),
        submit_time=_local_time(get("submit")),
        start_time=_local_time(get("start")) if state is not JobState.PENDING else None,
        end_time=_local_time(get("end_time")) if state.finished else None,
        time_limit=parse_time_limit(get("limit")),
        gres=get("gres"),
        gpus=gpus_in(get("gres")),
        array_job_id=array_job if task else None,
        array_task_id=task,
    )


def parse_scontrol_show_job(text: str) -> list[JobInfo]:
    """`scontrol show job [id]`: blank-line separated records of Key=Value words (an array
    answers one record per task)."""
    jobs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields = parse_scontrol_record(block)
        if "JobId" in fields:
            jobs.append(_job_from_scontrol(fields))
    return jobs


def parse_scontrol_record(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        matches = list(_SCONTROL_KEY.finditer(line))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            fields[m.group(1)] = line[m.end() : end].strip()
    return fields


def _job_from_scontrol(f: Mapping[str, str]) -> JobInfo:
    def get(key: str) -> str | None:
        value = f.get(key)
        return None if value is None or value in _NO_VALUE else value

    own_id = f["JobId"]
    array_job, task = get("ArrayJobId"), get("ArrayTaskId")
    job_id = f"{array_job}_{task}" if array_job and task and task.isdigit() else own_id
    raw_state = get("JobState") or ""
    reason = get("Reason")
    state = slurm_state(raw_state, reason)
    exit_code, signal = _exit_pair(get("ExitCode"))
    user = (get("UserId") or "").split("(", 1)[0] or None
    gres = get("TresPerNode") or get("TresPerJob") or ""
    node_count = _int(get("NumNodes"))
    # A pending array's record names its log with NO_VAL for the task: not a real path.
    pending_array = bool(task and not task.isdigit())
    return JobInfo(
        id=job_id,
        name=f.get("JobName", ""),
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=user,
        partition=get("Partition"),
        nodes=get("NodeList"),
        node_count=node_count,
        cpus=_int(get("NumCPUs")),
        memory=_tres_value(get("TRES") or "", "mem"),
        submit_time=_local_time(get("SubmitTime")),
        start_time=_local_time(get("StartTime")) if state is not JobState.PENDING else None,
        end_time=_local_time(get("EndTime")) if state.finished else None,
        time_limit=parse_time_limit(get("TimeLimit")),
        exit_code=exit_code if state.finished else None,
        signal=signal if state.finished else None,
        gres=gres or None,
        gpus=gpus_in(gres) * (node_count or 1) or gpus_in(get("TRES") or ""),
        array_job_id=array_job if array_job and (task or array_job != own_id) else None,
        array_task_id=task,
        dependency=get("Dependency"),
        stdout_path=None if pending_array else get("StdOut"),
        stderr_path=None if pending_array else get("StdErr"),
        working_dir=get("WorkDir"),
    )


def parse_sacct_json(text: str) -> list[JobInfo]:
    """`sacct --json` (openapi dbv0.0.37 in 22.05, and later data_parser shapes). A requeued job
    appears once per run: the last run is kept."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"sacct --json did not answer JSON: {e}") from e
    if not isinstance(data, Mapping) or not isinstance(data.get("jobs"), list):
        raise ValueError("sacct --json answered JSON without a jobs list")
    jobs: dict[str, JobInfo] = {}
    for job in data["jobs"]:
        info = _job_from_sacct(job)
        previous = jobs.get(info.id)
        if previous is None or (info.submit_time or 0) >= (previous.submit_time or 0):
            jobs[info.id] = info
    return list(jobs.values())


def _job_from_sacct(job: Mapping[str, Any]) -> JobInfo:
    own_id = str(_num(job.get("job_id")))
    array = job.get("array") or {}
    array_job = _num(array.get("job_id"))
    task = _num(array.get("task_id"))
    job_id = f"{array_job}_{task}" if array_job and task is not None else own_id
    state_field = job.get("state") or {}
    raw_state = _first(state_field.get("current")) or ""
    reason = _text(state_field.get("reason"))
    state = slurm_state(raw_state, reason)
    times = job.get("time") or {}
    exit_code, signal = _exit_status(job.get("exit_code"))
    tres = (job.get("tres") or {}).get("allocated") or []
    gpus = sum(
        int(_num(t.get("count")) or 0)
        for t in tres
        if t.get("type") == "gres" and str(t.get("name", "")).split(":")[0] == "gpu"
    )
    mem = next((_num(t.get("count")) for t in tres if t.get("type") == "mem"), None)
    cpus = next((_num(t.get("count")) for t in tres if t.get("type") == "cpu"), None)
    limit = _num(times.get("limit"))
    nodes = job.get("nodes")
    return JobInfo(
        id=job_id,
        name=job.get("name") or "",
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=job.get("user") or None,
        partition=job.get("partition") or None,
        nodes=nodes if nodes and nodes not in {"None assigned", "(null)"} else None,
        node_count=_num(job.get("allocation_nodes")) or None,
        cpus=cpus,
        memory=f"{mem}M" if mem else None,
        submit_time=_epoch(times.get("submission")),
        start_time=_epoch(times.get("start")),
        end_time=_epoch(times.get("end")) if state.finished else None,
        time_limit=limit * 60 if limit is not None else None,
        exit_code=exit_code if state.finished else None,
        signal=signal if state.finished else None,
        gpus=gpus,
        array_job_id=str(array_job) if array_job else None,
        array_task_id=str(task) if task is not None else None,
        working_dir=job.get("working_directory") or None,
    )


def parse_sinfo_partitions(text: str) -> list[Partition]:
    """Output of SINFO_PARTITIONS_ARGV: one line per partition and node configuration
    (name|avail|timelimit|default time|nodes|cpus per node|memory per node|gres|job size)."""
    merged: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 9:
            raise ValueError(f"unexpected sinfo line: {line[:80]!r}")
        name, avail, limit, default_time, nodes, cpus, memory, gres, size = (
            f.strip() for f in fields
        )
        default = name.endswith("*")
        name = name.rstrip("*")
        n = _int(nodes) or 0
        cpus_per_node = _int(cpus.rstrip("+")) or 0
        p = merged.setdefault(
            name,
            {
                "name": name,
                "default": default,
                "available": avail.rstrip("*") == "up",
                "max_time": parse_time_limit(limit),
                "default_time": parse_time_limit(default_time),
                "max_nodes": _job_size_max(size),
                "nodes": 0,
                "cpus": 0,
                "max_cpus_per_node": 0,
                "max_memory": 0,
                "gpus": 0,
                "gres": [],
            },
        )
        p["nodes"] += n
        p["cpus"] += n * cpus_per_node
        p["max_cpus_per_node"] = max(p["max_cpus_per_node"], cpus_per_node)
        p["max_memory"] = max(p["max_memory"], _int(memory.rstrip("+")) or 0)
        p["gpus"] += n * count_gpus(gres) if gres not in _NO_VALUE else 0
        if gres not in _NO_VALUE and gres not in p["gres"]:
            p["gres"].append(gres)
    return [
        Partition(
            **{
                **p,
                "gres": tuple(p["gres"]),
                "max_cpus_per_node": p["max_cpus_per_node"] or None,
                "max_memory": p["max_memory"] or None,
            }
        )
        for p in merged.values()
    ]


@dataclass(frozen=True)
class NodeGres:
    node: str
    gres: str
    gres_used: str
    state: str
    partition: str | None = None

    @property
    def gpus(self) -> int:
        return count_gpus(self.gres)

    @property
    def gpus_used(self) -> int:
        return gpus_in(self.gres_used)


def parse_sinfo_gres(
    text: str, columns: Sequence[str] = ("node", "gres", "gres_used", "state")
) -> list[NodeGres]:
    """`sinfo -hNO NodeHost,Gres,GresUsed,StateLong` (Open OnDemand's form; with Partition too
    when `columns` says so): blank-separated columns, none of which holds a blank."""
    rows = []
    for line in text.splitlines():
        values = line.split()
        if not values:
            continue
        if len(values) != len(columns):
            raise ValueError(f"expected {len(columns)} columns in sinfo line {line[:80]!r}")
        row = dict(zip(columns, values, strict=True))
        if "partition" in row:
            row["partition"] = row["partition"].rstrip("*")
        rows.append(NodeGres(**row))
    return rows


def parse_sinfo_json(text: str) -> list[NodeGres]:
    """`sinfo --json` (openapi v0.0.37+): one NodeGres per node and partition."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"sinfo --json did not answer JSON: {e}") from e
    if not isinstance(data, Mapping) or not isinstance(data.get("nodes"), list):
        raise ValueError("sinfo --json answered JSON without a nodes list")
    rows = []
    for node in data["nodes"]:
        state = _first(node.get("state")) or ""
        for partition in node.get("partitions") or [None]:
            rows.append(
                NodeGres(
                    node=node.get("name", ""),
                    gres=node.get("gres") or "",
                    gres_used=node.get("gres_used") or "",
                    state=state.lower(),
                    partition=partition,
                )
            )
    return rows


@dataclass(frozen=True)
class SchedulerLoad:
    """How busy the controller is (sdiag): for a hint such as 'Slurm is busy: 13455 pending'."""

    jobs_pending: int | None
    jobs_running: int | None
    server_threads: int | None
    agent_queue: int | None
    cycle_mean_us: int | None
    """Mean main scheduling cycle, microseconds."""
    backfill_cycle_mean_us: int | None


def parse_sdiag_json(text: str) -> SchedulerLoad:
    """`sdiag --json` (23.02 and later; 22.05's sdiag has no --json)."""
    try:
        stats = json.loads(text)["statistics"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"sdiag --json answered something else: {e}") from e
    return SchedulerLoad(
        jobs_pending=_num(stats.get("jobs_pending")),
        jobs_running=_num(stats.get("jobs_running")),
        server_threads=_num(stats.get("server_thread_count")),
        agent_queue=_num(stats.get("agent_queue_size")),
        cycle_mean_us=_num(stats.get("schedule_cycle_mean")),
        backfill_cycle_mean_us=_num(stats.get("bf_cycle_mean")),
    )


def parse_sdiag_text(text: str) -> SchedulerLoad:
    """Plain `sdiag`: 'Jobs pending:   0', and 'Mean cycle:' once under the main scheduler's
    statistics and once under backfilling's."""
    values: dict[str, int] = {}
    section = "main"
    for line in text.splitlines():
        if line.startswith("Backfilling stats"):
            section = "backfill"
        key, sep, value = line.strip().partition(":")
        number = value.strip().split(" ")[0] if sep else ""
        if number.isdigit():
            values.setdefault(f"{section}:{key}" if key == "Mean cycle" else key, int(number))
    return SchedulerLoad(
        jobs_pending=values.get("Jobs pending"),
        jobs_running=values.get("Jobs running"),
        server_threads=values.get("Server thread count"),
        agent_queue=values.get("Agent queue size"),
        cycle_mean_us=values.get("main:Mean cycle"),
        backfill_cycle_mean_us=values.get("backfill:Mean cycle"),
    )


def with_gpus_used(partitions: Iterable[Partition], nodes: Iterable[NodeGres]) -> list[Partition]:
    used: dict[str, int] = {}
    for node in nodes:
        if node.partition:
            used[node.partition] = used.get(node.partition, 0) + node.gpus_used
    return [replace(p, gpus_used=used.get(p.name, 0)) for p in partitions]


def _job_size_max(size: str) -> int | None:
    """'1-infinite' -> None, '1-4' -> 4."""
    high = size.rsplit("-", 1)[-1]
    return int(high) if high.isdigit() else None


def _num(value: Any) -> int | None:
    """A number in any of the JSON shapes: 5, 5.0, {"set": true, "infinite": false,
    "number": 5}; None for unset, infinite and Slurm's NO_VAL sentinels."""
    if isinstance(value, Mapping):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = int(value)
        return None if number in _SENTINELS else number
    return None


def _first(value: Any) -> str | None:
    """A state in 22.05 is a string; later, a list of the state and its flags."""
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in _NO_VALUE else text


def _epoch(value: Any) -> float | None:
    number = _num(value)
    return float(number) if number else None


def _local_time(text: str | None) -> float | None:
    """Slurm prints times in the cluster's local time, without a zone: '2024-06-26T14:19:40'."""
    if not text or text in _NO_VALUE:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _exit_status(value: Any) -> tuple[int | None, int | None]:
    """exit_code: a wait status (v0.0.37/38: 768 is exit 3; 9 is signal 9), or an object
    {status, return_code, signal} (dbv0.0.37 and later)."""
    if isinstance(value, Mapping) and ("return_code" in value or "status" in value):
        signal = value.get("signal")
        sig = None
        if isinstance(signal, Mapping):
            sig = _num(signal.get("id", signal.get("signal_id")))
        return _num(value.get("return_code")), sig or None
    raw = _num(value)
    if raw is None:
        return None, None
    return (raw >> 8) & 0xFF, (raw & 0x7F) or None


def _exit_pair(text: str | None) -> tuple[int | None, int | None]:
    """scontrol's ExitCode '3:0' -> (3, None), '0:9' -> (0, 9)."""
    if not text or ":" not in text:
        return None, None
    code, _, sig = text.partition(":")
    return _int(code), (_int(sig) or None)


def _tres_value(tres: str, key: str) -> str | None:
    for item in tres.split(","):
        k, _, v = item.partition("=")
        if k == key and v:
            return v
    return None


def _comment_path(comment: str | None, key: str) -> str | None:
    """Open OnDemand stores 'stdout=/path' in the job's comment."""
    if comment and comment.startswith(f"{key}="):
        return comment.split("=", 1)[1]
    return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


# Side effects: the commands, through the cluster's transport.


class SlurmScheduler(Scheduler):
    kind = "slurm"

    accounting: bool | None = None
    """Whether sacct answers (None until asked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `squeue -O` first: on 22.05 `squeue --json` ignores every filter and answers about
        # 6 KB a job (62 MB for 10,000 queued tasks), while -O gives the fields the list needs
        # in about 300 bytes a job and filters by user in slurmctld. --json stays the fallback.
        self._queue_form = "fields"
        self._rows: dict[str, JobInfo] = {}
        self._snapshot: dict[str | None, tuple[float, list[JobInfo]]] = {}
        self._inflight: dict[str | None, asyncio.Future[list[JobInfo]]] = {}
        self._listings: dict[Any, tuple[list[JobInfo], tuple[int, float, float], JobListing]] = {}
        """The last listing for each (mine, states), with the queue answer and the store stamp
        it was made from: the same listing object while neither changed."""
        """The last refresh's `squeue -O` rows, parsed (see parse_squeue_fields)."""
        self._partitions: tuple[float, list[Partition]] | None = None

    async def _run(
        self, argv: Sequence[str], *, timeout: float = QUERY_TIMEOUT, input: bytes | None = None
    ) -> CommandResult:
        try:
            return await self.transport.run(argv, timeout=timeout, input=input)
        except TransportError as e:
            raise TransientSchedulerError(f"{argv[0]}: {e}") from e

    async def _query(self, argv: Sequence[str]) -> CommandResult:
        """A read-only command: its transient failures raise TransientSchedulerError."""
        ran = await self._run(argv)
        if not ran.ok and is_transient_error(ran.stderr_text + ran.stdout_text):
            raise TransientSchedulerError(short_error(ran.stderr_text) or "no answer")
        return ran

    async def submit(self, spec: JobSpec) -> JobInfo:
        self.invalidate()
        prepared = prepare_job(spec, self.cluster, self.roots)
        check_resources(prepared.checked, self.cluster.limits, await self.partitions())
        mkdir = await self._run(["mkdir", "-p", "--", str(prepared.log_dir)])
        if not mkdir.ok:
            said = short_error(mkdir.stderr_text)
            raise SchedulerError(f"cannot create {prepared.log_dir}: {said}")
        argv = ["sbatch", "--parsable", *option_argv("slurm", prepared.options)]
        try:
            ran = await self.transport.run(
                argv, timeout=SUBMIT_TIMEOUT, input=prepared.script.encode()
            )
        except TransportError as e:
            raise TransientSchedulerError(
                f"sbatch did not finish ({e}): the job may have been submitted, look at the list"
            ) from e
        if not ran.ok:
            said = short_error(ran.stderr_text) or f"sbatch failed with exit code {ran.returncode}"
            if is_transient_error(ran.stderr_text):
                raise TransientSchedulerError(said)
            raise SchedulerError(said)
        job_id, _ = parse_sbatch_parsable(ran.stdout_text)
        checked = prepared.checked
        info = JobInfo(
            id=job_id,
            name=checked.name,
            state=JobState.HELD if checked.spec.hold else JobState.PENDING,
            raw_state="SUBMITTED",
            cluster=self.cluster.id,
            user=self.cluster.user_name,
            partition=checked.spec.partition,
            submit_time=time.time(),
            time_limit=checked.walltime,
            gpus=checked.gpus * checked.nodes,
            gres=f"gpu:{checked.gpus}" if checked.gpus else None,
            dependency=",".join(checked.spec.afterok) or None,
            working_dir=str(checked.working_dir),
            **expand_job_paths(prepared, job_id),
        )
        self.store.add(self.cluster.id, info, checked.spec, prepared.script)
        return info

    def invalidate(self) -> None:
        self._snapshot.clear()

    async def _shared_queue(self, user: str | None) -> list[JobInfo]:
        """The queue as `_queue` reads it, shared: an answer younger than QUEUE_TTL is reused,
        and refreshes that arrive while squeue runs wait for that same call."""
        hit = self._snapshot.get(user)
        if hit is not None and time.monotonic() - hit[0] < QUEUE_TTL:
            return hit[1]
        running = self._inflight.get(user)
        if running is not None:
            return await asyncio.shield(running)
        future = asyncio.ensure_future(self._queue(user))
        self._inflight[user] = future
        try:
            queue = await asyncio.shield(future)
        finally:
            self._inflight.pop(user, None)
        self._snapshot[user] = (time.monotonic(), queue)
        return queue

    async def _queue(self, user: str | None = None) -> list[JobInfo]:
        """Every job the controller knows (of `user` only, when given and the form filters), in
        the first form this squeue accepts. The caller filters again: --json ignores filters."""
        forms = ("fields", "json", "lines")
        for form in forms[forms.index(self._queue_form) :]:
            if form == "json":
                ran = await self._query(SQUEUE_JSON_ARGV)
            elif form == "fields":
                ran = await self._query(squeue_fields_argv(user))
            else:
                ran = await self._query(squeue_lines_argv(user))
            if not ran.ok and _UNSUPPORTED.search(ran.stderr_text):
                continue
            if not ran.ok:
                raise SchedulerError(short_error(ran.stderr_text) or "squeue failed")
            self._queue_form = form
            if form == "json":
                return parse_squeue_json(ran.stdout_text)
            if form == "fields":
                return parse_squeue_fields(
                    ran.stdout_text, cache=self._rows, cluster=self.cluster.id
                )
            return parse_squeue_lines(ran.stdout_text)[0]
        raise SchedulerError("this squeue accepts neither --json, -O nor -o")

    async def list(
        self, *, mine: bool = True, states: Collection[JobState] | None = None
    ) -> JobListing:
        try:
            queue = await retry_transient(
                lambda: self._shared_queue(self.cluster.user_name if mine else None)
            )
        except TransientSchedulerError as e:
            why = f"Slurm did not answer: {e}"
            recorded = [unknown(r.info, why) for r in self.store.list(self.cluster.id)]
            return JobListing(
                [j for j in recorded if states is None or j.state in states], problem=why
            )
        key = (mine, None if states is None else frozenset(states))
        last = self._listings.get(key)
        if last is not None and last[0] is queue and last[1] == self.store.stamp(self.cluster.id):
            return last[2]
        user = self.cluster.user_name
        here = self.cluster.id
        seen = {
            j.id: j if j.cluster == here else replace(j, cluster=here)
            for j in queue
            if not mine or j.user in (None, user)
        }
        gone = [
            r
            for r in self.store.list(self.cluster.id)
            if r.job_id not in seen and not r.info.finished
        ]
        found = await self._accounted([r.job_id for r in gone]) if gone else {}
        for job_id, info in found.items():
            seen[job_id] = replace(info, cluster=self.cluster.id)
        await self._read_exit_codes(seen)
        tasks_by_array: dict[str, list[JobInfo]] = {}
        for info in queue:
            if info.array_job_id and info.array_task_id and info.array_task_id.isdigit():
                tasks_by_array.setdefault(info.array_job_id, []).append(info)

        def forgotten(record: JobRecord) -> JobInfo:
            tasks = tasks_by_array.get(record.job_id)
            if tasks and not record.info.finished:
                return array_summary(record.info, tasks)
            return unknown(record.info, FORGOTTEN)

        listing = JobListing(self.merge_recorded(seen, states, forgotten=forgotten))
        self._listings[key] = (queue, self.store.stamp(self.cluster.id), listing)
        return listing

    async def _read_exit_codes(self, seen: dict[str, JobInfo]) -> None:
        """`squeue -O` has no exit code: the jobs submitted here that ended without one on
        record are read once with `scontrol show job` (which records it), a few at a time."""
        recorded = {
            r.job_id: r for r in self.store.list(self.cluster.id) if r.info.exit_code is None
        }
        need = [
            job_id
            for job_id, info in seen.items()
            if info.finished and info.exit_code is None and job_id in recorded
        ]
        for job_id, got in zip(
            need[:EXIT_CODE_READS],
            await asyncio.gather(
                *(self.status(j) for j in need[:EXIT_CODE_READS]), return_exceptions=True
            ),
            strict=True,
        ):
            if isinstance(got, JobInfo) and got.finished:
                seen[job_id] = got

    async def _accounted(self, job_ids: Sequence[str]) -> dict[str, JobInfo]:
        """Jobs the controller has forgotten, from the accounting database when there is one."""
        if self.accounting is False or not job_ids:
            return {}
        try:
            ran = await retry_transient(
                lambda: self._query(["sacct", "--json", "-j", ",".join(job_ids)])
            )
        except TransientSchedulerError:
            return {}
        if accounting_disabled(ran.stderr_text + ran.stdout_text):
            self.accounting = False
            return {}
        if not ran.ok:
            return {}
        self.accounting = True
        try:
            return {j.id: j for j in parse_sacct_json(ran.stdout_text)}
        except ValueError:
            return {}

    async def status(self, job_id: str) -> JobInfo:
        check_job_id(job_id, "job_id")
        record = self.store.get(self.cluster.id, job_id)
        try:
            ran = await retry_transient(lambda: self._query(["scontrol", "show", "job", job_id]))
        except TransientSchedulerError as e:
            why = f"Slurm did not answer: {e}"
            if record is not None:
                return unknown(record.info, why)
            return JobInfo(job_id, "", JobState.UNKNOWN, "", reason=why, cluster=self.cluster.id)
        if ran.ok:
            jobs = parse_scontrol_show_job(ran.stdout_text)
            info = next((j for j in jobs if j.id == job_id), None)
            if info is None and jobs:
                info = array_summary(jobs[0], jobs) if len(jobs) > 1 else jobs[0]
            if info is not None:
                info = replace(info, id=job_id, cluster=self.cluster.id)
                if record is not None:
                    info = complete_from_record(info, record)
                    if info != record.info:
                        self.store.update_info(self.cluster.id, job_id, info)
                return info
        elif not _INVALID_JOB.search(ran.stderr_text):
            raise SchedulerError(short_error(ran.stderr_text) or "scontrol show job failed")
        accounted = (await self._accounted([job_id])).get(job_id)
        if accounted is not None:
            info = replace(accounted, cluster=self.cluster.id)
            if record is not None:
                self.store.update_info(self.cluster.id, job_id, info)
            return info
        if record is not None:
            return unknown(record.info, FORGOTTEN)
        raise JobNotFound(job_id, self.cluster.id)

    async def _control(self, argv: Sequence[str], job_id: str) -> None:
        check_job_id(job_id, "job_id")
        ran = await self._run(argv)
        # scancel exits 0 for an id it does not know; with --verbose it says so on stderr.
        if _INVALID_JOB.search(ran.stderr_text):
            raise JobNotFound(job_id, self.cluster.id)
        if ran.ok:
            return
        said = short_error(ran.stderr_text) or f"{argv[0]} failed with exit code {ran.returncode}"
        if is_transient_error(ran.stderr_text):
            raise TransientSchedulerError(said)
        raise SchedulerError(said)

    async def cancel(self, job_id: str) -> None:
        self.invalidate()
        check_job_id(job_id, "job_id")
        self.store.request_cancel(self.cluster.id, job_id)
        await self._control(["scancel", "--verbose", job_id], job_id)

    async def hold(self, job_id: str) -> None:
        self.invalidate()
        info = await self.status(job_id)
        # scontrol accepts a hold on a running job and does nothing with it until a requeue.
        if info.state not in (JobState.PENDING, JobState.HELD, JobState.UNKNOWN):
            raise SchedulerError(
                f"job {job_id} is {info.state.value.lower()}: only a pending job can be held"
            )
        await self._control(["scontrol", "hold", job_id], job_id)

    async def release(self, job_id: str) -> None:
        self.invalidate()
        await self._control(["scontrol", "release", job_id], job_id)

    async def partitions(self) -> list[Partition]:
        now = time.monotonic()
        if self._partitions is not None and now - self._partitions[0] < PARTITIONS_TTL:
            return self._partitions[1]

        async def query() -> tuple[CommandResult, CommandResult]:
            return await asyncio.gather(
                self._query(SINFO_PARTITIONS_ARGV), self._query(SINFO_JSON_ARGV)
            )

        summary, nodes = await retry_transient(query)
        if not summary.ok:
            raise SchedulerError(short_error(summary.stderr_text) or "sinfo failed")
        partitions = parse_sinfo_partitions(summary.stdout_text)
        if nodes.ok:
            usage = parse_sinfo_json(nodes.stdout_text)
        else:  # a sinfo without --json
            nodes = await self._query(SINFO_GRES_ARGV)
            usage = parse_sinfo_gres(nodes.stdout_text, SINFO_GRES_COLUMNS) if nodes.ok else []
        partitions = with_gpus_used(partitions, usage)
        self._partitions = (now, partitions)
        return partitions

    async def load(self) -> SchedulerLoad | None:
        """The controller's load (sdiag), or None when sdiag is not allowed to this user."""
        ran = await self._query(SDIAG_JSON_ARGV)
        if ran.ok:
            return parse_sdiag_json(ran.stdout_text)
        ran = await self._query(SDIAG_ARGV)
        return parse_sdiag_text(ran.stdout_text) if ran.ok else None
