"""The event kinds of a provenance log, and the constructors that gather what they hold.

Each class is the payload of one kind in schema/events.schema.json; the store adds the envelope
(seq, prev, time, run, kind). `validation_errors` checks a whole line against the schema."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import Distribution, PackageNotFoundError, distributions, version
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from ..version import __version__
from .batch_script import batch_script
from .hashing import Digest, sha256_text
from .identifiers import DatasetIdentifiers

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

SCHEMA_VERSION = 1

FsyncPolicy = Literal["event", "cell", "none"]
FileOp = Literal["read", "write", "update"]
CellStatus = Literal["ok", "error", "interrupted"]
JobKind = Literal["script", "python", "notebook"]
ControlAction = Literal["pause", "resume", "end"]

ENV_ALLOW = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "HDF5_USE_FILE_LOCKING",
    "CONDA_DEFAULT_ENV",
    "CONDA_PREFIX",
    "VIRTUAL_ENV",
    "JUPYTER_IMAGE",
    "JUPYTER_IMAGE_SPEC",
    "SLURM_JOB_ID",
    "SLURM_CLUSTER_NAME",
    "SLURM_JOB_NAME",
    "SLURM_JOB_PARTITION",
    "SLURMD_NODENAME",
    "SLURM_JOB_NODELIST",
    "SLURM_CPUS_ON_NODE",
    "SLURM_MEM_PER_NODE",
    "SLURM_SUBMIT_DIR",
    "PBS_JOBID",
    "PBS_JOBNAME",
    "PBS_QUEUE",
    "PBS_O_WORKDIR",
)
"""Environment variables that change results or locate the run, and hold no secret. Anything
else (tokens, passwords, user names) never reaches the log; add names with
ESPRI_VRE_PROVENANCE_ENV."""

ERROR_MESSAGE_LIMIT = 2000


class Event(Protocol):
    """The payload of one kind of event. Payloads of the frequent kinds are shallow copies
    (`vars`) rather than `asdict`, whose deep copies cost a third of a cell's recording."""

    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]: ...


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@dataclass(frozen=True)
class Session:
    kind: ClassVar[str] = "session"
    notebook: str | None
    cwd: str
    hostname: str
    python: dict[str, str]
    platform: dict[str, str]
    kernel: dict[str, str | None]
    espri_vre: str
    packages: list[dict[str, str]]
    conda: dict[str, Any] | None
    env: dict[str, str]
    capture: dict[str, Any]
    schema_version: int = SCHEMA_VERSION
    job_script: dict[str, Any] | None = None
    """The batch script of the Slurm job the kernel runs in (batch_script.py)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    kind: ClassVar[str] = "source"
    sha256: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "text": self.text}


@dataclass(frozen=True)
class CellStart:
    kind: ClassVar[str] = "cell_start"
    order: int
    cell_id: str | None
    source_sha256: str
    start: str

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class CellError:
    name: str
    message: str


@dataclass(frozen=True)
class CellEnd:
    kind: ClassVar[str] = "cell_end"
    order: int
    cell_id: str | None
    execution_count: int | None
    source_sha256: str
    start: str
    end: str
    status: CellStatus
    error: CellError | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["error"] = dict(vars(self.error)) if self.error is not None else None
        return data


@dataclass(frozen=True)
class FileAccess:
    kind: ClassVar[str] = "file"
    cell: int | None
    op: FileOp
    opener: str
    path: str | None
    url: str | None
    size: int | None = None
    mtime: str | None = None
    sha256: str | None = None
    manifest: dict[str, Any] | None = None
    tree: dict[str, Any] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @property
    def content_hash(self) -> str | None:
        for form in (self.manifest, self.tree):
            if form is not None:
                return str(form["sha256"])
        return self.sha256


@dataclass(frozen=True)
class DatasetSeen:
    kind: ClassVar[str] = "dataset"
    cell: int | None
    path: str | None
    url: str | None
    sha256: str | None
    identifiers: DatasetIdentifiers
    origin: Literal["attributes", "catalogue"] = "attributes"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "cell": self.cell,
            "path": self.path,
            "url": self.url,
            "sha256": self.sha256,
            "origin": self.origin,
        }
        data.update(asdict(self.identifiers))
        return data


@dataclass(frozen=True)
class JobSubmitted:
    kind: ClassVar[str] = "job"
    cell: int | None
    job_id: str
    cluster: str
    name: str | None
    job_kind: JobKind
    path: str
    resources: dict[str, Any]
    provenance: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Control:
    kind: ClassVar[str] = "control"
    action: ControlAction
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "reason": self.reason}


def _version_or_none(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _name_and_version(dist: Distribution) -> tuple[str | None, str | None]:
    """Name and Version from the metadata's headers alone.

    Written by hand because `dist.metadata` hands the whole file (long description included)
    to the email parser, and `dist.version` parses it again: for the ~570 distributions of a
    suite kernel that took 1.6 s of the kernel's start, where reading the headers takes tens
    of milliseconds. Core metadata writes both fields on one line each, before the first blank
    line; anything unusual falls back to importlib's parser."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if text is None:
        return None, None
    name = version = None
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
        if name and version:
            return name, version
    return dist.metadata["Name"], dist.version


def package_lock() -> list[dict[str, str]]:
    """Every distribution importable in this interpreter, first one on sys.path winning."""
    found: dict[str, dict[str, str]] = {}
    for dist in distributions():
        name, dist_version = _name_and_version(dist)
        if not name:
            continue
        key = name.lower().replace("_", "-").replace(".", "-")
        found.setdefault(key, {"name": name, "version": dist_version or ""})
    return [found[k] for k in sorted(found)]


