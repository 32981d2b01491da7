"""Pure parsers of Slurm's job output: `sbatch --parsable`, `squeue -o` / `-O` / `--json`,
`scontrol show job`, `sacct --json`, and the words of its errors. Text in, `JobInfo` out.

`squeue --json` answers every job whatever filter it is given (22.05): the scheduler filters.
Shapes read: openapi v0.0.37 (21.08) and v0.0.38 (22.05), where numbers are plain, and the later
data_parser shapes where a number is {"set", "infinite", "number"} and a state a list. The value
readers at the end are shared with the partition parsers (partitions.py).

A pending job's start time is kept: it is Slurm's expected start (what `squeue --start` shows),
set by the backfill scheduler or by --begin, and N/A / Unknown / 0 (None) while it has none."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..probe import count_gpus, split_gres
from ..types import (
    JobInfo,
    JobState,
    SchedulerError,
    TransientSchedulerError,
    int_or_none,
)
from .commands import SEP
from .unreadable import BadRow

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
NO_VALUE = {"", "(null)", "N/A", "None", "NONE", "Unknown", "n/a"}
# Slurm's NO_VAL / INFINITE sentinels (slurm.h), as 16, 32 and 64-bit values.
_SENTINELS = {0xFFFE, 0xFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF}
_TRANSIENT = re.compile(
    r"Socket timed out|Unable to contact slurm controller|Connection refused|"
    r"Connection timed out|Resource temporarily unavailable|Zero Bytes were transmitted|"
    r"Communication connection failure|Transport endpoint|backup controller in standby|"
    r"Slurm controller not responding|Munge encode failed|Protocol authentication error",
    re.IGNORECASE,
)
_SCONTROL_KEY = re.compile(r"(?:^|\s)([A-Za-z][\w:/]*)=")
_LINE_ID = re.compile(r'"id"\s*:\s*"?(\w+)')


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
    '4-00:00'; None for 'infinite', 'UNLIMITED', 'N/A', and 'NOT_SET' (squeue's time limit of a
    pending job in a partition without DefaultTime: Slurm sets it when the job starts)."""
    if text is None:
        return None
    raw = text.strip()
    if raw.upper() in {"INFINITE", "UNLIMITED", "N/A", "NOT_SET", "NONE", "(NULL)", "INVALID", ""}:
        return None
    try:
        if "-" in raw:
            d, raw = raw.split("-", 1)
            h, m, s = ([int(p) for p in raw.split(":")] + [0, 0])[:3]
            return int(d) * 86400 + h * 3600 + m * 60 + s
        parts = [int(p) for p in raw.split(":")]
    except ValueError:
        # int()'s own words name neither the field nor the value as Slurm printed it.
        raise ValueError(f"time limit {text!r}") from None
    if len(parts) == 1:
        return parts[0] * 60
    if len(parts) == 2:
        return parts[0] * 60 + parts[1]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def parse_memory_text(text: str | None) -> str | None:
    """'4556M' stays; '0', 'N/A' and empty are None."""
    if not text or text.strip() in NO_VALUE or text.strip() == "0":
        return None
    return text.strip()


def gpus_in(tres: str | None) -> int:
    """GPUs named in a TRES or gres string: 'gres:gpu:1', 'gres/gpu:a100:2', 'gpu:2(IDX:0-1)',
    'cpu=1,mem=4G,gres/gpu=2'."""
    if not tres or tres in NO_VALUE:
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


