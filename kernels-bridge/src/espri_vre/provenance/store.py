"""The provenance log: append-only JSON Lines, one file per run, each line holding the sha256 of
the line before it.

Why this shape:
- One file per run (`<run_id>.jsonl`), written by one process that holds an exclusive lock
  (flock) on it: two notebooks, or two kernels of one notebook, never mix their events.
- Each line goes out in one write(2) on an O_APPEND descriptor, so a kernel killed mid-write
  leaves at worst a torn last line without its newline. The next writer to open the log (or
  `recover_directory`, run when a kernel starts) moves those bytes to `<log>.torn-<offset>`
  and truncates after the last newline: every complete event before it stays.
- The chain: `prev` is the sha256 of the previous line's bytes (without the newline), so
  editing or removing a line breaks the chain at the next one (`verify`). Changing the last
  line, or cutting the end, is caught by the kept hash: `close` writes the hash of the last
  line, the run's final event included, to `<run_id>.last-hash` beside the log. The notebook's
  metadata keeps the hash it saw when it was saved, before the events that followed (the
  kernel's end among them): a log must reach that line, not end on it.
- fsync policy: "event" (after every line, before `append` returns), "cell" (the kernel calls
  `checkpoint_soon` after each cell: a background thread fsyncs within SYNC_DELAY, one fsync for
  the cells that end meanwhile, so the cell's reply does not wait for a disk that may take
  milliseconds, or far more on NFS) or "none". Any policy survives
  the kernel being killed, since written bytes are in the page cache; fsync is about the
  machine going down.
- A write that fails (ENOSPC, EDQUOT, EIO, a read-only remount) takes back its partial bytes,
  stops the log and warns once; `append` never raises for it, so a full disk never breaks the
  user's cell."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .events import Event, FsyncPolicy, utc_now, validation_errors

LOG_SUFFIX = ".jsonl"
KEPT_SUFFIX = ".last-hash"
TORN_SUFFIX = ".torn-"
_BLOCK = 64 * 1024


class LogBusyError(OSError):
    """Another writer (another kernel) holds this log."""


class CorruptLogError(ValueError):
    """The log's last complete line is not an event: it cannot be continued."""


class RecordingStoppedWarning(UserWarning):
    """Recording stopped (disk full, quota, I/O error); the cells keep running."""


@dataclass(frozen=True)
class Recovery:
    """A torn last line found on open and moved aside."""

    log: Path
    torn_bytes: int
    set_aside: Path


SYNC_DELAY = 1.0
"""Seconds between a cell's end and the fsync of the "cell" policy (see `checkpoint_soon`)."""


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time, unique across kernels: '20250301T101500Z-3f2a9c1e'."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def kept_hash_path(log: str | os.PathLike[str]) -> Path:
    path = Path(log)
    return path.with_name(path.name.removesuffix(LOG_SUFFIX) + KEPT_SUFFIX)


