"""Pure parsers of Torque's output: `qsub`, `qstat -x` (XML), `qstat -f` (attributes wrapped onto
TAB-indented lines), the plain `qstat` table, `qstat -Qf` and `pbsnodes` (XML and text), and the
words of its errors. Text in, `JobInfo` / `Partition` / `TorqueNode` out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..probe import torque_node_state
from ..types import JobInfo, JobState, Partition, int_or_none
from ..validation import parse_memory_mb, parse_walltime

# Torque's job exit codes below zero (src/include/job.h, JOB_EXEC_*): the job did not run to
# its own end.
EXEC_CODES = {
    -1: "the job could not be started (JOB_EXEC_FAIL1)",
    -2: "the job failed after its files were staged (JOB_EXEC_FAIL2)",
    -3: "the job will be retried (JOB_EXEC_RETRY)",
    -4: "the job's start was aborted (JOB_EXEC_INITABT)",
    -5: "the job's restart failed (JOB_EXEC_INITRST)",
    -6: "the job's start was aborted with a fatal error (JOB_EXEC_INITRMG)",
    -7: "the job's restart was bad (JOB_EXEC_BADRESRT)",
    -8: "the job's command failed (JOB_EXEC_CMDFAIL)",
    -9: "the job's output could not be written (JOB_EXEC_STDOUTFAIL)",
    -10: "the job used more memory than it asked for (JOB_EXEC_OVERLIMIT_MEM)",
    -11: "the job ran past its walltime (JOB_EXEC_OVERLIMIT_WT)",
    -12: "the job used more CPU time than it asked for (JOB_EXEC_OVERLIMIT_CPUT)",
}
_STATES = {
    "Q": JobState.PENDING,
    "W": JobState.PENDING,
    "T": JobState.PENDING,
    "R": JobState.RUNNING,
    "E": JobState.RUNNING,
    "H": JobState.HELD,
    "S": JobState.HELD,
}
_TRANSIENT = re.compile(
    r"cannot connect to server|Connection refused|timed out|pbs_iff|End of File|"
    r"Premature end of message|communication failure|Server unavailable|"
    r"cannot connect to default server",
    re.IGNORECASE,
)
_SHORT_ID = re.compile(r"(\d+(?:\[\d*\])?)(?:\.(.+))?")
_QSTAT_DATE = "%a %b %d %H:%M:%S %Y"


def is_transient_error(text: str) -> bool:
    """Whether Torque's words say the server did not answer."""
    return bool(_TRANSIENT.search(text))


def short_job_id(job_id: str) -> str:
    """'4499334.pbsserver' -> '4499334'; '673175[19].fruster.stanford.edu' -> '673175[19]'."""
    m = _SHORT_ID.fullmatch(job_id.strip())
    return m.group(1) if m else job_id.strip()


def parse_qsub(stdout: str) -> str:
    """qsub prints the new job's full id: '1584224.biocluster.igb.illinois.edu'."""
    line = next((ln.strip() for ln in stdout.splitlines() if ln.strip()), "")
    if not _SHORT_ID.fullmatch(line):
        raise ValueError(f"qsub answered {line[:80]!r}, not a job id")
    return line


def torque_state(
    code: str, exit_status: int | None, started: bool, is_array: bool = False
) -> tuple[JobState, str | None]:
    """The normalised state of a job and the reason it ended, from its one-letter state. A
    completed job ('C') is told apart by its exit status: 0 completed, -11 timed out, 256+N
    killed by signal N, none at all and never started: deleted before it ran."""
    code = code.strip().upper()
    if code in _STATES:
        return _STATES[code], None
    if code != "C":
        return JobState.UNKNOWN, None
    if exit_status is None:
        if is_array:
            return JobState.COMPLETED, None
        if not started:
            return JobState.CANCELLED, "deleted before it ran"
        return JobState.COMPLETED, None
    if exit_status == 0:
        return JobState.COMPLETED, None
    if exit_status == -11:
        return JobState.TIMEOUT, EXEC_CODES[-11]
    if exit_status < 0:
        return JobState.FAILED, EXEC_CODES.get(exit_status, f"Torque exit code {exit_status}")
    if exit_status >= 256:
        return JobState.FAILED, f"killed by signal {exit_status - 256}"
    return JobState.FAILED, "NonZeroExitCode"


