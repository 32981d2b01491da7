"""`espri-vre verify`: what a reviewer checks of a log or a crate before trusting it.

For a log: the hash chain, the sequence and run id of every line, and its end against the hash
kept when it was closed (store.verify); whether the kernel ended it, and which cells started
and never ended (a kernel killed mid-cell). For a crate: the same for its log, and that each
file copied into it still has the sha256 its metadata gives."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .crate import crate_contents
from .store import Verification, read_log, verify


@dataclass
class TargetCheck:
    log: Path
    verification: Verification
    unfinished: list[str] = field(default_factory=list)
    """The cells that started and have no end: '<order> (<cell id>) started <time>'."""
    crate_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verification.ok and not self.crate_problems


def unfinished_cells(log: Path) -> list[str]:
    started: dict[int, str] = {}
    for event in read_log(log).events():
        if event.get("kind") == "cell_start":
            started[event["order"]] = (
                f"{event['order']} ({event.get('cell_id')}) started {event.get('start')}"
            )
        elif event.get("kind") == "cell_end":
            started.pop(event.get("order"), None)
    return [started[order] for order in sorted(started)]


def check_target(target: str | os.PathLike[str]) -> TargetCheck:
    """Raises OSError or ValueError when the target cannot be read as a log or a crate."""
    path = Path(target)
    if path.name == "ro-crate-metadata.json":
        path = path.parent
    problems: list[str] = []
    if path.is_dir():
        log = crate_contents(path).log
        problems = _crate_files(path)
    else:
        log = path
    return TargetCheck(log, verify(log, schema=True), unfinished_cells(log), problems)


def _crate_files(crate: Path) -> list[str]:
    graph = json.loads((crate / "ro-crate-metadata.json").read_text("utf-8"))["@graph"]
    problems = []
    for entity in graph:
        entity_id, recorded = str(entity.get("@id", "")), entity.get("sha256")
        if not isinstance(recorded, str) or "://" in entity_id or entity_id.startswith("#"):
            continue
        copy = crate / entity_id
        if not copy.is_file():
            problems.append(f"{entity_id}: named in the metadata, absent from the crate")
            continue
        digest = hashlib.sha256()
        with copy.open("rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                digest.update(block)
        if digest.hexdigest() != recorded:
            problems.append(f"{entity_id}: its sha256 is not the {recorded} of the metadata")
    return problems
