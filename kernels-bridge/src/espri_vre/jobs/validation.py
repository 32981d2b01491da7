"""Checks of a job before anything runs: every value that reaches a command line, a `#SBATCH` or
`#PBS` line or the batch script is checked here, and refused with a sentence that says which
field is wrong and what is allowed.

Commands are argv lists and the script quotes what it writes, so these checks are a second wall:
a value that would mean something to a shell (`;`, `$(...)`, backticks, a newline that starts a
new directive) is refused outright rather than escaped. Paths must lie inside the user's roots
once symbolic links are resolved."""

from __future__ import annotations

import json
import keyword
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .types import (
    JobKind,
    JobMail,
    JobSpec,
    JobValidationError,
    MailWhen,
    Partition,
    ResourceLimits,
)

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Partition, queue ('batch@server' on Torque), account, GPU type, kernel, conda env name.
WORD_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,63}")
ENV_PREFIX_RE = re.compile(r"/[A-Za-z0-9_./+-]{1,1023}")
ARRAY_RE = re.compile(r"\d+(-\d+(:\d+)?)?(,\d+(-\d+(:\d+)?)?)*(%\d+)?")
# Slurm '123', '123_4'; Torque '123.server', '123[].server', '123[4]'.
JOB_ID_RE = re.compile(r"\d+(_\d+|\[\d*\])?(\.[A-Za-z0-9.-]+)?")
MEMORY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(I?B)?", re.IGNORECASE)
WALLTIME_RE = re.compile(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?")
# A plain mailbox: local part and domain of letters, digits and a few marks. Written here rather
# than read with email.headerregistry, which also takes quoted local parts, comments and
# several addresses: the address goes onto sbatch's and qsub's command lines and into
# #SBATCH/#PBS lines, so only what needs no quoting anywhere is taken.
MAIL_RE = re.compile(
    r"[A-Za-z0-9_+][A-Za-z0-9._+-]{0,63}"  # local part, never starting with '-' or '.'
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
MAIL_MAX = 254
"""The longest address SMTP carries (RFC 5321's path limit less its brackets)."""

# Characters that mean something to a shell or to Slurm's file name patterns. Refused in every
# path: a user's file name never needs them, and a refusal is clearer than an escape.
_SHELL_CHARS = set("$`;&|<>\\\"'!*?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_ARRAY_TASKS = 10_001
SUFFIXES = {JobKind.NOTEBOOK: (".ipynb",), JobKind.PYTHON: (".py",)}


@dataclass(frozen=True)
class CheckedSpec:
    """A spec that passed `validate_spec`, with its paths resolved and its sizes in numbers."""

    spec: JobSpec
    name: str
    path: Path
    working_dir: Path
    nodes: int
    tasks: int
    cpus: int
    gpus: int
    memory_mb: int | None
    walltime: int | None
    """Seconds."""

    @property
    def cores(self) -> int:
        return self.tasks * self.cpus


def spec_from_dict(data: Mapping[str, Any]) -> JobSpec:
    """A JobSpec from the submission form's JSON, with the types checked (the values are checked
    by validate_spec)."""
    if not isinstance(data, Mapping):
        raise JobValidationError("a job must be an object")
    problems: list[tuple[str, str]] = []
    known = set(JobSpec.__dataclass_fields__)
    for key in data:
        if key not in known:
            problems.append((str(key), f"unknown field {str(key)!r}"))
    kind = data.get("kind")
    if kind not in {k.value for k in JobKind}:
        problems.append(("kind", f"kind must be script, python or notebook, not {kind!r}"))
    values: dict[str, Any] = {}
    for key in ("path", "name", "cluster", "partition", "memory", "walltime", "gpu_type"):
        values[key] = _optional_str(data, key, problems)
    for key in ("account", "array", "kernel", "conda_env", "working_dir"):
        values[key] = _optional_str(data, key, problems)
    for key in ("nodes", "tasks", "cpus", "gpus"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append((key, f"{key} must be a whole number"))
        values[key] = value
    for key in ("afterok", "arguments"):
        value = data.get(key, [])
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            problems.append((key, f"{key} must be a list of strings"))
            value = []
        values[key] = tuple(value)
    parameters = data.get("parameters", {})
    if not isinstance(parameters, Mapping):
        problems.append(("parameters", "parameters must be an object of names and values"))
        parameters = {}
    hold = data.get("hold", False)
    if not isinstance(hold, bool):
        problems.append(("hold", "hold must be true or false"))
    mail = _mail_from_dict(data.get("mail"), problems)
    if not values["path"]:
        problems.append(("path", "the job needs the path of its script, Python file or notebook"))
    if problems:
        raise JobValidationError(problems)
    if values["cluster"] is None:
        del values["cluster"]
    return JobSpec(kind=JobKind(kind), parameters=dict(parameters), hold=hold, mail=mail, **values)


def _mail_from_dict(value: Any, problems: list[tuple[str, str]]) -> JobMail | None:
    """The `mail` field: null, or {"address": ..., "when": "end" | "fail" | "all"}."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.append(("mail", "mail must be an object with an address and when to send"))
        return None
    extra = sorted(str(k) for k in value if k not in ("address", "when"))
    if extra:
        problems.append(("mail", f"unknown field mail.{extra[0]}"))
    address = value.get("address")
    if not isinstance(address, str):
        problems.append(("mail.address", "mail.address must be a string"))
    when = value.get("when", MailWhen.END.value)
    if when not in {w.value for w in MailWhen}:
        problems.append(("mail.when", f"mail.when must be end, fail or all, not {when!r}"))
    if extra or not isinstance(address, str) or when not in {w.value for w in MailWhen}:
        return None
    return JobMail(address=address, when=MailWhen(when))


def validate_spec(
    spec: JobSpec, roots: Sequence[str | os.PathLike[str]], *, mail_refusal: str | None = None
) -> CheckedSpec:
    """Checks every field; raises JobValidationError listing all the wrong ones. `mail_refusal`
    says why the cluster sends no e-mail (the local back end, `mail = false` in its
    configuration, a Slurm without MailProg): a job asking for it is refused rather than left
    to wait for a mail that never comes."""
    problems: list[tuple[str, str]] = []

    def check(field: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except JobValidationError as e:
            problems.extend((field, m) for _, m in e.problems)
            return None

    path = check("path", resolve_user_path, spec.path, roots, "file")
    if path is not None and spec.kind in SUFFIXES and path.suffix not in SUFFIXES[spec.kind]:
        problems.append(
            ("path", f"a {spec.kind.value} job runs a {SUFFIXES[spec.kind][0]} file, not {path}")
        )
    if spec.name is not None:
        name = check("name", check_name, spec.name)
    else:
        name = default_name(spec.path)
    working_dir = None
    if spec.working_dir is not None:
        working_dir = check("working_dir", resolve_user_path, spec.working_dir, roots, "dir")
    elif path is not None:
        working_dir = path.parent
    if working_dir is not None:
        check("working_dir", check_directive_path, "working_dir", str(working_dir))
    for field in ("partition", "account", "gpu_type", "kernel"):
        value = getattr(spec, field)
        if value is not None:
            check(field, check_word, field, value)
    if spec.conda_env is not None:
        check("conda_env", check_conda_env, spec.conda_env)
    if spec.array is not None:
        check("array", check_array, spec.array)
        if spec.kind is JobKind.NOTEBOOK:
            problems.append(("array", "a notebook job cannot be an array: give parameters"))
    for dep in spec.afterok:
        check("afterok", check_job_id, dep)
    check("parameters", check_parameters, spec.parameters)
    if spec.mail is not None:
        check("mail.address", check_mail_address, spec.mail.address)
        if mail_refusal is not None:
            problems.append(("mail", f"this cluster sends no e-mail: {mail_refusal}"))
    if spec.parameters and spec.kind is not JobKind.NOTEBOOK:
        problems.append(("parameters", "parameters are for notebook jobs; give arguments"))
    if spec.arguments and spec.kind is JobKind.NOTEBOOK:
        # papermill would take them as its own options (--cwd, -f): a notebook's inputs are
        # its parameters.
        sentence = "arguments are for scripts and Python files; give parameters"
        problems.append(("arguments", sentence))
    for arg in spec.arguments:
        if _CONTROL.search(arg):
            problems.append(("arguments", f"the argument {arg!r} holds a control character"))
    counts = {}
    for field, low in (("nodes", 1), ("tasks", 1), ("cpus", 1), ("gpus", 0)):
        value = getattr(spec, field)
        if value is not None and value < low:
            problems.append((field, f"{field} must be at least {low}, not {value}"))
        counts[field] = value if value is not None else (low or 0)
    memory = check("memory", parse_memory_mb, spec.memory) if spec.memory is not None else None
    walltime = (
        check("walltime", parse_walltime, spec.walltime) if spec.walltime is not None else None
    )
    if problems:
        raise JobValidationError(problems)
    assert path is not None and working_dir is not None and name is not None
    return CheckedSpec(
        spec=spec,
        name=name,
        path=path,
        working_dir=working_dir,
        nodes=counts["nodes"],
        tasks=counts["tasks"],
        cpus=counts["cpus"],
        gpus=counts["gpus"],
        memory_mb=memory,
        walltime=walltime,
    )


def check_resources(
    checked: CheckedSpec,
    limits: ResourceLimits,
    partitions: Sequence[Partition] | None = None,
) -> Partition | None:
    """Checks the request against the cluster's configured limits and, when the scheduler's
    partitions are known, against the chosen one (the default when none is chosen). Returns that
    partition. Raises JobValidationError naming each limit passed."""
    spec = checked.spec
    problems: list[tuple[str, str]] = []
    partition: Partition | None = None
    if partitions:
        if spec.partition is None:
            partition = next((p for p in partitions if p.default), None)
        else:
            partition = next((p for p in partitions if p.name == spec.partition), None)
            if partition is None:
                names = ", ".join(p.name for p in partitions)
                problems.append(
                    ("partition", f"there is no partition {spec.partition!r} (there is {names})")
                )
    if limits.partitions is not None:
        chosen = spec.partition or (partition.name if partition else None)
        if chosen is not None and chosen not in limits.partitions:
            allowed = ", ".join(limits.partitions) or "none"
            problems.append(("partition", f"partition {chosen!r} is not offered here ({allowed})"))
    where = f"on partition {partition.name}" if partition else "on this cluster"
    if partition is not None and not partition.available:
        problems.append(("partition", f"partition {partition.name} is not accepting jobs"))

    def at_most(field: str, asked: float | None, limit: float | None, what: str, shown=str):
        if asked is not None and limit is not None and asked > limit:
            message = f"{what} {shown(asked)} is more than the {shown(limit)} allowed {where}"
            problems.append((field, message))

    at_most("nodes", checked.nodes, limits.nodes, "nodes", str)
    at_most("tasks", checked.tasks, limits.tasks, "tasks", str)
    at_most("cpus", checked.cores, limits.cpus, "cores", str)
    at_most("gpus", checked.gpus * checked.nodes, limits.gpus, "GPUs", str)
    if limits.memory is not None:
        at_most("memory", checked.memory_mb, parse_memory_mb(limits.memory), "memory", _mb)
    if limits.walltime is not None:
        at_most("walltime", checked.walltime, parse_walltime(limits.walltime), "walltime", _hms)
    if partition is not None:
        at_most("nodes", checked.nodes, partition.max_nodes, "nodes", str)
        at_most("nodes", checked.nodes, partition.nodes or None, "nodes", str)
        at_most("cpus", checked.cpus, partition.max_cpus_per_node, "cores per task", str)
        at_most("cpus", checked.cores, partition.cpus or None, "cores", str)
        at_most("memory", checked.memory_mb, partition.max_memory, "memory per node", _mb)
        at_most("walltime", checked.walltime, partition.max_time, "walltime", _hms)
        if checked.gpus and not partition.gpus:
            problems.append(("gpus", f"partition {partition.name} has no GPUs"))
        else:
            at_most("gpus", checked.gpus * checked.nodes, partition.gpus or None, "GPUs", str)
    if problems:
        raise JobValidationError(problems)
    return partition


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise JobValidationError(
            f"the job name {name!r} may hold only letters, digits, '.', '_' and '-' "
            "(at most 64, starting with a letter or a digit)",
            "name",
        )
    return name


def default_name(path: str) -> str:
    """The file's name without its suffix, with the characters a job name cannot hold replaced:
    'My analysis.ipynb' -> 'My_analysis'."""
    stem = Path(path).stem
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:64]
    return name or "job"


NAME_MAX = 255
"""The longest file name (bytes) of the file systems here (Linux's NAME_MAX)."""


def resolve_user_path(path: str, roots: Sequence[str | os.PathLike[str]], kind: str) -> Path:
    """The real path of a file ('file') or directory ('dir') given absolute or relative to the
    first root. Refuses control characters, shell metacharacters, '..' and any path whose real
    location (symbolic links resolved) is outside every root."""
    if not roots:
        raise JobValidationError("no root directory is configured for job files", "path")
    if not path:
        raise JobValidationError("the path is empty", "path")
    if _CONTROL.search(path):
        raise JobValidationError(f"the path {path!r} holds a control character", "path")
    bad = sorted(set(path) & _SHELL_CHARS)
    if bad:
        raise JobValidationError(
            f"the path {path!r} holds {' '.join(bad)}, which job paths may not contain", "path"
        )
    if ".." in Path(path).parts:
        raise JobValidationError(
            f"the path {path!r} goes up with '..': give it from your root folder", "path"
        )
    # A name longer than the file system takes makes stat() raise ENAMETOOLONG, not "no file".
    if any(len(os.fsencode(part)) > NAME_MAX for part in Path(path).parts):
        raise JobValidationError(
            f"a name in the path {path[:80]!r}... is longer than {NAME_MAX} bytes", "path"
        )
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    candidate = Path(path) if os.path.isabs(path) else real_roots[0] / path
    real = Path(os.path.realpath(candidate))
    if not any(real == r or r in real.parents for r in real_roots):
        shown = ", ".join(str(r) for r in real_roots)
        via = " (through a symbolic link)" if real != Path(os.path.abspath(candidate)) else ""
        raise JobValidationError(
            f"the path {path!r} leads outside your files{via}: it must be inside {shown}", "path"
        )
    if kind == "file" and not real.is_file():
        raise JobValidationError(f"there is no file {path!r}", "path")
    if kind == "dir" and not real.is_dir():
        raise JobValidationError(f"there is no directory {path!r}", "path")
    return real


def check_directive_path(field: str, path: str) -> str:
    """A path written into #SBATCH/#PBS lines and log file patterns: no blanks, no '%'."""
    if any(c.isspace() for c in path) or "%" in path:
        raise JobValidationError(
            f"the {field.replace('_', ' ')} {path!r} holds a blank or '%', which batch "
            "directives cannot carry: choose another directory",
            field,
        )
    return path


def check_word(field: str, value: str) -> str:
    if not WORD_RE.fullmatch(value):
        raise JobValidationError(
            f"the {field.replace('_', ' ')} {value!r} may hold only letters, digits and "
            "'_', '.', '+', '@', '-'",
            field,
        )
    return value


def check_mail_address(value: str) -> str:
    """One plain e-mail address (`name@example.org`). Refused, with what is wrong: several
    addresses, blanks and line breaks (a header or directive injected), a leading '-' (an
    option), quotes and shell characters."""
    field = "mail.address"
    if not value:
        raise JobValidationError("give the e-mail address to write to", field)
    if _CONTROL.search(value):
        raise JobValidationError(
            f"the e-mail address {value!r} holds a line break or a control character", field
        )
    if any(c.isspace() for c in value):
        raise JobValidationError(
            f"the e-mail address {value!r} holds a blank: give one address", field
        )
    if "," in value or value.count("@") > 1:
        raise JobValidationError(f"give one e-mail address, not several ({value!r})", field)
    if value.startswith("-"):
        raise JobValidationError(
            f"the e-mail address {value!r} starts with '-' and would be read as an option",
            field,
        )
    bad = sorted(set(value) & (_SHELL_CHARS | set("()[]{}%#~^=/:")))
    if bad:
        raise JobValidationError(
            f"the e-mail address {value!r} holds {' '.join(bad)}, which addresses here may "
            "not contain",
            field,
        )
    if len(value) > MAIL_MAX or not MAIL_RE.fullmatch(value):
        raise JobValidationError(
            f"{value[:80]!r} is not an e-mail address such as name@example.org", field
        )
    return value


def check_conda_env(value: str) -> str:
    if WORD_RE.fullmatch(value):
        return value
    if ENV_PREFIX_RE.fullmatch(value) and ".." not in Path(value).parts:
        return value
    raise JobValidationError(
        f"the conda environment {value!r} must be a name (letters, digits, '_', '.', '-') or an "
        "absolute path",
        "conda_env",
    )


def check_array(value: str) -> int:
    """Returns the number of tasks of an array spec: '0-9' -> 10, '1,3,5-7%2' -> 5."""
    if not ARRAY_RE.fullmatch(value):
        raise JobValidationError(
            f"the array {value!r} must list indices like 0-9, 1,3,5 or 0-99%10", "array"
        )
    count = 0
    for part in value.split("%")[0].split(","):
        bounds, _, step = part.partition(":")
        low, _, high = bounds.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise JobValidationError(f"the array range {bounds!r} runs backwards", "array")
        count += (last - first) // int(step or 1) + 1
    if count > MAX_ARRAY_TASKS:
        raise JobValidationError(
            f"the array {value!r} has {count} tasks, more than {MAX_ARRAY_TASKS}", "array"
        )
    return count


def check_job_id(value: str, field: str = "afterok") -> str:
    """A Slurm or Torque job id. Every id given to a command goes through here: an id such as
    '--uid=0' would otherwise be read as an option."""
    if not isinstance(value, str) or not JOB_ID_RE.fullmatch(value):
        raise JobValidationError(f"{value!r} is not a job id", field)
    return value


def check_parameters(parameters: Mapping[str, Any]) -> None:
    """Notebook parameters: Python identifiers mapped to JSON values (numbers, strings, booleans,
    null, lists and objects of them), at most 64 KiB in all."""
    problems: list[tuple[str, str]] = []
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            problems.append(
                ("parameters", f"the parameter name {name!r} is not a Python variable name")
            )
            continue
        why = _json_problem(value, 0)
        if why:
            problems.append(("parameters", f"the parameter {name}: {why}"))
    if not problems:
        size = len(json.dumps(dict(parameters), ensure_ascii=False).encode())
        if size > MAX_PARAMETERS_BYTES:
            problems.append(
                (
                    "parameters",
                    f"the parameters take {size} bytes, more than {MAX_PARAMETERS_BYTES}",
                )
            )
    if problems:
        raise JobValidationError(problems)


def _json_problem(value: Any, depth: int) -> str | None:
    if depth > 8:
        return "nested too deep"
    if value is None or isinstance(value, bool | int | str):
        return "it holds a NUL character" if isinstance(value, str) and "\0" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else "NaN and infinities are not allowed"
    if isinstance(value, list | tuple):
        return next((w for v in value if (w := _json_problem(v, depth + 1))), None)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            return "object keys must be strings"
        return next((w for v in value.values() if (w := _json_problem(v, depth + 1))), None)
    return f"a {type(value).__name__} is not a JSON value"


def parse_memory_mb(text: str | int) -> int:
    """'4G' -> 4096, '512M' -> 512, '1.5GB' -> 1536, '2048' -> 2048 (MB), '1T' -> 1048576."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 1:
            raise JobValidationError(f"memory must be at least 1 MB, not {text}", "memory")
        return text
    m = MEMORY_RE.fullmatch(str(text).strip())
    if not m:
        raise JobValidationError(
            f"memory {text!r} must be a size such as 4G, 512M or 2048 (MB)", "memory"
        )
    scale = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[m.group(2).upper()]
    mb = math.ceil(float(m.group(1)) * scale)
    if mb < 1:
        raise JobValidationError(f"memory {text!r} is less than 1 MB", "memory")
    return mb


def parse_walltime(text: str | int) -> int:
    """Seconds from Slurm's and Torque's forms: '90' (minutes), '01:30:00', '1-12:00:00',
    '2-00' (days-hours), '48:00:00'."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    raw = str(text).strip()
    m = WALLTIME_RE.fullmatch(raw)
    if not m or raw.count(":") > 2:
        raise JobValidationError(
            f"walltime {text!r} must be HH:MM:SS, D-HH:MM:SS or a number of minutes", "walltime"
        )
    days, first, second, third = m.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        seconds = int(days) * 86400 + int(first) * 3600 + int(second or 0) * 60 + int(third or 0)
    elif second is None:  # minutes
        seconds = int(first) * 60
    elif third is None:  # MM:SS, as Slurm reads it
        seconds = int(first) * 60 + int(second)
    else:
        seconds = int(first) * 3600 + int(second) * 60 + int(third)
    if seconds < 1:
        raise JobValidationError(f"walltime {text!r} is zero", "walltime")
    return seconds


def format_walltime(seconds: int) -> str:
    """'HH:MM:SS' with hours past 24 (both Slurm and Torque read it): 90000 -> '25:00:00'."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _hms(seconds: float) -> str:
    return format_walltime(int(seconds))


def _mb(mb: float) -> str:
    return f"{mb / 1024:g} GB" if mb >= 1024 else f"{mb:g} MB"


def _optional_str(data: Mapping[str, Any], key: str, problems: list[tuple[str, str]]) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        problems.append((key, f"{key} must be a string"))
        return None
    return value if value != "" else None
