"""A real STAC API server from PyPI, stac-fastapi-geoparquet (stac-fastapi over a
stac-geoparquet file queried with DuckDB through rustac; no database server), loaded with the
demo's STAC items and searched through the server's catalogue proxy as the browser does:
landing page and conformance, item search by GET and POST (collections, bbox, datetime, ids),
paging through `next` links, and a host that is not allowed.

DuckDB's spatial extension comes from rustac-duckdb-extensions (built for DuckDB 1.5.1, hence
rustac 0.9.9, whose DuckDB is 1.5.1): nothing is downloaded. Why not the others:
stac-fastapi-static 1.0.1 pins stac-fastapi.api < 6, whose CORS middleware passes its
arguments by position and breaks on Starlette >= 0.52 (the `allow_private_network`
parameter); pgstac needs a PostgreSQL server; the Elasticsearch/OpenSearch back ends need
those servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

for _module in ("stac_fastapi.geoparquet", "rustac_duckdb_extensions"):
    pytest.importorskip(_module, reason=f"{_module} (the test extra) is absent")

DEMO_ITEMS = {
    "tas-demo-monthly",
    "tos-demo-curvilinear",
    "stations-demo",
    "balloon-demo-trajectory",
}
COLLECTION = "espri-vre-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVE = """
import sys
import rustac
import rustac_duckdb_extensions
import uvicorn
from stac_fastapi.geoparquet.api import create
from stac_fastapi.geoparquet.settings import Settings

client = rustac.DuckdbClient(
    extension_directory=rustac_duckdb_extensions.extension_directory(),
    install_extensions=False,
    extensions=["spatial", "icu"],
)
settings = Settings(stac_fastapi_geoparquet_href=sys.argv[1])
app = create(settings, client).app
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _write_geoparquet(demo_dir: Path, path: Path) -> None:
    import asyncio

    import rustac

    folder = demo_dir / "catalogs" / "stac" / COLLECTION
    items = [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*/*.json"))]
    assert {item["id"] for item in items} == DEMO_ITEMS
    for item in items:
        item["collection"] = COLLECTION

    async def write() -> None:
        await rustac.write(str(path), items)

    asyncio.run(write())


@pytest.fixture(scope="module")
def stac_api(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """stac-fastapi-geoparquet under uvicorn on a free port, serving the demo's items."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("stac-api")
    items = folder / "demo-items.parquet"
    _write_geoparquet(demo_dir, items)
    log = folder / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(items), str(port)],
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stac-fastapi-geoparquet did not start: {log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def jp_server_config(stac_api: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {
            "catalogs": [
                {"id": "stac-api", "title": "STAC API", "kind": "stac", "url": f"{stac_api}/"}
            ]
        },
        "CatalogProxy": {"timeout": 20.0},
    }


async def proxied(jp_fetch: Any, url: str, **kwargs: Any) -> Any:
    response = await jp_fetch(
        "espri-vre", "api", "catalogs", "stac-api", "proxy", params={"url": url}, **kwargs
    )
    return response, json.loads(response.body)


def _ids(page: dict[str, Any]) -> set[str]:
    return {feature["id"] for feature in page["features"]}


def _next(page: dict[str, Any]) -> dict[str, Any] | None:
    return next((link for link in page.get("links", []) if link["rel"] == "next"), None)


async def test_landing_page_declares_item_search(jp_fetch, stac_api):
    response, landing = await proxied(jp_fetch, f"{stac_api}/")
    assert response.headers["X-Espri-Vre-Truncated"] == "false"
    assert any(uri.endswith("/item-search") for uri in landing["conformsTo"])
    search = [link for link in landing["links"] if link["rel"] == "search"]
    assert search and search[0]["href"].startswith(stac_api)


async def test_post_search_by_collection_finds_the_demo_items(jp_fetch, stac_api):
    _, page = await proxied(
        jp_fetch,
        f"{stac_api}/search",
        method="POST",
        body=json.dumps({"collections": [COLLECTION], "limit": 50}),
        headers={"Content-Type": "application/json"},
    )
    assert _ids(page) == DEMO_ITEMS
    tas = next(f for f in page["features"] if f["id"] == "tas-demo-monthly")
    assert set(tas["assets"]) == {"netcdf", "zarr-v2", "zarr-v3"}
    assert tas["properties"]["variables"] == ["tas"]


async def test_get_search_narrows_by_bbox_and_datetime(jp_fetch, stac_api):
    # Near Trappes (48.8 N, 2 E): the balloon flight, the global air temperature and the
    # ocean grid's box cover it; the stations' box does too only in longitude.
    _, near = await proxied(jp_fetch, f"{stac_api}/search?bbox=1.5,48.5,2.5,49.2")
    assert _ids(near) == {"balloon-demo-trajectory", "tas-demo-monthly", "tos-demo-curvilinear"}
    # This back end keeps items whose start/end range lies within the asked interval
    # (the demo items have `datetime: null` and a range): the day of the flight.
    _, flight = await proxied(
        jp_fetch,
        f"{stac_api}/search?bbox=1.5,48.5,2.5,49.2"
        "&datetime=2000-06-15T00:00:00Z/2000-06-16T00:00:00Z",
    )
    assert _ids(flight) == {"balloon-demo-trajectory"}
    _, by_id = await proxied(jp_fetch, f"{stac_api}/search?ids=stations-demo")
    assert _ids(by_id) == {"stations-demo"}


async def test_pages_follow_next_links_through_the_proxy(jp_fetch, stac_api):
    seen: list[str] = []
    _, page = await proxied(jp_fetch, f"{stac_api}/search?collections={COLLECTION}&limit=1")
    for _ in range(10):
        seen.extend(f["id"] for f in page["features"])
        link = _next(page)
        if link is None:
            break
        assert link["href"].startswith(stac_api)
        _, page = await proxied(jp_fetch, link["href"])
    assert sorted(seen) == sorted(DEMO_ITEMS)


async def test_another_port_of_the_same_host_is_refused(jp_fetch, stac_api):
    port = int(stac_api.rsplit(":", 1)[1])
    other = f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/search"
    with pytest.raises(HTTPClientError) as failed:
        await proxied(jp_fetch, other)
    assert failed.value.code == 403
    body = json.loads(failed.value.response.body)
    assert body["error"] == "host-not-allowed"
