"""The replay report: per cell a verdict, the files it wrote and where they went; the inputs and
the copy of each that was used; the environment. Written as a crate of its own (report.json,
report.html, the recorded notebook and log) beside the replay's working folder."""

from __future__ import annotations

import html
import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..version import __version__
from .replay_inputs import InputCheck

WORK = "work"
"""The replay's working folder, inside the report's folder."""
REPORT_ENTRIES = {"report.json", "report.html", "ro-crate-metadata.json", "recorded", WORK}
"""What a report's folder holds: only such a folder is replaced by a new report."""


class ReportFolderError(ValueError):
    """The report's folder holds something else than an earlier report."""


@dataclass
class OutputCheck:
    """A file the recorded execution or its replay wrote."""

    original: str
    """The path the run wrote (or, for a file only the replay wrote, would have written)."""
    path: str | None
    """Where the replay wrote it, inside its working folder; None when it did not."""
    verdict: str
    """identical, equivalent, differs, not-written (only the run wrote it), new (only the
    replay did)."""
    recorded_sha256: str | None = None
    sha256: str | None = None
    reason: str | None = None


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
    outputs: list[OutputCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the confinement did in this cell: writes redirected, changes refused, commands
    run in a shell (which it cannot follow)."""
    declared: str | None = None
    """What the cell (or its notebook) declared of its replay: "varies: <reason>", or its
    tolerances; a cell declared to vary may differ without failing the replay."""
    depends_on: list[str] = field(default_factory=list)
    """The changed or missing inputs this cell read, directly or through a file written from
    one."""


@dataclass
class ReplayReport:
    run_id: str
    notebook: str
    log: str
    started: str
    finished: str | None = None
    workdir: str | None = None
    """The replay's working folder: every file the replay wrote is inside it."""
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
    parts.append(
        "<h2>Inputs</h2><table><tr><th>file</th><th>status</th><th>copy used</th>"
        "<th>read by cells</th><th>detail</th></tr>"
    )
    for i in report.inputs:
        cells = ", ".join(
            f"{c['order']}" + (f" (through {c['through']})" if c.get("through") else "")
            for c in i.cells
        )
        used = f"{i.source}: {i.used}" if i.used else ""
        parts.append(
            f"<tr class='{'identical' if i.status == 'ok' else 'differs'}'><td>{e(i.location)}</td>"
            f"<td>{e(i.status)}</td><td>{e(used)}</td><td>{e(cells)}</td>"
            f"<td>{e(i.detail or '')} {e(json.dumps(i.identifiers))}</td></tr>"
        )
    parts.append("</table><h2>Cells</h2>")
    parts.append("<table><tr><th>order</th><th>cell</th><th>verdict</th><th>why</th></tr>")
    for cell in report.cells:
        parts.append(
            f"<tr class='{e(cell.verdict)}'><td>{cell.order}</td><td>{e(str(cell.cell_id))}</td>"
            f"<td>{e(cell.verdict)}</td><td>{e(cell.reason or '')}"
        )
        for note in [*cell.notes, *(f"reads the input {d}" for d in cell.depends_on)]:
            parts.append(f"<br>{e(note)}")
        if cell.diff:
            lines = []
            for line in cell.diff.splitlines():
                css = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
                lines.append(f"<span class='{css}'>{e(line)}</span>")
            parts.append(f"<pre>{chr(10).join(lines)}</pre>")
        parts.append("</td></tr>")
    parts.append("</table>")
    written = [(cell, out) for cell in report.cells for out in cell.outputs]
    if written:
        parts.append(
            f"<h2>Files written</h2><p>Every file the replay wrote is in its working folder "
            f"{e(str(report.workdir))}.</p><table><tr><th>cell</th><th>recorded path</th>"
            "<th>written by the replay to</th><th>verdict</th><th>why</th></tr>"
        )
        parts.extend(
            f"<tr class='{'identical' if o.verdict in ('identical', 'equivalent') else 'differs'}'>"
            f"<td>{cell.order}</td><td>{e(o.original)}</td><td>{e(o.path or '')}</td>"
            f"<td>{e(o.verdict)}</td><td>{e(o.reason or '')}</td></tr>"
            for cell, o in written
        )
        parts.append("</table>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def prepare_folder(out: str | os.PathLike[str]) -> Path:
    """The report's folder, emptied: it may be new, empty, or an earlier report (which is
    replaced); anything else is refused, so that a mistyped --report loses nothing."""
    folder = Path(out)
    if folder.exists():
        if not folder.is_dir():
            raise ReportFolderError(f"{folder} is a file, not a folder for a replay report")
        entries = list(folder.iterdir())
        ours = all(p.name in REPORT_ENTRIES or p.name.startswith(".partial-") for p in entries)
        if entries and not ((folder / "report.json").is_file() and ours):
            raise ReportFolderError(
                f"{folder} is not empty and is not an earlier replay report: "
                "choose a new folder for the report"
            )
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_report(report: ReplayReport, out: str | os.PathLike[str]) -> Path:
    """Writes the report into `out/` (made by `prepare_folder`, beside the working folder) as a
    crate: report.json, report.html, and the replayed notebook and log (under recorded/), with a
    CreateAction for the replay. The crate is written in a hidden folder inside `out` and moved
    into place, its metadata last: a report cut short (a full disk) has no
    ro-crate-metadata.json. Returns `out`."""
    final = Path(out)
    folder = final / f".partial-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    try:
        _write_report_crate(report, folder)
        names = sorted(p.name for p in folder.iterdir())
        names.remove("ro-crate-metadata.json")
        for name in [*names, "ro-crate-metadata.json"]:
            if (final / name).is_dir():
                shutil.rmtree(final / name)
            os.replace(folder / name, final / name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return final


def _write_report_crate(report: ReplayReport, folder: Path) -> None:
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

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
