"""A kernel that records but has no log yet says so beside its connection file.

The log and its `<notebook>.provenance` folder open with the first cell (a notebook merely
opened leaves nothing in the user's folders), so until then the runs on disk cannot tell the
notebook's recording indicator that the kernel records. The kernel writes
`espri-vre-waiting-<kernel id>.json` in the folder of its connection file (Jupyter's runtime
folder, which the server that started it shares) when it starts recording, and removes it when
the log opens or recording ends. The server reads it for the kernel a page asks about; a file
left by a killed kernel is never asked about again (a new kernel has a new id) and goes with the
runtime folder.

The file is also how a notebook renamed before its first cell tells its kernel the new name:
the server rewrites the notebook named in the waiting files of the kernels that record it
(`retarget`, on the Contents API's rename event), and the kernel reads its file back when the
log opens (`renamed_to`), so the log opens beside the new name, never the old one."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from . import events

_KERNEL_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _connection_dir() -> Path | None:
    try:
        from ipykernel.connect import get_connection_file

        return Path(get_connection_file()).resolve().parent
    except Exception:  # not in an ipykernel, or it has no connection file
        return None


def _file(directory: Path, kernel_id: str) -> Path:
    if not _KERNEL_ID.fullmatch(kernel_id):
        raise ValueError(f"{kernel_id!r} is not a kernel id")
    return directory / f"espri-vre-waiting-{kernel_id}.json"


def announce(notebook: Path | None) -> Path | None:
    """Says that this kernel records `notebook` and its log is not open yet; the file written,
    or None outside a kernel with a connection file or where it cannot be written (the
    indicator then shows "off" until the first cell, as before: nothing of the capture
    depends on it)."""
    kernel, directory = events.kernel_id(), _connection_dir()
    if kernel is None or directory is None:
        return None
    path = _file(directory, kernel)
    body = {
        "kernel_id": kernel,
        "notebook": str(notebook) if notebook else None,
        "since": time.time(),
    }
    return path if _write(path, body) else None


def _write(path: Path, body: dict[str, Any]) -> bool:
    """Whole or not at all (a reader never sees half a file)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        partial.write_text(json.dumps(body), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        return False
    return True


RENAMES = "espri-vre-renames.json"
"""The notebooks renamed lately, {old real path: new real path}: a rename made before the
kernel announced itself (JupyterLab renames its new Untitled.ipynb at once) found no waiting
file to rewrite, and the kernel reads it here instead."""
MAX_RENAMES = 200


def _renames(runtime_dir: Path) -> dict[str, str]:
    try:
        said = json.loads((runtime_dir / RENAMES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(said, dict):
        return {}
    return {k: v for k, v in said.items() if isinstance(k, str) and isinstance(v, str)}


def renamed_to(path: Path | None, notebook: Path | None) -> Path | None:
    """The notebook's new path when the server said it was renamed since the kernel announced
    `notebook` (its waiting file rewritten by `retarget`, or the renames it noted), else None."""
    if path is None or notebook is None:
        return None
    said = waiting(path.parent, path.name.removeprefix("espri-vre-waiting-").removesuffix(".json"))
    now = said["notebook"] if said and said["notebook"] != str(notebook) else str(notebook)
    # The note is read only for a notebook that is gone: an existing file of the same name is
    # another notebook (JupyterLab's next Untitled.ipynb), which a stale note must not rename.
    renames = _renames(path.parent) if not Path(now).is_file() else {}
    for _ in range(MAX_RENAMES):  # a chain of renames (a -> b -> c), never a loop
        if now not in renames:
            break
        now = renames[now]
    return Path(now) if now != str(notebook) and Path(now).is_file() else None


def retarget(runtime_dir: Path, old: Path, new: Path) -> list[str]:
    """Tells the kernels waiting to record notebook `old` (real path) that it is now `new`, and
    notes the rename for kernels not announced yet; the ids of the kernels told. A file that
    cannot be rewritten is left as it was (that kernel then records under the old name, and
    follow.py moves its folder if it was already made)."""
    renames = _renames(runtime_dir)
    renames.pop(str(new), None)  # a name used again is a new notebook: no older rename of it
    renames[str(old)] = str(new)
    # Concurrent renames may each write their own version: one rename lost from this note only
    # means that kernel records under the old name, as before.
    _write(runtime_dir / RENAMES, dict(list(renames.items())[-MAX_RENAMES:]))
    told = []
    for path in runtime_dir.glob("espri-vre-waiting-*.json"):
        kernel_id = path.name.removeprefix("espri-vre-waiting-").removesuffix(".json")
        try:
            said = waiting(runtime_dir, kernel_id)
        except ValueError:  # not a kernel id: not one of ours
            continue
        if said is None or said["notebook"] != str(old):
            continue
        if _write(path, {**said, "notebook": str(new)}):
            told.append(kernel_id)
    return told


def withdraw(path: Path | None) -> None:
    """The log opened, or recording ended: the kernel no longer waits."""
    if path is not None:
        with contextlib.suppress(OSError):  # a runtime folder gone: nothing to withdraw
            path.unlink(missing_ok=True)


def waiting(runtime_dir: Path, kernel_id: str) -> dict[str, Any] | None:
    """What kernel `kernel_id` said in `runtime_dir` (the folder of the server's connection
    files), or None when it waits for nothing (or said something unreadable)."""
    try:
        text = _file(runtime_dir, kernel_id).read_text(encoding="utf-8")
        said = json.loads(text)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(said, dict)
        or said.get("kernel_id") != kernel_id
        or not isinstance(said.get("since"), int | float)
        or not isinstance(said.get("notebook"), str | None)
    ):
        return None
    return {"kernel_id": kernel_id, "notebook": said["notebook"], "since": float(said["since"])}
