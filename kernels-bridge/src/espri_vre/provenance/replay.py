"""Replay of a recorded run in a fresh kernel, confined to a working folder of its own, with a
per-cell verdict.

The replayed kernel runs in a new working folder (`workdir.WorkFolder`): the recorded inputs
are linked into it (the copy in the crate, in a folder the reviewer gave, or the original: see
replay_inputs.py), and every file it writes lands inside it, whatever path the cell names
(espri_vre.kernel.confine redirects the writes, and refuses the changes it cannot redirect).
The author's and the user's files are never written.

The log holds no copies of outputs (the capture never stores them), so the reference outputs
are the ones saved in the recorded run's notebook file, keyed by cell id. A cell execution is
compared only when it is the last execution of its cell in the log, its notebook cell has the
recorded source and (when saved) the recorded execution_count: otherwise the saved outputs
belong to another execution, and the verdict is "unverifiable". The files a cell wrote are
compared with the ones its replay wrote (replay_compare.py); a cell may declare that it varies
(`"espri-vre": {"replay": "varies"}` in its metadata, or the notebook's), which the report
says with its reason.

A broken hash chain (an edited log) is a warning: the replay goes on with what the log says."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import EspriVreError
from .crate import (
    Execution,
    RecordedRun,
    content_hash,
    crate_contents,
    file_location,
    latest_log,
    load_run,
    match_cells,
    notebook_cells,
)
from .hashing import FileHasher, sha256_text
from .layout import logs_in
from .replay_compare import Tolerance, compare_files, compare_outputs
from .replay_inputs import InputCheck, crate_copies, resolve_inputs
from .replay_report import (
    WORK,
    CellVerdict,
    OutputCheck,
    ReplayReport,
    prepare_folder,
    write_report,
)
from .workdir import ENV, WorkFolder

CELL_TIMEOUT = 600.0
GOOD = ("identical", "equivalent")


class ReplayError(EspriVreError):
    """A replay that cannot start: a working folder in use, a kernel that cannot be confined."""

    status = 409
    code = "conflict"


@dataclass
class CellResult:
    status: str
    outputs: list[dict[str, Any]]
    execution_count: int | None


class Kernel:
    """A fresh kernel (jupyter_client) that runs cells as JupyterLab does, with the cell id
    in the request's metadata, and collects their outputs as nbformat outputs."""

    def __init__(self, cwd: Path, env: dict[str, str], kernel_name: str = "python3") -> None:
        from jupyter_client.manager import KernelManager
        from jupyter_core.paths import jupyter_runtime_dir

        self.manager = KernelManager(kernel_name=kernel_name, kernel_id=str(uuid.uuid4()))
        # Named as jupyter_server names it (kernel-<id>.json): the kernel knows its id.
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        self.manager.connection_file = str(runtime / f"kernel-{self.manager.kernel_id}.json")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(
        self, code: str, cell_id: str | None = None, timeout: float = CELL_TIMEOUT
    ) -> CellResult:
        from nbformat.v4 import output_from_msg

        client = self.client
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = client.session.msg(
            "execute_request", content, metadata={"cellId": cell_id} if cell_id else {}
        )
        client.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        outputs: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(client.get_iopub_msg, deadline, code)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
            if kind == "clear_output":
                outputs.clear()
            elif kind in ("stream", "display_data", "execute_result", "error"):
                out = output_from_msg(message)
                if (
                    kind == "stream"
                    and outputs
                    and outputs[-1].get("output_type") == "stream"
                    and outputs[-1]["name"] == out["name"]
                ):
                    outputs[-1]["text"] += out["text"]
                else:
                    outputs.append(out)
        while True:
            reply = self._next(client.get_shell_msg, deadline, code)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return CellResult(
            reply["content"]["status"], outputs, reply["content"].get("execution_count")
        )

    @staticmethod
    def _next(get: Any, deadline: float, code: str) -> dict[str, Any]:
        try:
            return get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            first = code.strip().splitlines()[0][:80] if code.strip() else ""
            raise TimeoutError(f"the kernel did not finish the cell {first!r} in time") from None

    def evaluate(self, code: str) -> Any:
        """Runs code and returns the JSON it prints (None if it fails)."""
        result = self.run(code)
        text = "".join(o.get("text", "") for o in result.outputs if o["output_type"] == "stream")
        return json.loads(text) if result.status == "ok" else None

    def stop(self) -> None:
        self.client.stop_channels()
        # A shutdown request, not a kill: the kernel closes its provenance log (an 'end').
        self.manager.shutdown_kernel(now=False)


