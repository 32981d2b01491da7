"""The SSH transport: scheduler commands on a login node, through asyncssh.

The command is still an argv list: it is quoted word by word with `shlex.join` for the remote
login shell, so that no job name, path or parameter is ever read as shell syntax there. One
connection per cluster is kept open and reused (a refresh of the job list must not pay an SSH
handshake), and opened again when the login node dropped it.

A command is sent again on a new connection only when the old one failed before the command
started (the session could not be opened). A connection that breaks while the command runs is a
TransportError saying so, never a result: the command may have done its work (an `sbatch` may
have submitted its job), so it is not run twice, and an exit status that never came is not read
as a failure of the command itself.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .transport import DEFAULT_MAX_OUTPUT, CommandResult, check_argv
from .types import CommandNotFound, CommandTimeout, TransportError

CONNECT_TIMEOUT = 15.0


@dataclass(frozen=True)
class SSHSettings:
    host: str
    user: str | None = None
    port: int = 22
    key_file: str | None = None
    known_hosts: str | None = None
    """A known_hosts file; None uses ~/.ssh/known_hosts. Host keys are always checked."""

    @classmethod
    def from_settings(cls, ssh: Mapping[str, Any]) -> SSHSettings:
        port = ssh.get("port", 22)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError(f"ssh.port must be 1..65535, not {port!r}")
        return cls(
            host=str(ssh["host"]),
            user=None if ssh.get("user") is None else str(ssh["user"]),
            port=port,
            key_file=None if ssh.get("key_file") is None else str(ssh["key_file"]),
            known_hosts=None if ssh.get("known_hosts") is None else str(ssh["known_hosts"]),
        )

    @property
    def where(self) -> str:
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port}"


class SSHTransport:
    """Runs commands on a login node over SSH; satisfies the Transport protocol."""

    def __init__(
        self,
        settings: SSHSettings,
        *,
        env: Mapping[str, str] | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self.settings = settings
        self.env = dict(env or {})
        """Set for each command on the login node (`env K=V ...`), e.g. SLURM_CONF."""
        self.max_output = max_output
        self._conn: Any = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> Any:
        import asyncssh

        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            s = self.settings
            options: dict[str, Any] = {
                "port": s.port,
                "known_hosts": str(Path(s.known_hosts or "~/.ssh/known_hosts").expanduser()),
                "connect_timeout": CONNECT_TIMEOUT,
            }
            if s.user:
                options["username"] = s.user
            if s.key_file:
                options["client_keys"] = [str(Path(s.key_file).expanduser())]
            try:
                self._conn = await asyncssh.connect(s.host, **options)
            except asyncssh.HostKeyNotVerifiable as e:
                raise TransportError(
                    f"the host key of {s.where} is not the one in "
                    f"{options['known_hosts']} ({e.reason}): ask the administrators before "
                    "trusting a new key"
                ) from e
            except asyncssh.PermissionDenied as e:
                raise TransportError(
                    f"{s.where} refused the login ({e.reason}): check ssh.user and ssh.key_file"
                ) from e
            except (OSError, asyncssh.Error, TimeoutError) as e:
                why = getattr(e, "reason", None) or str(e) or type(e).__name__
                raise TransportError(f"cannot reach {s.where}: {why}") from e
            return self._conn

    async def run(
        self, argv: Sequence[str], *, timeout: float, input: bytes | None = None
    ) -> CommandResult:
        import asyncssh

        args = check_argv(argv)
        words = [*(["env", *(f"{k}={v}" for k, v in self.env.items())] if self.env else []), *args]
        command = shlex.join(words)
        started = time.monotonic()
        stdin: dict[str, Any] = (
            {"input": input} if input is not None else {"stdin": asyncssh.DEVNULL}
        )
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                process = await conn.create_process(command, encoding=None, **stdin)
                break
            except (asyncssh.Error, OSError) as e:
                # The command did not start: open the connection again and send it once more.
                self._drop(conn)
                if attempt == 2:
                    why = getattr(e, "reason", None) or str(e) or type(e).__name__
                    raise TransportError(f"{self.settings.where}: {why}") from e
        try:
            async with asyncio.timeout(timeout):
                done = await process.wait(check=False)
        except TimeoutError:
            process.close()
            raise CommandTimeout(args, timeout, b"", b"") from None
        except (asyncssh.Error, OSError) as e:
            self._drop(conn)
            raise self._broken(args[0], e) from e
        if done.exit_status is None and done.exit_signal is None:
            # The channel closed without an exit status: the connection broke mid-command.
            self._drop(conn)
            raise self._broken(args[0], None)
        stdout = done.stdout or b""
        stderr = done.stderr or b""
        returncode = done.exit_status
        if done.exit_signal is not None:
            # Killed by a signal on the login node (asyncssh's exit status is then -1 and its
            # returncode minus the signal's number): the exit code a shell reports, 128 + n.
            killed = done.returncode
            returncode = 128 - killed if killed is not None and killed < 0 else 255
        if returncode == 127 and b"not found" in stderr:
            raise CommandNotFound(args[0])
        return CommandResult(
            argv=args,
            returncode=returncode,
            stdout=stdout[: self.max_output],
            stderr=stderr[: self.max_output],
            duration=time.monotonic() - started,
            stdout_truncated=len(stdout) > self.max_output,
            stderr_truncated=len(stderr) > self.max_output,
        )

    def _drop(self, conn: Any) -> None:
        """Forgets a connection that failed, so that the next command opens a new one."""
        if self._conn is conn:
            self._conn = None
        conn.abort()

    def _broken(self, command: str, error: BaseException | None) -> TransportError:
        why = f" ({error})" if error is not None and str(error) else ""
        return TransportError(
            f"the connection to {self.settings.where} broke while {command} ran{why}: whether it "
            "did its work is not known"
        )

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()
            self._conn = None


def transport_for(kind: str, settings: Mapping[str, Any]) -> SSHTransport | None:
    """None (commands on this server) or the SSH transport to the cluster's login node, from
    a cluster entry of the configuration. Raises ValueError naming a bad `ssh` setting."""
    if kind != "ssh":
        return None
    ssh = settings.get("ssh")
    if not isinstance(ssh, Mapping) or not isinstance(ssh.get("host"), str):
        raise ValueError("the ssh transport needs ssh.host (and usually user, key_file)")
    env = ssh.get("env") or {}
    if not isinstance(env, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ValueError("ssh.env must map names to strings")
    return SSHTransport(SSHSettings.from_settings(ssh), env=env)
