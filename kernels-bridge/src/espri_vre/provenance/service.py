"""What the provenance panels of JupyterLab ask the server: the runs recorded for a notebook,
one run's events (the timeline and the read/write graph are drawn from them in the browser,
typed by the TypeScript generated from events.schema.json), a crate's summary for a reviewer,
and replays that run in the background with their progress.

The HTTP layer (server/provenance_handlers.py) confines every path; this module takes real
paths and raises ProvenanceError with a sentence for the user.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EspriVreError, code_for
from .crate import crate_contents
from .layout import beside_folder, fallback_folder, logs_in, notebook_folders
from .store import read_log, verify

MAX_EVENTS = 200_000
"""More events than this in one log are not sent to the browser (the timeline says so)."""


class ProvenanceError(EspriVreError):
    """A provenance request that cannot be answered; its code follows its status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail, status=status, code=code_for(status))


def default_fallback_dir() -> Path:
    """Where kernels put the logs of notebooks whose folder is not writable (as capture.py)."""
    configured = os.environ.get("ESPRI_VRE_PROVENANCE_DIR")
    if configured:
        return Path(configured).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre" / "provenance"


def log_folders(notebook: Path, fallback: Path) -> list[Path]:
    """The folders of a notebook's runs: beside it (the hidden folder, then one of the earlier
    layout, layout.py), then the fallback folder."""
    return [*notebook_folders(notebook), fallback_folder(fallback, notebook)]


def _state(path: Path) -> tuple[str, str | None, str | None]:
    """(state, kernel id, notebook) from a log: `ended` after a control end, `paused` after a
    pause not followed by a resume, else `recording` (also a killed kernel's log: the front
    end matches the kernel id to tell a live recording)."""
    state, kernel_id, notebook = "recording", None, None
    for event in read_log(path).events():
        kind = event.get("kind")
        if kind == "session":
            kernel_id = (event.get("kernel") or {}).get("id")
            notebook = event.get("notebook")
        elif kind == "control":
            action = event.get("action")
            state = {"pause": "paused", "resume": "recording", "end": "ended"}.get(action, state)
    return state, kernel_id, notebook


def _session_head(log: Path) -> dict[str, Any]:
    """The session event (first line) of a log, or {} when it cannot be read."""
    try:
        with log.open("rb") as f:
            first = f.readline()
        event = json.loads(first)
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) and event.get("kind") == "session" else {}


def _kernel_of(log: Path) -> str | None:
    return (_session_head(log).get("kernel") or {}).get("id")


def _candidate_logs(
    notebook: Path, fallback: Path, kernel_id: str | None, run_id: str | None
) -> list[Path]:
    """The notebook's own logs, and those of its kernel or of `run_id` elsewhere.

    A kernel names its log after the notebook it was started for: a notebook renamed after
    its kernel started (JupyterLab's "Untitled.ipynb", then a real name) records beside the
    old name, or in the fallback folder once the old name is gone. Those logs are found by
    the kernel id (or the run id) their session recorded."""
    own = log_folders(notebook, fallback)
    logs = [log for folder in own if folder.is_dir() for log in folder.glob("*.jsonl")]
    if kernel_id or run_id:
        seen = set(logs)
        for parent in (notebook.parent, fallback):
            for log in logs_in(parent):
                if log in seen or log.parent in own:
                    continue
                same_run = run_id is not None and log.stem == run_id
                if same_run or (kernel_id and _kernel_of(log) == kernel_id):
                    logs.append(log)
    return logs


