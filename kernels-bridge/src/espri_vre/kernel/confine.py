"""A replayed kernel's confinement to its working folder (espri_vre.provenance.workdir).

A replay must never change the author's or the user's files, whatever the cells do. When the
replay names a working folder in ESPRI_VRE_REPLAY_CONFINE, loading the extension installs,
once and for good (the kernel is thrown away after the replay):
- wrappers of Python's open, io.open, os.open and of the os calls that change files (remove,
  rename, mkdir, chmod...): a write outside the folder goes to its place inside it
  (`WorkFolder.place`); a read of a recorded input goes to the copy the replay chose (in the
  crate, in a folder the reviewer gave, or the original); a read of a file the replay wrote
  elsewhere finds the replay's copy. patches.py asks `remap` for the library openers that open
  in C (netCDF4, h5py, pyarrow through pandas), so they are redirected alike;
- a write through a link the replay made to an input breaks the link first (a copy for an
  update), so the input behind it is never written;
- the audit hook (audit.py calls `audit`) refuses, with ConfinementError, any open for writing
  and any change of a file outside the folder that reached the system without a wrapper: a
  change that cannot be redirected (removing or moving a file the replay did not write, a
  chmod of an original) is refused, never done.
What was redirected, copied, refused, and the commands run in a shell (which no wrapper can
follow) go to the ledger the replay reads after each cell.

C libraries that open files themselves, other than the ones patches.py wraps (GDAL through
rasterio, say), are not seen: docs/provenance.md says so."""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import EspriVreError
from ..provenance.workdir import ENV, WorkFolder
from .files import op_for_mode

folder: WorkFolder | None = None
"""The working folder while confined; read it as `confine.folder`."""
_local = threading.local()
_original: dict[str, Callable[..., Any]] = {}
_noted: set[tuple[str, str, Any]] = set()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class ConfinementError(EspriVreError, PermissionError):
    """A replayed cell tried to change a file outside the replay's working folder that the
    replay cannot redirect. A PermissionError, so that code that expects one copes."""

    status = 403
    code = "forbidden"


def _ours() -> bool:
    return getattr(_local, "ours", False)


@contextmanager
def _our_work() -> Iterator[None]:
    """Our own file work (making folders, breaking links, the ledger) goes unredirected."""
    previous = _ours()
    _local.ours = True
    try:
        yield
    finally:
        _local.ours = previous


