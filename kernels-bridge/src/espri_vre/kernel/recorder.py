"""The capture of one kernel: its log, the session record, each cell execution framed by
IPython's pre_run_cell/post_run_cell events (its source, stored once per run by hash, order,
times, status and error), and the files and jobs the hooks report. Any error of ours stops
recording with a message in the cell's output (`internal_error`), never the user's cell.

The log (and the notebook's folder in `.espri-vre-provenance/`) opens with the first event
worth keeping, a cell's start, a job, a dataset, a file seen between cells, not with the
kernel: a notebook only opened leaves nothing behind. The session record is taken when
recording starts and is the log's first line, so nothing before the first event is lost."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..provenance import events, waiting
from ..provenance.events import Event, FileOp
from ..provenance.hashing import FileHasher, sha256_text
from ..provenance.identifiers import DatasetIdentifiers
from ..provenance.store import EventLog, new_run_id, recover_directory
from . import state
from .files import NOT_STATTED, PendingFiles, ignored_prefixes
from .settings import CaptureSettings, log_directories, named_notebook, notebook_path

State = Literal["recording", "paused", "off", "stopped"]


@dataclass
class _Cell:
    order: int
    cell_id: str | None
    source_sha256: str
    start: str
    info: Any
    """IPython's ExecutionInfo, which post_run_cell gets back: how a cell end finds its start."""


