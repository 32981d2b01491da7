"""The catalogue proxy without a Jupyter server: the allow-list, the refusals, the bounds and the
cache, against real HTTP servers on local ports that serve the recorded catalogue answers of the
shared folder (ESGF Solr JSON, STAC, THREDDS and CSW XML)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SHARED, needs_shared

from espri_vre.catalogs.proxy import (
    AllowList,
    HostNotAllowed,
    InvalidTarget,
    ProxyLimits,
    ProxyResult,
    ResponseCache,
    Unreachable,
    UpstreamHTTPError,
    UpstreamTimeout,
    fetch,
)

FIXTURES = SHARED / "fixtures" / "catalog"
ESGF_DATASETS = "esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json"
STAC_SEARCH = (
    "stac_api_search_ItemCollection_HLS_10items_numberMatched_context_next__pystac-client.json"
)
THREDDS = (
    "thredds_catalog_xml_ESGF_published_dataset_with_properties_files__esg-search_resources.xml"
)
CSW_REQUEST = "csw_GetRecords_REQUEST_POST_full_DublinCore__pycsw_tests.xml"
CSW_RESPONSE = "csw_GetRecordsResponse_DublinCore_full_5of12__pycsw_tests_expected.xml"


class _Upstream(http.server.BaseHTTPRequestHandler):
    """A catalogue server: /fixtures/<name> serves a recorded answer byte for byte (GET or
    POST); the other paths misbehave on purpose. Every request is counted by path."""

    server: _UpstreamServer

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length))

    def _answer(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.hits[parts.path] += 1
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        path = parts.path
        if path.startswith("/fixtures/"):
            name = path.removeprefix("/fixtures/")
            kind = "application/json" if name.endswith(".json") else "application/xml"
            self._send(200, (FIXTURES / name).read_bytes(), kind)
        elif path == "/redirect":
            self._send(int(query.get("status", 302)), b"", "text/plain", {"Location": query["to"]})
        elif path == "/loop":
            self._send(302, b"", "text/plain", {"Location": "/loop"})
        elif path == "/big":
            self._send_streamed(int(query["bytes"]))
        elif path == "/slow":
            self.server.stop.wait(float(query["seconds"]))
            self._send(200, b"late", "text/plain")
        elif path == "/malformed":
            self._send(200, b'{"response": {"numFound": 3, "docs": [{"id": ', "application/json")
        elif path == "/fail":
            status = int(query.get("status", 500))
            self._send(status, query.get("say", "Solr exploded").encode(), "text/plain")
        elif path == "/page":
            self._send(200, b"<html><script>alert(1)</script></html>", "text/html")
        else:
            self._send(404, b'{"description": "no such path"}', "application/json")

    def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self._write(body)

    def _send_streamed(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"0123456789abcdef" * 4096
        sent = 0
        while sent < size and self._write(block[: size - sent]):
            sent += len(block)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def log_message(self, *args: object) -> None:
        pass


class _UpstreamServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Upstream)
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.stop = threading.Event()

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def base(self) -> str:
        return f"http://{self.netloc}"


def _serve() -> Iterator[_UpstreamServer]:
    server = _UpstreamServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def upstream() -> Iterator[_UpstreamServer]:
    """The allowed catalogue server."""
    yield from _serve()


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[_UpstreamServer]:
    """Another server on this machine, whose port is not allowed."""
    yield from _serve()


@pytest.fixture
def allow(upstream: _UpstreamServer) -> AllowList:
    allow, problems = AllowList.from_config([f"{upstream.base}/esg-search/search"], [])
    assert problems == []
    return allow


def test_allowed_hosts_accept_names_ports_and_urls_and_report_the_rest():
    allow, problems = AllowList.from_config(
        ["https://esgf-node.ipsl.upmc.fr/esg-search/search", "/bdd/catalog.json"],
        ["Thredds.Example.org", "csw.example.org:8080", "https://stac.example.org/api", "", 7],
    )
    assert problems == [
        "EspriVreApp.allowed_hosts: 'https://stac.example.org/api' has a path, but hosts are "
        "allowed as a whole: stac.example.org is allowed",
        "EspriVreApp.allowed_hosts: '' is not a host name or host:port: ignored",
        "EspriVreApp.allowed_hosts: 7 is not a host name or host:port: ignored",
    ]
    assert str(allow.target("https://esgf-node.ipsl.upmc.fr/esg-search/search?type=Dataset")) == (
        "https://esgf-node.ipsl.upmc.fr/esg-search/search?type=Dataset"
    )
    assert allow.target("http://thredds.example.org/thredds/catalog.xml").host == (
        "thredds.example.org"
    )
    assert allow.target("https://thredds.example.org:443/x").host == "thredds.example.org"
    assert allow.target("http://csw.example.org:8080/csw").port == 8080
    assert allow.target("https://stac.example.org/other/path").host == "stac.example.org"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://csw.example.org/csw", "csw.example.org"),  # allowed on 8080 only
        ("http://thredds.example.org:8443/", "thredds.example.org:8443"),
        ("http://data.thredds.example.org/", "data.thredds.example.org"),
        ("http://thredds.example.org.evil.net/", "thredds.example.org.evil.net"),
        ("http://evil.net#@thredds.example.org/", "evil.net"),
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://[::1]:8080/", "[::1]:8080"),
    ],
)
def test_hosts_off_the_list_are_refused_by_name(url: str, host: str):
    allow, _ = AllowList.from_config([], ["thredds.example.org", "csw.example.org:8080"])
    with pytest.raises(HostNotAllowed) as refused:
        allow.target(url)
    assert refused.value.host == host
    assert refused.value.status == 403
    assert f" {host}: it is neither the host of a configured catalogue nor in the allow-list" in (
        refused.value.detail
    )
    assert f'add "{host}" to EspriVreApp.allowed_hosts' in refused.value.detail


def test_ip_literals_are_named_as_addresses():
    allow, _ = AllowList.from_config([], ["thredds.example.org"])
    with pytest.raises(HostNotAllowed) as refused:
        allow.target("http://169.254.169.254/latest/meta-data/")
    assert refused.value.detail.startswith(
        "The catalogue proxy may not reach the IP address 169.254.169.254:"
    )


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("ftp://thredds.example.org/x", "Only http and https URLs can be fetched"),
        ("file:///etc/passwd", "Only http and https URLs can be fetched"),
        ("/relative/path", "Only http and https URLs can be fetched"),
        ("http://user:secret@thredds.example.org/", "URLs with a user name or password"),
        ("http://thredds.example.org@evil.net/", "URLs with a user name or password"),
        ("http://thredds.example.org\\@evil.net/", "backslashes"),
        ("http://thredds.example.org/a b", "spaces"),
        ("", "No URL was given"),
        ("http:///x", "has no host"),
    ],
)
def test_malformed_or_credential_urls_are_refused(url: str, sentence: str):
    allow, _ = AllowList.from_config([], ["thredds.example.org"])
    with pytest.raises(InvalidTarget) as refused:
        allow.target(url)
    assert refused.value.status == 400
    assert sentence in refused.value.detail


def test_cache_forgets_after_its_ttl_and_beyond_its_bounds():
    now = [0.0]
    cache = ResponseCache(ttl=10, max_entries=2, max_bytes=10, clock=lambda: now[0])
    answer = ProxyResult(200, "text/plain", b"12345", False, "http://h/")
    cache.put("a", answer)
    now[0] = 9.5
    assert cache.get("a") == answer
    now[0] = 10.5
    assert cache.get("a") is None
    cache.put("a", answer)
    cache.put("b", answer)
    cache.put("c", answer)  # three entries, 15 bytes: the oldest goes
    assert (cache.get("a"), len(cache)) == (None, 2)
    cache.put("huge", ProxyResult(200, "text/plain", b"x" * 11, False, "http://h/"))
    assert cache.get("huge") is None


def test_cache_keys_differ_by_method_body_and_accept():
    keys = {
        ResponseCache.key("GET", "http://h/s", b"", None, None),
        ResponseCache.key("POST", "http://h/s", b"{}", "application/json", None),
        ResponseCache.key("POST", "http://h/s", b'{"limit": 5}', "application/json", None),
        ResponseCache.key("GET", "http://h/s", b"", None, "application/xml"),
    }
    assert len(keys) == 4


@needs_shared
async def test_allowed_host_answers_the_recorded_esgf_search_byte_for_byte(upstream, allow):
    url = f"{upstream.base}/fixtures/{ESGF_DATASETS}"
    result = await fetch(url, allow)
    assert result.status == 200
    assert result.body == (FIXTURES / ESGF_DATASETS).read_bytes()
    assert result.content_type == "application/json"
    assert (result.truncated, result.from_cache, result.url) == (False, False, url)
    method, _, headers, _ = upstream.requests[-1]
    assert method == "GET"
    assert headers["User-Agent"] == "espri-vre catalogue proxy"
    assert "Cookie" not in headers and "Authorization" not in headers


@needs_shared
async def test_stac_search_and_csw_getrecords_are_posted_with_their_bodies(upstream, allow):
    search = json.dumps({"collections": ["HLSL30.v1.5"], "limit": 10}).encode()
    stac = await fetch(
        f"{upstream.base}/fixtures/{STAC_SEARCH}",
        allow,
        method="POST",
        body=search,
        content_type="application/json",
        accept="application/geo+json",
    )
    assert stac.body == (FIXTURES / STAC_SEARCH).read_bytes()
    method, _, headers, body = upstream.requests[-1]
    assert (method, body, headers["Content-Type"]) == ("POST", search, "application/json")
    assert headers["Accept"] == "application/geo+json"

    request = (FIXTURES / CSW_REQUEST).read_bytes()
    csw = await fetch(
        f"{upstream.base}/fixtures/{CSW_RESPONSE}",
        allow,
        method="POST",
        body=request,
        content_type="application/xml",
    )
    assert csw.body == (FIXTURES / CSW_RESPONSE).read_bytes()
    assert upstream.requests[-1][3] == request


@needs_shared
async def test_redirect_within_the_allowed_host_is_followed(upstream, allow):
    target = f"{upstream.base}/fixtures/{THREDDS}"
    result = await fetch(f"{upstream.base}/redirect?to=/fixtures/{THREDDS}", allow)
    assert result.body == (FIXTURES / THREDDS).read_bytes()
    assert result.url == target


async def test_redirect_to_a_host_off_the_list_is_refused_before_it_is_reached(
    upstream, elsewhere, allow
):
    away = f"{elsewhere.base}/secret"
    with pytest.raises(HostNotAllowed) as refused:
        await fetch(f"{upstream.base}/redirect?to={away}", allow)
    assert refused.value.detail.startswith(
        f"{upstream.netloc} redirected to {elsewhere.netloc}, which the catalogue proxy may not "
        "reach"
    )
    assert elsewhere.hits["/secret"] == 0


async def test_a_redirect_loop_stops_at_the_bound(upstream, allow):
    before = upstream.hits["/loop"]
    with pytest.raises(Unreachable) as looped:
        await fetch(f"{upstream.base}/loop", allow, limits=ProxyLimits(max_redirects=3))
    assert looped.value.detail.startswith(f"{upstream.netloc} redirected more than 3 times")
    assert upstream.hits["/loop"] - before == 4


async def test_a_303_after_a_post_is_followed_with_a_get_without_the_body(upstream, allow):
    with pytest.raises(UpstreamHTTPError):
        await fetch(
            f"{upstream.base}/redirect?status=303&to=/nowhere",
            allow,
            method="POST",
            body=b"{}",
            content_type="application/json",
        )
    method, path, _, body = upstream.requests[-1]
    assert (method, path, body) == ("GET", "/nowhere", b"")


async def test_an_oversized_answer_is_cut_at_the_limit_and_flagged(upstream, allow):
    result = await fetch(
        f"{upstream.base}/big?bytes={3 * 1024 * 1024}", allow, limits=ProxyLimits(max_bytes=100_000)
    )
    assert result.truncated is True
    assert len(result.body) == 100_000
    assert result.body.startswith(b"0123456789abcdef0123")
    whole = await fetch(f"{upstream.base}/big?bytes=1000", allow)
    assert (whole.truncated, len(whole.body)) == (False, 1000)


async def test_a_slow_server_is_cut_at_the_timeout(upstream, allow):
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as late:
        await fetch(f"{upstream.base}/slow?seconds=5", allow, limits=ProxyLimits(timeout=0.3))
    assert time.monotonic() - started < 2
    assert late.value.status == 504
    assert late.value.detail.startswith(f"{upstream.netloc} did not answer within 0.3 s")


async def test_a_malformed_answer_is_passed_on_as_bytes(upstream, allow):
    result = await fetch(f"{upstream.base}/malformed", allow)
    assert (result.status, result.body) == (200, b'{"response": {"numFound": 3, "docs": [{"id": ')


async def test_upstream_5xx_becomes_502_and_4xx_keeps_its_status(upstream, allow):
    with pytest.raises(UpstreamHTTPError) as failed:
        await fetch(f"{upstream.base}/fail?status=503&say=index+is+rebuilding", allow)
    assert (failed.value.status, failed.value.upstream_status) == (502, 503)
    assert failed.value.detail == (
        f"{upstream.netloc} answered HTTP 503 Service Unavailable: index is rebuilding."
    )
    with pytest.raises(UpstreamHTTPError) as missing:
        await fetch(f"{upstream.base}/no-such-collection", allow)
    assert (missing.value.status, missing.value.upstream_status) == (404, 404)
    assert missing.value.detail == (
        f'{upstream.netloc} answered HTTP 404 Not Found: {{"description": "no such path"}}.'
    )


async def test_a_closed_port_is_unreachable():
    allow, _ = AllowList.from_config(["http://127.0.0.1:9/"], [])
    with pytest.raises(Unreachable) as closed:
        await fetch("http://127.0.0.1:9/esg-search/search", allow)
    assert closed.value.detail == (
        "The catalogue server cannot be reached: connection refused by 127.0.0.1:9."
    )


async def test_a_second_identical_request_is_answered_from_the_cache(upstream, allow):
    cache = ResponseCache(ttl=60)
    url = f"{upstream.base}/big?bytes=2048&cache-test=1"
    before = upstream.hits["/big"]
    first = await fetch(url, allow, cache=cache)
    second = await fetch(url, allow, cache=cache)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.body == first.body
    assert upstream.hits["/big"] - before == 1
    posted = await fetch(url, allow, method="POST", body=b"{}", content_type="application/json")
    assert posted.from_cache is False
    assert upstream.hits["/big"] - before == 2