def parse_squeue_json(text: str, unreadable: list[BadRow] | None = None) -> list[JobInfo]:
    """`squeue --json` (and slurmrestd's /slurm/vX/jobs). Raises ValueError on other JSON, and
    on a job it cannot read unless `unreadable` is given: that job is then added to it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"squeue --json did not answer JSON: {e}") from e
    if not isinstance(data, Mapping):
        raise ValueError("squeue --json answered JSON without a jobs list")
    said = json_errors(data)
    if said:
        # An answer with errors has an empty jobs list: a failed login is not an empty queue.
        if is_transient_error(said):
            raise TransientSchedulerError(said)
        raise SchedulerError(said)
    if not isinstance(data.get("jobs"), list):
        raise ValueError("squeue --json answered JSON without a jobs list")
    jobs = []
    for job in data["jobs"]:
        try:
            jobs.append(_job_from_json(job))
        # A value of a type the reader does not expect (a number as text, an object where a
        # string was) fails as a TypeError or AttributeError: one job's, not the answer's.
        except (ValueError, TypeError, AttributeError) as e:
            if unreadable is None:
                raise
            raw = job if isinstance(job, Mapping) else {}
            user = raw.get("user_name") if isinstance(raw.get("user_name"), str) else None
            why = str(e) if isinstance(e, ValueError) else f"a value of another type ({e})"
            unreadable.append(BadRow(str(json_number(raw.get("job_id")) or "?"), user, why))
    return jobs


def json_errors(data: Mapping[str, Any]) -> str:
    """The `errors` of a squeue/slurmrestd JSON answer as one sentence; '' when there are none.
    Each is {"error", "description", "error_number", "source"} (data_parser) or
    {"error", "errno"} (v0.0.37/38)."""
    errors = data.get("errors")
    if not isinstance(errors, list):
        return ""
    words = []
    for e in errors:
        if isinstance(e, Mapping):
            parts = [str(e[k]) for k in ("error", "description") if e.get(k)]
            words.append(": ".join(dict.fromkeys(parts)) or "an error without words")
        elif e:
            words.append(str(e))
    return "; ".join(words)


def _job_from_json(job: Mapping[str, Any]) -> JobInfo:
    number = json_number(job.get("job_id"))
    if number is None:
        raise ValueError(f"job_id {job.get('job_id')!r}")
    own_id = str(number)
    array_job = json_number(job.get("array_job_id"))
    task = json_number(job.get("array_task_id"))
    task_string = job.get("array_task_string") or None
    if array_job and task is not None:
        job_id, array_task = f"{array_job}_{task}", str(task)
    else:
        job_id, array_task = own_id, task_string
    raw_state = first_word(job.get("job_state")) or ""
    reason = _text(job.get("state_reason"))
    state = slurm_state(raw_state, reason)
    name = job.get("name") or ""
    user = job.get("user_name") or None
    workdir = job.get("current_working_directory") or None
    default_log = f"slurm-{'%A_%a' if array_job else '%j'}.out"
    stdout = _in_dir(
        workdir, job.get("stdout_expanded") or job.get("standard_output") or default_log
    )
    stderr = _in_dir(workdir, job.get("stderr_expanded") or job.get("standard_error")) or stdout
    expand = {
        "job_id": own_id,
        "array_job_id": str(array_job) if array_job else None,
        "array_task_id": str(task) if task is not None else None,
        "name": name,
        "user": user,
    }
    exit_code, signal = _exit_status(job.get("exit_code"))
    gres = job.get("tres_per_node") or job.get("tres_per_job") or job.get("tres_per_task") or ""
    node_count = json_number(job.get("node_count"))
    gpus = gpus_in(gres) * (node_count or 1) if job.get("tres_per_node") else gpus_in(gres)
    if not gpus:
        gpus = gpus_in(job.get("tres_alloc_str") or "")
    limit = json_number(job.get("time_limit"))
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
        cpus=json_number(job.get("cpus")),
        memory=_tres_value(job.get("tres_req_str") or "", "mem"),
        submit_time=_epoch(job.get("submit_time")),
        start_time=_epoch(job.get("start_time")),
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


def _in_dir(workdir: str | None, path: str | None) -> str | None:
    """A log path as slurmd opens it: a relative one is in the job's working directory; without
    that directory a relative path is unknown (None), never read from the server's."""
    if not path:
        return None
    if path.startswith("/"):
        return path
    return f"{workdir.rstrip('/')}/{path}" if workdir else None


