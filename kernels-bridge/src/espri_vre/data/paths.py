"""Path confinement: a path from the browser becomes a file on the server only when it lies in
the server's root_dir or in one of the configured data roots, after every symbolic link is
resolved. Pure functions over the file system; no HTTP here.

A path is either relative (to root_dir, as the Jupyter file browser names files) or absolute
(inside a data root, as catalogues name them). `..` is refused outright rather than resolved:
a path that needs it to stay inside a root can always be written without it.

Hidden names are checked twice, when the server hides them: on the path as given and on the
real path inside its root, so that a visible symbolic link to a hidden file does not serve it.
Every sentence names the path as the user gave it, never a real path of the server (a link's
target, where a data root really lies).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import EspriVreError, code_for

MAX_PATH_LENGTH = 4096
MAX_NAME_BYTES = 255
"""NAME_MAX of Linux file systems: a longer name is a bad request, not ENAMETOOLONG."""


class DataError(EspriVreError):
    """A data request that cannot be answered, with the HTTP status and a sentence for the user."""

    status = 400
    code = "bad-request"


class PathRefused(DataError):
    """The path leaves the places the server may read (403), or is malformed (400)."""

    status = 403
    code = "forbidden"

    def __init__(self, detail: str, status: int = 403) -> None:
        super().__init__(detail, status=status, code=code_for(status))


class DataNotFound(DataError):
    status = 404
    code = "not-found"


@dataclass(frozen=True)
class ResolvedPath:
    path: Path
    """The real path (every symbolic link resolved)."""
    root: Path
    """The real path of the root (root_dir or data root) it lies in."""
    files_path: str | None
    """Its path relative to root_dir (POSIX), which the server's `/files/` handler serves;
    None when its real path lies outside root_dir (in a data root elsewhere)."""


def is_hidden_outside_zarr(parts: tuple[str, ...]) -> bool:
    """Whether a component starts with '.' without a `*.zarr` folder before it (every Zarr v2
    key starts with a dot)."""
    in_zarr = False
    for part in parts:
        if part.startswith(".") and not in_zarr:
            return True
        in_zarr = in_zarr or part.endswith(".zarr")
    return False


def resolve_data_path(
    user_path: str,
    root_dir: str | os.PathLike[str],
    data_roots: Iterable[str | os.PathLike[str]] = (),
    *,
    allow_hidden: bool = True,
    hidden_in_zarr: bool = False,
    shown: str | None = None,
) -> ResolvedPath:
    """The real path of `user_path`, or PathRefused / DataNotFound with a sentence naming it as
    `shown` (the path as the user gave it; `user_path` by default). With `hidden_in_zarr`, hidden
    names inside a `*.zarr` folder count as visible."""
    shown = user_path if shown is None else shown
    if not isinstance(user_path, str) or not user_path.strip():
        raise PathRefused("No path was given: pass ?path= with the file's path.", 400)
    if len(user_path) > MAX_PATH_LENGTH:
        raise PathRefused(f"The path is longer than {MAX_PATH_LENGTH} characters.", 400)
    if "\x00" in user_path:
        raise PathRefused(f"The path {shown!r} contains a NUL byte.", 400)
    parts = PurePosixPath(user_path).parts
    if ".." in parts:
        raise PathRefused(
            f"The path {shown!r} contains '..': give the path of the file itself, "
            "relative to the server root or absolute inside a data root."
        )
    long_name = next(
        (p for p in parts if len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES), None
    )
    if long_name is not None:
        raise PathRefused(
            f"The path has a name longer than {MAX_NAME_BYTES} bytes ({long_name[:40]}…): "
            "no file system here holds such a name.",
            400,
        )
    configured = [Path(os.path.normpath(os.path.expanduser(root_dir)))] + [
        Path(os.path.normpath(os.path.expanduser(r))) for r in data_roots if str(r).strip()
    ]
    real_roots = [Path(os.path.realpath(r)) for r in configured]
    given = Path(user_path)
    candidate = Path(os.path.normpath(given if given.is_absolute() else configured[0] / given))
    # A root may be configured through a symbolic link (/bdd -> /mnt/lustre/bdd): both spellings
    # name it, but only the real path decides where the file is.
    lexical_root = _root_of(candidate, configured + real_roots)
    if lexical_root is None:
        raise PathRefused(
            f"{shown} is outside the server root and the configured data roots: "
            "the server reads files only there."
        )
    real = Path(os.path.realpath(candidate))
    root = _root_of(real, real_roots)
    if root is None:
        raise PathRefused(
            f"{shown} leads through a symbolic link to a place outside the server root and the "
            "configured data roots."
        )
    hidden = is_hidden_outside_zarr if hidden_in_zarr else _has_hidden
    if not allow_hidden and (
        hidden(candidate.relative_to(lexical_root).parts) or hidden(real.relative_to(root).parts)
    ):
        raise PathRefused(
            f"{shown} is a hidden file, lies in a hidden folder or links to one, and this server "
            "does not show hidden files (ContentsManager.allow_hidden)."
        )
    try:
        exists = real.exists()
    except OSError as e:  # ELOOP, ENAMETOOLONG on the whole path, EACCES on a folder
        status = 400 if e.errno in (errno.ENAMETOOLONG, errno.ELOOP) else 403
        raise PathRefused(f"{shown} cannot be looked up: {e.strerror}.", status) from None
    if not exists:
        raise DataNotFound(f"There is no file {shown} on the server.")
    return ResolvedPath(path=real, root=root, files_path=_files_path(real, real_roots[0]))


def _has_hidden(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") for part in parts)


def _files_path(real: Path, real_root_dir: Path) -> str | None:
    """The path `/files/` serves the file at. That handler refuses symbolic links that lead out
    of root_dir (tornado 6.6 checks their targets), so only a real path inside root_dir has one."""
    return real.relative_to(real_root_dir).as_posix() if _inside(real, real_root_dir) else None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    # The deepest root wins, so that a data root inside root_dir is reported as itself.
    matches = [r for r in roots if _inside(path, r)]
    return max(matches, key=lambda r: len(r.parts)) if matches else None
