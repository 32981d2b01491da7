"""GET /espri-vre/api/status through a real Jupyter server (pytest-jupyter), with real
catalogue files, a real local HTTP server, a closed port, and the shared folder's broken
intake-esm descriptor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import SHARED, needs_shared
from tornado.httpclient import HTTPClientError

import espri_vre

SCHEMA_PATH = Path(espri_vre.__file__).parent / "schema" / "api.schema.json"
BAD_ESM = SHARED / "data" / "intake-esm-catalogs" / "bad.json"
CLOSED_PORT_URL = "http://127.0.0.1:9/"


@pytest.fixture
def jp_server_config(demo_dir: Path, http_catalog_server: str, tmp_path: Path) -> dict[str, Any]:
    catalogs = [
        {
            "id": "demo-esm",
            "title": "Demo (intake-esm)",
            "kind": "intake-esm",
            "url": str(demo_dir / "catalogs" / "demo-esm.json"),
            "description": "the demo builder's catalogue",
        },
        {
            "id": "demo-stac",
            "title": "Demo (STAC)",
            "kind": "stac",
            "url": str(demo_dir / "catalogs" / "stac" / "catalog.json"),
        },
        {"id": "closed-port", "title": "Nothing listens", "kind": "stac", "url": CLOSED_PORT_URL},
        {
            "id": "local-http",
            "title": "Local HTTP",
            "kind": "stac",
            "url": f"{http_catalog_server}/catalog.json",
        },
        {
            "id": "local-http-404",
            "title": "Local HTTP, wrong path",
            "kind": "thredds",
            "url": f"{http_catalog_server}/thredds/catalog.xml",
        },
        {"id": "no-url", "title": "Configured without url", "kind": "csw"},
        {"id": "bad-kind", "title": "Unknown kind", "kind": "ftp", "url": "/tmp"},
        "not an object",
    ]
    if BAD_ESM.is_file():
        catalogs.append(
            {"id": "bad-esm", "title": "Broken ESM", "kind": "intake-esm", "url": str(BAD_ESM)}
        )
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {
            "catalogs": catalogs,
            "data_roots": [
                {"id": "demo-data", "title": "Demo data", "path": str(demo_dir / "data")},
                {"id": "missing", "title": "Missing", "path": str(tmp_path / "nowhere")},
            ],
            "reachability_timeout": 2.0,
        },
    }


async def get_status(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("espri-vre", "api", "status")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


async def test_status_reports_each_configured_catalogue_with_its_reachability(jp_fetch):
    status = await get_status(jp_fetch)
    catalogs = by_id(status["catalogs"])
    expected = ["demo-esm", "demo-stac", "closed-port", "local-http", "local-http-404", "no-url"]
    assert [c["id"] for c in status["catalogs"]][: len(expected)] == expected
    assert "bad-kind" not in catalogs  # a kind outside the contract is logged and left out

    esm = catalogs["demo-esm"]
    assert esm["reachable"] is True
    assert esm["detail"].startswith("ESM collection 'espri-vre-demo', table demo-esm.csv")
    assert esm["kind"] == "intake-esm"
    assert esm["description"] == "the demo builder's catalogue"
    assert esm["latency_ms"] >= 0

    stac = catalogs["demo-stac"]
    assert stac["reachable"] is True
    assert stac["detail"] == "STAC Catalog 'espri-vre-demo-catalog' (STAC 1.0.0), 1 child"

    closed = catalogs["closed-port"]
    assert closed["reachable"] is False
    assert closed["detail"] == "connection refused by 127.0.0.1:9"

    assert catalogs["local-http"]["reachable"] is True
    assert catalogs["local-http"]["detail"] == "HTTP 200 OK"
    assert catalogs["local-http-404"]["reachable"] is False
    assert catalogs["local-http-404"]["detail"] == "HTTP 404 Not Found"

    no_url = catalogs["no-url"]
    assert no_url["reachable"] is False
    assert no_url["latency_ms"] is None
    assert no_url["detail"].startswith("configuration error: it has no url")


@needs_shared
async def test_status_reports_the_broken_esm_descriptor_as_unreachable_with_the_reason(jp_fetch):
    bad = by_id((await get_status(jp_fetch))["catalogs"])["bad-esm"]
    assert bad["reachable"] is False
    assert "catalog_file './tests/cesm1-lens-aws-zarr.csv' does not exist" in bad["detail"]


async def test_status_reports_the_embedded_local_cluster_and_the_data_roots(jp_fetch):
    status = await get_status(jp_fetch)
    assert status["version"] == espri_vre.__version__
    [local] = status["clusters"]
    assert local["id"] == "local"
    assert local["kind"] == "local"
    assert local["transport"] == "local"
    assert local["reachable"] is True
    assert local["detail"].startswith("jobs run as processes on this server")

    roots = by_id(status["data_roots"])
    assert roots["demo-data"]["reachable"] is True
    assert roots["demo-data"]["detail"] == "directory with 7 entries"
    assert roots["missing"]["reachable"] is False
    assert roots["missing"]["detail"].endswith("nowhere does not exist")


async def test_status_response_validates_against_the_api_schema(jp_fetch):
    status = await get_status(jp_fetch)
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(
        status, {**schema, "$ref": "#/definitions/StatusResponse"}, jsonschema.Draft7Validator
    )


async def test_request_without_token_is_refused_with_a_json_error(jp_fetch):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("espri-vre", "api", "status", headers={"Authorization": ""})
    assert refused.value.code in (401, 403)
    body = json.loads(refused.value.response.body)
    assert set(body) == {"error", "detail"}
    assert body["error"] in ("unauthorized", "forbidden")
    assert "token" in body["detail"]


async def test_request_with_a_wrong_token_is_refused(jp_fetch):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("espri-vre", "api", "status", headers={"Authorization": "token wrong"})
    assert refused.value.code in (401, 403)
    assert json.loads(refused.value.response.body)["error"] in ("unauthorized", "forbidden")


async def test_unknown_route_gives_a_json_404(jp_fetch):
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("espri-vre", "api", "no-such-thing")
    assert missing.value.code == 404
    body = json.loads(missing.value.response.body)
    assert body["error"] == "not-found"
    assert body["detail"].startswith("There is no espri-vre API endpoint at ")
    assert body["detail"].endswith("/espri-vre/api/no-such-thing.")


async def test_a_method_the_endpoint_does_not_take_gives_a_json_405(jp_fetch):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("espri-vre", "api", "status", method="DELETE")
    assert refused.value.code == 405
    assert json.loads(refused.value.response.body)["error"] == "method-not-allowed"


def test_the_schema_helper_names_each_way_a_payload_breaks_the_contract():
    from espri_vre.schema import validation_errors

    problems = validation_errors(
        "StatusResponse",
        {"version": 1, "catalogs": [{"id": "x"}], "clusters": [], "data_roots": [], "extra": 0},
    )
    assert "version: 1 is not of type 'string'" in problems
    assert "(root): Additional properties are not allowed ('extra' was unexpected)" in problems
    assert "catalogs/0: 'title' is a required property" in problems
    assert validation_errors("ErrorBody", {"error": "not-found", "detail": "No."}) == []