def parse_squeue_fields(
    text: str,
    sep: str = SEP,
    cache: dict[str, JobInfo] | None = None,
    cluster: str | None = None,
    unreadable: list[BadRow] | None = None,
) -> list[JobInfo]:
    """`squeue -o` (SQUEUE_CODES) or `squeue -O Field:<sep>,...`, with its header line (field
    names in capitals, the same for both; Open OnDemand's adapter runs -O so). Columns are found
    by name, so any order or subset works. A row with more fields than the header has the
    separator in its job name, the one free-text field: the extra fields are joined back into
    NAME. A row with a value it cannot read raises ValueError, or is added to `unreadable` when
    that is given."""
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return []
    if not text.endswith("\n"):
        # squeue ends every row with a newline: an answer without one was cut (a dropped SSH
        # session, a killed command), and its last row may have lost its end unnoticed.
        raise ValueError("squeue output was cut: its last line has no end")
    header = [h.strip() for h in lines[first].split(sep)]
    if "JOBID" not in header:
        raise ValueError("squeue output has no header line with JOBID")
    columns: dict[str, int] = {}
    for i, key in enumerate(header):
        columns.setdefault(key, i)  # the first of repeated columns (GROUP twice in OOD's)
    width = len(header)
    # Each field's place in a row; -1, a None put at the end of every row, for a field this
    # output does not have.
    at = {key: columns.get(key, -1) for key in _FIELD_COLUMNS}
    name_at = columns.get("NAME")
    derived = "ARRAY_JOB_ID" not in columns
    jobs = []
    # The rows of a refresh are mostly those of the one before (a waiting job's row does not
    # change): a row parsed before is taken from `cache`, which is refilled with this refresh's.
    previous = dict(cache) if cache is not None else {}
    if cache is not None:
        cache.clear()
    seen: dict[str, Any] = {}
    """Values read in this answer (times, time limits): the tasks of an array share them."""
    for line in lines[first + 1 :]:
        known = previous.get(line)
        if known is None:
            if not line.strip():
                continue
            values = line.split(sep)
            extra = len(values) - width
            if extra > 0 and name_at is not None:
                values[name_at : name_at + extra + 1] = [
                    sep.join(values[name_at : name_at + extra + 1])
                ]
            if len(values) < width:
                raise ValueError(
                    f"squeue output was cut: a row has {len(values)} of the {width} fields"
                    " of its header"
                )
            row: list[str | None] = [None if (v := x.strip()) in NO_VALUE else v for x in values]
            row += [None] * (width + 1 - len(row))
            name = values[name_at].strip() if name_at is not None and name_at < len(values) else ""
            try:
                known = _job_from_fields(row, at, name, derived, cluster, seen)
            except ValueError as e:
                if unreadable is None:
                    raise
                unreadable.append(BadRow(_row_id(row, at, derived)[0], row[at["USER"]], str(e)))
                continue
        jobs.append(known)
        if cache is not None:
            cache[line] = known
    return jobs


_FIELD_COLUMNS = (
    "JOBID",
    "ARRAY_JOB_ID",
    "ARRAY_TASK_ID",
    "USER",
    "STATE",
    "ST",
    "REASON",
    "PARTITION",
    "NODELIST",
    "NODES",
    "CPUS",
    "MIN_MEMORY",
    "SUBMIT_TIME",
    "START_TIME",
    "END_TIME",
    "TIME_LIMIT",
    "TRES_PER_NODE",
    "TRES_ALLOC",
    "DEPENDENCY",
    "STDOUT",
    "STDERR",
    "COMMENT",
    "WORK_DIR",
)
"""The columns of squeue's header that make a JobInfo."""


