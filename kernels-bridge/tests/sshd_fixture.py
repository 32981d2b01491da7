"""pytest plugin: a real OpenSSH server (Debian's `openssh-server`) on the loopback, for the
SSH transport's tests. The session fixture `sshd` writes host and user keys, an sshd_config
and a known_hosts file in a temporary folder, starts `sshd -D` on a free port and stops it at
the end. It runs as the user running the tests (root on these machines: the login is by key
only). When sshd cannot start, the fixture fails with sshd's own output: an SSH test never
passes by skipping."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass(frozen=True)
class SSHServer:
    host: str
    port: int
    user: str
    key_file: Path
    known_hosts: Path
    wrong_known_hosts: Path
    """A known_hosts that names another key for this server."""

    def settings(self, **overrides: object) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "key_file": str(self.key_file),
            "known_hosts": str(self.known_hosts),
            **overrides,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    if not os.path.exists(SSHD):
        pytest.fail(f"{SSHD} is missing: scripts/setup.sh installs Debian's openssh-server as root")
    d = tmp_path_factory.mktemp("sshd")
    os.chmod(d, 0o700)
    _keygen(d / "host_key")
    _keygen(d / "user_key")
    _keygen(d / "other_host_key")
    (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = _free_port()
    host_pub = (d / "host_key.pub").read_text().split()[:2]
    other_pub = (d / "other_host_key.pub").read_text().split()[:2]
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub)}\n")
    (d / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(other_pub)}\n")
    (d / "sshd_config").write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {d / 'host_key'}",
                f"AuthorizedKeysFile {d / 'authorized_keys'}",
                f"PidFile {d / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "MaxSessions 50",
                "MaxStartups 50",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation dir
    log = (d / "sshd.log").open("wb")
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"sshd did not start: {(d / 'sshd.log').read_text()}")
            time.sleep(0.1)
    try:
        yield SSHServer(
            host="127.0.0.1",
            port=port,
            user=getpass.getuser(),
            key_file=d / "user_key",
            known_hosts=d / "known_hosts",
            wrong_known_hosts=d / "wrong_known_hosts",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
