"""A real OPeNDAP (DAP2) server on the loopback for the OPeNDAP tests: pydap's own server (its
`BaseHandler`: constraint parsing, the DDS, DAS and DODS responses, XDR encoding) serving every
NetCDF file under a folder at `/<relative path>.<dds|das|dods|...>`, in a thread with the
standard library's WSGI server; plus a port that answers HTML (or redirects to a host that is
not allowed) and a closed port.

The datasets are built from the files with netCDF4 (espri_vre.demo.services.dap_dataset, which
the demo's own OPeNDAP server uses too) rather than by pydap 3.5.9's NetCDF handler, which
cannot serve them: it reshapes every slice to the variable's whole shape (any
partial read fails: pydap issues #130 and #217, open), indexes scalars with np.newaxis, which
netCDF4 refuses, and passes attributes as keywords (a variable attribute called `name` breaks
it, as in the IPSL files). The data layer is the only part replaced; what travels is pydap's.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydap.handlers.lib import BaseHandler
from remote_servers import free_port, serve_jupyter

from espri_vre.demo.services import dap_dataset

DAP2_SUFFIXES = (".dds", ".das", ".dods", ".asc", ".ascii", ".ver", ".html")


def dap_app(root: Path) -> Callable[..., Any]:
    """The WSGI application: `<relative path of a file>.<response>` under `root`."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        base, dot, _ = path.rpartition(".")
        # Lexically under root (the sample is linked in, so links are followed).
        target = root / base.lstrip("/")
        if not dot or ".." in target.parts or not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b'Error { code = 404; message = "no such dataset"; }']
        return BaseHandler(dap_dataset(target))(environ, start_response)

    return app


def other_app(dap_port: int) -> Callable[..., Any]:
    """A data portal's sign-in page where a DAP answer was expected; under /moved/, a redirect
    to the DAP server named `localhost`, a host the tests do not allow."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moved/"):
            location = f"http://localhost:{dap_port}/{path.removeprefix('/moved/')}"
            start_response("302 Found", [("Location", location)])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html; charset=UTF-8")])
        return [b"<!DOCTYPE html><html><body><form>Sign in</form></body></html>"]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class DapServers:
    dap_port: int
    html_port: int
    closed_port: int

    @property
    def allowed_hosts(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in (self.dap_port, self.html_port, self.closed_port)]

    def url(self, relative: str, kind: str = "dap") -> str:
        port = {"dap": self.dap_port, "html": self.html_port, "closed": self.closed_port}[kind]
        return f"http://127.0.0.1:{port}/{relative}"


def start(root: Path, port: int = 0) -> tuple[DapServers, Callable[[], None]]:
    """The servers over `root` (the DAP server on `port`, else any free port), each in a
    thread; returns them and a function that stops them."""

    def serve(app: Callable[..., Any], port: int = 0) -> WSGIServer:
        return make_server("127.0.0.1", port, app, server_class=_Threading, handler_class=_Quiet)

    dap = serve(dap_app(root.resolve()), port)
    servers = [dap, serve(other_app(dap.server_port))]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        for server in servers:
            server.shutdown()
            server.server_close()

    return DapServers(servers[0].server_port, servers[1].server_port, free_port()), stop


def main(argv: list[str]) -> None:
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 0
    servers, stop = start(Path(argv[0]), port)
    line: dict[str, Any] = {
        "dap": servers.dap_port,
        "html": servers.html_port,
        "closed": servers.closed_port,
    }
    if "--jupyter" not in argv:
        print(json.dumps(line), flush=True)
        sys.stdin.read()
        stop()
        return
    serve_jupyter(line, argv[argv.index("--jupyter") + 1], servers.allowed_hosts)


if __name__ == "__main__":
    main(sys.argv[1:])