def _job_from_fields(
    row: list[str | None],
    at: Mapping[str, int],
    name: str,
    derived: bool,
    cluster: str | None,
    seen: dict[str, Any],
) -> JobInfo:
    """One row, its empty and N/A fields None, with a None at its end (see `at`)."""

    def when(key: str) -> float | None:
        raw = row[at[key]]
        if raw is None:
            return None
        if raw not in seen:
            seen[raw] = _local_time(raw)
        return seen[raw]  # type: ignore[no-any-return]

    raw_id = row[at["JOBID"]] or ""
    job_id, array_job, task = _row_id(row, at, derived)
    short = row[at["ST"]] or ""
    raw_state = row[at["STATE"]] or _CODES.get(short, short)
    reason = row[at["REASON"]]
    state = slurm_state(raw_state, reason)
    user = row[at["USER"]]
    node_count = int_or_none(row[at["NODES"]])
    gres = row[at["TRES_PER_NODE"]] or ""
    limit = row[at["TIME_LIMIT"]]
    if limit is not None and ("limit", limit) not in seen:
        seen["limit", limit] = parse_time_limit(limit)
    stdout = row[at["STDOUT"]] or _comment_path(row[at["COMMENT"]], "stdout")
    paths: dict[str, str | None] = {"stdout_path": None, "stderr_path": None}
    if stdout or row[at["STDERR"]]:
        own_id = raw_id if raw_id.isdigit() else (array_job or job_id)
        expand = {
            "job_id": own_id,
            "array_job_id": array_job,
            "array_task_id": task,
            "name": name,
            "user": user,
        }
        paths["stdout_path"] = expand_path(stdout, **expand)
        paths["stderr_path"] = expand_path(row[at["STDERR"]] or stdout, **expand)
    return JobInfo(
        id=job_id,
        cluster=cluster,
        name=name,
        state=state,
        raw_state=raw_state,
        reason=reason,
        user=user,
        partition=row[at["PARTITION"]],
        nodes=row[at["NODELIST"]],
        node_count=node_count,
        cpus=int_or_none(row[at["CPUS"]]),
        memory=parse_memory_text(row[at["MIN_MEMORY"]]),
        submit_time=when("SUBMIT_TIME"),
        start_time=when("START_TIME"),
        end_time=when("END_TIME") if state.finished else None,
        time_limit=seen["limit", limit] if limit is not None else None,
        gres=gres or None,
        gpus=(gpus_in(gres) * (node_count or 1) if gres else 0) or gpus_in(row[at["TRES_ALLOC"]]),
        array_job_id=array_job if task else None,
        array_task_id=task,
        dependency=row[at["DEPENDENCY"]],
        working_dir=row[at["WORK_DIR"]],
        **paths,
    )


def _row_id(
    row: list[str | None], at: Mapping[str, int], derived: bool
) -> tuple[str, str | None, str | None]:
    """A fields row's (job id, array job id, task id)."""
    raw_id = row[at["JOBID"]] or ""
    if derived:  # -o's %i: '7_3' for a task, '7_[0-3%2]' for the tasks still pending in one record
        array_job, _, task = raw_id.partition("_")
        task = task.strip("[]").split("%", 1)[0] or None
        array_job = array_job if task else None
    else:
        array_job, task = row[at["ARRAY_JOB_ID"]], row[at["ARRAY_TASK_ID"]]
    if array_job and task and task.isdigit():
        return f"{array_job}_{task}", array_job, task
    return raw_id.split("_", 1)[0], array_job, task  # a pending array: '7_[0-3]' or '7'


def parse_squeue_lines(
    text: str, unreadable: list[BadRow] | None = None
) -> tuple[list[JobInfo], int]:
    """`squeue -o` with a JSON-like format (SQUEUE_O_FORMAT, or prometheus-slurm-exporter's
    {"a", "id", "end_time", "u", "state", "p", "cpu", "mem", "array_id", "r"}): one object per
    line. Lines that are not JSON (a '#' comment, a bad value) are skipped and counted; those
    that are not comments are added to `unreadable` when it is given."""
    jobs, skipped = [], 0
    for line in text.splitlines():
        line, row = line.strip(), None
        if not line:
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, Mapping) or "id" not in row:
                raise ValueError("a line without a job id")
            jobs.append(_job_from_line(row))
        except ValueError as e:  # JSONDecodeError is one
            skipped += 1
            if unreadable is not None and not line.startswith("#"):
                found = _LINE_ID.search(line)
                user = row.get("u") if isinstance(row, Mapping) else None
                why = "not JSON" if isinstance(e, json.JSONDecodeError) else str(e)
                unreadable.append(BadRow(found[1] if found else "?", user, why))
    return jobs, skipped