def _note(kind: str, path: str, **details: Any) -> None:
    key = (kind, path, details.get("verb") or details.get("op"))
    if folder is None or folder.ledger is None or key in _noted:
        return
    _noted.add(key)
    with _our_work(), _original["open"](folder.ledger, "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps({"kind": kind, "path": path, **details}) + "\n")


def _refuse(verb: str, path: str, why: str) -> ConfinementError:
    assert folder is not None
    _note("refused", path, verb=verb, why=why)
    return ConfinementError(
        f"espri-vre replay: refused to {verb} {path}: {why}. A replay changes files only "
        f"inside its working folder {folder.root}."
    )


def _decode(path: Any) -> str | None:
    """An absolute path, or None for a descriptor or a value that is not a path."""
    if isinstance(path, int) or not isinstance(path, str | bytes | os.PathLike):
        return None
    text = os.fsdecode(path)
    if "://" in text:
        return None
    return os.path.abspath(text)


def for_read(path: Any) -> Any:
    """The file a read of `path` opens: the replay's own copy, the input's copy, or `path`."""
    name = _decode(path)
    if folder is None or name is None or folder.inside(name) or folder.exempted(name):
        return path
    placed = folder.place(name)
    if os.path.lexists(placed):
        return placed
    copy = folder.inputs.get(name)
    if copy is not None:
        _note("input", name, to=copy)
        return copy
    return path


def for_write(path: Any, op: str = "write") -> Any:
    """The file a write of `path` creates or changes: its place inside the working folder
    (with its parent folders, when redirected), a link to an input there broken."""
    name = _decode(path)
    if folder is None or name is None or folder.exempted(name):
        return path
    target = folder.place(name)
    if target != name:
        _note("redirected", name, to=target, op=op)
    parent = os.path.dirname(target)
    if not folder.inside(os.path.realpath(parent)):
        raise _refuse(op, name, f"its folder {parent} leads outside the working folder")
    with _our_work():
        if target != name:  # the original's folder existed where the run wrote; here, make it
            os.makedirs(parent, exist_ok=True)
        linked = op in ("write", "update") and os.path.islink(target)
        if linked and not folder.inside(os.path.realpath(target)):
            # A link the replay made to an input: the input behind it is never written.
            behind = os.path.realpath(target)
            os.unlink(target)
            if op == "update" and os.path.isfile(behind):
                shutil.copyfile(behind, target)
            _note("unlinked", target, input=behind, op=op)
    return target if target != name else path


def _for_change(path: Any, verb: str, follow: bool) -> Any:
    """The file a remove, move or chmod of `path` changes: only one the replay wrote."""
    name = _decode(path)
    if folder is None or name is None or folder.exempted(name):
        return path
    if name == folder.root or folder.place(name) == folder.root:
        # the recorded working directory maps to the working folder: removing or moving
        # either would take the replay's own files (and the links to its inputs) with it
        raise _refuse(verb, name, "it is the replay's working folder itself")
    if folder.inside(name):
        resolved = os.path.realpath(name if follow else os.path.dirname(name))
        if not folder.inside(resolved):
            raise _refuse(verb, name, "it leads to a file outside the working folder")
        return path
    placed = folder.place(name)
    if os.path.lexists(placed):
        _note("redirected", name, to=placed, op=verb)
        return placed
    raise _refuse(verb, name, "it is outside the working folder and the replay did not write it")


def remap(value: Any, op: str) -> Any:
    """A library opener's path argument (a path, or a list of them), redirected."""
    if folder is None or _ours():
        return value
    if isinstance(value, list | tuple):
        return type(value)(remap(item, op) for item in value)
    name = _decode(value)
    if name is None or (isinstance(value, str) and any(c in value for c in "*?[")):
        return value  # a URL, a store object, a glob (matched in the folder the cell sees)
    return for_read(value) if op == "read" else for_write(value, op)


# --- the wrappers --------------------------------------------------------------------------


def _open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    if not _ours():
        op = op_for_mode(mode)
        file = for_read(file) if op == "read" else for_write(file, op)
    return _original["open"](file, mode, *args, **kwargs)


def _os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> Any:
    if not _ours() and kwargs.get("dir_fd") is None:
        if flags & _WRITE_FLAGS:
            path = for_write(path, "update" if flags & (os.O_RDWR | os.O_APPEND) else "write")
        else:
            path = for_read(path)
    return _original["os.open"](path, flags, *args, **kwargs)


def _changer(name: str, verb: str, follow: bool) -> Callable[..., Any]:
    def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
        if not _ours() and kwargs.get("dir_fd") is None:
            path = _for_change(path, verb, follow)
        return _original[name](path, *args, **kwargs)

    return wrapper


def _mover(name: str) -> Callable[..., Any]:
    def wrapper(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        if not _ours() and not kwargs:
            src, dst = _for_change(src, "move", False), for_write(dst)
        return _original[name](src, dst, *args, **kwargs)

    return wrapper


def _mkdir(path: Any, *args: Any, **kwargs: Any) -> Any:
    if not _ours() and kwargs.get("dir_fd") is None:
        path = for_write(path, "mkdir")
    return _original["os.mkdir"](path, *args, **kwargs)


def _rmtree(path: Any, *args: Any, **kwargs: Any) -> Any:
    if not _ours():
        path = _for_change(path, "remove", False)
    return _original["shutil.rmtree"](path, *args, **kwargs)


def install(spec: WorkFolder) -> None:
    """Confines this process to `spec.root`, once: the wrappers are never removed."""
    global folder
    if folder is not None:
        return
    wrappers: list[tuple[Any, str, str, Callable[..., Any]]] = [
        (builtins, "open", "open", _open),
        (io, "open", "io.open", _open),
        (os, "open", "os.open", _os_open),
        (os, "mkdir", "os.mkdir", _mkdir),
        (os, "rename", "os.rename", _mover("os.rename")),
        (os, "replace", "os.replace", _mover("os.replace")),
        (shutil, "rmtree", "shutil.rmtree", _rmtree),
    ]
    for attr, verb, follow in (
        ("remove", "remove", False),
        ("unlink", "remove", False),
        ("rmdir", "remove", False),
        ("chmod", "change the permissions of", True),
        ("utime", "change the times of", True),
        ("truncate", "truncate", True),
    ):
        wrappers.append((os, attr, f"os.{attr}", _changer(f"os.{attr}", verb, follow)))
    shell = sys.modules.get("IPython.core.interactiveshell")
    if shell is not None and hasattr(shell, "io_open"):
        # IPython gives the user's namespace its own `open`, which calls the io.open it
        # imported as `io_open`: the cells' opens go through there.
        wrappers.append((shell, "io_open", "IPython.io_open", _open))
    for owner, attr, key, wrapper in wrappers:
        _original[key] = getattr(owner, attr)
        setattr(owner, attr, wrapper)
    folder = spec


def install_from_env(environ: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """Installs the confinement the replay asked for, if any; a message when it cannot."""
    env = os.environ if environ is None else environ
    described = env.get(ENV)
    if not described:
        return None
    try:
        install(WorkFolder.load(described))
    except ValueError as error:
        return f"espri-vre replay: not confined, {error}"
    return None


# --- the audit hook's part -----------------------------------------------------------------

_CHANGES: dict[str, tuple[tuple[int, ...], int | None, bool]] = {
    # event: (positions of the paths changed, position of dir_fd, follows links)
    "os.remove": ((0,), 1, False),
    "os.rmdir": ((0,), 1, False),
    "os.mkdir": ((0,), 2, False),
    "os.rename": ((0, 1), 2, False),
    "os.chmod": ((0,), 2, True),
    "os.chown": ((0,), 3, True),
    "os.utime": ((0,), 3, True),
    "os.truncate": ((0,), None, True),
    "os.symlink": ((1,), 2, False),
    "os.link": ((1,), 3, False),
    "os.chflags": ((0,), None, True),
    "os.setxattr": ((0,), None, True),
    "os.removexattr": ((0,), None, True),
    "os.mkfifo": ((0,), 2, False),
    "os.mknod": ((0,), 3, False),
    "shutil.rmtree": ((0,), 1, False),
}
_COMMANDS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn", "pty.spawn"}
)


def _resolved(path: Any, dir_fd: Any, follow: bool) -> str | None:
    if isinstance(path, int) or not isinstance(path, str | bytes | os.PathLike):
        return None  # a descriptor: the open that made it was checked
    text = os.fsdecode(path)
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(text):
        text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
    text = os.path.abspath(text)
    if follow:
        return os.path.realpath(text)
    return os.path.join(os.path.realpath(os.path.dirname(text)), os.path.basename(text))


def audit(event: str, args: tuple[Any, ...]) -> None:
    """Refuses what reached the system outside the working folder (see the module's doc)."""
    if folder is None or _ours():
        return
    if event == "open":
        path, mode, flags = args
        writes = flags & _WRITE_FLAGS if isinstance(flags, int) and flags >= 0 else None
        if writes is None:
            writes = op_for_mode(str(mode or "r")) != "read"
        if writes:
            _check(path, None, True, "write")
    elif event in _CHANGES:
        positions, fd_at, follow = _CHANGES[event]
        dir_fd = args[fd_at] if fd_at is not None and len(args) > fd_at else None
        for position in positions:
            _check(args[position], dir_fd, follow, event.split(".")[-1])
    elif event in _COMMANDS:
        _note("command", repr(args[1] if event == "subprocess.Popen" else args[0])[:300])


def _check(path: Any, dir_fd: Any, follow: bool, verb: str) -> None:
    assert folder is not None
    name = _resolved(path, dir_fd, follow)
    if name == folder.root and verb != "write":
        raise _refuse(verb, name, "it is the replay's working folder itself")
    if name is None or folder.inside(name) or folder.exempted(name):
        return
    raise _refuse(verb, name, "it is outside the working folder")
