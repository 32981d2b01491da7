"""What the hooks read on every open: whether recording is on, who records, and whether the
current thread's I/O is ours (hashing, reading headers, writing the log) rather than the user's.

The audit hook and the library wrappers stay installed while recording is paused or off, so
`active` is the first and, when off, the only thing they look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..provenance.events import FileOp


class Sink(Protocol):
    """The recorder as the hooks see it, so that they need not know the recorder's module."""

    def note(
        self,
        location: str,
        *,
        is_url: bool,
        op: FileOp,
        opener: str,
        confirmed: bool,
        before: tuple[int, int] | None = ...,
        attrs: dict[str, Any] | None = ...,
    ) -> None: ...

    def internal_error(self, error: BaseException) -> None: ...


active = False
"""True while recording. Read it as `state.active`: a name imported from here would not see it
change."""
sink: Sink | None = None
_local = threading.local()


def set_active(value: bool) -> None:
    global active
    active = value


def set_sink(value: Sink | None) -> None:
    global sink
    sink = value


def is_busy() -> bool:
    return getattr(_local, "busy", False)


@contextmanager
def busy() -> Iterator[None]:
    """Our own file work (hashing, reading headers, writing the log) is not the user's."""
    previous = getattr(_local, "busy", False)
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = previous


def openers() -> list[str]:
    """This thread's stack of library openers running: its first one names the open."""
    stack = getattr(_local, "openers", None)
    if stack is None:
        stack = _local.openers = []
    return stack
