"""A recorded run (a notebook and one `<run>.jsonl` log) as a Workflow Run RO-Crate
following the Provenance Run Crate 0.5 profile, built with the `rocrate` library.

The mapping (the shape of the profile's example 3):
- the notebook is the workflow (File, SoftwareSourceCode, ComputationalWorkflow, HowTo);
- each notebook cell is a HowToStep whose workExample is a SoftwareApplication (one per cell
  and source text: an edited cell is another tool);
- each execution of a cell is a CreateAction (instrument the cell's tool; object the files it
  read; result the files it wrote; start, end, actionStatus) orchestrated by a ControlAction;
  the kernel is the engine: an OrganizeAction whose result is the run's CreateAction;
- files are File entities with sha256, size and the dataset identifiers: a DOI is the
  entity's `@id` (https://doi.org/...), a CMIP6 tracking_id and ESGF instance_id are
  PropertyValue identifiers. Small files (the `copy_limit`) whose content is still the
  recorded one are copied into `data/`; others are referenced by a file:// URI;
- the environment: Python and every package of the session's lock are SoftwareApplications,
  the engine's softwareRequirements, named by absolute URLs (python.org, PyPI);
- the log itself is in the crate (`provenance/<run>.jsonl`), `about` the run, with the hash
  of its last line kept when it was closed (`provenance/<run>.last-hash`);
- a Binder folder (`binder/`: runtime.txt, requirements.txt pinned from the lock, postBuild
  that replays the crate; binder.py), so that repo2docker builds an image that replays it;
- the person who ran it (JupyterHub's user, else the account of the process) is the agent of
  every action and the crate's author; every action is in the root's `mentions`.

The crate declares RO-Crate 1.1, whose context lacks `sha256` (a term of 1.2 and later): the
crate's own @context defines it with the IRI the 1.2 context gives it, as the Workflow Run
Crate examples do, so that it expands the same under any context version."""

from __future__ import annotations

import errno
import getpass
import hashlib
import json
import mimetypes
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import EspriVreError
from .binder import BINDER_DIR, binder_files
from .crate_job import job_entities, job_script_file
from .hashing import iso_mtime, sha256_text
from .layout import notebook_folders
from .store import kept_hash_path, read_log, verify

PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": "Process Run Crate",
    "https://w3id.org/ro/wfrun/workflow/0.5": "Workflow Run Crate",
    "https://w3id.org/ro/wfrun/provenance/0.5": "Provenance Run Crate",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": "Workflow RO-Crate",
}
RO_CRATE_1_1 = "https://w3id.org/ro/crate/1.1"
WORKFLOW_RO_CRATE = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
DEFAULT_COPY_LIMIT = 64 * 2**20
LOG_DIR = "provenance"
EXPORTED_BY = "recorded by espri-vre"
UNSPECIFIED_LICENSE = "unspecified: no licence was given when this crate was exported"
NOTEBOOK_TYPES = ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"]
SHA256_TERM = {"sha256": "http://schema.org/sha256"}
"""The IRI RO-Crate 1.2's context gives `sha256`, defined in the crate's own @context."""
BIOSCHEMAS_WORKFLOW = "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"