def conda_lock(prefix: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The conda environment's own record of its packages (conda-meta/*.json), without
    running conda; None outside a conda environment."""
    meta = Path(prefix) / "conda-meta"
    if not meta.is_dir():
        return None
    packages = []
    for record in sorted(meta.glob("*.json")):
        try:
            data = json.loads(record.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "name" not in data:
            continue
        packages.append(
            {
                "name": str(data["name"]),
                "version": str(data.get("version", "")),
                "build": str(data.get("build", "")),
                "channel": str(data.get("channel", "")),
            }
        )
    return {"prefix": str(Path(prefix).resolve()), "packages": packages}


def allowed_env(names: Iterable[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in sorted(set(names)) if name in environ}


def kernel_id() -> str | None:
    """The Jupyter kernel id (from the connection file's name, `kernel-<id>.json`): how the
    front end tells which log belongs to the kernel of the notebook it shows."""
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # not in an ipykernel, or it has no connection file
        return None
    match = re.fullmatch(r"kernel-([A-Za-z0-9-]+)\.json", name)
    return match.group(1) if match else None


def session(
    notebook: str | os.PathLike[str] | None,
    *,
    env_allow: Iterable[str] = ENV_ALLOW,
    fsync: FsyncPolicy = "cell",
    manifest_above: int,
    chunk_size: int,
) -> Session:
    """The session record of the running interpreter."""
    return Session(
        notebook=os.fspath(notebook) if notebook is not None else None,
        cwd=os.getcwd(),
        hostname=socket.gethostname(),
        python={
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        platform={
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        kernel={
            "ipykernel": _version_or_none("ipykernel"),
            "ipython": _version_or_none("ipython"),
            "id": kernel_id(),
        },
        espri_vre=__version__,
        packages=package_lock(),
        conda=conda_lock(sys.prefix),
        env=allowed_env(env_allow),
        capture={"fsync": fsync, "manifest_above": manifest_above, "chunk_size": chunk_size},
        job_script=batch_script(os.environ),
    )


def source(text: str) -> Source:
    return Source(sha256=sha256_text(text), text=text)


def cell_error(error: BaseException | None) -> CellError | None:
    if error is None:
        return None
    return CellError(name=type(error).__name__, message=str(error)[:ERROR_MESSAGE_LIMIT])


def file_access(
    *,
    cell: int | None,
    op: FileOp,
    opener: str,
    path: str | None = None,
    url: str | None = None,
    digest: Digest | None = None,
    note: str | None = None,
) -> FileAccess:
    if (path is None) == (url is None):
        raise ValueError("a file access has a path or a URL, not both")
    if digest is None:
        return FileAccess(cell=cell, op=op, opener=opener, path=path, url=url, note=note)
    return FileAccess(
        cell=cell,
        op=op,
        opener=opener,
        path=path,
        url=url,
        size=digest.size,
        mtime=digest.mtime,
        sha256=digest.sha256,
        manifest=digest.manifest.to_dict() if digest.manifest else None,
        tree=digest.tree.to_dict() if digest.tree else None,
        note=note,
    )


RESOURCE_FIELDS = (
    "partition",
    "nodes",
    "tasks",
    "cpus",
    "memory",
    "walltime",
    "gpus",
    "gpu_type",
    "account",
    "array",
    "conda_env",
    "kernel",
)


def job_submitted(
    job_id: str,
    spec: Mapping[str, Any],
    *,
    cell: int | None = None,
    provenance: str | None = None,
) -> JobSubmitted:
    """From a job launcher's spec (espri_vre.jobs.types.JobSpec.to_dict())."""
    kind = str(spec.get("kind", "script"))
    if kind not in ("script", "python", "notebook"):
        raise ValueError(f"unknown job kind {kind!r}")
    return JobSubmitted(
        cell=cell,
        job_id=str(job_id),
        cluster=str(spec.get("cluster", "local")),
        name=spec.get("name"),
        job_kind=kind,  # type: ignore[arg-type]
        path=str(spec["path"]),
        resources={k: spec[k] for k in RESOURCE_FIELDS if spec.get(k) not in (None, "", ())},
        provenance=provenance,
    )


@cache
def event_schema() -> dict[str, Any]:
    text = files(__package__).joinpath("schema/events.schema.json").read_text("utf-8")
    return json.loads(text)


def validation_errors(event: Mapping[str, Any]) -> list[str]:
    """Every way a log line breaks events.schema.json, as 'path: message' (empty when valid).
    The kind picks the definition, so a bad cell event is not reported against all kinds."""
    name = _definitions_by_kind().get(str(event.get("kind")))
    if name is None:
        return [f"kind: unknown event kind {event.get('kind')!r}"]
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in _definition_validator(name).iter_errors(event)
    ]


@cache
def _definitions_by_kind() -> dict[str, str]:
    schema = event_schema()
    names = [branch["$ref"].rsplit("/", 1)[1] for branch in schema["oneOf"]]
    return {schema["definitions"][n]["properties"]["kind"]["const"]: n for n in names}


@cache
def _definition_validator(name: str) -> Draft7Validator:
    from jsonschema import Draft7Validator  # not imported by kernels that only record

    schema = event_schema()
    wrapper = {
        "$schema": schema["$schema"],
        "definitions": schema["definitions"],
        "allOf": [{"$ref": f"#/definitions/{name}"}],
    }
    return Draft7Validator(wrapper, format_checker=Draft7Validator.FORMAT_CHECKER)