def _job_from_line(row: Mapping[str, Any]) -> JobInfo:
    def get(key: str) -> str | None:
        value = row.get(key)
        return None if value is None or str(value) in NO_VALUE else str(value)

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
        node_count=int_or_none(get("nodes")),
        cpus=int_or_none(get("cpu")),
        memory=parse_memory_text(get("mem")),
        submit_time=_local_time(get("submit")),
        start_time=_local_time(get("start")),
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
        if not block.strip():
            continue
        fields = parse_scontrol_record(block)
        # A cut answer loses its last keys: a record without its state is not a job read.
        if "JobId" not in fields or "JobState" not in fields:
            raise ValueError(f"scontrol show job answered {block.strip()[:80]!r}, not a job record")
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
        return None if value is None or value in NO_VALUE else value

    own_id = f["JobId"]
    array_job, task = get("ArrayJobId"), get("ArrayTaskId")
    job_id = f"{array_job}_{task}" if array_job and task and task.isdigit() else own_id
    raw_state = get("JobState") or ""
    reason = get("Reason")
    state = slurm_state(raw_state, reason)
    exit_code, signal = _exit_pair(get("ExitCode"))
    user = (get("UserId") or "").split("(", 1)[0] or None
    gres = get("TresPerNode") or get("TresPerJob") or ""
    node_count = int_or_none(get("NumNodes"))
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
        cpus=int_or_none(get("NumCPUs")),
        memory=_tres_value(get("TRES") or "", "mem"),
        submit_time=_local_time(get("SubmitTime")),
        start_time=_local_time(get("StartTime")),
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
    own_id = str(json_number(job.get("job_id")))
    array = job.get("array") or {}
    array_job = json_number(array.get("job_id"))
    task = json_number(array.get("task_id"))
    job_id = f"{array_job}_{task}" if array_job and task is not None else own_id
    state_field = job.get("state") or {}
    raw_state = first_word(state_field.get("current")) or ""
    reason = _text(state_field.get("reason"))
    state = slurm_state(raw_state, reason)
    times = job.get("time") or {}
    exit_code, signal = _exit_status(job.get("exit_code"))
    tres = (job.get("tres") or {}).get("allocated") or []
    gpus = sum(
        int(json_number(t.get("count")) or 0)
        for t in tres
        if t.get("type") == "gres" and str(t.get("name", "")).split(":")[0] == "gpu"
    )
    mem = next((json_number(t.get("count")) for t in tres if t.get("type") == "mem"), None)
    cpus = next((json_number(t.get("count")) for t in tres if t.get("type") == "cpu"), None)
    limit = json_number(times.get("limit"))
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
        node_count=json_number(job.get("allocation_nodes")) or None,
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


def json_number(value: Any) -> int | None:
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


def first_word(value: Any) -> str | None:
    """A state in 22.05 is a string; later, a list of the state and its flags."""
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in NO_VALUE else text


def _epoch(value: Any) -> float | None:
    number = json_number(value)
    return float(number) if number else None


def _local_time(text: str | None) -> float | None:
    """Slurm prints times in the cluster's local time, without a zone: '2024-06-26T14:19:40'."""
    if not text or text in NO_VALUE:
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
            sig = json_number(signal.get("id", signal.get("signal_id")))
        return json_number(value.get("return_code")), sig or None
    raw = json_number(value)
    if raw is None:
        return None, None
    return (raw >> 8) & 0xFF, (raw & 0x7F) or None


def _exit_pair(text: str | None) -> tuple[int | None, int | None]:
    """scontrol's ExitCode '3:0' -> (3, None), '0:9' -> (0, 9)."""
    if not text or ":" not in text:
        return None, None
    code, _, sig = text.partition(":")
    return int_or_none(code), (int_or_none(sig) or None)


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