class Recorder:
    """The capture of one kernel. Only `load_ipython_extension` makes one."""

    def __init__(self, shell: Any, settings: CaptureSettings) -> None:
        self.shell = shell
        self.settings = settings
        self.files = PendingFiles(
            FileHasher(manifest_above=settings.manifest_above, chunk_size=settings.chunk_size),
            ignored_prefixes(getattr(shell, "ipython_dir", None), settings.ignore),
        )
        self.state: State = "off"
        self.reason: str | None = (
            "disabled by ESPRI_VRE_PROVENANCE" if not settings.enabled else None
        )
        self.log: EventLog | None = None
        self.notebook: Path | None = None
        self._order = 0
        self._cells: list[_Cell] = []
        """Cells running: more than one when a cell calls get_ipython().run_cell()."""
        self._sources: set[str] = set()
        self._after_cell: Callable[[], None] | None = None
        self._batch: list[Event] | None = None
        self._batch_thread: int | None = None
        self._session: events.Session | None = None
        """Taken at `start`, written when the log opens (`_open_log`)."""
        self._waiting: Path | None = None
        """The file saying this kernel records with no log yet (`provenance.waiting`)."""
        self._announced: Path | None = None

    @property
    def _cell(self) -> _Cell | None:
        return self._cells[-1] if self._cells else None

    # life cycle

    def start(self, *, lazily: bool = False) -> None:
        """Starts recording: takes the session record now, and opens the log now or, `lazily`,
        with the first event (a kernel that only starts, when a notebook is merely opened,
        leaves no provenance folder behind)."""
        if self.state in ("recording", "paused"):
            return
        if self.log is not None:  # stopped by a full disk: `%provenance on` starts a new log
            self.log.close()
            self.log = None
        self.notebook = notebook_path(self.shell.user_ns)
        # What the kernel says it records (waiting.py), the name given even when that file is
        # gone: a rename before the first cell is then told to the kernel (`_open_log`).
        self._announced = self.notebook or named_notebook(self.shell.user_ns)
        self._order = 0
        self._sources.clear()
        # The environment as the kernel started, even when the log opens cells later.
        self._session = events.session(
            self.notebook,
            env_allow=self.settings.env_allow,
            fsync=self.settings.fsync,
            manifest_above=self.settings.manifest_above,
            chunk_size=self.settings.chunk_size,
        )
        self.state, self.reason = "recording", None
        # Active before the log exists: what the hooks see until the first event waits in
        # `files` and goes into the log with it.
        state.set_active(True)
        if not lazily:
            self._open_log()
        else:
            # The notebook's indicator reads the runs on disk: tell it the kernel records.
            self._waiting = waiting.announce(self._announced)

    def _open_log(self) -> bool:
        """Opens the log and writes the session record taken at `start`; False when there is
        no place for it (recording then stops, saying where it tried)."""
        if self.log is not None:
            return True
        session, self._session = self._session, None
        if session is None:
            return False
        renamed = waiting.renamed_to(self._waiting, self._announced)
        if renamed is not None:  # renamed in JupyterLab before the first cell: the new name
            self.notebook = renamed
            session = dataclasses.replace(session, notebook=str(renamed))
        # The log opens (or recording stops here): the kernel waits no longer either way.
        waiting.withdraw(self._waiting)
        self._waiting = None
        errors = []
        with state.busy():
            for directory in log_directories(self.notebook, self.settings.directory):
                try:
                    if directory.is_dir():
                        recover_directory(directory)
                    self.log = EventLog.open(
                        directory / f"{new_run_id()}.jsonl",
                        fsync=self.settings.fsync,
                        on_stop=self._stopped,
                    )
                    break
                except OSError as error:
                    errors.append(f"{directory}: {error.strerror or error}")
        if self.log is None:
            self._stopped(
                "espri-vre provenance: not recording, no place for the log ("
                + "; ".join(errors)
                + ")"
            )
            return False
        self.files.ignore_also(self.log.path.parent)
        self.files.new_log()
        if not self._append(session):
            return False
        self.log.checkpoint()
        return True

    def pause(self) -> None:
        self._when_cell_ends(self._pause)

    def resume(self) -> None:
        if self.state == "paused":
            self.state = "recording"
            self._append(events.Control("resume", "%provenance resume"))
            state.set_active(True)

    def off(self, reason: str = "%provenance off") -> None:
        self._when_cell_ends(lambda: self.close(reason))

    def _pause(self) -> None:
        if self.state == "recording":
            self._append(events.Control("pause", "%provenance pause"))
            self.state = "paused"
            state.set_active(False)

    def _when_cell_ends(self, action: Callable[[], None]) -> None:
        """Pausing or stopping from inside a cell takes effect once that cell is recorded."""
        if self._cell is None:
            action()
        else:
            self._after_cell = action

    def close(self, reason: str) -> None:
        """Records what is pending, ends the log and closes it."""
        state.set_active(False)
        if self.log is None and self.state not in ("recording", "paused"):
            return
        with state.busy():
            if self.state in ("recording", "paused"):
                # Files the hooks saw since the last cell; when no log is open yet, the first
                # of them opens it (`_append`), and none leaves no log at all.
                self.files.flush(self._append)
                if self.log is not None:
                    self._append(events.Control("end", reason))
            self._session = None
            waiting.withdraw(self._waiting)
            self._waiting = None
            if self.log is not None:
                self.log.close()
        if self.state != "stopped":
            self.state, self.reason = "off", reason
        self.log = None

    def _stopped(self, message: str) -> None:
        state.set_active(False)
        self.state = "stopped"
        self.reason = message
        print(message, file=sys.stderr, flush=True)

    def internal_error(self, error: BaseException) -> None:
        """A bug of ours must not reach the user's cell: say so and stop recording."""
        if self.state == "stopped":
            return
        self._stopped(
            f"espri-vre provenance: recording stopped after an internal error "
            f"({type(error).__name__}: {error}). Your cells keep running."
        )

    def _append(self, event: Event) -> bool:
        if self.log is None and (self._session is None or not self._open_log()):
            return False
        if self._batch is not None and self._batch_thread == threading.get_ident():
            self._batch.append(event)
            return True
        try:
            return self.log.append(event)
        except (TypeError, ValueError) as error:
            self.internal_error(error)
            return False

    @contextmanager
    def _batched(self) -> Iterator[None]:
        """The events appended inside go out in one write when it ends: a cell pays two
        write(2) calls (its start, its end with its files) instead of one per event."""
        self._batch, self._batch_thread = [], threading.get_ident()
        try:
            yield
        finally:
            batch, self._batch, self._batch_thread = self._batch, None, None
            if batch and self.log is not None:
                try:
                    self.log.append_many(batch)
                except (TypeError, ValueError) as error:
                    self.internal_error(error)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "run_id": self.log.run_id if self.log else None,
            "log": str(self.log.path) if self.log else None,
            "notebook": str(self.notebook) if self.notebook else None,
            "events": self.log.seq if self.log else None,
            "last_hash": self.log.last_hash if self.log else None,
        }

    # cells

    def pre_run_cell(self, info: Any) -> None:
        if self.state != "recording":
            return
        try:
            if not self._open_log():  # the first cell run: what is worth a log
                return
            with state.busy(), self._batched():
                text = info.raw_cell
                digest = sha256_text(text)
                if digest not in self._sources:
                    self._sources.add(digest)
                    self._append(events.Source(sha256=digest, text=text))
                self._order += 1
                cell_id = getattr(info, "cell_id", None)
                cell = _Cell(self._order, cell_id, digest, events.utc_now(), info)
                self._cells.append(cell)
                self._append(events.CellStart(cell.order, cell.cell_id, digest, cell.start))
        except Exception as error:
            self.internal_error(error)

    def post_run_cell(self, result: Any) -> None:
        # No start for this end: the cell that loaded the extension, or one run while paused.
        cell = None
        if self._cells and (result is None or self._cells[-1].info is result.info):
            cell = self._cells.pop()
        try:
            if cell is not None and self.state == "recording" and self.log is not None:
                end = events.utc_now()
                with state.busy(), self._batched():
                    self.files.flush(self._append)
                    error = result.error_before_exec or result.error_in_exec if result else None
                    status: events.CellStatus = "ok" if result is not None else "error"
                    if isinstance(error, KeyboardInterrupt):
                        status = "interrupted"
                    elif error is not None:
                        status = "error"
                    stored = result is not None and cell.info.store_history
                    count = result.execution_count if stored else None
                    self._append(
                        events.CellEnd(
                            order=cell.order,
                            cell_id=cell.cell_id,
                            execution_count=count,
                            source_sha256=cell.source_sha256,
                            start=cell.start,
                            end=end,
                            status=status,
                            error=events.cell_error(error),
                        )
                    )
                self.log.checkpoint_soon()
            if not self._cells:
                action, self._after_cell = self._after_cell, None
                if action is not None:
                    action()
        except Exception as error:
            self.internal_error(error)

    # what the hooks and the public functions report

    def note(
        self,
        location: str,
        *,
        is_url: bool,
        op: FileOp,
        opener: str,
        confirmed: bool,
        before: tuple[int, int] | None = NOT_STATTED,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        """A file or URL opened in the cell running (or between cells)."""
        self.files.note(
            location,
            cell=self._cell.order if self._cell is not None else None,
            is_url=is_url,
            op=op,
            opener=opener,
            confirmed=confirmed,
            before=before,
            attrs=attrs,
        )

    def record_job(self, job_id: str, spec: Mapping[str, Any], provenance: str | None) -> bool:
        if self.state != "recording":
            return False
        cell = self._cell.order if self._cell is not None else None
        return self._append(events.job_submitted(job_id, spec, cell=cell, provenance=provenance))

    def record_dataset(
        self, identifiers: DatasetIdentifiers, *, path: str | None, url: str | None
    ) -> bool:
        if self.state != "recording":
            return False
        cell = self._cell.order if self._cell is not None else None
        event = events.DatasetSeen(
            cell=cell, path=path, url=url, sha256=None, identifiers=identifiers, origin="catalogue"
        )
        return self._append(event)
