"""The inputs of a replay: which copy of each recorded input the replayed kernel reads, whether
it holds what the run read, and which cells read it.

A recorded input copied into the crate is read from there (the copy whose `contentUrl` is the
recorded path, else one with the recorded hash): what the crate holds is what is reviewed, and
a copy that no longer holds the recorded content makes the input "changed". Another input is
looked for in a folder the reviewer points to (a file of the recorded size and hash, wherever
it is in that folder), then at its recorded path: the first copy that holds the recorded
content is used; when none does, the first copy found is used and the input is "changed"; when
there is none, it is "missing". The report says which copy was used
(`source`, `used`) and links the input to every cell that read it, directly or through a file
written from it (`cells`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .crate import Execution, RecordedRun, content_hash, file_location
from .hashing import FileHasher
from .identifiers import identifiers_from_file

IDENTIFIERS_KEPT = ("tracking_id", "instance_id", "doi", "pid")


@dataclass
class InputCheck:
    location: str
    status: str
    """ok, missing, changed, unchecked (a URL), retracted or superseded (the ESGF index)."""
    recorded_sha256: str | None
    sha256: str | None = None
    identifiers: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None
    source: str | None = None
    """Where the copy used was found: crate, folder or original; None when missing."""
    used: str | None = None
    """The file the replayed kernel read for this input."""
    cells: list[dict[str, Any]] = field(default_factory=list)
    """The cell executions that read it: {order, cell_id, through} (through: the file written
    from it that the cell read, None when the cell read the input itself)."""


def crate_copies(crate_dir: Path | None) -> tuple[dict[str, Path], dict[str, Path]]:
    """The files copied into a crate: by recorded path (their contentUrl) and by sha256."""
    by_path: dict[str, Path] = {}
    by_hash: dict[str, Path] = {}
    if crate_dir is None:
        return by_path, by_hash
    graph = json.loads((crate_dir / "ro-crate-metadata.json").read_text("utf-8"))["@graph"]
    for entity in graph:
        entity_id = str(entity.get("@id", ""))
        types = entity.get("@type")
        types = types if isinstance(types, list) else [types]
        if "File" not in types or "://" in entity_id or entity_id.startswith(("#", "/")):
            continue
        copy = (crate_dir / entity_id).resolve()
        if not copy.is_relative_to(crate_dir.resolve()) or not copy.is_file():
            continue  # the metadata names a file outside the crate, or one that is gone
        url = entity.get("contentUrl")
        if isinstance(url, str) and url.startswith("file://"):
            by_path.setdefault(unquote(urlparse(url).path), copy)
        if isinstance(entity.get("sha256"), str):
            by_hash.setdefault(entity["sha256"], copy)
    return by_path, by_hash


class _Folder:
    """The reviewer's folder of inputs, indexed by file size (hashed only on a size match)."""

    def __init__(self, folder: Path | None) -> None:
        self._sizes: dict[int, list[Path]] | None = None
        self._folder = folder

    def candidates(self, size: Any) -> list[Path]:
        if self._folder is None or not isinstance(size, int):
            return []
        if self._sizes is None:
            self._sizes = {}
            for top, _, names in os.walk(self._folder):
                for name in names:
                    path = Path(top, name)
                    try:
                        self._sizes.setdefault(path.stat().st_size, []).append(path)
                    except OSError:
                        continue
        return sorted(self._sizes.get(size, []))


def resolve_inputs(
    run: RecordedRun,
    *,
    crate_dir: Path | None = None,
    inputs_dir: Path | None = None,
    esgf_index: str | None = None,
) -> list[InputCheck]:
    """Each input the run read before writing it, with the copy the replay uses (see the
    module's doc). URLs are listed, not fetched. With `esgf_index` (an esg-search URL), an input
    with an ESGF instance_id is also looked up there: a retracted or superseded dataset version
    is its status (a missing or changed file stays that, with the index's word in the detail)."""
    hasher = FileHasher()
    by_path, by_hash = crate_copies(crate_dir)
    folder = _Folder(inputs_dir)
    checks = []
    for event in run.inputs():
        where, recorded = file_location(event), content_hash(event)
        ids = run.identifiers_for(event) or {}
        kept = {k: ids[k] for k in IDENTIFIERS_KEPT if ids.get(k)}
        if not event.get("path"):
            checks.append(InputCheck(where, "unchecked", recorded, None, kept, "a URL"))
            continue
        in_crate = by_path.get(where) or (by_hash.get(recorded) if recorded else None)
        if in_crate is not None:
            # what the crate holds is what is reviewed: a changed copy is not replaced
            candidates = [("crate", in_crate)]
        else:
            candidates = [("folder", p) for p in folder.candidates(event.get("size"))]
            candidates.append(("original", Path(where)))
        check = _first_match(candidates, where, recorded, kept, hasher)
        checks.append(check)
    if esgf_index:
        _check_in_index(checks, esgf_index)
    link_cells(checks, run.executions)
    return checks


def _first_match(
    candidates: list[tuple[str, Path]],
    where: str,
    recorded: str | None,
    kept: dict[str, Any],
    hasher: FileHasher,
) -> InputCheck:
    found: list[tuple[str, Path, str]] = []
    problems = []
    for source, path in candidates:
        if not path.exists():
            continue
        try:
            now = hasher.digest(path).content_hash
        except OSError as error:
            problems.append(f"{source} copy not readable: {error.strerror or error}")
            continue
        if now == recorded:
            check = InputCheck(where, "ok", recorded, now, kept, None, source, str(path))
            return _tracking(check, path)
        found.append((source, path, now))
    if not found:
        return InputCheck(where, "missing", recorded, None, kept, "; ".join(problems) or None)
    source, path, now = found[0]
    check = InputCheck(where, "changed", recorded, now, kept, None, source, str(path))
    return _tracking(check, path)


def _tracking(check: InputCheck, path: Path) -> InputCheck:
    """A changed tracking_id makes the input changed; the same one is said in the detail."""
    recorded_id = check.identifiers.get("tracking_id")
    if not recorded_id:
        return check
    try:
        current_id = identifiers_from_file(path).tracking_id
    except (OSError, ImportError):
        current_id = None
    if current_id != recorded_id:
        check.status, check.detail = "changed", f"tracking_id is now {current_id!r}"
    elif check.status == "changed":
        check.detail = "same tracking_id, different content"
    return check


def link_cells(checks: list[InputCheck], executions: list[Execution]) -> None:
    """Fills each check's `cells`: the executions that read the input, and those that read a
    file written (after it was read) by an execution that depended on it."""
    for check in checks:
        tainted = {check.location: None}
        for execution in executions:
            reads = [file_location(e) for e in execution.files if e["op"] != "write"]
            hit = next((r for r in reads if r in tainted), None)
            if hit is None:
                continue
            check.cells.append(
                {"order": execution.order, "cell_id": execution.cell_id, "through": tainted[hit]}
            )
            for event in execution.files:
                written = file_location(event)
                if event["op"] in ("write", "update") and written != check.location:
                    tainted.setdefault(written, written)


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
