"""The course's pinned datasets, from a notebook of the course:

    from espri_vre.course import dataset, open_dataset
    ds = open_dataset("tas")      # xarray, on the very file the teacher pinned

The course record (.espri-vre-course.json, written when the course link was opened) is found
in the working directory or one of its parents. A pinned hash is checked again before the
file is given out, once per file version (path, size, modification time) per kernel.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .apply import RECORD_NAME, sha256_of
from .model import CourseError

_verified: dict[tuple[str, int, int], str] = {}


def course_record(start: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]]:
    """(path, content) of the applied course that `start` (default: the working directory)
    lies in."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        record = folder / RECORD_NAME
        if record.is_file():
            return record, json.loads(record.read_text(encoding="utf-8"))
    raise CourseError(
        f"no applied course in {here} or its parents: open the course link of the class first "
        f"(it writes {RECORD_NAME} in the course's folder)"
    )


def dataset(name: str, start: str | os.PathLike[str] | None = None) -> Path:
    """The path of the pinned dataset `name`, after checking it is still the pinned file."""
    _, record = course_record(start)
    pins = {d["name"]: d for d in record.get("datasets", [])}
    if name not in pins:
        known = ", ".join(sorted(pins)) or "none"
        raise CourseError(f"the course {record.get('id')!r} pins no dataset {name!r} ({known})")
    pin = pins[name]
    path = Path(pin.get("file") or "")
    if not pin.get("file") or not path.is_file():
        raise CourseError(f"the pinned dataset {name!r} is not on this server: {pin.get('detail')}")
    if pin.get("sha256"):
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        digest = _verified.get(key) or sha256_of(path)
        if digest != pin["sha256"]:
            raise CourseError(
                f"{path} is no longer the pinned dataset {name!r}: its SHA-256 is {digest}, "
                f"the course pins {pin['sha256']}"
            )
        _verified[key] = digest
    return path


def open_dataset(name: str, **kwargs: Any) -> Any:
    """xarray.open_dataset on the pinned dataset `name` (keyword arguments passed on)."""
    import xarray as xr

    return xr.open_dataset(dataset(name), **kwargs)