def list_runs(
    notebook: Path,
    fallback: Path | None = None,
    *,
    kernel_id: str | None = None,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """The runs recorded for `notebook`, newest first, with their state and verification;
    with `kernel_id`, also that kernel's runs recorded under another name (see
    `_candidate_logs`).

    Logs in the fallback folder under the notebook's name are of every notebook of that
    name: only those whose session names this notebook (or its kernel) are listed."""
    fallback = fallback or default_fallback_dir()
    runs = []
    for log in _candidate_logs(notebook, fallback, kernel_id, run_id):
        state, recorded_kernel, recorded_for = _state(log)
        mine = recorded_for == str(notebook) or (kernel_id and recorded_kernel == kernel_id)
        if beside_folder(log) != notebook.parent and not mine and log.stem != run_id:
            continue
        checked = verify(log)
        runs.append(
            {
                "run": log.name.removesuffix(".jsonl"),
                "log": str(log),
                "state": "ended" if checked.ended else state,
                "kernel_id": recorded_kernel,
                "events": checked.events,
                "last_hash": checked.last_hash,
                "torn_bytes": checked.torn_bytes,
                "problems": checked.problems[:20],
                "modified": log.stat().st_mtime,
            }
        )
    runs.sort(key=lambda r: r["run"], reverse=True)
    return runs


def find_run(notebook: Path, run_id: str, fallback: Path | None = None) -> Path:
    for run in list_runs(notebook, fallback, run_id=run_id):
        if run["run"] == run_id:
            return Path(run["log"])
    raise ProvenanceError(404, f"No run {run_id!r} was recorded for {notebook.name}.")


def run_events(log: Path, last_hash: str | None = None) -> dict[str, Any]:
    """Every event of one log, with what `verify` says of it (with the hash the notebook kept,
    when given: an edited or cut end is then caught too)."""
    checked = verify(log, last_hash=last_hash)
    events = []
    truncated = False
    for event in read_log(log).events():
        if len(events) >= MAX_EVENTS:
            truncated = True
            break
        events.append(event)
    return {
        "run": log.name.removesuffix(".jsonl"),
        "log": str(log),
        "events": events,
        "truncated": truncated,
        "verification": {
            "ok": checked.ok,
            "ended": checked.ended,
            "events": checked.events,
            "last_hash": checked.last_hash,
            "torn_bytes": checked.torn_bytes,
            "problems": checked.problems[:50],
        },
    }


def crate_summary(crate_dir: Path) -> dict[str, Any]:
    """What a reviewer sees on opening a crate: its name, licence, the notebook, the run, the
    files it holds or points to, and whether a replay report is beside it."""
    metadata_file = crate_dir / "ro-crate-metadata.json"
    if not metadata_file.is_file():
        raise ProvenanceError(
            404, f"{crate_dir.name} is not an RO-Crate: it has no ro-crate-metadata.json."
        )
    try:
        metadata = json.loads(metadata_file.read_text("utf-8"))
        graph = {e["@id"]: e for e in metadata["@graph"]}
        contents = crate_contents(crate_dir)
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        # crate_contents names the folder by its real path: the user knows it by its name.
        why = str(e).replace(str(crate_dir), crate_dir.name)
        raise ProvenanceError(
            422, f"{crate_dir.name}/ro-crate-metadata.json cannot be read as a crate: {why}"
        ) from e
    root = graph.get("./", {})
    files = []
    for entity in graph.values():
        types = entity.get("@type")
        types = types if isinstance(types, list) else [types]
        if "File" in types and entity["@id"] != root.get("mainEntity", {}).get("@id"):
            files.append(
                {
                    "id": entity["@id"],
                    "name": entity.get("name"),
                    "sha256": entity.get("sha256"),
                    "size": entity.get("contentSize"),
                    "in_crate": not str(entity["@id"]).startswith(("file:", "http:", "https:")),
                }
            )
    license_ = root.get("license")
    if isinstance(license_, dict):
        license_ = graph.get(license_.get("@id"), {}).get("name") or license_.get("@id")
    return {
        "name": root.get("name"),
        "description": root.get("description"),
        "license": license_,
        "date_published": root.get("datePublished"),
        "notebook": str(contents.notebook),
        "log": str(contents.log),
        "run": contents.log.name.removesuffix(".jsonl"),
        "files": files,
        "conforms_to": [
            c.get("@id") for c in _as_list(root.get("conformsTo")) if isinstance(c, dict)
        ],
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


@dataclass
class ReplayJob:
    """One replay running in a worker thread of the server."""

    id: str
    target: str
    report_dir: str
    state: str = "starting"
    """starting, running, done, failed"""
    done: int = 0
    total: int = 0
    current: str | None = None
    error: str | None = None
    report: dict[str, Any] | None = None
    started: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "report_dir": self.report_dir,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "current": self.current,
            "error": self.error,
            "report": self.report,
        }


class ReplayJobs:
    """The server's replays; a few at a time (each starts a kernel)."""

    def __init__(self, limit: int = 2) -> None:
        self._jobs: dict[str, ReplayJob] = {}
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()

    def get(self, job_id: str) -> ReplayJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ProvenanceError(404, f"There is no replay {job_id!r} on this server.")
        return job

    def start(
        self,
        target: Path,
        report_dir: Path,
        *,
        log: Path | None = None,
        esgf_index: str | None = None,
    ) -> ReplayJob:
        if not self._slots.acquire(blocking=False):
            raise ProvenanceError(
                503, "Two replays are already running on this server: wait for one to end."
            )
        job = ReplayJob(id=uuid.uuid4().hex[:12], target=str(target), report_dir=str(report_dir))
        with self._lock:
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run,
            args=(job, target, report_dir, log, esgf_index),
            daemon=True,
        )
        thread.start()
        return job

    def _run(
        self,
        job: ReplayJob,
        target: Path,
        report_dir: Path,
        log: Path | None,
        esgf_index: str | None,
    ) -> None:
        from .replay import replay_to

        def progress(done: int, total: int, current: str | None) -> None:
            job.state, job.done, job.total, job.current = "running", done, total, current

        try:
            # the kernel runs in report_dir/work: nothing is written beside the notebook
            report, _ = replay_to(
                target, report_dir, log=log, progress=progress, esgf_index=esgf_index
            )
            job.report = report.to_dict()
            job.done = job.total
            job.state = "done"
        except Exception as e:  # the panel shows it; the server keeps running
            job.error = f"{type(e).__name__}: {e}"
            job.state = "failed"
        finally:
            job.current = None
            self._slots.release()
