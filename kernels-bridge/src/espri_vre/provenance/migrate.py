"""`espri-vre provenance migrate`: the folders of the earlier layout, `<stem>.provenance/` beside
the notebooks, moved into the hidden folder of the current one, `.espri-vre-provenance/<stem>/`
(layout.py), each log's hash chain checked once moved.

A folder is moved whole, by one rename in its own folder (never a copy: nothing can be half
copied, and a log keeps its bytes and its kept last hash), and only when all is clear: its
hidden target does not exist yet (a target that exists is the user's to merge: both are left
as they are), it is a real folder, and no kernel holds one of its logs (a kernel of the earlier
version still recording: its lock, store.py's, is taken for the rename, so none starts while
the folder moves). Dot-folders are not searched (the hidden folders, checkpoints, `.git`), nor
the kernels' fallback folder, where `<stem>.provenance/` is the current layout.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EspriVreError
from .layout import HIDDEN_FOLDER, LEGACY_SUFFIX
from .store import LOG_SUFFIX, Verification, verify


class MigrationError(EspriVreError):
    """The folder to migrate cannot be searched; nothing was moved."""


@dataclass(frozen=True)
class Migration:
    """One folder of the earlier layout: where it is and would go (relative to the folder
    searched), what was done ('moved', 'would move' in a dry run, 'refused', 'skipped'), why
    when it was not moved, and its logs' checks (after the move; in place in a dry run)."""

    source: Path
    target: Path
    outcome: str
    reason: str | None = None
    checks: list[Verification] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome != "refused" and all(c.ok for c in self.checks)


def legacy_folders(root: Path) -> Iterator[Path]:
    """Every `<stem>.provenance` entry under `root`, by path; dot-folders are not searched, nor
    the found folders themselves. Symlinked folders are not followed (they are reported, as
    entries, and refused by `migrate`)."""
    for folder, dirs, _files in os.walk(root):
        found = sorted(d for d in dirs if d.endswith(LEGACY_SUFFIX) and not d.startswith("."))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in found)
        for name in found:
            yield Path(folder) / name


def migrate(
    root: str | os.PathLike[str], *, dry_run: bool = False, fallback: Path | None = None
) -> list[Migration]:
    """Migrates every folder of the earlier layout under `root`. Raises MigrationError when
    `root` is not a folder, or is (in) `fallback`, the kernels' fallback folder."""
    base = Path(root)
    if not base.is_dir():
        raise MigrationError(f"{base} is not a folder: give the folder of the notebooks.")
    real = base.resolve()
    if fallback is not None:
        kept = fallback.expanduser().resolve()
        if real == kept or kept in real.parents:
            raise MigrationError(
                f"{base} is the kernels' fallback folder ({kept}), where <notebook>.provenance "
                "is the current layout: nothing there is migrated."
            )
    return [_migrate_one(base, folder, dry_run) for folder in legacy_folders(base)]


def _migrate_one(base: Path, source: Path, dry_run: bool) -> Migration:
    target = source.parent / HIDDEN_FOLDER / source.name.removesuffix(LEGACY_SUFFIX)
    shown = (source.relative_to(base), target.relative_to(base))
    if source.is_symlink():
        return Migration(*shown, "refused", "it is a link, not the notebook's own folder")
    logs = sorted(source.glob(f"*{LOG_SUFFIX}"))
    if not logs:
        return Migration(*shown, "skipped", "no provenance log in it")
    hidden = target.parent
    if hidden.is_symlink() or (os.path.lexists(hidden) and not hidden.is_dir()):
        return Migration(*shown, "refused", f"{shown[1].parent} is a link or not a folder")
    if os.path.lexists(target):
        return Migration(*shown, "refused", f"{shown[1]} exists")
    if dry_run:
        return Migration(*shown, "would move", checks=[verify(log, schema=True) for log in logs])
    try:
        with _locked(logs):
            created = not hidden.exists()
            hidden.mkdir(exist_ok=True)
            try:
                # A rename refuses a target folder that appeared meanwhile with entries
                # (ENOTEMPTY); only an empty one could be replaced, losing nothing.
                os.rename(source, target)
            except OSError:
                if created:
                    with contextlib.suppress(OSError):
                        hidden.rmdir()
                raise
    except BlockingIOError:
        return Migration(*shown, "refused", "a kernel is still recording into it")
    except OSError as error:
        return Migration(*shown, "refused", f"it could not be moved: {error.strerror}")
    moved = [target / log.name for log in logs]
    return Migration(*shown, "moved", checks=[verify(log, schema=True) for log in moved])


@contextlib.contextmanager
def _locked(logs: list[Path]) -> Iterator[None]:
    """Holds every log's writer lock (the one a recording kernel holds, store.py) or raises
    BlockingIOError when a kernel holds one."""
    descriptors: list[int] = []
    try:
        for log in logs:
            descriptors.append(os.open(log, os.O_RDONLY | os.O_CLOEXEC))
            fcntl.flock(descriptors[-1], fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        for fd in descriptors:
            os.close(fd)
