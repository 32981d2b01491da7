"""The demo's local data services, run beside JupyterLab by `python -m espri_vre.demo serve DIR`
(scripts/demo.sh), so that the remote side of the suite can be tried offline:

- a STAC API: stac-fastapi-geoparquet (stac-fastapi over a stac-geoparquet file of the demo's
  items, queried with DuckDB through rustac, whose spatial extension comes from
  rustac-duckdb-extensions: nothing is downloaded), the server the catalogue proxy tests use;
- an OPeNDAP (DAP2) server over DIR/data: pydap's own `BaseHandler` (constraints, DDS, DAS,
  DODS, XDR) under the standard library's WSGI server. Its datasets are read with netCDF4
  here because pydap 3.5.9's NetCDF handler cannot serve partial reads (pydap issues #130
  and #217); what travels is pydap's.

The STAC API's NetCDF items gain an OPeNDAP asset on the local server, so that a search in the
STAC API previews a dataset over OPeNDAP. The server configuration gains the STAC API as a
catalogue and both hosts in its allow-list (catalogs.with_services)."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import numpy as np

from . import catalogs

OPENDAP_MEDIA_TYPE = "application/vnd.opendap"
"""What the catalogue's adapters read as an OPeNDAP endpoint (there is no registered type)."""


# OPeNDAP


class _LazyArray:
    """One variable of a file as pydap slices it: raw values (no masking or scaling: a client
    decodes them from the attributes, as from any DAP server), read on each slice."""

    def __init__(self, path: Path, name: str, variable: Any) -> None:
        self.path, self.name = path, name
        self.dtype = np.dtype(variable.dtype)
        self.shape = tuple(variable.shape)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def __getitem__(self, key: Any) -> np.ndarray:
        import netCDF4

        keys = key if isinstance(key, tuple) else (key,)
        with netCDF4.Dataset(self.path) as source:
            variable = source[self.name]
            variable.set_auto_maskandscale(False)
            if self.shape and all(isinstance(k, slice | int) for k in keys):
                return np.asarray(variable[keys])
            # np.newaxis and friends (pydap's scalar path): numpy indexes the whole value.
            return np.asarray(variable[...])[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self[...], dtype=dtype)


@functools.lru_cache(maxsize=16)
def dap_dataset(path: Path) -> Any:
    """A NetCDF file as a pydap dataset whose arrays are read on each slice (kept for the next
    requests)."""
    import netCDF4
    from pydap.model import BaseType, DatasetType

    def attributes(item: Any) -> dict[str, Any]:
        return {name: item.getncattr(name) for name in item.ncattrs()}

    with netCDF4.Dataset(path) as source:
        dataset = DatasetType(path.name, attributes={"NC_GLOBAL": attributes(source)})
        for name, variable in source.variables.items():
            dataset[name] = BaseType(
                name,
                _LazyArray(path, name, variable),
                dims=list(variable.dimensions),
                attributes=attributes(variable),
            )
    return dataset


