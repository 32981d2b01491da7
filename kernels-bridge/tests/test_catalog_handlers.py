"""/espri-vre/api/catalogs/{id}/esm, /table and /proxy through a real Jupyter server
(pytest-jupyter), with the shared folder's real intake-esm catalogues and real local HTTP servers
serving its recorded ESGF, STAC, THREDDS and CSW answers."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pytest
from conftest import SHARED, needs_shared
from test_catalog_proxy import (
    CSW_REQUEST,
    CSW_RESPONSE,
    ESGF_DATASETS,
    FIXTURES,
    STAC_SEARCH,
    THREDDS,
    _UpstreamServer,
    elsewhere,  # noqa: F401 (a fixture)
    upstream,  # noqa: F401 (a fixture)
)
from tornado.httpclient import HTTPClientError, HTTPResponse

from espri_vre.schema import validation_errors
from espri_vre.server import catalog_handlers
from espri_vre.server.app import API_ROUTES

ESM = SHARED / "data" / "intake-esm-catalogs"
MAX_RESPONSE = 512 * 1024


def is_text(kind: pa.DataType) -> bool:
    return pa.types.is_dictionary(kind) and kind.value_type == pa.string()


@pytest.fixture
def jp_server_config(upstream: _UpstreamServer) -> dict[str, Any]:  # noqa: F811
    catalogs: list[dict[str, Any]] = [
        {"id": "esgf", "title": "ESGF", "kind": "esgf", "url": f"{upstream.base}/esg-search"},
        {"id": "stac", "title": "STAC", "kind": "stac", "url": f"{upstream.base}/stac"},
        {"id": "csw", "title": "CSW", "kind": "csw", "url": f"{upstream.base}/csw"},
        {"id": "no-url", "title": "No URL", "kind": "thredds"},
    ]
    for name in ("cmip6-netcdf", "multi-variable-catalog", "bad"):
        catalogs.append(
            {"id": name, "title": name, "kind": "intake-esm", "url": str(ESM / f"{name}.json")}
        )
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {
            "catalogs": catalogs,
        },
        # Short enough for the slow-server test, long enough for a loaded CI machine (0.5 s
        # timed out redirects there).
        "CatalogProxy": {"timeout": 4.0, "max_response_bytes": MAX_RESPONSE, "cache_ttl": 60},
    }


async def api_error(jp_fetch: Any, *parts: str, **kwargs: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("espri-vre", "api", "catalogs", *parts, **kwargs)
    response = failed.value.response
    assert response is not None
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert validation_errors("ErrorBody", body) == []
    return failed.value.code, body


async def proxied(jp_fetch: Any, catalog: str, url: str, **kwargs: Any) -> HTTPResponse:
    return await jp_fetch(
        "espri-vre", "api", "catalogs", catalog, "proxy", params={"url": url}, **kwargs
    )


@needs_shared
async def test_esm_collection_is_served_normalised_with_its_iterable_columns(jp_fetch):
    response = await jp_fetch("espri-vre", "api", "catalogs", "multi-variable-catalog", "esm")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "private, no-cache"
    collection = json.loads(response.body)
    assert collection["id"] == "sample-multi-variable-cesm1-lens"
    assert collection["columns_with_iterables"] == ["variable"]
    assert collection["aggregation_control"]["groupby_attrs"] == [
        "component",
        "experiment",
        "stream",
    ]
    assert collection["table"]["rows"] == 5
    assert response.headers["ETag"] == collection["table"]["etag"]


@needs_shared
async def test_table_is_one_arrow_stream_with_dictionary_columns_and_an_etag(jp_fetch):
    response = await jp_fetch("espri-vre", "api", "catalogs", "cmip6-netcdf", "table")
    assert response.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert int(response.headers["Content-Length"]) == len(response.body)
    table = pa_ipc.open_stream(response.body).read_all()
    assert table.num_rows == 59
    assert table.column_names[:3] == ["activity_id", "institution_id", "source_id"]
    assert all(is_text(field.type) for field in table.schema if field.name != "path")
    assert table.schema.field("path").type == pa.string()
    assert sorted(set(table.column("source_id").to_pylist()))[:2] == ["BCC-CSM2-MR", "BCC-ESM1"]

    # The browser's two requests: every column but the paths, then the paths.
    search, assets = [
        pa_ipc.open_stream(
            (
                await jp_fetch(
                    "espri-vre", "api", "catalogs", "cmip6-netcdf", "table", params={"part": part}
                )
            ).body
        ).read_all()
        for part in ("search", "assets")
    ]
    assert search.column_names == [n for n in table.column_names if n != "path"]
    assert assets.column_names == ["path"]
    assert assets.column("path").to_pylist() == table.column("path").to_pylist()
    assert search.column("source_id").to_pylist() == table.column("source_id").to_pylist()
    status, body = await api_error(jp_fetch, "cmip6-netcdf", "table", params={"part": "paths"})
    assert (status, body["detail"]) == (
        400,
        "There is no table part 'paths': the parts are search, assets; without part, the whole "
        "table is sent.",
    )

    etag = response.headers["ETag"]
    with pytest.raises(HTTPClientError) as cached:
        await jp_fetch(
            "espri-vre", "api", "catalogs", "cmip6-netcdf", "table", headers={"If-None-Match": etag}
        )
    assert cached.value.code == 304
    again = await jp_fetch(
        "espri-vre", "api", "catalogs", "cmip6-netcdf", "table", headers={"If-None-Match": '"x"'}
    )
    assert again.body == response.body


@needs_shared
async def test_the_broken_descriptor_answers_422_with_the_reason(jp_fetch):
    status, body = await api_error(jp_fetch, "bad", "table")
    assert status == 422
    assert body["error"] == "invalid-catalog"
    assert body["detail"].startswith(
        "bad.json: its catalog_file './tests/cesm1-lens-aws-zarr.csv' does not exist"
    )


async def test_unknown_catalogue_is_a_json_404_and_a_wrong_kind_a_400(jp_fetch):
    assert await api_error(jp_fetch, "nope", "table") == (
        404,
        {"error": "not-found", "detail": "There is no catalogue 'nope' in this server's list."},
    )
    status, body = await api_error(jp_fetch, "esgf", "esm")
    assert (status, body["error"]) == (400, "bad-request")
    assert body["detail"] == (
        "The catalogue 'esgf' is of kind esgf: this endpoint serves intake-esm catalogues only."
    )
    status, body = await api_error(jp_fetch, "cmip6-netcdf", "proxy", params={"url": "http://x/"})
    assert status == 400
    assert "serves esgf, stac, thredds and csw catalogues only" in body["detail"]
    status, body = await api_error(jp_fetch, "no-url", "proxy", params={"url": "http://x/"})
    assert status == 400
    assert body["detail"].startswith("The catalogue 'no-url' cannot be used: configuration error")


async def test_every_catalogue_endpoint_needs_authentication(jp_fetch):
    for endpoint in ("esm", "table", "proxy"):
        status, body = await api_error(
            jp_fetch, "esgf", endpoint, headers={"Authorization": "token wrong"}
        )
        assert status in (401, 403)
        assert body["error"] in ("unauthorized", "forbidden")


@needs_shared
async def test_proxy_passes_the_recorded_esgf_answer_byte_for_byte(jp_fetch, upstream):  # noqa: F811
    url = f"{upstream.base}/fixtures/{ESGF_DATASETS}"
    response = await proxied(jp_fetch, "esgf", url)
    assert response.code == 200
    assert response.body == (FIXTURES / ESGF_DATASETS).read_bytes()
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Espri-Vre-Truncated"] == "false"
    assert response.headers["X-Espri-Vre-Url"] == url
    assert response.headers["X-Espri-Vre-Cache"] == "miss"


@needs_shared
async def test_proxy_posts_a_stac_search_and_a_csw_getrecords(jp_fetch, upstream):  # noqa: F811
    search = json.dumps({"collections": ["HLSL30.v1.5"], "limit": 10})
    stac = await proxied(
        jp_fetch,
        "stac",
        f"{upstream.base}/fixtures/{STAC_SEARCH}",
        method="POST",
        body=search,
        headers={"Content-Type": "application/json"},
    )
    assert stac.body == (FIXTURES / STAC_SEARCH).read_bytes()
    assert upstream.requests[-1][3] == search.encode()

    csw = await proxied(
        jp_fetch,
        "csw",
        f"{upstream.base}/fixtures/{CSW_RESPONSE}",
        method="POST",
        body=(FIXTURES / CSW_REQUEST).read_bytes(),
        headers={"Content-Type": "application/xml"},
    )
    assert csw.body == (FIXTURES / CSW_RESPONSE).read_bytes()
    assert csw.headers["Content-Type"] == "application/xml"

    status, body = await api_error(
        jp_fetch,
        "stac",
        "proxy",
        params={"url": f"{upstream.base}/fixtures/{STAC_SEARCH}"},
        method="POST",
        body="a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, body["error"]) == (415, "unsupported-media-type")


async def test_a_host_off_the_list_is_refused_with_403_naming_it(jp_fetch, elsewhere):  # noqa: F811
    status, body = await api_error(
        jp_fetch, "esgf", "proxy", params={"url": f"{elsewhere.base}/esg-search/search"}
    )
    assert (status, body["error"]) == (403, "host-not-allowed")
    assert body["detail"] == (
        f"The catalogue proxy may not reach the IP address {elsewhere.netloc}: it is neither the "
        "host of a configured catalogue nor in the allow-list. An administrator can add "
        f'"{elsewhere.netloc}" to EspriVreApp.allowed_hosts in the server\'s configuration.'
    )
    assert elsewhere.hits["/esg-search/search"] == 0


@needs_shared
async def test_redirects_are_followed_on_allowed_hosts_only(jp_fetch, upstream, elsewhere):  # noqa: F811
    same = await proxied(jp_fetch, "esgf", f"{upstream.base}/redirect?to=/fixtures/{THREDDS}")
    assert same.body == (FIXTURES / THREDDS).read_bytes()
    assert same.headers["X-Espri-Vre-Url"] == f"{upstream.base}/fixtures/{THREDDS}"

    status, body = await api_error(
        jp_fetch,
        "esgf",
        "proxy",
        params={"url": f"{upstream.base}/redirect?to={elsewhere.base}/fixtures/{THREDDS}"},
    )
    assert status == 403
    assert body["detail"].startswith(f"{upstream.netloc} redirected to {elsewhere.netloc}")
    assert elsewhere.hits[f"/fixtures/{THREDDS}"] == 0


async def test_an_oversized_answer_is_cut_and_flagged(jp_fetch, upstream):  # noqa: F811
    response = await proxied(jp_fetch, "esgf", f"{upstream.base}/big?bytes={2 * 1024 * 1024}")
    assert response.code == 200
    assert len(response.body) == MAX_RESPONSE
    assert response.headers["X-Espri-Vre-Truncated"] == "true"


async def test_a_slow_catalogue_server_gives_a_504_with_a_sentence(jp_fetch, upstream):  # noqa: F811
    status, body = await api_error(
        jp_fetch, "esgf", "proxy", params={"url": f"{upstream.base}/slow?seconds=12"}
    )
    assert (status, body["error"]) == (504, "timeout")
    assert body["detail"].startswith(f"{upstream.netloc} did not answer within 4 s")


async def test_malformed_answers_pass_through_and_upstream_5xx_becomes_502(jp_fetch, upstream):  # noqa: F811
    malformed = await proxied(jp_fetch, "esgf", f"{upstream.base}/malformed")
    assert malformed.body == b'{"response": {"numFound": 3, "docs": [{"id": '

    with pytest.raises(HTTPClientError) as failed:
        await proxied(jp_fetch, "esgf", f"{upstream.base}/fail?status=500")
    assert failed.value.code == 502
    assert failed.value.response.headers["X-Espri-Vre-Upstream-Status"] == "500"
    assert json.loads(failed.value.response.body) == {
        "error": "upstream-error",
        "detail": f"{upstream.netloc} answered HTTP 500 Internal Server Error: Solr exploded.",
    }
    status, body = await api_error(
        jp_fetch, "esgf", "proxy", params={"url": f"{upstream.base}/no-such-index"}
    )
    assert (status, body["error"]) == (404, "upstream-error")


async def test_an_html_answer_is_never_served_as_html(jp_fetch, upstream):  # noqa: F811
    page = await proxied(jp_fetch, "esgf", f"{upstream.base}/page")
    assert page.headers["Content-Type"] == "application/octet-stream"
    assert page.headers["X-Espri-Vre-Upstream-Content-Type"] == "text/html"
    assert "sandbox" in page.headers["Content-Security-Policy"]
    assert page.body == b"<html><script>alert(1)</script></html>"


async def test_a_repeated_request_is_answered_from_the_cache(jp_fetch, upstream):  # noqa: F811
    url = f"{upstream.base}/big?bytes=4096&handler-cache=1"
    before = upstream.hits["/big"]
    first = await proxied(jp_fetch, "esgf", url)
    second = await proxied(jp_fetch, "esgf", url)
    assert (first.headers["X-Espri-Vre-Cache"], second.headers["X-Espri-Vre-Cache"]) == (
        "miss",
        "hit",
    )
    assert second.body == first.body
    assert upstream.hits["/big"] - before == 1


def test_the_routes_are_relative_to_the_api_namespace():
    routes = [(p, h) for p, h in API_ROUTES if h.__module__ == catalog_handlers.__name__]
    assert [path for path, _ in routes] == [
        r"catalogs/([^/]+)/esm",
        r"catalogs/([^/]+)/table",
        r"catalogs/([^/]+)/proxy",
    ]
    assert all(not path.startswith("/") for path, _ in routes)
