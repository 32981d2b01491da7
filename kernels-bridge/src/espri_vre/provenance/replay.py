"""Replay of a recorded run in a fresh kernel, with a per-cell verdict.

The log holds no copies of outputs (the capture never stores them), so the reference outputs
are the ones saved in the recorded run's notebook file, keyed by cell id. A cell execution is
compared only when it is the last execution of its cell in the log, its notebook cell has the
recorded source and (when saved) the recorded execution_count: otherwise the saved outputs
belong to another execution, and the verdict is "unverifiable".

Verdicts:
- identical: the same outputs (text, images, errors) byte for byte;
- equivalent: text equal once numbers are compared within atol/rtol (numpy's isclose rule,
  so a printed array compares like `allclose`) and whitespace runs collapsed; images whose
  average hash (8x8 grayscale) differ in at most `image_bits` bits;
- differs: with a unified diff of the outputs as text;
- unverifiable: with the reason (no saved output, cell not in the notebook, edited since...).

A broken hash chain (an edited log) is a warning: the replay goes on with what the log says."""

from __future__ import annotations

import base64
import difflib
import html
import io
import json
import math
import os
import queue
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..version import __version__
from .crate import (
    Execution,
    RecordedRun,
    content_hash,
    crate_contents,
    file_location,
    latest_log,
    load_run,
    notebook_cells,
)
from .hashing import FileHasher, sha256_text
from .identifiers import identifiers_from_file

DEFAULT_ATOL = 1e-12
DEFAULT_RTOL = 1e-9
DEFAULT_IMAGE_BITS = 5
CELL_TIMEOUT = 600.0
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Tolerance:
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    image_bits: int = DEFAULT_IMAGE_BITS


@dataclass
class CellVerdict:
    order: int
    cell_id: str | None
    source_sha256: str
    verdict: str
    """identical, equivalent, differs or unverifiable."""
    reason: str | None = None
    diff: str | None = None
    status: str | None = None
    recorded_status: str | None = None
    tolerance: dict[str, float] | None = None


@dataclass
class InputCheck:
    location: str
    status: str
    """ok, missing, changed, or unchecked (a URL)."""
    recorded_sha256: str | None
    sha256: str | None = None
    identifiers: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


@dataclass
class ReplayReport:
    run_id: str
    notebook: str
    log: str
    started: str
    finished: str | None = None
    warnings: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    inputs: list[InputCheck] = field(default_factory=list)
    cells: list[CellVerdict] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(("identical", "equivalent", "differs", "unverifiable"), 0)
        for cell in self.cells:
            counts[cell.verdict] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary
        return data


# --- a fresh kernel ------------------------------------------------------------------------


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