def parse_qstat_xml(text: str) -> list[JobInfo]:
    """`qstat -x [id]`. Raises ValueError when it is not qstat's XML."""
    if not text.strip():
        return []  # qstat -x prints nothing at all when there are no jobs
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        # Cut XML too: the scheduler then reads qstat -f, never the jobs before the cut.
        raise ValueError(f"qstat -x did not answer XML: {e}") from e
    if root.tag != "Data":
        raise ValueError(f"qstat -x answered <{root.tag}>, expected <Data>")
    jobs = []
    for job in root.iter("Job"):
        attrs: dict[str, str] = {}
        for child in job:
            if len(child):
                for sub in child:
                    attrs[f"{child.tag}.{sub.tag}"] = (sub.text or "").strip()
            else:
                attrs[child.tag] = (child.text or "").strip()
        jobs.append(job_from_attributes(attrs, epoch_times=True))
    return jobs


def parse_qstat_f(text: str) -> list[JobInfo]:
    """`qstat -f [id]`: 'Job Id: ...' blocks of 'key = value' lines, with long values wrapped onto
    lines that start with a TAB."""
    jobs = []
    blocks = parse_qstat_f_blocks(text, "Job Id")
    if text.strip() and not blocks:
        raise ValueError(f"qstat -f answered {text.strip()[:80]!r}, not a job")
    for job_id, attrs in blocks:
        missing = [k for k in _QSTAT_F_KEYS if k not in attrs]
        if missing:
            # Every job block has these near its top: a block without them was cut.
            raise CutAnswer(f"qstat -f: job {job_id} has no {', '.join(missing)}: a cut answer")
        jobs.append(job_from_attributes({"Job_Id": job_id, **attrs}, epoch_times=False))
    return jobs


_QSTAT_F_KEYS = ("Job_Name", "Job_Owner", "job_state", "queue")


class CutAnswer(ValueError):
    """An answer of the right kind that ends too soon: reading another form of the command would
    hide that some jobs are missing."""


def parse_qstat_f_blocks(text: str, header: str) -> list[tuple[str, dict[str, str]]]:
    """The blocks of `qstat -f` ('Job Id: X') or `qstat -Qf` ('Queue: X'), continuation lines
    joined back onto their attribute."""
    blocks: list[tuple[str, dict[str, str]]] = []
    current: dict[str, str] | None = None
    last: str | None = None
    for line in text.splitlines():
        if line.startswith(f"{header}:"):
            current, last = {}, None
            blocks.append((line.split(":", 1)[1].strip(), current))
        elif current is None or not line.strip():
            continue
        elif line.startswith("\t") and last is not None:
            current[last] += line[1:]
        elif " = " in line:
            key, _, value = line.strip().partition(" = ")
            current[key] = value
            last = key
    return blocks


def parse_qstat_table(text: str) -> list[JobInfo]:
    """Plain `qstat`: 'Job ID  Name  User  Time Use  S  Queue' columns (ids and names cut to
    the column width, so only a last resort)."""
    jobs = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 6 or not _SHORT_ID.fullmatch(parts[0]) or not parts[0][0].isdigit():
            continue
        job_id, name, user, _, code, queue = parts
        state, reason = torque_state(code, None, started=code != "Q")
        jobs.append(
            JobInfo(
                id=short_job_id(job_id),
                name=name,
                state=state,
                raw_state=code,
                reason=reason,
                user=user,
                partition=queue,
            )
        )
    return jobs