def dap_app(root: Path) -> Callable[..., Any]:
    """The WSGI application: `/<file's path under root>.<dds|das|dods|...>` for every NetCDF
    file under `root`; 404 (in DAP's error syntax) for anything else."""
    from pydap.handlers.lib import BaseHandler

    root = root.resolve()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        base, dot, _ = environ.get("PATH_INFO", "").rpartition(".")
        target = (root / base.lstrip("/")).resolve()
        if not dot or not target.is_relative_to(root) or not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b'Error { code = 404; message = "no such dataset"; }']
        return BaseHandler(dap_dataset(target))(environ, start_response)

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def opendap_server(root: Path, port: int = 0) -> Iterator[str]:
    """The OPeNDAP server over `root` on the loopback (`port`, else a free one), in a thread;
    yields its base URL."""
    server = make_server(
        "127.0.0.1", port, dap_app(root), server_class=_Threading, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# STAC API


def stac_api_items(demo_dir: Path, opendap_url: str | None) -> list[dict[str, Any]]:
    """The demo's static STAC items as the STAC API serves them: in their collection, their
    files by file: URL, each NetCDF file also offered over OPeNDAP when `opendap_url` is
    given."""
    folder = demo_dir / "catalogs" / "stac" / catalogs.COLLECTION_ID
    items = [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*/*.json"))]
    data = demo_dir / "data"
    for item in items:
        item["collection"] = catalogs.COLLECTION_ID
        item["links"] = []  # relative links to the static catalogue mean nothing here
        for key, asset in list(item["assets"].items()):
            # Relative to the static item: the API's items name the files by file: URL.
            local = (folder / item["id"] / asset["href"]).resolve()
            asset["href"] = local.as_uri()
            if opendap_url and local.suffix == ".nc" and local.is_relative_to(data.resolve()):
                relative = local.relative_to(data.resolve()).as_posix()
                item["assets"][f"{key}-opendap"] = {
                    "href": f"{opendap_url}{relative}",
                    "type": OPENDAP_MEDIA_TYPE,
                    "title": f"{asset.get('title', key)} over OPeNDAP (DAP2)",
                    "roles": ["data"],
                }
    return items


@contextmanager
def stac_api_server(items: list[dict[str, Any]], folder: Path, port: int = 0) -> Iterator[str]:
    """stac-fastapi-geoparquet under uvicorn on the loopback, in a thread, serving `items`
    (written as stac-geoparquet into `folder`); yields its base URL."""
    import rustac
    import rustac_duckdb_extensions
    import uvicorn
    from stac_fastapi.geoparquet.api import create
    from stac_fastapi.geoparquet.settings import Settings

    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / "demo-items.parquet"

    async def write() -> None:  # rustac.write wants a running event loop
        await rustac.write(str(parquet), items)

    asyncio.run(write())
    client = rustac.DuckdbClient(
        extension_directory=rustac_duckdb_extensions.extension_directory(),
        install_extensions=False,
        extensions=["spatial", "icu"],
    )
    app = create(Settings(stac_fastapi_geoparquet_href=str(parquet)), client).app
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))  # bound here: its port is known before uvicorn starts
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # Its URL goes out once it answers (uvicorn's `started`), or the reason it never will.
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the STAC API server stopped while starting (see its log)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# Both, and the configuration that names them


@dataclass(frozen=True)
class Services:
    stac_api: str | None
    opendap: str | None
    problems: tuple[str, ...] = ()
    """Why a service did not start (a missing optional package): the demo goes on without."""


SERVICES_FILE = ".demo-services.json"
"""The URLs of the services the configuration names, so that the next run replaces them."""


@contextmanager
def demo_services(demo_dir: Path, *, stac_port: int = 0, dap_port: int = 0) -> Iterator[Services]:
    """Starts both services over the demo in `demo_dir`, points its server configuration at
    them (catalogs.with_services), yields them, stops them."""
    problems: list[str] = []
    with ExitStack() as stack:
        dap = stack.enter_context(opendap_server(demo_dir / "data", dap_port))
        items = stac_api_items(demo_dir, dap)
        try:
            stac_url = stack.enter_context(
                stac_api_server(items, demo_dir / ".stac-api", stac_port)
            )
        except ImportError as error:
            stac_url = None
            problems.append(f"no STAC API: {error.name} is not installed (the test extra)")
        services = Services(stac_url, dap, tuple(problems))
        _configure(demo_dir, services)
        yield services


def _configure(demo_dir: Path, services: Services) -> None:
    config_path = demo_dir / "jupyter_server_config.json"
    kept = demo_dir / SERVICES_FILE
    previous = json.loads(kept.read_text("utf-8")) if kept.is_file() else {}
    config = json.loads(config_path.read_text("utf-8"))
    urls = {"stac_api": services.stac_api, "opendap": services.opendap}
    updated = catalogs.with_services(config, urls, previous)
    config_path.write_text(json.dumps(updated, indent=2) + "\n", "utf-8")
    kept.write_text(json.dumps(urls, indent=2) + "\n", "utf-8")