# --- comparing outputs ---------------------------------------------------------------------


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_blocks(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Outputs as (kind, content) pairs: text, image (base64 PNG/JPEG), error."""
    blocks: list[tuple[str, str]] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            blocks.append((f"stream:{out.get('name')}", _text(out.get("text", ""))))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            for mime in ("image/png", "image/jpeg"):
                if mime in data:
                    blocks.append(("image", _text(data[mime]).replace("\n", "")))
                    break
            else:
                if "text/plain" in data:
                    blocks.append(("text", _text(data["text/plain"])))
        elif kind == "error":
            blocks.append(("error", f"{out.get('ename')}: {_ANSI.sub('', str(out.get('evalue')))}"))
    return blocks


def numbers_close(a: str, b: str, atol: float, rtol: float) -> bool:
    """Same text once numbers are taken out and whitespace removed (numpy pads columns to the
    widest number), and every pair of numbers close (isclose rule, nan equal to nan)."""
    numbers_a, numbers_b = _NUMBER.findall(a), _NUMBER.findall(b)
    skeleton_a = "".join(_NUMBER.sub("\x00", a).split())
    skeleton_b = "".join(_NUMBER.sub("\x00", b).split())
    if skeleton_a != skeleton_b or len(numbers_a) != len(numbers_b):
        return False
    for x_text, y_text in zip(numbers_a, numbers_b, strict=True):
        x, y = float(x_text), float(y_text)
        if math.isnan(x) and math.isnan(y):
            continue
        if not (x == y or abs(x - y) <= atol + rtol * abs(y)):
            return False
    return True


def average_hash(b64: str, size: int = 8) -> int | None:
    """The average hash of an image: downscaled to size x size grayscale, one bit per pixel
    brighter than the mean. None without Pillow or for an unreadable image."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
            pixels = list(image.convert("L").resize((size, size)).tobytes())
    except (OSError, ValueError):
        return None
    mean = sum(pixels) / len(pixels)
    return sum(1 << i for i, p in enumerate(pixels) if p > mean)


def compare_outputs(
    recorded: list[dict[str, Any]], replayed: list[dict[str, Any]], tolerance: Tolerance
) -> tuple[str, str | None, str | None]:
    """(verdict, reason, diff) for two output lists."""
    a, b = output_blocks(recorded), output_blocks(replayed)
    if a == b:
        return "identical", None, None
    reasons = []
    same = len(a) == len(b)
    if same:
        for (kind_a, x), (kind_b, y) in zip(a, b, strict=True):
            if kind_a != kind_b:
                same = False
            elif x == y:
                continue
            elif kind_a == "image":
                hash_a, hash_b = average_hash(x), average_hash(y)
                if hash_a is None or hash_b is None:
                    same = False
                    reasons.append("images differ and cannot be hashed (no Pillow?)")
                else:
                    bits = bin(hash_a ^ hash_b).count("1")
                    reasons.append(f"images' average hashes differ by {bits} bits")
                    same = same and bits <= tolerance.image_bits
            elif numbers_close(x, y, tolerance.atol, tolerance.rtol):
                reasons.append(f"numbers within atol={tolerance.atol:g}, rtol={tolerance.rtol:g}")
            else:
                same = False
    if same:
        return "equivalent", "; ".join(dict.fromkeys(reasons)), None
    return "differs", None, _diff(a, b)


def _diff(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    def lines(blocks: list[tuple[str, str]]) -> list[str]:
        text = []
        for kind, content in blocks:
            if kind == "image":
                text.append(f"[image sha-prefix {content[:16]}... {len(content)} base64 chars]")
            else:
                text.extend(f"[{kind}] {line}" for line in content.splitlines() or [""])
        return text

    return "\n".join(difflib.unified_diff(lines(a), lines(b), "recorded", "replayed", lineterm=""))


# --- the environment and the inputs --------------------------------------------------------

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


def check_inputs(run: RecordedRun, esgf_index: str | None = None) -> list[InputCheck]:
    """Each input the run read before writing it: present, with the recorded content hash and
    identifiers (tracking_id...). URLs are listed, not fetched. With `esgf_index` (an
    esg-search URL), an input with an ESGF instance_id is also looked up there: a retracted or
    superseded dataset version is its status (a missing or changed file stays that, with the
    index's word in the detail)."""
    hasher = FileHasher()
    checks = []
    for event in run.inputs():
        where, recorded = file_location(event), content_hash(event)
        ids = run.identifiers_for(event) or {}
        kept = {k: ids[k] for k in ("tracking_id", "instance_id", "doi", "pid") if ids.get(k)}
        if not event.get("path"):
            checks.append(InputCheck(where, "unchecked", recorded, None, kept, "a URL"))
            continue
        path = Path(event["path"])
        if not path.exists():
            checks.append(InputCheck(where, "missing", recorded, None, kept, "not found"))
            continue
        try:
            now = hasher.digest(path).content_hash
        except OSError as error:
            checks.append(InputCheck(where, "missing", recorded, None, kept, str(error)))
            continue
        detail = None
        status = "ok" if now == recorded else "changed"
        if kept.get("tracking_id"):
            try:
                current_id = identifiers_from_file(path).tracking_id
            except (OSError, ImportError):
                current_id = None
            if current_id != kept["tracking_id"]:
                status = "changed"
                detail = f"tracking_id is now {current_id!r}"
            elif status == "changed":
                detail = "same tracking_id, different content"
        checks.append(InputCheck(where, status, recorded, now, kept, detail))
    if esgf_index:
        _check_in_index(checks, esgf_index)
    return checks


def _check_in_index(checks: list[InputCheck], index: str) -> None:
    from .esgf_status import dataset_status

    asked: dict[str, Any] = {}
    for check in checks:
        instance_id = check.identifiers.get("instance_id")
        if not instance_id:
            continue
        if instance_id not in asked:
            asked[instance_id] = dataset_status(index, instance_id)
        found = asked[instance_id]
        check.identifiers["esgf_status"] = found.status
        if found.status in ("retracted", "superseded"):
            if check.status in ("ok", "unchecked"):
                check.status = found.status
            check.detail = "; ".join(filter(None, [check.detail, found.detail]))
        elif found.status == "unknown":
            check.detail = "; ".join(filter(None, [check.detail, found.detail]))


# --- the replay ----------------------------------------------------------------------------


def _tolerance(cell: dict[str, Any] | None, default: Tolerance) -> Tolerance:
    meta = ((cell or {}).get("metadata") or {}).get("espri_vre") or {}
    return Tolerance(
        atol=float(meta.get("atol", default.atol)),
        rtol=float(meta.get("rtol", default.rtol)),
        image_bits=int(meta.get("image_bits", default.image_bits)),
    )


def resolve(target: str | os.PathLike[str], log: str | os.PathLike[str] | None = None):
    """(notebook, log) from a crate directory, its metadata file, or a notebook."""
    path = Path(target)
    if path.name == "ro-crate-metadata.json":
        path = path.parent
    if path.is_dir():
        contents = crate_contents(path)
        return contents.notebook, Path(log) if log else contents.log
    return path, Path(log) if log else latest_log(path)


def replay(
    target: str | os.PathLike[str],
    *,
    log: str | os.PathLike[str] | None = None,
    tolerance: Tolerance | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = CELL_TIMEOUT,
    progress: Callable[[int, int, str | None], None] | None = None,
    esgf_index: str | None = None,
) -> ReplayReport:
    """Replays a crate or a notebook (with its newest log, or `log`) in a fresh kernel.

    `progress(done, total, what)` is called as the replay goes: before the kernel starts
    (`what` "starting a kernel"), then before each cell (`what` its cell id)."""

    def tell(done: int, what: str | None) -> None:
        if progress is not None:
            progress(done, len(run.executions), what)

    default = tolerance or Tolerance()
    notebook, log_path = resolve(target, log)
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
    report.inputs = check_inputs(run, esgf_index)
    for check in report.inputs:
        if check.status in ("missing", "changed", "retracted", "superseded"):
            report.warnings.append(f"input {check.status}: {check.location}")

    last_of_cell: dict[str | None, int] = {}
    for execution in run.executions:
        last_of_cell[execution.cell_id] = execution.order
    recorded_cwd = run.session.get("cwd")
    if cwd is None:
        cwd = recorded_cwd if recorded_cwd and Path(recorded_cwd).is_dir() else notebook.parent
    # The replay records too (into a folder of its own, not next to the notebook), so that
    # cells that talk to the recorder (%provenance, record_dataset) behave as they did.
    tell(0, "starting a kernel")
    with (
        tempfile.TemporaryDirectory(prefix="espri-vre-replay-") as record_dir,
        fresh_kernel(Path(cwd), ESPRI_VRE_PROVENANCE_DIR=record_dir) as kernel,
    ):
        kernel.run("%load_ext espri_vre")
        current = kernel.evaluate(_LOCK_CODE) or {}
        report.environment = environment_differences(run.session, current)
        for done, execution in enumerate(run.executions):
            tell(done, execution.cell_id or f"cell {execution.order}")
            report.cells.append(
                _replay_cell(kernel, run, execution, cells, last_of_cell, default, timeout)
            )
    report.finished = _now()
    return report


def _replay_cell(
    kernel: Kernel,
    run: RecordedRun,
    execution: Execution,
    cells: dict[str, dict[str, Any]],
    last_of_cell: dict[str | None, int],
    default: Tolerance,
    timeout: float,
) -> CellVerdict:
    source = run.sources.get(execution.source_sha256)
    cell = cells.get(execution.cell_id) if execution.cell_id else None
    tol = _tolerance(cell, default)
    verdict = CellVerdict(
        order=execution.order,
        cell_id=execution.cell_id,
        source_sha256=execution.source_sha256,
        verdict="unverifiable",
        recorded_status=execution.status,
        tolerance={"atol": tol.atol, "rtol": tol.rtol, "image_bits": tol.image_bits},
    )
    if source is None:
        verdict.reason = "the log holds no source for this cell"
        return verdict
    result = kernel.run(source, execution.cell_id, timeout)
    verdict.status = result.status
    if cell is None:
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
    elif not cell.get("outputs") and result.outputs:
        verdict.reason = "output not recorded (the notebook saved none for this cell)"
    else:
        verdict.verdict, verdict.reason, verdict.diff = compare_outputs(
            cell.get("outputs") or [], result.outputs, tol
        )
        verdict.reason = verdict.reason or None
    return verdict


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the report ----------------------------------------------------------------------------

_STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}
.identical{background:#d8f5d8}.equivalent{background:#e8f0c8}.differs{background:#f8d0d0}
.unverifiable{background:#e4e4e4}pre{background:#f4f4f4;padding:.5em;overflow:auto}
.del{color:#a00}.add{color:#070}"""


def report_html(report: ReplayReport) -> str:
    """A self-contained page (no script, no external resource); every value is escaped."""
    e = html.escape
    summary = ", ".join(f"{k}: {v}" for k, v in report.summary.items())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Replay of {e(report.run_id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Replay of run {e(report.run_id)}</h1>",
        f"<p>Notebook {e(report.notebook)}; log {e(report.log)}; "
        f"replayed {e(report.started)} to {e(str(report.finished))}.</p>",
        f"<p><strong>{e(summary)}</strong></p>",
    ]
    if report.warnings:
        parts.append("<h2>Warnings</h2><ul>")
        parts.extend(f"<li>{e(w)}</li>" for w in report.warnings)
        parts.append("</ul>")
    env = report.environment
    parts.append("<h2>Environment</h2>")
    python = env.get("python") or {}
    parts.append(
        f"<p>Python recorded {e(str(python.get('recorded')))}, "
        f"now {e(str(python.get('current')))}.</p>"
    )
    if env.get("changed"):
        parts.append("<table><tr><th>package</th><th>recorded</th><th>now</th></tr>")
        parts.extend(
            f"<tr><td>{e(c['name'])}</td><td>{e(c['recorded'])}</td><td>{e(c['current'])}</td></tr>"
            for c in env["changed"]
        )
        parts.append("</table>")
    for label in ("missing", "added"):
        if env.get(label):
            parts.append(f"<p>{label.capitalize()}: {e(', '.join(env[label]))}</p>")
    parts.append("<h2>Inputs</h2><table><tr><th>file</th><th>status</th><th>detail</th></tr>")
    parts.extend(
        f"<tr class='{'identical' if i.status == 'ok' else 'differs'}'><td>{e(i.location)}</td>"
        f"<td>{e(i.status)}</td><td>{e(i.detail or '')} {e(json.dumps(i.identifiers))}</td></tr>"
        for i in report.inputs
    )
    parts.append("</table><h2>Cells</h2>")
    parts.append("<table><tr><th>order</th><th>cell</th><th>verdict</th><th>why</th></tr>")
    for cell in report.cells:
        parts.append(
            f"<tr class='{e(cell.verdict)}'><td>{cell.order}</td><td>{e(str(cell.cell_id))}</td>"
            f"<td>{e(cell.verdict)}</td><td>{e(cell.reason or '')}"
        )
        if cell.diff:
            lines = []
            for line in cell.diff.splitlines():
                css = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
                lines.append(f"<span class='{css}'>{e(line)}</span>")
            parts.append(f"<pre>{chr(10).join(lines)}</pre>")
        parts.append("</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(report: ReplayReport, out: str | os.PathLike[str]) -> Path:
    """Writes `out/` as a crate: report.json, report.html, and the replayed notebook and log
    (under recorded/), with a CreateAction for the replay. Returns `out`."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    folder = Path(out)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(report.to_dict(), indent=1), "utf-8")
    (folder / "report.html").write_text(report_html(report), "utf-8")
    crate = ROCrate(version="1.1")
    crate.add_file(
        folder / "report.json",
        "report.json",
        properties={"name": "replay report", "encodingFormat": "application/json"},
    )
    crate.add_file(
        folder / "report.html",
        "report.html",
        properties={"name": "replay report (page)", "encodingFormat": "text/html"},
    )
    recorded = []
    for source in (Path(report.notebook), Path(report.log)):
        dest = f"recorded/{source.name}"
        crate.add_file(source, dest, properties={"name": f"recorded {source.name}"})
        recorded.append({"@id": dest})
    crate.add(
        ContextEntity(
            crate,
            "#espri-vre",
            properties={
                "@type": "SoftwareApplication",
                "name": "espri-vre replay",
                "softwareVersion": __version__,
            },
        )
    )
    crate.add(
        ContextEntity(
            crate,
            "#replay",
            properties={
                "@type": "CreateAction",
                "name": f"replay of run {report.run_id}",
                "instrument": {"@id": "#espri-vre"},
                "object": recorded,
                "result": [{"@id": "report.json"}, {"@id": "report.html"}],
                "startTime": report.started,
                "endTime": report.finished,
                "description": ", ".join(f"{k}: {v}" for k, v in report.summary.items()),
            },
        )
    )
    crate.root_dataset["name"] = f"Replay report of run {report.run_id}"
    crate.root_dataset["description"] = "Per-cell reproducibility report made by espri-vre"
    crate.root_dataset["mentions"] = [{"@id": "#replay"}]
    crate.write(folder)
    return folder