def job_from_attributes(a: Mapping[str, str], *, epoch_times: bool) -> JobInfo:
    """A job from its attributes, as `qstat -x` (nested elements flattened to 'Resource_List.mem')
    and `qstat -f` name them."""

    def when(key: str) -> float | None:
        return _epoch(a.get(key)) if epoch_times else _qstat_date(a.get(key))

    full_id = a["Job_Id"]
    job_id = short_job_id(full_id)
    exit_text = a.get("exit_status")
    exit_status = int(exit_text) if exit_text and re.fullmatch(r"-?\d+", exit_text) else None
    start = when("start_time")
    code = a.get("job_state", "")
    is_array = job_id.endswith("[]")
    state, reason = torque_state(code, exit_status, start is not None, is_array)
    nodes_spec = a.get("Resource_List.nodes", "")
    node_count = int_or_none(a.get("Resource_List.nodect")) or int_or_none(
        nodes_spec.split(":", 1)[0]
    )
    ppn = re.search(r"ppn=(\d+)", nodes_spec)
    gpus = re.search(r"gpus=(\d+)", nodes_spec)
    cpus = (
        int(ppn.group(1)) * (node_count or 1) if ppn else int_or_none(a.get("Resource_List.ncpus"))
    )
    walltime = a.get("Resource_List.walltime")
    array_task = a.get("job_array_id") or a.get("job_array_request")
    hosts = list(dict.fromkeys(h.split("/")[0] for h in a.get("exec_host", "").split("+") if h))
    finished = state.finished
    ended = finished and exit_status is not None
    owner = a.get("euser") or a.get("Job_Owner", "").split("@", 1)[0] or None
    return JobInfo(
        id=job_id,
        name=a.get("Job_Name", ""),
        state=state,
        raw_state=code,
        reason=reason,
        user=owner,
        partition=a.get("queue") or None,
        nodes=",".join(hosts) or None,
        node_count=node_count,
        cpus=cpus,
        memory=a.get("Resource_List.mem") or None,
        submit_time=when("qtime") or when("ctime"),
        start_time=start,
        end_time=when("comp_time") if finished else None,
        time_limit=_walltime(walltime),
        exit_code=exit_status if ended and 0 <= exit_status < 256 else None,
        signal=exit_status - 256 if ended and exit_status >= 256 else None,
        gres=f"gpus={gpus.group(1)}" if gpus else None,
        gpus=int(gpus.group(1)) * (node_count or 1) if gpus else 0,
        array_job_id=job_id.split("[", 1)[0] if "[" in job_id else None,
        array_task_id=array_task,
        dependency=a.get("depend") or None,
        stdout_path=_output_path(a.get("Output_Path"), full_id, a.get("Job_Name", "")),
        stderr_path=_output_path(a.get("Error_Path"), full_id, a.get("Job_Name", "")),
        working_dir=a.get("init_work_dir") or None,
    )


@dataclass(frozen=True)
class TorqueNode:
    name: str
    state: str
    np: int
    gpus: int
    properties: tuple[str, ...]
    memory_mb: int | None
    jobs: int
    cores_busy: int = 0
    """Cores its jobs hold: pbsnodes lists '<core>/<job>' per core, Torque 5+ '<a>-<b>/<job>'."""


def parse_pbsnodes_xml_nodes(text: str) -> list[TorqueNode]:
    """`pbsnodes -x`, one TorqueNode per <Node>; none for an empty answer. Raises ValueError when
    it is not pbsnodes' XML (its root is <Data>)."""
    if not text.strip():
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ValueError(f"pbsnodes -x did not answer XML: {e}") from e
    if root.tag != "Data":
        raise ValueError(f"pbsnodes -x answered <{root.tag}>, expected <Data>")
    nodes = []
    for node in root.iter("Node"):
        nodes.append(
            _node(
                {child.tag: (child.text or "").strip() for child in node},
                node.findtext("name", "").strip(),
            )
        )
    return nodes


def parse_pbsnodes_text(text: str) -> list[TorqueNode]:
    """Plain `pbsnodes`: a node name on its own line, then indented 'key = value' lines."""
    nodes = []
    name: str | None = None
    attrs: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if line and not line[0].isspace():
            name, attrs = line.strip(), {}
        elif line.strip() and name is not None:
            key, _, value = line.strip().partition(" = ")
            attrs[key] = value
        elif not line.strip() and name is not None:
            nodes.append(_node(attrs, name))
            name = None
    return nodes


