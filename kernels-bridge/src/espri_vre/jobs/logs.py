"""A piece of a job's stdout or stderr, read from the shared file system: on this server with a
plain read, on a login node with `stat` and `dd` (argv lists, through the cluster's transport).
A live tail asks again from the offset it got; a chunk never ends inside a UTF-8 sequence."""

from __future__ import annotations

import asyncio
import os

from .transport import LocalTransport, Transport
from .types import LogChunk, SchedulerError, Stream, TransientSchedulerError, TransportError


async def read_log(
    transport: Transport, stream: Stream, path: str | None, offset: int, limit: int
) -> LogChunk:
    if offset < 0 or limit <= 0:
        raise ValueError("offset must be >= 0 and limit > 0")
    if not path:
        return LogChunk(stream, None, offset, offset, 0, "", exists=False)
    if isinstance(transport, LocalTransport):
        return await asyncio.to_thread(_read_local_log, stream, path, offset, limit)
    return await _read_remote_log(transport, stream, path, offset, limit)


def _read_local_log(stream: Stream, path: str, offset: int, limit: int) -> LogChunk:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(min(offset, size))
            data = f.read(limit)
    except FileNotFoundError:
        return LogChunk(stream, path, offset, offset, 0, "", exists=False)
    except OSError as e:
        raise SchedulerError(f"cannot read {path}: {e.strerror}") from e
    start = min(offset, size)
    return _chunk(stream, path, start, data, size)


async def _read_remote_log(
    transport: Transport, stream: Stream, path: str, offset: int, limit: int
) -> LogChunk:
    try:
        stat = await transport.run(["stat", "-c", "%s", "--", path], timeout=15)
        if not stat.ok:
            return LogChunk(stream, path, offset, offset, 0, "", exists=False)
        size = int(stat.stdout_text.strip() or 0)
        start = min(offset, size)
        ran = await transport.run(
            [
                "dd",
                f"if={path}",
                "iflag=skip_bytes,count_bytes",
                f"skip={start}",
                f"count={limit}",
                "status=none",
            ],
            timeout=30,
        )
    except TransportError as e:
        raise TransientSchedulerError(f"cannot read {path}: {e}") from e
    if not ran.ok:
        raise SchedulerError(f"cannot read {path}: {ran.stderr_text.strip()}")
    return _chunk(stream, path, start, ran.stdout, size)


def _chunk(stream: Stream, path: str, start: int, data: bytes, size: int) -> LogChunk:
    # Stop before a UTF-8 sequence cut at the end of the chunk: the next call starts with it.
    cut = len(data)
    if start + cut < size:
        cut = _utf8_boundary(data)
    return LogChunk(
        stream=stream,
        path=path,
        offset=start,
        next_offset=start + cut,
        size=size,
        text=data[:cut].decode("utf-8", errors="replace"),
    )


def _utf8_boundary(data: bytes) -> int:
    """Length of data without a trailing incomplete UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:
            continue
        if byte & 0x80 == 0:
            return len(data)
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4
        return len(data) if back >= need else len(data) - back
    return len(data)