def kept_hash(log: str | os.PathLike[str]) -> str | None:
    """The hash `close` kept of the log's last line; None when the log was not closed (a
    killed kernel) or is being continued."""
    try:
        kept = json.loads(kept_hash_path(log).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    value = kept.get("sha256") if isinstance(kept, dict) else None
    return value if isinstance(value, str) else None


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _rfind_newline(fd: int, end: int) -> int:
    """Offset of the last b'\\n' before `end`, or -1."""
    while end > 0:
        start = max(0, end - _BLOCK)
        found = os.pread(fd, end - start, start).rfind(b"\n")
        if found >= 0:
            return start + found
        end = start
    return -1


def _set_aside_torn_tail(fd: int, path: Path, size: int) -> tuple[Recovery | None, int]:
    """Moves the bytes after the last newline to `<log>.torn-<offset>`; returns the new size."""
    keep = _rfind_newline(fd, size) + 1
    if keep == size:
        return None, size
    aside = path.with_name(f"{path.name}{TORN_SUFFIX}{keep}")
    with open(aside, "ab") as out:
        out.write(os.pread(fd, size - keep, keep))
        out.flush()
        os.fsync(out.fileno())
    os.ftruncate(fd, keep)
    os.fsync(fd)
    return Recovery(log=path, torn_bytes=size - keep, set_aside=aside), keep


def _last_line(fd: int, size: int) -> bytes | None:
    if size == 0:
        return None
    start = _rfind_newline(fd, size - 1) + 1
    return os.pread(fd, size - 1 - start, start)


class EventLog:
    """One run's log, open for appending by this process alone. Use `EventLog.open`."""

    def __init__(
        self,
        path: Path,
        fd: int,
        *,
        seq: int,
        last_hash: str | None,
        size: int,
        fsync: FsyncPolicy,
        on_stop: Callable[[str], None] | None,
        recovery: Recovery | None,
    ) -> None:
        self.path = path
        self.run_id = path.name[: -len(LOG_SUFFIX)]
        self.fsync: FsyncPolicy = fsync
        self.recovery = recovery
        self.stopped: str | None = None
        """Why recording stopped, once it has."""
        self._fd: int | None = fd
        self._seq = seq
        self._last_hash = last_hash
        self._size = size
        self._dirty = False
        self._on_stop = on_stop
        self._lock = threading.Lock()
        self._sync_wanted = threading.Event()
        self._syncer: threading.Thread | None = None
        self._closing = threading.Event()

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "cell",
        on_stop: Callable[[str], None] | None = None,
    ) -> EventLog:
        """Creates the log, or continues an existing one after setting aside a torn last line.

        Raises LogBusyError when another process writes it, CorruptLogError when its last
        complete line is not an event, OSError when it cannot be created.
        `on_stop(message)` is called once if a write fails later; by default a
        RecordingStoppedWarning is issued."""
        if fsync not in ("event", "cell", "none"):
            raise ValueError(f"fsync policy must be 'event', 'cell' or 'none', not {fsync!r}")
        log = Path(path)
        if not log.name.endswith(LOG_SUFFIX):
            raise ValueError(f"a provenance log is named <run_id>{LOG_SUFFIX}: {log}")
        log.parent.mkdir(parents=True, exist_ok=True)
        created = not log.exists()
        fd = os.open(log, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LogBusyError(f"another process is recording into {log}") from None
            recovery, size = _set_aside_torn_tail(fd, log, os.fstat(fd).st_size)
            last = _last_line(fd, size)
            seq, last_hash = 0, None
            if last is not None:
                try:
                    seq = int(json.loads(last)["seq"]) + 1
                except (ValueError, KeyError, TypeError):
                    raise CorruptLogError(f"the last line of {log} is not an event") from None
                last_hash = line_hash(last)
            if not created:
                # Continued: the hash kept at the last close no longer names the end.
                kept_hash_path(log).unlink(missing_ok=True)
            if created and fsync != "none":
                _fsync_directory(log.parent)
        except BaseException:
            os.close(fd)
            raise
        return cls(
            log,
            fd,
            seq=seq,
            last_hash=last_hash,
            size=size,
            fsync=fsync,
            on_stop=on_stop,
            recovery=recovery,
        )

    @property
    def seq(self) -> int:
        """The seq the next event will get (the number of events in the log)."""
        return self._seq

    @property
    def last_hash(self) -> str | None:
        """sha256 of the last line: what the notebook's metadata keeps to detect a cut log."""
        return self._last_hash

    @property
    def closed(self) -> bool:
        return self._fd is None

    def append(self, event: Event) -> bool:
        """Writes one event; False when the log is closed or recording has stopped.

        Raises TypeError/ValueError for an event that is not JSON (a bug, not a disk error)."""
        return self.append_many((event,))

    def append_many(self, batch: Sequence[Event]) -> bool:
        """Writes events in one write(2): the kernel writes a cell's start (with its source)
        and its end (with the files it touched) as two batches, not one call per event, so a
        cell pays for two system calls whatever it did. A kill mid-write tears at most the
        batch's tail, which the next open sets aside like any torn line.

        False when the log is closed or recording has stopped; TypeError/ValueError for an
        event that is not JSON (then nothing of the batch is written)."""
        if not batch:
            return True
        with self._lock:
            if self._fd is None or self.stopped is not None:
                return False
            seq, last_hash, now = self._seq, self._last_hash, utc_now()
            lines: list[bytes] = []
            for event in batch:
                record: dict[str, Any] = {
                    "seq": seq,
                    "prev": last_hash,
                    "time": now,
                    "run": self.run_id,
                    "kind": event.kind,
                }
                record.update(event.to_dict())
                line = json.dumps(
                    record, ensure_ascii=False, separators=(",", ":"), allow_nan=False
                ).encode("utf-8")
                lines.append(line)
                seq, last_hash = seq + 1, line_hash(line)
            try:
                self._write(b"\n".join(lines) + b"\n")
                if self.fsync == "event":
                    os.fsync(self._fd)
            except OSError as error:
                self._stop(error)
                return False
            self._dirty = self.fsync == "cell"
            self._seq, self._last_hash = seq, last_hash
            return True

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:])
        except OSError:
            # A short write leaves a partial line: take it back so the log stays whole.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += done

    def checkpoint(self) -> None:
        """fsyncs the events written so far, unless the policy is "none"."""
        with self._lock:
            if self._fd is None or not self._dirty or self.stopped is not None:
                return
            fd, self._dirty = self._fd, False
        try:
            os.fsync(fd)  # outside the lock: appends go on while the disk works
        except OSError as error:
            with self._lock:
                self._stop(error)

    def checkpoint_soon(self) -> None:
        """`checkpoint` in the background thread of this log, within SYNC_DELAY seconds.

        Group commit: the cells that end within SYNC_DELAY share one fsync. An fsync per cell
        made the next cells' writes (ours, IPython's history database, the user's files) queue
        behind the disk's journal commits, which cost short cells a third of their time in the
        benchmark; one a second costs nothing measurable and leaves at most SYNC_DELAY of events
        to a machine crash (a killed kernel loses nothing: written bytes are in the page cache)."""
        if self.fsync != "cell" or self._fd is None:
            return
        if self._syncer is None:
            self._syncer = threading.Thread(
                target=self._sync_loop, name=f"provenance-fsync-{self.run_id}", daemon=True
            )
            self._syncer.start()
        self._sync_wanted.set()

    def _sync_loop(self) -> None:
        while True:
            self._sync_wanted.wait()
            if self._closing.wait(SYNC_DELAY):
                return  # close() checkpoints
            self._sync_wanted.clear()
            self.checkpoint()

    def _stop(self, error: OSError) -> None:
        reason = error.strerror or str(error)
        self.stopped = f"{reason} (errno {error.errno})" if error.errno else reason
        message = (
            f"espri-vre provenance: recording stopped, {self.stopped}, writing {self.path}. "
            "Your cells keep running; nothing after this point is recorded."
        )
        if self._on_stop is not None:
            self._on_stop(message)
        else:
            warnings.warn(message, RecordingStoppedWarning, stacklevel=4)

    def close(self) -> None:
        if self._syncer is not None:
            self._closing.set()
            self._sync_wanted.set()
            self._syncer.join()
            self._syncer = None
        self.checkpoint()
        with self._lock:
            if self._fd is not None:
                if self.stopped is None and self._last_hash is not None:
                    self._keep_hash()
                os.close(self._fd)
                self._fd = None

    def _keep_hash(self) -> None:
        """Writes the last line's hash beside the log, after its final event: what `verify`
        compares the end with. Replaced atomically, so a reader sees the old or the new one."""
        kept = kept_hash_path(self.path)
        temporary = kept.with_name(f".{kept.name}.{secrets.token_hex(4)}")
        data = json.dumps({"run": self.run_id, "events": self._seq, "sha256": self._last_hash})
        try:
            with open(temporary, "w", encoding="utf-8") as f:
                f.write(data + "\n")
                if self.fsync != "none":
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(temporary, kept)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            self._stop(error)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover_directory(directory: str | os.PathLike[str]) -> list[Recovery]:
    """Sets aside the torn last lines of the logs in `directory` that no process is writing
    (kernels that were killed); logs being written are left alone."""
    recovered = []
    for log in sorted(Path(directory).glob(f"*{LOG_SUFFIX}")):
        try:
            fd = os.open(log, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            size = os.fstat(fd).st_size
            # An empty log may be one another kernel just created and is about to lock.
            if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            recovery, _ = _set_aside_torn_tail(fd, log, size)
        except OSError:
            continue
        finally:
            os.close(fd)
        if recovery is not None:
            recovered.append(recovery)
    return recovered


@dataclass(frozen=True)
class LogContents:
    lines: list[bytes]
    """The complete lines, without their newlines."""
    torn: bytes = b""
    """Bytes after the last newline: a torn line not yet set aside."""

    def events(self) -> Iterator[dict[str, Any]]:
        """The events that parse; `verify` reports the lines that do not."""
        for line in self.lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event


def read_log(path: str | os.PathLike[str]) -> LogContents:
    """Reads a log without changing it (a reviewer's copy may be read-only)."""
    data = Path(path).read_bytes()
    keep = data.rfind(b"\n") + 1
    return LogContents(lines=data[:keep].splitlines(), torn=data[keep:])


@dataclass(frozen=True)
class Verification:
    path: Path
    events: int
    last_hash: str | None
    torn_bytes: int
    ended: bool
    """The run closed its log (a control 'end' event last); False after a crash or a kill."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    path: str | os.PathLike[str], *, last_hash: str | None = None, schema: bool = False
) -> Verification:
    """Checks the hash chain, the sequence and the run id of every line; that the last line is
    the one whose hash `close` kept beside the log (when it was closed); with `last_hash` (the
    one kept in the notebook, maybe before later events) that the log reaches that line; with
    `schema` that every event validates against events.schema.json. A torn last line is
    reported, not a problem: it is what a killed kernel leaves."""
    log = Path(path)
    contents = read_log(log)
    problems: list[str] = []
    prev: str | None = None
    run: str | None = None
    last: dict[str, Any] | None = None
    hashes: set[str] = set()
    for number, line in enumerate(contents.lines, start=1):
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            problems.append(f"line {number}: not a JSON object")
        else:
            problems.extend(_line_problems(number, event, prev, run))
            if number == 1:
                run = event.get("run")
            if schema:
                problems.extend(f"line {number}: {e}" for e in validation_errors(event))
        last = event if isinstance(event, dict) else None
        prev = line_hash(line)
        hashes.add(prev)
    closing = kept_hash(log)
    if closing is not None and prev != closing:
        problems.append(
            f"the last line's hash {prev} is not the {closing} kept when the log was closed: "
            "the end of the log was changed or cut"
        )
    if last_hash is not None and last_hash not in hashes:
        problems.append(
            f"no line has the recorded hash {last_hash}: the end of the log was changed or cut"
        )
    ended = last is not None and last.get("kind") == "control" and last.get("action") == "end"
    return Verification(
        path=log,
        events=len(contents.lines),
        last_hash=prev,
        torn_bytes=len(contents.torn),
        ended=ended,
        problems=problems,
    )


def _line_problems(
    number: int, event: dict[str, Any], prev: str | None, run: str | None
) -> list[str]:
    problems = []
    if event.get("seq") != number - 1:
        problems.append(f"line {number}: seq {event.get('seq')!r}, expected {number - 1}")
    if event.get("prev") != prev:
        problems.append(
            f"line {number}: prev does not match the hash of line {number - 1}"
            if number > 1
            else "line 1: prev should be null"
        )
    if number == 1 and event.get("kind") != "session":
        problems.append(f"line 1: a log starts with a session event, not {event.get('kind')!r}")
    if run is not None and event.get("run") != run:
        problems.append(f"line {number}: run {event.get('run')!r} in the log of run {run!r}")
    return problems