def _node(attrs: Mapping[str, str], name: str) -> TorqueNode:
    status = dict(item.split("=", 1) for item in attrs.get("status", "").split(",") if "=" in item)
    jobs = attrs.get("jobs", "")
    return TorqueNode(
        name=name,
        state=torque_node_state(attrs.get("state", "")),
        np=int_or_none(attrs.get("np")) or 0,
        gpus=int_or_none(attrs.get("gpus")) or 0,
        properties=tuple(p for p in attrs.get("properties", "").split(",") if p),
        memory_mb=_kb_to_mb(status.get("physmem")),
        jobs=len({j.split("/")[-1].strip() for j in jobs.split(",") if j.strip()}),
        cores_busy=sum(_core_count(j.split("/")[0]) for j in jobs.split(",") if "/" in j),
    )


def _core_count(cores: str) -> int:
    """'3' -> 1, '18-26' -> 9; 1 for what is neither (the job holds a core all the same)."""
    first, _, last = cores.strip().partition("-")
    if first.isdigit() and last.isdigit() and int(last) >= int(first):
        return int(last) - int(first) + 1
    return 1


def parse_qstat_queues(text: str, nodes: Sequence[TorqueNode] = ()) -> list[Partition]:
    """`qstat -Qf`: execution queues with their limits; the node counts, cores and GPUs are the
    cluster's (Torque queues share its nodes unless a site restricts them)."""
    up = [n for n in nodes if n.state not in ("down", "offline", "unknown")]
    max_np = max((n.np for n in nodes), default=0)
    max_mem = max((n.memory_mb or 0 for n in nodes), default=0)
    queues = []
    for name, a in parse_qstat_f_blocks(text, "Queue"):
        mems = [m for m in (_queue_memory(a.get("resources_max.mem")), max_mem) if m]
        if a.get("queue_type", "Execution").lower().startswith("route"):
            continue
        queues.append(
            Partition(
                name=name,
                available=a.get("enabled") == "True" and a.get("started") == "True",
                max_time=_walltime(a.get("resources_max.walltime")),
                default_time=_walltime(a.get("resources_default.walltime")),
                max_nodes=int_or_none(
                    a.get("resources_max.nodect") or a.get("resources_max.nodes")
                ),
                nodes=len(up),
                cpus=sum(n.np for n in up),
                max_cpus_per_node=int_or_none(a.get("resources_max.ncpus")) or max_np or None,
                max_memory=min(mems) if mems else None,
                gpus=sum(n.gpus for n in up),
            )
        )
    return queues


def _output_path(value: str | None, full_id: str, name: str) -> str | None:
    """'host:/path/x.o$PBS_JOBID' -> '/path/x.o<full id>' (Torque copies the file there)."""
    if not value:
        return None
    path = value.split(":", 1)[1] if ":" in value and not value.startswith("/") else value
    return path.replace("$PBS_JOBID", full_id).replace("$PBS_JOBNAME", name)


def _walltime(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_walltime(text) if text.count(":") <= 2 else _long_walltime(text)
    except ValueError:
        return None


def _long_walltime(text: str) -> int:
    """'00:01:00:00' (days:hours:minutes:seconds, as qsub accepts it)."""
    d, h, m, s = (int(x) for x in text.split(":"))
    return ((d * 24 + h) * 60 + m) * 60 + s


def _queue_memory(text: str | None) -> int | None:
    """MB from Torque's sizes: '37888mb', '4gb', '472772kb'."""
    if not text:
        return None
    try:
        return parse_memory_mb(re.sub(r"(?i)([kmgt])b$", lambda m: m.group(1).upper(), text))
    except ValueError:
        return None


def _kb_to_mb(text: str | None) -> int | None:
    if not text or not text.endswith("kb") or not text[:-2].isdigit():
        return None
    return int(text[:-2]) // 1024


def _epoch(text: str | None) -> float | None:
    return float(text) if text and text.isdigit() and int(text) > 0 else None


def _qstat_date(text: str | None) -> float | None:
    """qstat -f prints local times: 'Fri Jun 23 06:35:59 2017', 'Sat Jun  3 06:35:59 2017'."""
    if not text:
        return None
    try:
        return datetime.strptime(" ".join(text.split()), _QSTAT_DATE).timestamp()
    except ValueError:
        return None
