"""The audit hook for Python's open.

`sys.addaudithook` sees every `open` made through Python (builtins.open, io, os.open), by the
user's code or by a library. Audit hooks cannot be removed, so this one is added once per
process, checks `state.active` first and costs one comparison when recording is off.

In a replayed kernel it is also the last guard of the confinement (confine.py): what reaches
the system outside the replay's working folder is refused there, whether recording is on or
not, and its error reaches the cell."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..provenance.events import FileOp
from . import confine, state
from .files import op_for_mode

_added = False


def add_audit_hook() -> None:
    """Adds the hook, unless an earlier load of the extension did (it stays, inert, after an
    unload)."""
    global _added
    if not _added:
        sys.addaudithook(_audit)
        _added = True


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if confine.folder is not None:
        confine.audit(event, args)
    if event == "open" and state.active:
        sink = state.sink
        if sink is None or state.is_busy():
            return
        try:
            with state.busy():
                _on_open(sink, *args)
        except Exception as error:
            sink.internal_error(error)


def _on_open(sink: state.Sink, path: Any, mode: Any, flags: Any) -> None:
    if isinstance(path, int):
        return
    name = os.path.abspath(os.fsdecode(path))
    if isinstance(flags, int) and flags >= 0:
        access = flags & os.O_ACCMODE
        op: FileOp = "read" if access == os.O_RDONLY else "write"
        if access == os.O_RDWR:
            op = "update"
    else:
        op = op_for_mode(str(mode or "r"))
    stack = state.openers()
    sink.note(name, is_url=False, op=op, opener=stack[0] if stack else "open", confirmed=False)
