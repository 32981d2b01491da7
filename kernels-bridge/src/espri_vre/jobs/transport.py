"""Where scheduler commands run: on this server (LocalTransport) or, from issue 4, on a login node
over SSH. A command is always an argv list, never a shell string, so a job name or a path can
never be read as shell syntax; sizes and times are bounded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .types import CommandNotFound, CommandTimeout, TransportError

DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024
"""Bytes kept per stream. `squeue --json` with 10,000 separate jobs is tens of megabytes."""

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration: float
    """Seconds from start to exit."""
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Runs one command and returns its result; the local and SSH transports both satisfy it."""

    async def run(
        self, argv: Sequence[str], *, timeout: float, input: bytes | None = None
    ) -> CommandResult:
        """Raises CommandNotFound when argv[0] does not exist, CommandTimeout (after killing
        the command) when it runs longer than timeout seconds, TransportError otherwise."""
        ...


def check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, str | bytes):
        raise TypeError("argv must be a list of strings, not a shell string")
    args = tuple(argv)
    if not args or not all(isinstance(a, str) for a in args):
        raise TypeError("argv must be a non-empty list of strings")
    if any("\0" in a for a in args):
        raise ValueError("argv must not contain NUL characters")
    return args


async def _read_bounded(stream: asyncio.StreamReader | None, limit: int) -> tuple[bytes, bool]:
    """Reads the stream to its end, keeping at most limit bytes. Keeps draining past the limit so
    that a chatty command does not block on a full pipe."""
    if stream is None:
        return b"", False
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(_CHUNK):
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


class LocalTransport:
    """Runs commands on this server as asyncio subprocesses.

    Each command gets its own process group, so a timeout or a cancellation kills what it started
    too (a shell script's children, sbatch's helpers)."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self.env = dict(env) if env is not None else None
        """Added to the server's environment (for example SLURM_CONF), not replacing it."""
        self.cwd = cwd
        self.max_output = max_output

    async def run(
        self, argv: Sequence[str], *, timeout: float, input: bytes | None = None
    ) -> CommandResult:
        args = check_argv(argv)
        env = {**os.environ, **self.env} if self.env is not None else None
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        except FileNotFoundError as e:
            if self.cwd is not None and not os.path.isdir(self.cwd):
                raise TransportError(f"working directory {self.cwd} does not exist") from e
            raise CommandNotFound(args[0]) from e
        except PermissionError as e:
            raise TransportError(f"{args[0]}: permission denied") from e

        out_task = asyncio.ensure_future(_read_bounded(proc.stdout, self.max_output))
        err_task = asyncio.ensure_future(_read_bounded(proc.stderr, self.max_output))
        try:
            async with asyncio.timeout(timeout):
                if input is not None and proc.stdin is not None:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        proc.stdin.write(input)
                        await proc.stdin.drain()
                    proc.stdin.close()
                # wait, not gather: on timeout the readers must survive to return the partial
                # output of the killed command.
                await asyncio.wait((out_task, err_task))
                returncode = await proc.wait()
        except TimeoutError:
            await _kill(proc)
            stdout, stderr = await _partial(out_task), await _partial(err_task)
            raise CommandTimeout(args, timeout, stdout, stderr) from None
        except BaseException:
            await _kill(proc)
            out_task.cancel()
            err_task.cancel()
            raise
        stdout, out_cut = out_task.result()
        stderr, err_cut = err_task.result()
        return CommandResult(
            argv=args,
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            duration=time.monotonic() - started,
            stdout_truncated=out_cut,
            stderr_truncated=err_cut,
        )


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    # Bounded: a process stuck in the kernel (D state) must not hang the server.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 5)


async def _partial(task: asyncio.Future[tuple[bytes, bool]]) -> bytes:
    """What a killed command had written; its pipes close with the process group."""
    try:
        return (await asyncio.wait_for(task, 0.25))[0]
    except (TimeoutError, asyncio.CancelledError):
        return b""
