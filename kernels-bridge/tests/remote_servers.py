"""Real data servers on the loopback for the remote-file tests: tornado's StaticFileHandler (the
file handler Jupyter itself uses, with Range requests, ETag and Last-Modified), the standard
library's http.server (which ignores Range and answers the whole file), an HTML page where a
file was expected, and a closed port.

Imported by the pytest tests; run as a script by the vitest tests, with a Jupyter server of
the suite allow-listing them:

    python remote_servers.py ROOT [--jupyter ROOT_DIR]

prints one JSON line with the ports (and the Jupyter server's URL and token) and serves until
its standard input closes.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import secrets
import socket
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tornado.web


class _Html(tornado.web.RequestHandler):
    """A data portal's sign-in page, where the file was expected."""

    def get(self, _path: str) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish("<!DOCTYPE html><html><body><form>Sign in</form></body></html>")


class _Gzipped(tornado.web.StaticFileHandler):
    """A server whose Range answers declare a gzip Content-Encoding: bytes so encoded are not
    the file's own at those offsets, whatever they hold."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Content-Encoding", "gzip")


class _Dying(tornado.web.RequestHandler):
    """A data server that dies in the middle of its answers: the 206 headers of the whole range
    and half its bytes, then the connection closed. Ranges of up to PROBE_BYTES (the server's
    first look at a file) are answered whole, so that the death comes while the file is read."""

    PROBE_BYTES = 8

    def initialize(self, path: str) -> None:
        self.root = Path(path)

    async def get(self, name: str) -> None:
        whole = (self.root / name).read_bytes()
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", self.request.headers.get("Range", ""))
        if not found:
            raise tornado.web.HTTPError(400)
        first, last = int(found[1]), min(int(found[2]), len(whole) - 1)
        body = whole[first : last + 1]
        self.set_status(206)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Range", f"bytes {first}-{last}/{len(whole)}")
        self.set_header("Content-Length", str(len(body)))
        if len(body) <= self.PROBE_BYTES:
            self.finish(body)
            return
        self.write(body[: len(body) // 2])
        await self.flush()
        self.request.connection.stream.close()


class _Moved(tornado.web.RequestHandler):
    def get(self, path: str) -> None:
        self.redirect(f"/files/{path}", status=302)


@dataclass
class RemoteServers:
    range_port: int
    norange_port: int
    closed_port: int

    @property
    def allowed_hosts(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in (self.range_port, self.norange_port, self.closed_port)]

    def url(self, kind: str, path: str) -> str:
        """kind: files (Range), moved (a redirect to files), portal (HTML), gzipped (a
        compressed answer), dying (half an answer, then the connection closed), norange,
        closed."""
        if kind == "norange":
            return f"http://127.0.0.1:{self.norange_port}/{path}"
        if kind == "closed":
            return f"http://127.0.0.1:{self.closed_port}/{path}"
        return f"http://127.0.0.1:{self.range_port}/{kind}/{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(root: Path) -> tuple[RemoteServers, callable]:
    """Start the servers over `root` in threads; returns them and a function that stops them."""
    ready = threading.Event()
    state: dict = {}

    def run_tornado() -> None:
        async def main() -> None:
            app = tornado.web.Application(
                [
                    (r"/files/(.*)", tornado.web.StaticFileHandler, {"path": str(root)}),
                    (r"/moved/(.*)", _Moved),
                    (r"/portal/(.*)", _Html),
                    (r"/gzipped/(.*)", _Gzipped, {"path": str(root)}),
                    (r"/dying/(.*)", _Dying, {"path": str(root)}),
                ]
            )
            server = app.listen(0, "127.0.0.1")
            state["range"] = next(iter(server._sockets.values())).getsockname()[1]
            state["stop"] = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            ready.set()
            await state["stop"].wait()
            server.stop()

        asyncio.run(main())

    tornado_thread = threading.Thread(target=run_tornado, daemon=True)
    tornado_thread.start()
    ready.wait(30)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    servers = RemoteServers(state["range"], plain.server_address[1], free_port())

    def stop() -> None:
        plain.shutdown()
        plain.server_close()
        state["loop"].call_soon_threadsafe(state["stop"].set)
        tornado_thread.join(10)

    return servers, stop


def main(argv: list[str]) -> None:
    root = Path(argv[0])
    servers, stop = start(root)
    line = {
        "range": servers.range_port,
        "norange": servers.norange_port,
        "closed": servers.closed_port,
    }
    if "--jupyter" in argv:
        serve_jupyter(line, argv[argv.index("--jupyter") + 1], servers.allowed_hosts)
        return
    print(json.dumps(line), flush=True)
    sys.stdin.read()
    stop()


def suite_config(root_dir: Path | str, allowed_hosts: list[str]) -> dict[str, Any]:
    """A pytest-jupyter `jp_server_config` of the suite allow-listing data servers (these, or
    opendap_server.py's), with a proxy time-out short enough for a dead server to fail a test."""
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(root_dir)},
        "EspriVreApp": {"allowed_hosts": allowed_hosts},
        "CatalogProxy": {"timeout": 10.0},
    }


def serve_jupyter(line: dict[str, Any], root_dir: str, allowed_hosts: Iterable[str]) -> None:
    """The suite's Jupyter server in this process, allow-listing `allowed_hosts`: prints `line`
    with the server's URL and token as one JSON line, serves until stdin closes."""
    from jupyter_server.serverapp import ServerApp

    token, port = secrets.token_hex(16), free_port()
    print(json.dumps({**line, "jupyter": f"http://127.0.0.1:{port}/", "token": token}), flush=True)
    threading.Thread(target=_stop_on_eof, daemon=True).start()
    app = ServerApp()
    app.initialize(
        [
            f"--ServerApp.root_dir={root_dir}",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            "--ServerApp.port_retries=0",
            *(f"--EspriVreApp.allowed_hosts={host}" for host in allowed_hosts),
        ]
    )
    app.start()


def _stop_on_eof() -> None:
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
