"""REST routes of the provenance panels (logic in espri_vre.provenance.service).

GET  /espri-vre/api/provenance/runs?path=NB            ProvenanceRunsResponse
GET  /espri-vre/api/provenance/events?path=NB&run=ID   the run's events (events.schema.json)
POST /espri-vre/api/provenance/export                  ExportRequest -> 201 ExportResponse
GET  /espri-vre/api/provenance/crate?path=DIR          CrateSummary
POST /espri-vre/api/provenance/crate?path=DIR          its validation by roc-validator
POST /espri-vre/api/provenance/replay                  ReplayRequest -> 202 ReplayJob
GET  /espri-vre/api/provenance/replay/<id>             ReplayJob (progress, then the report)
GET  /espri-vre/api/provenance/report?path=DIR         a written report.json

Paths are the file browser's (relative to root_dir) and confined to it: a crate is written
and a replay runs only there, never in a read-only data root. Hidden files are refused unless
the ContentsManager allows them, as on Jupyter's own routes; answers and errors name files
relative to root_dir, never by their real path on the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..data.paths import resolve_data_path
from ..provenance.crate import export_crate
from ..provenance.service import (
    ProvenanceError,
    ReplayJobs,
    crate_summary,
    find_run,
    list_runs,
    run_events,
)
from ..provenance.validation import contexts_folder, default_cache_dir, validate_crate
from ..provenance.waiting import waiting
from .base import ApiError, EspriVreHandler

JOBS = ReplayJobs()


class ProvenanceHandler(EspriVreHandler):
    def real_path(self, shown: str | None, what: str) -> Path:
        """The real path of a path of the file browser, confined to root_dir."""
        if shown is None:
            shown = self.path_argument()
        resolved = resolve_data_path(
            shown,
            self.serverapp.root_dir,
            allow_hidden=bool(getattr(self.contents_manager, "allow_hidden", True)),
        )
        if what == "notebook" and resolved.path.suffix != ".ipynb":
            raise ApiError(400, f"{shown} is not a notebook (.ipynb).")
        return resolved.path

    def shown(self, path: Path) -> str:
        """A real path as the file browser shows it (relative to root_dir); a path elsewhere
        (a log in the kernels' fallback folder) keeps its full path, which the user's own
        kernel chose."""
        root = Path(os.path.realpath(self.serverapp.root_dir))
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def named(self, filename: Any) -> str:
        """A file named in an error: relative to root_dir, else by its name alone."""
        if not filename:
            return ""
        path = Path(os.fsdecode(filename))
        shown = self.shown(path)
        return path.name if shown == str(path) else shown

    def job_payload(self, job: dict[str, Any]) -> dict[str, Any]:
        job["target"] = self.shown(Path(job["target"]))
        job["report_dir"] = self.shown(Path(job["report_dir"]))
        if job.get("error"):
            # A replay's failure quotes its exception, which names files by their real path.
            root = os.path.realpath(self.serverapp.root_dir)
            job["error"] = job["error"].replace(root + os.sep, "")
        return job

    async def off_loop(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except OSError as e:
            # A file the provenance cannot be read from or written to: a conflict with the
            # state of the user's files, not a failure of the server.
            raise ApiError(
                409, f"{e.strerror or type(e).__name__}: {self.named(e.filename)}".strip(": ")
            ) from e


class RunsHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        notebook = self.real_path(None, "notebook")
        kernel_id = self.get_argument("kernel", "") or None
        if kernel_id is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", kernel_id):
            raise ApiError(400, f"{kernel_id!r} is not a kernel id.")
        runs = await self.off_loop(lambda: list_runs(notebook, kernel_id=kernel_id))
        for run in runs:
            run["log"] = self.shown(Path(run["log"]))
        answer: dict[str, Any] = {"notebook": self.shown(notebook), "runs": runs}
        if kernel_id is not None and not any(r["kernel_id"] == kernel_id for r in runs):
            # Recording with its log not open yet (it opens with the first cell).
            said = waiting(Path(self.kernel_manager.connection_dir), kernel_id)
            if said is not None:
                answer["waiting"] = {"kernel_id": kernel_id, "since": said["since"]}
        self.respond(
            "ProvenanceRunsResponse",
            answer,
            source=f"the provenance log of {self.shown(notebook)}",
        )


class EventsHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        notebook = self.real_path(None, "notebook")
        run_id = self.get_argument("run", "")
        last_hash = self.get_argument("last_hash", None) or None
        log = await self.off_loop(find_run, notebook, run_id)
        payload = await self.off_loop(run_events, log, last_hash)
        payload["log"] = self.shown(log)
        self.write_json(payload)


class ExportHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("ExportRequest")
        notebook = self.real_path(body["path"], "notebook")
        log = await self.off_loop(find_run, notebook, body["run"]) if body.get("run") else None
        out = notebook.with_name(f"{notebook.stem}-crate")

        def export() -> Path:
            try:
                return export_crate(notebook, out, log=log, license=body.get("license") or None)
            except FileNotFoundError as e:
                raise ProvenanceError(
                    404, f"{notebook.name} has no recorded run to export: run its cells first."
                ) from e

        crate = await self.off_loop(export)
        summary = await self.off_loop(crate_summary, crate)
        answer = {"crate": self.shown(crate), "files": len(summary["files"])}
        self.respond("ExportResponse", answer, 201)


class CrateHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        folder = self.real_path(None, "crate")
        if folder.name == "ro-crate-metadata.json":
            folder = folder.parent
        summary = await self.off_loop(crate_summary, folder)
        summary["path"] = self.shown(folder)
        summary["notebook"] = self.shown(Path(summary["notebook"]))
        summary["log"] = self.shown(Path(summary["log"]))
        metadata = self.shown(folder / "ro-crate-metadata.json")
        self.respond("CrateSummary", summary, source=metadata)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Validates the crate with roc-validator against the genuine contexts (validation.py):
        a POST, as it runs the validator (seconds) and writes its cache."""
        folder = self.real_path(None, "crate")
        if folder.name == "ro-crate-metadata.json":
            folder = folder.parent
        contexts = contexts_folder()
        result = await self.off_loop(validate_crate, folder, contexts, default_cache_dir())
        result["path"] = self.shown(folder)
        self.write_json(result)


class ReplayHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("ReplayRequest")
        target = self.real_path(body["path"], "target")
        if target.name == "ro-crate-metadata.json":
            target = target.parent
        log = None
        if target.is_dir():
            if not (target / "ro-crate-metadata.json").is_file():
                raise ApiError(400, f"{body['path']} is neither a notebook nor an RO-Crate.")
            report_dir = target.with_name(f"{target.name}-replay")
        elif target.suffix == ".ipynb":
            if body.get("run"):
                log = await self.off_loop(find_run, target, body["run"])
            report_dir = target.with_name(f"{target.stem}-replay")
        else:
            raise ApiError(400, f"{body['path']} is neither a notebook nor an RO-Crate.")
        job = JOBS.start(target, report_dir, log=log, esgf_index=self.esgf_index())
        self.respond("ReplayJob", self.job_payload(job.to_dict()), 202)

    def esgf_index(self) -> str | None:
        """The first configured ESGF catalogue: where a replay asks whether the datasets the
        run read were retracted or superseded."""
        for entry in self.espri_app.validated.catalogs:
            if entry.kind == "esgf" and not entry.problem:
                return entry.url
        return None


class ReplayJobHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        job = JOBS.get(job_id)
        self.respond("ReplayJob", self.job_payload(job.to_dict()))


class ReportHandler(ProvenanceHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        folder = self.real_path(None, "report")
        if folder.name == "report.json":
            folder = folder.parent
        report = folder / "report.json"
        if not report.is_file():
            raise ApiError(404, f"{self.shown(folder)} holds no replay report (report.json).")
        try:
            payload = json.loads(await asyncio.to_thread(report.read_text, "utf-8"))
        except ValueError as e:
            raise ApiError(422, f"{self.shown(report)} is not valid JSON: {e}.") from e
        except RecursionError:
            raise ApiError(422, f"{self.shown(report)} nests too deeply to be a report.") from None
        self.respond("ReplayReport", payload, source=self.shown(report))
