"""The working folder of a replay: where a recorded path goes in it, and back.

A replayed kernel runs in a fresh folder of its own. The inputs are linked into it at their
place relative to the recorded working directory; any file the replay writes lands inside it:
a recorded path under the recorded working directory at the same relative place, any other
absolute path under `_outside/` followed by that path. The replay process writes this mapping
as JSON (`WorkFolder.write`) and names it to the kernel in ESPRI_VRE_REPLAY_CONFINE, where
espri_vre.kernel.confine redirects the opens with it; the report maps the replayed files back
to the paths the run recorded with `original_of`.

Pure path arithmetic: nothing here touches the disk but `write` and `load`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV = "ESPRI_VRE_REPLAY_CONFINE"
OUTSIDE = "_outside"
"""The folder, inside the working folder, of the paths that were outside the recorded
working directory (`_outside/scratch/results/x.nc` for `/scratch/results/x.nc`)."""
SYSTEM = ("/dev/", "/proc/", "/sys/")
"""Writes there are the system's (a null device, a process's own files), not the analysis's."""


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class WorkFolder:
    root: str
    """The working folder, a real path (no symbolic link in it)."""
    recorded_cwd: str | None
    """The working directory the run was recorded in."""
    inputs: dict[str, str] = field(default_factory=dict)
    """Recorded absolute path of an input -> the copy the replay uses."""
    exempt: tuple[str, ...] = ()
    """Folders written freely (the replay's own log, temporary files, caches)."""
    ledger: str | None = None
    """Where the kernel notes what it redirected and refused (JSON Lines), in an exempt
    folder."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", os.path.realpath(self.root))
        given = [p for p in self.exempt if p not in SYSTEM]
        # as given and as real paths: the audit hook compares real paths
        places = dict.fromkeys([*given, *(os.path.realpath(p) for p in given)])
        exempt = tuple(p.rstrip(os.sep) + os.sep for p in places)
        object.__setattr__(self, "exempt", exempt + SYSTEM)

    def inside(self, path: str) -> bool:
        return _under(path, self.root)

    def exempted(self, path: str) -> bool:
        return path.startswith(self.exempt)

    def place(self, original: str) -> str:
        """Where an absolute path goes in the working folder."""
        if self.inside(original):
            return original
        cwd = self.recorded_cwd
        if cwd and _under(original, cwd) and cwd != os.sep:
            relative = os.path.relpath(original, cwd)
            return self.root if relative == "." else os.path.join(self.root, relative)
        return os.path.join(self.root, OUTSIDE, original.lstrip(os.sep))

    def original_of(self, placed: str) -> str:
        """The recorded path of a file in the working folder (`place` reversed)."""
        if not self.inside(placed):
            return placed
        relative = os.path.relpath(placed, self.root)
        head, _, rest = relative.partition(os.sep)
        if head == OUTSIDE and rest:
            return os.sep + rest
        if self.recorded_cwd:
            return os.path.normpath(os.path.join(self.recorded_cwd, relative))
        return placed

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), "utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WorkFolder:
        """Raises ValueError for a file that is not a working folder's description."""
        try:
            data = json.loads(Path(path).read_text("utf-8"))
            return cls(
                root=str(data["root"]),
                recorded_cwd=data.get("recorded_cwd"),
                inputs={str(k): str(v) for k, v in (data.get("inputs") or {}).items()},
                exempt=tuple(str(p) for p in data.get("exempt") or ()),
                ledger=data.get("ledger"),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(
                f"{path} does not describe a replay's working folder: {error}"
            ) from None
