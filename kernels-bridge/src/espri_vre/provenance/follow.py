"""A notebook's provenance follows the notebook when it is renamed or moved.

Kernels write a notebook's runs beside it, in `.espri-vre-provenance/<stem>/` (layout.py).
When JupyterLab renames or moves the notebook (PATCH /api/contents), the server extension calls
`follow_rename` with the two paths of the Contents API, and the runs go to the hidden folder of
the new name beside the new path. A folder of the earlier layout, `<stem>.provenance/`, goes
there too: a rename is when such a folder is migrated. Kernels still waiting for their first
cell are told the new name (waiting.py `retarget`) before anything moves, so that their log
opens under it.

Only renames on the same filesystem, never a copy: a kernel still running keeps its log open,
and an open file survives the rename of its folder (the kernel's next events land in the moved
log), where a copy would leave them in a deleted file. When the target folder already exists,
the runs are moved into it one by one and nothing there is ever replaced: a file whose name is
already taken stays in the old folder, and the answer says which.

Paths are confined to the server's root: no `..`, no absolute path, no symlinked folder
followed out of it. The logs of the kernels' fallback folder (outside the root) stay where
they are: the runs route finds them by the kernel's id.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EspriVreError
from .layout import HIDDEN_FOLDER, LEGACY_SUFFIX, NOTEBOOK_SUFFIX
from .waiting import retarget


class FollowError(EspriVreError):
    """The provenance folder could not follow its notebook; the notebook's rename stands."""

    status = 409
    code = "conflict"


@dataclass(frozen=True)
class Followed:
    """What moved: the old and new folders (relative to the root), the entries moved, and
    those left in the old folder because the target already had an entry of that name."""

    source: str
    target: str
    moved: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def folder_of(notebook: str) -> str:
    """The provenance folder of a notebook, as a Contents API path."""
    head, _, name = notebook.rpartition("/")
    folder = f"{HIDDEN_FOLDER}/{name.removesuffix(NOTEBOOK_SUFFIX)}"
    return f"{head}/{folder}" if head else folder


def legacy_folder_of(notebook: str) -> str:
    """The folder of the earlier layout, `<stem>.provenance`, as a Contents API path."""
    return notebook.removesuffix(NOTEBOOK_SUFFIX) + LEGACY_SUFFIX


def follow_rename(
    root: str | os.PathLike[str],
    source: str,
    target: str,
    runtime_dir: str | os.PathLike[str] | None = None,
) -> list[Followed]:
    """Moves `source`'s provenance folders (the hidden one, then one of the earlier layout)
    into the hidden folder of `target` (both Contents API paths, relative to `root`, of the
    notebook after JupyterLab renamed it); what moved, nothing when there was nothing to move.
    With `runtime_dir` (the kernels' connection files), kernels waiting to record `source` are
    told its new name first. Raises FollowError when a folder cannot follow: it is then left
    where it was, whole."""
    if not (source.endswith(NOTEBOOK_SUFFIX) and target.endswith(NOTEBOOK_SUFFIX)):
        return []
    real_root = Path(os.path.realpath(root))
    source, target = source.strip("/"), target.strip("/")
    if runtime_dir is not None:
        retarget(Path(runtime_dir), _confined(real_root, source), _confined(real_root, target))
    shown_target = folder_of(target)
    new = _confined(real_root, shown_target)
    followed = []
    for shown_source in (folder_of(source), legacy_folder_of(source)):
        old = _confined(real_root, shown_source)
        if old == new or not os.path.lexists(old):
            continue
        followed.append(_follow(old, new, shown_source, shown_target))
        hidden_parent = old.parent
        if hidden_parent.name == HIDDEN_FOLDER and hidden_parent != new.parent:
            # The folder's last notebook gone: no empty dot-folder stays (one not empty stays).
            with contextlib.suppress(OSError):
                hidden_parent.rmdir()
    return followed


def _follow(old: Path, new: Path, shown_source: str, shown_target: str) -> Followed:
    if old.is_symlink() or not old.is_dir():
        raise FollowError(
            f"{shown_source} is a link or not a folder: it did not follow the notebook."
        )
    if new.is_symlink() or (os.path.lexists(new) and not new.is_dir()):
        raise FollowError(
            f"{shown_target} exists and is not a folder: the runs stay in {shown_source}."
        )
    try:
        if new.parent.is_symlink() or (os.path.lexists(new.parent) and not new.parent.is_dir()):
            raise FollowError(
                f"{new.parent.name} beside the notebook is a link or not a folder: "
                f"the runs stay in {shown_source}."
            )
        new.parent.mkdir(exist_ok=True)
        if not os.path.lexists(new):
            # os.rename, not shutil.move: across filesystems shutil.move copies, and a running
            # kernel's further events would go to the deleted original.
            os.rename(old, new)
            return Followed(shown_source, shown_target, moved=sorted(os.listdir(new)))
        return _merge(old, new, shown_source, shown_target)
    except OSError as error:
        why = "it is on another filesystem" if error.errno == errno.EXDEV else error.strerror
        raise FollowError(
            f"The runs in {shown_source} could not be moved to {shown_target} ({why}); "
            f"what was not moved stays in {shown_source}."
        ) from error


def _confined(real_root: Path, shown: str) -> Path:
    """The real path of `shown` under the root; its parent folder must resolve inside the
    root (a symlinked folder pointing elsewhere is refused), its last part is kept as is."""
    parts = shown.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise FollowError(f"{shown} is not a path inside the server's root.")
    parent = Path(os.path.realpath(real_root.joinpath(*parts[:-1])))
    if parent != real_root and real_root not in parent.parents:
        raise FollowError(f"{shown} is outside the server's root.")
    return parent / parts[-1]


def _merge(old: Path, new: Path, shown_source: str, shown_target: str) -> Followed:
    """Moves each entry of `old` into the existing `new` without replacing anything there.

    A file is hard-linked then unlinked rather than renamed: os.rename replaces an existing
    file silently, os.link refuses one (EEXIST) atomically, so a file written in `new` between
    a check and the move is never lost; the kernel's open descriptor keeps the same file. A
    folder is renamed only when the name is free (a rename onto a non-empty folder fails)."""
    moved, kept = [], []
    for entry in sorted(old.iterdir(), key=lambda p: p.name):
        destination = new / entry.name
        if os.path.lexists(destination):
            kept.append(entry.name)
        elif entry.is_dir() and not entry.is_symlink():
            os.rename(entry, destination)
            moved.append(entry.name)
        else:
            try:
                os.link(entry, destination, follow_symlinks=False)
            except FileExistsError:
                kept.append(entry.name)
                continue
            entry.unlink()
            moved.append(entry.name)
    if not kept:
        old.rmdir()
    return Followed(shown_source, shown_target, moved=moved, kept=kept)