@dataclass
class Execution:
    """One cell execution as the log tells it."""

    order: int
    cell_id: str | None
    source_sha256: str
    start: str
    end: str | None = None
    status: str | None = None
    execution_count: int | None = None
    error: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RecordedRun:
    log: Path
    run_id: str
    session: dict[str, Any]
    sources: dict[str, str]
    executions: list[Execution]
    datasets: list[dict[str, Any]]
    problems: list[str]
    """What `verify` found wrong with the log (a broken chain): reported, not fatal."""

    def inputs(self) -> list[dict[str, Any]]:
        """Files read before this run wrote them: what must be there to replay it, once per
        (path or URL, hash)."""
        written: set[str] = set()
        seen: set[tuple[str, str | None]] = set()
        found = []
        for execution in self.executions:
            for event in execution.files:
                where = file_location(event)
                if event["op"] == "read" and where not in written:
                    key = (where, content_hash(event))
                    if key not in seen:
                        seen.add(key)
                        found.append(event)
                elif event["op"] in ("write", "update"):
                    written.add(where)
        return found

    def identifiers_for(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The identifiers seen for this file version: from its attributes and from the
        catalogue (a DOI, a citation), merged; the first value seen wins."""
        where, digest = file_location(event), content_hash(event)
        merged: dict[str, Any] = {}
        for dataset in self.datasets:
            if (dataset.get("path") or dataset.get("url")) == where and (
                dataset.get("sha256") in (None, digest)
            ):
                for key, value in dataset.items():
                    if value not in (None, "", {}) and key not in merged:
                        merged[key] = value
        return merged or None


def file_location(event: dict[str, Any]) -> str:
    return str(event.get("path") or event.get("url"))


def content_hash(event: dict[str, Any]) -> str | None:
    for form in ("manifest", "tree"):
        if event.get(form):
            return str(event[form]["sha256"])
    return event.get("sha256")


def load_run(log: str | os.PathLike[str]) -> RecordedRun:
    """Reads a log into executions (in recorded order) with the files each one touched."""
    path = Path(log)
    problems = verify(path).problems
    sources: dict[str, str] = {}
    executions: dict[int, Execution] = {}
    datasets: list[dict[str, Any]] = []
    session: dict[str, Any] = {}
    for event in read_log(path).events():
        kind = event.get("kind")
        if kind == "session" and not session:
            session = event
        elif kind == "source":
            sources[event["sha256"]] = event["text"]
        elif kind == "cell_start":
            executions[event["order"]] = Execution(
                event["order"], event.get("cell_id"), event["source_sha256"], event["start"]
            )
        elif kind == "cell_end":
            execution = executions.setdefault(
                event["order"],
                Execution(
                    event["order"], event.get("cell_id"), event["source_sha256"], event["start"]
                ),
            )
            execution.end = event.get("end")
            execution.status = event.get("status")
            execution.execution_count = event.get("execution_count")
            execution.error = event.get("error")
        elif kind == "file" and event.get("cell") in executions:
            executions[event["cell"]].files.append(event)
        elif kind == "dataset":
            datasets.append(event)
    return RecordedRun(
        log=path,
        run_id=path.name.removesuffix(".jsonl"),
        session=session,
        sources=sources,
        executions=[executions[k] for k in sorted(executions)],
        datasets=datasets,
        problems=problems,
    )


def latest_log(notebook: str | os.PathLike[str]) -> Path:
    """The newest run's log next to a notebook (run ids sort by start time), in its hidden
    folder or in one of the earlier layout (layout.py)."""
    nb = Path(notebook)
    folders = notebook_folders(nb)
    logs = sorted(
        (log for folder in folders for log in folder.glob("*.jsonl")), key=lambda log: log.name
    )
    if not logs:
        raise FileNotFoundError(f"no provenance log for {nb} in {folders[0]} or {folders[1]}")
    return logs[-1]


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _still_recorded(local: Path, event: dict[str, Any]) -> bool:
    """Whether a file still holds the content its event recorded: its size and modification
    time (to the microsecond) are the recorded ones, as the capture's own hash cache assumes,
    else its sha256 is the recorded one. Re-hashing every copied file took as long as copying
    it (1 GiB of inputs: 4 s of 8 s); `espri-vre verify` and the replay hash the copies in the
    crate, so a change that kept both the size and the time is caught there."""
    stat = local.stat()
    if stat.st_size == event.get("size") and iso_mtime(stat.st_mtime_ns) == event.get("mtime"):
        return True
    return _sha256_of(local) == event["sha256"]


def notebook_cells(notebook: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(notebook.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {c["id"]: c for c in data.get("cells", []) if isinstance(c, dict) and c.get("id")}


def match_cells(executions: list[Execution], cells: dict[str, dict[str, Any]]) -> set[int]:
    """Gives the executions recorded without a cell id (a notebook run by papermill or
    nbclient, which send none) the id of the notebook cell with their source: the k-th such
    execution of a source gets the k-th code cell holding it. Returns the orders matched."""
    holding: dict[str, list[str]] = {}
    for cell_id, cell in cells.items():
        if cell.get("cell_type") == "code":
            holding.setdefault(_source_sha256(cell), []).append(cell_id)
    taken: dict[str, int] = {}
    matched = set()
    for execution in executions:
        ids = holding.get(execution.source_sha256, [])
        index = taken.get(execution.source_sha256, 0)
        if execution.cell_id is None and index < len(ids):
            execution.cell_id = ids[index]
            matched.add(execution.order)
        taken[execution.source_sha256] = index + 1
    return matched


def _source_sha256(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return sha256_text("".join(source) if isinstance(source, list) else str(source))


def _ids(values: list[str]) -> list[dict[str, str]]:
    return [{"@id": v} for v in values]


def _refs(values: list[str]) -> dict[str, str] | list[dict[str, str]]:
    """One reference as a value, several as a list (RO-Crate 1.1 prefers no singleton lists)."""
    refs = _ids(values)
    return refs[0] if len(refs) == 1 else refs


def _crate_time(value: str) -> str:
    """An ISO 8601 time as the Process Run Crate profile checks it: milliseconds and an explicit
    offset (the log writes microseconds and `Z`)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds")


def _status(ok: bool) -> str:
    """A string, not a reference: the form of the profile's examples and of its check."""
    return COMPLETED if ok else FAILED


def current_user() -> str:
    """The user the server runs for: JupyterHub's name when it spawned the server, else the
    account of this process."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def _media_type(name: str) -> str | None:
    if name.endswith((".nc", ".nc4")):
        return "application/x-netcdf"
    return mimetypes.guess_type(name)[0]


class _CrateBuilder:
    def __init__(
        self, run: RecordedRun, notebook: Path, out: Path, copy_limit: int, license: str
    ) -> None:
        from rocrate.rocrate import ROCrate

        self.run = run
        self.notebook = notebook
        self.out = out
        self.copy_limit = copy_limit
        self.license = license
        self.crate = ROCrate(version="1.1")
        self.file_ids: dict[tuple[str, str | None], str] = {}
        self.used_ids: set[str] = set()

    def add(self, entity_id: str, properties: dict[str, Any]) -> str:
        from rocrate.model.contextentity import ContextEntity

        self.crate.add(ContextEntity(self.crate, entity_id, properties=properties))
        return entity_id

    def add_data(self, source: Path, dest: str, properties: dict[str, Any]) -> str:
        self.crate.add_file(source, dest_path=dest, properties=properties)
        self.used_ids.add(dest)
        return dest

    def add_remote(self, entity_id: str, properties: dict[str, Any]) -> str:
        """A data entity outside the crate, named by an absolute URI (listed in hasPart)."""
        self.crate.add_file(entity_id, fetch_remote=False, properties=properties)
        return entity_id

    def file_entity(self, event: dict[str, Any]) -> str:
        where, digest = file_location(event), content_hash(event)
        key = (where, digest)
        if key in self.file_ids:
            return self.file_ids[key]
        ids = self.run.identifiers_for(event) or {}
        props: dict[str, Any] = {"name": Path(where).name or where}
        if media := _media_type(where):
            props["encodingFormat"] = media
        if event.get("sha256"):
            props["sha256"] = event["sha256"]
        elif digest:
            props["description"] = (
                f"content hash {digest} ({'chunk manifest' if event.get('manifest') else 'tree'})"
            )
        if event.get("size") is not None:
            props["contentSize"] = str(event["size"])
        if event.get("mtime"):
            props["dateModified"] = event["mtime"]
        identifiers = [
            self.add(
                f"#identifier/{name}/{value}",
                {"@type": "PropertyValue", "propertyID": name, "name": name, "value": value},
            )
            for name in ("tracking_id", "instance_id", "dataset_id", "pid")
            if (value := ids.get(name))
        ]
        if identifiers:
            props["identifier"] = _refs(identifiers)
        if ids.get("further_info_url"):
            props["url"] = ids["further_info_url"]
        if ids.get("citation"):
            props["citation"] = ids["citation"]
        if ids.get("version"):
            props["version"] = ids["version"]
        local = Path(event["path"]) if event.get("path") else None
        if local is not None:
            # the recorded path, where a replay elsewhere finds this file's copy by
            props["contentUrl"] = local.as_uri()
        copy = self._copy(local, event, props)
        if ids.get("doi"):
            entity_id = f"https://doi.org/{ids['doi']}"
            if copy is not None:
                self.crate.get(copy)["sameAs"] = {"@id": entity_id}
            entity_id = self.add_remote(self._unique(entity_id, digest), props)
        elif copy is not None:
            entity_id = copy
        else:
            base = local.resolve().as_uri() if local is not None else where
            entity_id = self.add_remote(self._unique(base, digest), props)
        self.file_ids[key] = entity_id
        return entity_id

    def _copy(self, local: Path | None, event: dict[str, Any], props: dict[str, Any]) -> str | None:
        """The file copied into `data/` when it is small and still holds the recorded content
        (a file named by a DOI too: the crate then replays without it)."""
        if (
            local is None
            or not local.is_file()
            or local.stat().st_size > self.copy_limit
            or not event.get("sha256")
            or not _still_recorded(local, event)
        ):
            return None
        dest = f"data/{event['sha256'][:8]}-{local.name}"
        return dest if dest in self.used_ids else self.add_data(local, dest, dict(props))

    def _unique(self, entity_id: str, digest: str | None) -> str:
        """A second version of one file gets its hash as a fragment."""
        if entity_id in self.used_ids:
            entity_id = f"{entity_id}#sha256={digest}"
        self.used_ids.add(entity_id)
        return entity_id

    def environment(self) -> tuple[str, str]:
        """The Python language, and the engine (ipykernel) with the packages it ran with."""
        session = self.run.session
        python = session.get("python") or {}
        py_version = python.get("version") or ""
        language = self.add(
            "#python",
            {
                "@type": "ComputerLanguage",
                "name": "Python",
                "alternateName": python.get("implementation") or "CPython",
                "version": py_version,
                "url": {"@id": "https://www.python.org/"},
            },
        )
        packages = [
            self.add(
                f"https://pypi.org/project/{p['name']}/{p['version']}/",
                {
                    "@type": "SoftwareApplication",
                    "name": p["name"],
                    "softwareVersion": p["version"],
                    "url": f"https://pypi.org/project/{p['name']}/",
                },
            )
            for p in session.get("packages") or []
        ]
        release = "".join(c for c in py_version if c.isdigit())
        interpreter = self.add(
            f"https://www.python.org/downloads/release/python-{release}/"
            if release
            else "https://www.python.org/",
            {
                "@type": "SoftwareApplication",
                "name": f"Python {py_version}",
                "softwareVersion": py_version,
                "url": "https://www.python.org/",
                "operatingSystem": (session.get("platform") or {}).get("platform"),
            },
        )
        kernel = session.get("kernel") or {}
        engine = self.add(
            "#engine",
            {
                "@type": "SoftwareApplication",
                "name": f"ipykernel {kernel.get('ipykernel') or ''} with espri-vre "
                f"{session.get('espri_vre') or ''} provenance capture".strip(),
                "softwareVersion": kernel.get("ipykernel"),
                "url": "https://pypi.org/project/ipykernel/",
                "softwareRequirements": _ids([interpreter, *packages]),
            },
        )
        return language, engine

    def people(self) -> tuple[dict[str, str], dict[str, str] | None]:
        """The agent (a Person: the server's user) and the publisher (an Organization: the
        JupyterHub that spawned the server), when there is one."""
        user = current_user()
        person = self.add(
            f"#person/{user}",
            {
                "@type": "Person",
                "name": user,
                "description": "the user the notebook server ran for"
                + (" (JupyterHub)" if os.environ.get("JUPYTERHUB_USER") else ""),
            },
        )
        hub = os.environ.get("JUPYTERHUB_API_URL") or ""
        publisher = None
        if hub.startswith(("http://", "https://")):
            origin = "/".join(hub.split("/")[:3]) + "/"
            publisher = {
                "@id": self.add(origin, {"@type": "Organization", "name": f"JupyterHub {origin}"})
            }
        return {"@id": person}, publisher

    def license_entity(self) -> dict[str, str]:
        """The licence as a contextual entity: its URL as the id, or a local one for a text.
        Its name is the licence as given, which the crate summary shows."""
        url = self.license.startswith(("http://", "https://"))
        entity_id = self.license if url else "#license"
        return {"@id": self.add(entity_id, {"@type": "CreativeWork", "name": self.license})}

    def build(self) -> Path:
        run, crate = self.run, self.crate
        language, engine = self.environment()
        agent, publisher = self.people()
        cells = notebook_cells(self.notebook)
        match_cells(run.executions, cells)  # a batch run's executions have no cell id
        positions = {cell_id: i for i, cell_id in enumerate(cells)}
        workflow_id = self.notebook.name

        tools: dict[tuple[str | None, str], str] = {}
        steps: dict[str | None, str] = {}
        for execution in run.executions:
            key = (execution.cell_id, execution.source_sha256)
            if key not in tools:
                label = execution.cell_id or f"order-{execution.order}"
                tools[key] = self.add(
                    f"#cell/{label}/{execution.source_sha256[:12]}",
                    {
                        "@type": "SoftwareApplication",
                        "name": f"cell {label}",
                        "identifier": f"sha256:{execution.source_sha256}",
                        "description": run.sources.get(execution.source_sha256, ""),
                    },
                )
            if execution.cell_id not in steps:
                label = execution.cell_id or f"order-{execution.order}"
                position = positions.get(execution.cell_id, len(positions) + execution.order)
                steps[execution.cell_id] = self.add(
                    f"#step/{label}",
                    {
                        "@type": "HowToStep",
                        "name": f"cell {label}",
                        "position": str(position),
                        "workExample": {"@id": tools[key]},
                    },
                )

        actions, controls = [], []
        for execution in run.executions:
            reads = [self.file_entity(e) for e in execution.files if e["op"] == "read"]
            writes = [self.file_entity(e) for e in execution.files if e["op"] != "read"]
            reads, writes = list(dict.fromkeys(reads)), list(dict.fromkeys(writes))
            props: dict[str, Any] = {
                "@type": "CreateAction",
                "name": f"execution {execution.order} of cell "
                f"{execution.cell_id or execution.source_sha256[:12]}",
                "description": f"the kernel ran cell {execution.cell_id or '(no id)'} "
                f"({execution.status or 'unfinished'}): {len(reads)} file(s) read, "
                f"{len(writes)} written",
                "instrument": {"@id": tools[(execution.cell_id, execution.source_sha256)]},
                "agent": agent,
                "startTime": _crate_time(execution.start),
                "actionStatus": _status(execution.status == "ok"),
            }
            if reads:
                props["object"] = _refs(reads)
            if writes:
                props["result"] = _refs(writes)
            if execution.end:
                props["endTime"] = _crate_time(execution.end)
            if execution.execution_count is not None:
                props["identifier"] = f"execution_count:{execution.execution_count}"
            if execution.error:
                props["error"] = f"{execution.error['name']}: {execution.error['message']}"
            elif execution.status not in ("ok", None):
                props["error"] = execution.status
            action = self.add(f"#execution/{execution.order}", props)
            actions.append(action)
            controls.append(
                self.add(
                    f"#control/{execution.order}",
                    {
                        "@type": "ControlAction",
                        "name": f"orchestrate execution {execution.order}",
                        "instrument": {"@id": steps[execution.cell_id]},
                        "object": {"@id": action},
                    },
                )
            )

        inputs = [self.file_entity(e) for e in run.inputs()]
        outputs = list(
            dict.fromkeys(
                self.file_entity(e)
                for ex in run.executions
                for e in ex.files
                if e["op"] in ("write", "update")
            )
        )
        self.add_data(
            self.notebook,
            workflow_id,
            {
                "@type": NOTEBOOK_TYPES,
                "name": self.notebook.name,
                "encodingFormat": "application/x-ipynb+json",
                "programmingLanguage": {"@id": language},
                "hasPart": _ids(list(dict.fromkeys(tools.values()))),
                "step": _ids(list(steps.values())),
                "sha256": _sha256_of(self.notebook),
                "conformsTo": {"@id": BIOSCHEMAS_WORKFLOW},
            },
        )
        starts = [_crate_time(e.start) for e in run.executions]
        ends = [_crate_time(e.end) for e in run.executions if e.end]
        # a notebook job's run is identified by its batch job too (crate_job.py)
        jobs = [self.add_job(job_id, props) for job_id, props in job_entities(run.session)]
        run_action = self.add(
            f"#run/{run.run_id}",
            {
                "@type": "CreateAction",
                "name": f"run {run.run_id} of {self.notebook.name}",
                "description": f"{len(run.executions)} cell execution(s) recorded by espri-vre: "
                f"{len(inputs)} input file(s), {len(outputs)} output file(s)",
                "instrument": {"@id": workflow_id},
                "agent": agent,
                **({"object": _refs(inputs)} if inputs else {}),
                **({"result": _refs(outputs)} if outputs else {}),
                **({"identifier": _refs(jobs)} if jobs else {}),
                **({"startTime": min(starts)} if starts else {}),
                **({"endTime": max(ends)} if ends else {}),
                "actionStatus": _status(all(e.status == "ok" for e in run.executions)),
            },
        )
        self.add(
            "#organize",
            {
                "@type": "OrganizeAction",
                "name": f"run of {self.notebook.name} by its kernel",
                "description": "the kernel's orchestration of the cell executions",
                "instrument": {"@id": engine},
                "agent": agent,
                "object": _ids(controls),
                "result": {"@id": run_action},
                **({"startTime": min(starts)} if starts else {}),
                **({"endTime": max(ends)} if ends else {}),
            },
        )
        self.add_data(
            run.log,
            f"{LOG_DIR}/{run.log.name}",
            {
                "name": f"provenance log of run {run.run_id}",
                "encodingFormat": "application/x-ndjson",
                "about": {"@id": run_action},
                "sha256": _sha256_of(run.log),
                "description": "espri-vre provenance events (JSON Lines, hash-chained)",
            },
        )
        kept = kept_hash_path(run.log)
        if kept.is_file():
            # beside the log's copy, where `verify` looks: a cut end is caught in the crate too
            self.add_data(
                kept,
                f"{LOG_DIR}/{kept.name}",
                {
                    "name": f"hash of the last line of the log of run {run.run_id}",
                    "encodingFormat": "application/json",
                    "about": {"@id": f"{LOG_DIR}/{run.log.name}"},
                    "description": "written when the log was closed, after its final event",
                },
            )

        self.add_binder()
        for profile, name in PROFILES.items():
            self.add(
                profile, {"@type": "CreativeWork", "name": name, "version": profile.rsplit("/")[-1]}
            )
        root = crate.root_dataset
        root["name"] = f"Run {run.run_id} of {self.notebook.name}"
        root["description"] = (
            f"Workflow Run RO-Crate of notebook {self.notebook.name}, {EXPORTED_BY}"
        )
        root["conformsTo"] = _ids(list(PROFILES))
        root["license"] = self.license_entity()
        root["author"] = agent
        if publisher is not None:
            root["publisher"] = publisher
        root["mentions"] = _ids([run_action, *actions])
        crate.mainEntity = crate.get(workflow_id)
        crate.metadata.extra_terms.update(SHA256_TERM)
        crate.metadata["conformsTo"] = _ids([RO_CRATE_1_1, WORKFLOW_RO_CRATE])
        write_whole(self.out, self.write)
        return self.out

    def add_job(self, job_id: str, properties: dict[str, Any]) -> str:
        """The job the run ran in, with its batch script as a file of the crate when the session
        kept it (crate_job.py)."""
        from io import StringIO

        script = job_script_file(self.run.session, properties["value"], job_id)
        if script is not None:
            dest, text, file_properties = script
            self.crate.add_file(StringIO(text), dest_path=dest, properties=file_properties)
            properties = {**properties, "subjectOf": {"@id": dest}}
        return self.add(job_id, properties)

    def add_binder(self) -> None:
        """The Binder folder (binder.py): repo2docker builds an image that replays the run."""
        from io import StringIO

        for dest, text in binder_files(self.run.session).items():
            self.crate.add_file(
                StringIO(text),
                dest_path=dest,
                properties={
                    "name": f"Binder (repo2docker) {dest.rsplit('/', 1)[-1]}",
                    "encodingFormat": "text/plain",
                    "sha256": sha256_text(text),
                    "description": "builds an image that replays this run (espri-vre replay)",
                },
            )

    def write(self, folder: Path) -> None:
        self.crate.write(folder)
        # the library writes text files without modes; repo2docker runs postBuild as a program
        (folder / BINDER_DIR / "postBuild").chmod(0o755)


class CrateWriteError(EspriVreError):
    """The crate could not be written (a full disk, a quota, a folder that is not a crate)."""

    status = 500
    code = "internal-error"


def _exported_crate(folder: Path) -> bool:
    """A crate this module wrote (which an export may replace), not any folder with metadata."""
    try:
        metadata = json.loads((folder / "ro-crate-metadata.json").read_text("utf-8"))
        root = next(e for e in metadata["@graph"] if e.get("@id") == "./")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return False
    return str(root.get("description", "")).endswith(EXPORTED_BY)


def write_whole(out: Path, write: Callable[[Path], Any]) -> None:
    """Calls `write(folder)` on a hidden folder beside `out`, then renames it to `out`: a write
    cut short (a full disk) leaves no crate, or the earlier one, never a half crate that
    looks complete. An existing `out` must be a crate (it is replaced) or empty."""
    if out.exists() and not _exported_crate(out) and (not out.is_dir() or any(out.iterdir())):
        raise CrateWriteError(
            f"{out} exists and is not a crate exported by espri-vre: choose a new folder",
            status=409,
            code="conflict",
        )
    token = secrets.token_hex(4)
    partial = out.with_name(f".{out.name}.partial-{token}")
    try:
        write(partial)
        if out.exists():
            earlier = out.with_name(f".{out.name}.earlier-{token}")
            os.rename(out, earlier)
            os.rename(partial, out)
            shutil.rmtree(earlier, ignore_errors=True)
        else:
            os.rename(partial, out)
    except OSError as error:
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        raise CrateWriteError(
            f"The crate could not be written to {out}: {error.strerror or error}. "
            + ("Nothing was left there." if not out.exists() else "The earlier crate is kept."),
            status=507 if full else 500,
            code="insufficient-storage" if full else "internal-error",
        ) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def export_crate(
    notebook: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    log: str | os.PathLike[str] | None = None,
    copy_limit: int = DEFAULT_COPY_LIMIT,
    license: str | None = None,
) -> Path:
    """Writes the crate of a recorded run into the directory `out` (replaced if it exists);
    `log` defaults to the notebook's newest run. Returns `out`.

    RO-Crate requires a licence: `license` (a URL such as an SPDX one, or a text), else the
    notebook metadata's `license`, else a text saying that none was given (never a guess)."""
    nb = Path(notebook)
    run = load_run(log if log is not None else latest_log(nb))
    if license is None:
        license = _notebook_license(nb) or UNSPECIFIED_LICENSE
    return _CrateBuilder(run, nb, Path(out), copy_limit, license).build()


def _notebook_license(notebook: Path) -> str | None:
    try:
        value = json.loads(notebook.read_text("utf-8")).get("metadata", {}).get("license")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class CrateContents:
    notebook: Path
    log: Path


def crate_contents(crate_dir: str | os.PathLike[str]) -> CrateContents:
    """The notebook (the main entity) and the log of a crate written by `export_crate`."""
    folder = Path(crate_dir)
    metadata_file = folder / "ro-crate-metadata.json"
    try:
        metadata = json.loads(metadata_file.read_text("utf-8"))
    except ValueError as error:  # the parser's message alone does not say which file
        raise ValueError(f"{metadata_file} is not valid JSON: {error}") from error
    graph = {e["@id"]: e for e in metadata["@graph"]}
    root = graph["./"]
    main = (root.get("mainEntity") or {}).get("@id")
    if not main:
        raise ValueError(f"{folder} has no mainEntity: not a workflow crate")
    logs = [i for i in graph if i.startswith(f"{LOG_DIR}/") and i.endswith(".jsonl")]
    if not logs:
        raise ValueError(f"{folder} holds no provenance log ({LOG_DIR}/<run>.jsonl)")
    return CrateContents(notebook=folder / main, log=folder / sorted(logs)[-1])