@contextmanager
def fresh_kernel(cwd: Path, **env: str) -> Iterator[Kernel]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "ESPRI_VRE_"))}
    environ.update(env)
    kernel = Kernel(cwd, environ)
    try:
        yield kernel
    finally:
        kernel.stop()


_LOCK_CODE = (
    "import json as _j, platform as _p\n"
    "from espri_vre.provenance.events import package_lock as _pl\n"
    "print(_j.dumps({'python': _p.python_version(), 'packages': _pl()}))\n"
    "del _j, _p, _pl"
)


def environment_differences(recorded: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    def norm(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    old = {norm(p["name"]): p for p in recorded.get("packages") or []}
    new = {norm(p["name"]): p for p in current.get("packages") or []}
    changed = [
        {"name": old[k]["name"], "recorded": old[k]["version"], "current": new[k]["version"]}
        for k in sorted(old.keys() & new.keys())
        if old[k]["version"] != new[k]["version"]
    ]
    recorded_python = (recorded.get("python") or {}).get("version")
    return {
        "python": {"recorded": recorded_python, "current": current.get("python")},
        "python_differs": recorded_python != current.get("python"),
        "changed": changed,
        "missing": [old[k]["name"] for k in sorted(old.keys() - new.keys())],
        "added": [new[k]["name"] for k in sorted(new.keys() - old.keys())],
    }


# --- declared variability and tolerance ----------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """What a cell (or its notebook) declares of its replay: `varies`, or tolerances."""

    varies: bool = False
    tolerance: dict[str, float] | None = None
    reason: str | None = None


_SETTING = re.compile(r"^\s*(atol|rtol|image_ssim)\s*=\s*([-+0-9.eE]+)\s*$")


def declared(cell: dict[str, Any] | None, notebook_meta: dict[str, Any]) -> Declared:
    """`"espri-vre": {"replay": "varies" | "rtol=1e-3, atol=0", "reason": "..."}` in the
    cell's metadata, else the notebook's. Raises ValueError for a value it cannot read."""
    meta = ((cell or {}).get("metadata") or {}).get("espri-vre") or {}
    if "replay" not in meta:
        meta = notebook_meta.get("espri-vre") or {}
    value = meta.get("replay") if isinstance(meta, dict) else None
    if value is None:
        return Declared()
    reason = meta.get("reason") if isinstance(meta.get("reason"), str) else None
    if value == "varies":
        return Declared(varies=True, reason=reason)
    settings: dict[str, float] = {}
    for part in str(value).split(","):
        match = _SETTING.match(part)
        if match is None:
            raise ValueError(
                f'"espri-vre": {{"replay": {value!r}}} is neither "varies" nor tolerances '
                'such as "rtol=1e-3, atol=0"'
            )
        settings[match.group(1)] = float(match.group(2))
    return Declared(tolerance=settings, reason=reason)


def _tolerance(cell: dict[str, Any] | None, default: Tolerance, declaration: Declared) -> Tolerance:
    meta = ((cell or {}).get("metadata") or {}).get("espri_vre") or {}
    settings = {**meta, **(declaration.tolerance or {})}
    return Tolerance(
        atol=float(settings.get("atol", default.atol)),
        rtol=float(settings.get("rtol", default.rtol)),
        image_ssim=float(settings.get("image_ssim", default.image_ssim)),
    )


# --- the replay ----------------------------------------------------------------------------


def resolve(
    target: str | os.PathLike[str], log: str | os.PathLike[str] | None = None
) -> tuple[Path, Path, Path | None]:
    """(notebook, log, crate folder or None) from a crate directory, its metadata file, or a
    notebook."""
    path = Path(target)
    if path.name == "ro-crate-metadata.json":
        path = path.parent
    if path.is_dir():
        contents = crate_contents(path)
        return contents.notebook, Path(log) if log else contents.log, path
    return path, Path(log) if log else latest_log(path), None


class _Tail:
    """The lines appended to a file since the last read (the ledger, the replay's own log)."""

    def __init__(self, path: Path | None) -> None:
        self.path, self._offset = path, 0

    def read(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.is_file():
            return []
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        found = []
        for line in complete.splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found


def _exempt(private: Path) -> list[str]:
    """Where a replayed kernel writes freely: its own folder, and the caches of the
    interpreter and of Jupyter (a font cache is not the analysis's output)."""
    from jupyter_core.paths import jupyter_runtime_dir

    home = Path.home()
    places = [private, Path(jupyter_runtime_dir()), home / ".cache", home / ".config/matplotlib"]
    places.append(Path(os.environ.get("IPYTHONDIR") or home / ".ipython"))
    places.append(Path(os.environ.get("DASK_CONFIG") or home / ".config/dask"))
    return [str(p) for p in places]


def working_folder(
    root: Path, run: RecordedRun, inputs: list[InputCheck], private: Path
) -> WorkFolder:
    """Makes the working folder (new or empty) with the inputs linked in at their place."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ReplayError(f"The replay's working folder {root} must be new or empty.")
    root.mkdir(parents=True, exist_ok=True)
    folder = WorkFolder(
        root=str(root),
        recorded_cwd=run.session.get("cwd"),
        inputs={i.location: i.used for i in inputs if i.used and i.used != i.location},
        exempt=tuple(_exempt(private)),
        ledger=str(private / "ledger.jsonl"),
    )
    cwd = (folder.recorded_cwd or "").rstrip(os.sep) + os.sep
    for check in inputs:
        # an input under the recorded working directory is linked at its relative place, where
        # relative paths and globs find it; the others are read through the inputs' map
        if check.used is not None and cwd != os.sep and check.location.startswith(cwd):
            place = Path(folder.place(check.location))
            place.parent.mkdir(parents=True, exist_ok=True)
            if not place.is_symlink() and not place.exists():
                place.symlink_to(check.used)
    return folder


def replay(
    target: str | os.PathLike[str],
    *,
    log: str | os.PathLike[str] | None = None,
    tolerance: Tolerance | None = None,
    workdir: str | os.PathLike[str] | None = None,
    inputs_dir: str | os.PathLike[str] | None = None,
    timeout: float = CELL_TIMEOUT,
    progress: Callable[[int, int, str | None], None] | None = None,
    esgf_index: str | None = None,
) -> ReplayReport:
    """Replays a crate or a notebook (with its newest log, or `log`) in a fresh kernel confined
    to `workdir` (new or empty; by default a new temporary folder, which is kept).

    `progress(done, total, what)` is called as the replay goes: before the kernel starts
    (`what` "starting a kernel"), then before each cell (`what` its cell id)."""

    def tell(done: int, what: str | None) -> None:
        if progress is not None:
            progress(done, len(run.executions), what)

    default = tolerance or Tolerance()
    notebook, log_path, crate_dir = resolve(target, log)
    run = load_run(log_path)
    report = ReplayReport(
        run_id=run.run_id, notebook=str(notebook), log=str(log_path), started=_now()
    )
    report.warnings.extend(f"provenance log: {p}" for p in run.problems)
    if run.problems:
        report.warnings.append(
            "the log's hash chain is broken (edited or damaged): the replay uses it as it is"
        )
    cells = notebook_cells(notebook)
    matched = match_cells(run.executions, cells)
    notebook_meta = _notebook_metadata(notebook)
    report.inputs = resolve_inputs(
        run,
        crate_dir=crate_dir,
        inputs_dir=Path(inputs_dir) if inputs_dir else None,
        esgf_index=esgf_index,
    )
    for check in report.inputs:
        if check.status in ("missing", "changed", "retracted", "superseded"):
            report.warnings.append(f"input {check.status}: {check.location}")

    recorded_copy = _recorded_copies(crate_dir)
    last_of_cell: dict[str | None, int] = {}
    for execution in run.executions:
        last_of_cell[execution.cell_id] = execution.order
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="espri-vre-replay-work-"))
    tell(0, "starting a kernel")
    with tempfile.TemporaryDirectory(prefix="espri-vre-replay-") as private_dir:
        private = Path(private_dir)
        (private / "tmp").mkdir()
        folder = working_folder(root, run, report.inputs, private)
        report.workdir = folder.root
        folder.write(private / "workdir.json")
        # The replay records too (into its own folder), so that cells that talk to the recorder
        # behave as they did, and so that the files each cell wrote are hashed as they were.
        env = {
            "ESPRI_VRE_PROVENANCE_DIR": str(private / "record"),
            ENV: str(private / "workdir.json"),
            "ESPRI_VRE_PROVENANCE_IGNORE": str(private),
            "TMPDIR": str(private / "tmp"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with fresh_kernel(Path(folder.root), **env) as kernel:
            loaded = kernel.run("%load_ext espri_vre")
            if loaded.status != "ok":
                raise ReplayError(
                    "The replayed kernel could not be confined to its working folder: "
                    + " ".join(str(o.get("evalue", "")) for o in loaded.outputs)
                )
            current = kernel.evaluate(_LOCK_CODE) or {}
            report.environment = environment_differences(run.session, current)
            ledger = _Tail(Path(folder.ledger or ""))
            logs = logs_in(private / "record")
            replayed_log = _Tail(logs[0] if logs else None)
            ledger.read(), replayed_log.read()
            for done, execution in enumerate(run.executions):
                tell(done, execution.cell_id or f"cell {execution.order}")
                verdict = _replay_cell(
                    kernel, run, execution, cells, last_of_cell, default, timeout, notebook_meta
                )
                verdict.notes = [_note_text(n) for n in ledger.read()]
                if execution.order in matched:
                    verdict.notes.insert(0, MATCHED_NOTE)
                _compare_files(verdict, execution, replayed_log.read(), folder, recorded_copy)
                if verdict.verdict == "differs" and (verdict.declared or "").startswith("varies"):
                    verdict.reason = f"declared to vary ({verdict.declared}); " + (
                        verdict.reason or "its outputs differ"
                    )
                verdict.depends_on = [
                    i.location
                    for i in report.inputs
                    if i.status != "ok" and any(c["order"] == execution.order for c in i.cells)
                ]
                report.cells.append(verdict)
    report.finished = _now()
    return report


MATCHED_NOTE = "matched to its notebook cell by its source: the run sent no cell id"


def _recorded_copies(crate_dir: Path | None) -> Callable[[str, str | None], Path | None]:
    """Where the file a run wrote can still be read as it was: its copy in the crate, or the
    original when it still holds the recorded content."""
    _, by_hash = crate_copies(crate_dir)
    hasher = FileHasher()

    def find(original: str, sha256: str | None) -> Path | None:
        if sha256 is None:
            return None
        if sha256 in by_hash:
            return by_hash[sha256]
        try:
            if hasher.digest(original).content_hash == sha256:
                return Path(original)
        except OSError:
            return None
        return None

    return find


def _notebook_metadata(notebook: Path) -> dict[str, Any]:
    try:
        meta = json.loads(notebook.read_text("utf-8")).get("metadata")
    except (OSError, ValueError, AttributeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _note_text(note: dict[str, Any]) -> str:
    kind, path = note.get("kind"), note.get("path")
    if kind == "redirected":
        return f"wrote {path} into the working folder: {note.get('to')}"
    if kind == "refused":
        return f"refused to {note.get('verb')} {path}: {note.get('why')}"
    if kind == "unlinked":
        return f"replaced the link {path} to the input {note.get('input')} before writing"
    if kind == "input":
        return f"read {path} from {note.get('to')}"
    if kind == "command":
        return f"ran a command that espri-vre cannot confine: {path}"
    return json.dumps(note)


def _replay_cell(
    kernel: Kernel,
    run: RecordedRun,
    execution: Execution,
    cells: dict[str, dict[str, Any]],
    last_of_cell: dict[str | None, int],
    default: Tolerance,
    timeout: float,
    notebook_meta: dict[str, Any],
) -> CellVerdict:
    source = run.sources.get(execution.source_sha256)
    cell = cells.get(execution.cell_id) if execution.cell_id else None
    problem = None
    try:
        declaration = declared(cell, notebook_meta)
    except ValueError as error:
        declaration, problem = Declared(), str(error)
    tol = _tolerance(cell, default, declaration)
    verdict = CellVerdict(
        order=execution.order,
        cell_id=execution.cell_id,
        source_sha256=execution.source_sha256,
        verdict="unverifiable",
        recorded_status=execution.status,
        tolerance={"atol": tol.atol, "rtol": tol.rtol, "image_ssim": tol.image_ssim},
    )
    if declaration.varies:
        verdict.declared = "varies" + (f": {declaration.reason}" if declaration.reason else "")
    elif declaration.tolerance:
        verdict.declared = ", ".join(f"{k}={v:g}" for k, v in declaration.tolerance.items()) + (
            f": {declaration.reason}" if declaration.reason else ""
        )
    if source is None:
        verdict.reason = "the log holds no source for this cell"
        return verdict
    result = kernel.run(source, execution.cell_id, timeout)
    verdict.status = result.status
    if problem is not None:
        verdict.reason = problem
    elif cell is None:
        verdict.reason = "the cell is not in the notebook (no saved output to compare)"
    elif last_of_cell.get(execution.cell_id) != execution.order:
        verdict.reason = "the notebook keeps only the output of this cell's last execution"
    elif sha256_text(_text(cell.get("source", ""))) != execution.source_sha256:
        verdict.reason = "the notebook's cell was edited after this execution"
    elif cell.get("execution_count") not in (None, execution.execution_count):
        verdict.reason = (
            f"the notebook's output is from execution {cell.get('execution_count')}, "
            f"not {execution.execution_count}"
        )
    elif result.status != "ok" and execution.status == "ok":
        verdict.verdict = "differs"
        verdict.reason = "the replay failed where the run did not: " + "; ".join(
            f"{o.get('ename')}: {o.get('evalue')}" for o in result.outputs if o.get("ename")
        )
    elif not cell.get("outputs") and result.outputs:
        verdict.reason = "output not recorded (the notebook saved none for this cell)"
    else:
        verdict.verdict, verdict.reason, verdict.diff = compare_outputs(
            cell.get("outputs") or [], result.outputs, tol
        )
        verdict.reason = verdict.reason or None
    return verdict


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _compare_files(
    verdict: CellVerdict,
    execution: Execution,
    replayed_events: list[dict[str, Any]],
    folder: WorkFolder,
    recorded_copy: Callable[[str, str | None], Path | None],
) -> None:
    """The files the execution wrote against those its replay wrote; a differing or missing
    one makes an identical or equivalent cell differ."""
    tol = Tolerance(**(verdict.tolerance or {}))
    recorded = {
        file_location(e): e
        for e in execution.files
        if e["op"] in ("write", "update") and e.get("path")
    }
    replayed = {
        folder.original_of(e["path"]): e
        for e in replayed_events
        if e.get("kind") == "file" and e.get("op") in ("write", "update") and e.get("path")
    }
    for original in dict.fromkeys([*recorded, *replayed]):
        before, after = recorded.get(original), replayed.get(original)
        check = OutputCheck(
            original=original,
            path=after["path"] if after else None,
            verdict="identical",
            recorded_sha256=content_hash(before) if before else None,
            sha256=content_hash(after) if after else None,
        )
        if after is None:
            check.verdict, check.reason = "not-written", "the replay did not write it"
        elif before is None:
            check.verdict, check.reason = "new", "only the replay wrote it"
        elif check.sha256 != check.recorded_sha256:
            check.verdict, check.reason = compare_files(
                recorded_copy(original, check.recorded_sha256), Path(after["path"]), tol
            )
        verdict.outputs.append(check)
    bad = [o for o in verdict.outputs if o.verdict in ("differs", "not-written")]
    if bad and verdict.verdict in GOOD:
        verdict.verdict = "differs"
        verdict.reason = "; ".join(f"{o.original}: {o.reason}" for o in bad)
    elif verdict.verdict == "equivalent" or any(o.verdict == "equivalent" for o in verdict.outputs):
        if verdict.verdict == "identical":
            verdict.verdict = "equivalent"
        reasons = [verdict.reason] + [
            f"{o.original}: {o.reason}" for o in verdict.outputs if o.verdict == "equivalent"
        ]
        verdict.reason = "; ".join(r for r in reasons if r) or None


def replay_to(
    target: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any
) -> tuple[ReplayReport, Path]:
    """Replays into the report folder `out` (new, empty or an earlier report): the working
    folder is `out/work`, the report is written beside it. Returns the report and `out`."""
    existed = Path(out).exists()
    folder = prepare_folder(out)
    try:
        report = replay(target, workdir=folder / WORK, **options)
    except BaseException:
        if not existed:  # a crate that cannot be replayed leaves no empty report folder
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return report, write_report(report, folder)


def accepted(report: ReplayReport) -> bool:
    """Every cell identical or equivalent, or differing as it declared it may (`varies`)."""
    return all(
        c.verdict in GOOD or (c.verdict == "differs" and (c.declared or "").startswith("varies"))
        for c in report.cells
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
