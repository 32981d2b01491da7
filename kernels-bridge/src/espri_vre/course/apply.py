"""Applies a pulled course for the student whose server this is: checks the pinned datasets,
records the course beside its notebooks (what `espri_vre.course.dataset` reads in the kernel)
and offers the course's job presets in the Submit-as-job form (the user's JupyterLab settings).

`plan_course` reads and checks the course without writing anything (what the confirmation page
shows); `apply_course` writes. Sentences name files as the user or the teacher gave them
(relative to the home, or inside a data root by its id), never by a real path of the server.
No HTTP here; the route is in espri_vre.server.course_handlers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import json5

from ..data.paths import DataError, resolve_data_path
from .model import Course, CourseError, read_course

RECORD_NAME = ".espri-vre-course.json"
"""Written in the course's folder: the course as applied, with each pin's state."""
SUBMIT_SETTINGS = Path("@espri-vre") / "jobs" / "submit.jupyterlab-settings"
"""The Submit-as-job form's settings (extensions/jobs/schema/submit.json), in the user's dir."""


@dataclass(frozen=True)
class PinCheck:
    name: str
    path: str
    """The file's absolute path on this server ('' when its root is not configured)."""
    state: str
    """verified (hash matches), present (no hash pinned), changed, missing, refused."""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in ("verified", "present")


@dataclass(frozen=True)
class Planned:
    """A pulled course read and checked, before anything is written."""

    course: Course
    folder: Path
    """The course's folder: the pulled repository."""
    open_path: str
    """What to open next, relative to the server root (POSIX): the course's first notebook,
    else its folder."""


@dataclass(frozen=True)
class Applied:
    course: Course
    folder: Path
    """The course's folder: the pulled repository."""
    pins: tuple[PinCheck, ...]
    record: Path
    settings: Path
    open_path: str
    """What to open next, relative to the server root (POSIX): the course's first notebook,
    else its folder."""

    @property
    def problems(self) -> list[str]:
        return [f"{p.name}: {p.detail}" for p in self.pins if not p.ok]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_pins(course: Course, root_dir: Path, data_roots: Mapping[str, str]) -> list[PinCheck]:
    """Each pinned dataset found in its data root (confined: no way out of it) and hashed."""
    checks = []
    for pin in course.datasets:
        root = data_roots.get(pin.root)
        if root is None:
            known = ", ".join(sorted(data_roots)) or "none"
            detail = f"this server has no data root {pin.root!r} (it has: {known})"
            checks.append(PinCheck(pin.name, "", "refused", detail))
            continue
        target = str(Path(root) / pin.path)
        shown = f"{pin.path} (data root {pin.root!r})"
        try:
            real = resolve_data_path(target, root, [root], shown=shown).path
        except DataError as error:
            state = "missing" if error.status == 404 else "refused"
            checks.append(PinCheck(pin.name, target, state, error.detail))
            continue
        if not real.is_file():
            checks.append(PinCheck(pin.name, str(real), "missing", f"{shown} is not a file"))
        elif pin.sha256 is None:
            checks.append(PinCheck(pin.name, str(real), "present"))
        else:
            digest = sha256_of(real)
            if digest == pin.sha256:
                checks.append(PinCheck(pin.name, str(real), "verified"))
            else:
                detail = f"{shown} has SHA-256 {digest}, the course pins {pin.sha256}"
                checks.append(PinCheck(pin.name, str(real), "changed", detail))
    return checks


def course_folder(course_file: Path, course: Course, shown: str | None = None) -> Path:
    """The pulled repository: the course file's path less its place in the repository."""
    inside = PurePosixPath(course.notebooks.course_file)
    if tuple(course_file.parts[-len(inside.parts) :]) != inside.parts:
        raise CourseError(
            f"{shown or course_file} is not the course's file {inside} (notebooks/course_file)",
            "path",
        )
    return course_file.parents[len(inside.parts) - 1]


def write_presets(settings_dir: Path, course: Course) -> Path:
    """The course's presets become the form's presets (the student's own presets are replaced,
    every other setting of the form is kept)."""
    path = settings_dir / SUBMIT_SETTINGS
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json5.loads(path.read_text(encoding="utf-8") or "{}")
            current = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            current = {}  # a broken settings file is replaced, as JupyterLab would refuse it
    current["presets"] = [dict(p) for p in course.presets]
    _write_atomic(path, json.dumps(current, indent=2) + "\n")
    return path


def plan_course(course_path: str, root_dir: str | os.PathLike[str]) -> Planned:
    """Reads and checks the course file at `course_path` (relative to root_dir, as nbgitpuller
    put it), writing nothing. Raises CourseError (a bad file) or DataError (a path outside
    root_dir, hidden, or missing)."""
    root = Path(root_dir)
    resolved = resolve_data_path(course_path, root, [], allow_hidden=False)
    if resolved.files_path is None:
        raise CourseError(f"{course_path} is not inside this server's root", "path")
    course = read_course(resolved.path, course_path)
    folder = course_folder(root / resolved.files_path, course, course_path)
    open_path = folder.relative_to(root).as_posix()
    if course.notebooks.open:
        candidate = folder / course.notebooks.open
        if candidate.is_file():
            open_path = candidate.relative_to(root).as_posix()
    return Planned(course, folder, open_path)


def apply_course(
    course_path: str,
    root_dir: str | os.PathLike[str],
    data_roots: Mapping[str, str],
    settings_dir: str | os.PathLike[str],
) -> Applied:
    """Applies the course file at `course_path` (see `plan_course`)."""
    planned = plan_course(course_path, root_dir)
    course, folder = planned.course, planned.folder
    pins = tuple(check_pins(course, Path(root_dir), data_roots))
    record = folder / RECORD_NAME
    payload = course.as_record()
    payload["datasets"] = [
        {**entry, "file": check.path, "state": check.state, "detail": check.detail}
        for entry, check in zip(payload["datasets"], pins, strict=True)
    ]
    _write_atomic(record, json.dumps(payload, indent=2) + "\n")
    settings = write_presets(Path(settings_dir), course)
    return Applied(course, folder, pins, record, settings, planned.open_path)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
