"""The catalogue proxy: fetches a remote catalogue URL on the browser's behalf, only from an
allow-list of hosts, with bounded time, size and redirects, through a small TTL cache. Knows
nothing of HTTP handlers: `fetch` returns a `ProxyResult` or raises a `ProxyError` whose
`detail` is a sentence for the user and whose `status` is the answer the API gives.

Many catalogue servers (ESGF, THREDDS, CSW) send no CORS headers, so the browser cannot call
them itself; and no browser request may reach an arbitrary host through the Jupyter server.

Allowed: the host of every configured catalogue's http(s) url, and the entries of
`EspriVreApp.allowed_hosts` ("host" for the scheme's default port, or "host:port"). The match is
exact on the host name as the HTTP client parses it (lower-cased, IDNA-encoded) and on the port:
`localhost` does not allow `127.0.0.1`, `example.org` does not allow `example.org:8080` nor
`data.example.org`. URLs with a user name or password, other schemes than http(s), and
redirects to a host that is not allowed are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus

import httpx

from ..errors import EspriVreError
from .reachability import _connect_failure

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 8192
MAX_ERROR_EXCERPT = 200
USER_AGENT = "espri-vre catalogue proxy"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class ProxyLimits:
    timeout: float = 20.0
    """Seconds for the whole exchange, redirects included."""
    max_bytes: int = 32 * 1024 * 1024
    """Bytes of (decoded) body at most; the rest is not read and the result says it was cut."""
    max_redirects: int = 5


@dataclass(frozen=True)
class ProxyResult:
    status: int
    content_type: str
    body: bytes
    truncated: bool
    """True when the upstream body was longer than `ProxyLimits.max_bytes` and was cut there."""
    url: str
    """The URL that answered, after redirects."""
    from_cache: bool = False


class ProxyError(EspriVreError):
    """A request the proxy cannot answer, with the API status and a sentence for the user."""

    status = 502
    code = "bad-gateway"


class InvalidTarget(ProxyError):
    status = 400
    code = "bad-request"


class HostNotAllowed(ProxyError):
    status = 403
    code = "host-not-allowed"

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(detail)
        self.host = host


class Unreachable(ProxyError):
    status = 502
    code = "unreachable"


class UpstreamTimeout(ProxyError):
    status = 504
    code = "timeout"


class UpstreamHTTPError(ProxyError):
    """The catalogue server answered with an HTTP error: a 4xx is passed on with its status, a
    5xx becomes 502 (the fault is upstream, not in the browser's request)."""

    code = "upstream-error"

    def __init__(self, upstream_status: int, detail: str) -> None:
        super().__init__(detail)
        self.upstream_status = upstream_status
        self.status = upstream_status if 400 <= upstream_status < 500 else 502


class AllowList:
    """The (host, port) pairs the proxy may reach; a port of None stands for the default port
    of the request's scheme."""

    def __init__(self, entries: Iterable[tuple[str, int | None]] = ()) -> None:
        self._entries = frozenset(entries)

    @classmethod
    def from_config(
        cls, catalog_urls: Iterable[str], allowed_hosts: Iterable[str]
    ) -> tuple[AllowList, list[str]]:
        """The allow-list, and one sentence per `allowed_hosts` entry that was ignored."""
        entries: set[tuple[str, int | None]] = set()
        problems: list[str] = []
        for location in catalog_urls:
            try:
                url = httpx.URL(location)
            except httpx.InvalidURL:
                continue
            if url.scheme in DEFAULT_PORTS and url.host:
                entries.add((_host(url), url.port))
        for raw in allowed_hosts:
            entry, problem = _parse_allowed_host(raw)
            if entry is not None:
                entries.add(entry)
            if problem is not None:
                problems.append(problem)
        return cls(entries), problems

    def allows(self, url: httpx.URL) -> bool:
        host = _host(url)
        default = DEFAULT_PORTS[url.scheme]
        port = url.port or default
        return (host, port) in self._entries or (port == default and (host, None) in self._entries)

    def target(self, raw: str) -> httpx.URL:
        """The URL to request, or InvalidTarget / HostNotAllowed."""
        if len(raw) > MAX_URL_LENGTH:
            raise InvalidTarget(f"The URL is longer than {MAX_URL_LENGTH} characters.")
        if not raw:
            raise InvalidTarget("No URL was given: pass the catalogue URL as the url parameter.")
        if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" or c == "\\" for c in raw):
            raise InvalidTarget(
                "The URL holds spaces, control characters or backslashes: percent-encode them."
            )
        try:
            url = httpx.URL(raw)
        except httpx.InvalidURL as e:
            raise InvalidTarget(f"{raw!r} is not a valid URL: {e}.") from None
        if url.scheme not in DEFAULT_PORTS:
            raise InvalidTarget(
                f"Only http and https URLs can be fetched through the catalogue proxy, "
                f"not {url.scheme or 'scheme-less'} ones ({raw})."
            )
        if not url.host:
            raise InvalidTarget(f"The URL {raw!r} has no host.")
        if url.userinfo:
            raise InvalidTarget(
                "URLs with a user name or password are refused: credentials never travel "
                "through the catalogue proxy."
            )
        if url.port is not None and not 0 < url.port < 65536:
            raise InvalidTarget(f"The port of {raw!r} is not between 1 and 65535.")
        if not self.allows(url):
            where = _netloc(url)
            what = "the IP address" if _is_ip_literal(url.host) else "the host"
            raise HostNotAllowed(
                where,
                f"The catalogue proxy may not reach {what} {where}: it is neither the host of a "
                "configured catalogue nor in the allow-list. An administrator can add "
                f'"{where}" to EspriVreApp.allowed_hosts in the server\'s configuration.',
            )
        return url.copy_with(fragment=None)

    def redirect(self, current: httpx.URL, location: str, who: str = "the server") -> httpx.URL:
        """Where a redirect from `current` to `location` leads, checked as `target` checks a
        URL: every client that reaches servers on a user's behalf (the catalogue proxy, remote
        files, OPeNDAP) follows redirects by hand through this, so that none reaches a host
        outside the list. `who` names the client in the refusal."""
        try:
            joined = current.join(location)
        except httpx.InvalidURL:
            raise Unreachable(
                f"{_netloc(current)} redirected to an invalid URL ({location!r})."
            ) from None
        try:
            return self.target(str(joined))
        except HostNotAllowed as e:
            raise HostNotAllowed(
                e.host,
                f"{_netloc(current)} redirected to {e.host}, which {who} may not reach: it is "
                "neither the host of a configured catalogue nor in the allow-list. An "
                f'administrator can add "{e.host}" to EspriVreApp.allowed_hosts in the server\'s '
                "configuration.",
            ) from None
        except InvalidTarget as e:
            raise Unreachable(
                f"{_netloc(current)} redirected to a refused URL: {e.detail}"
            ) from None


class ResponseCache:
    """Successful answers by (method, URL, body, content type, accept), for `ttl` seconds; the
    oldest are dropped beyond `max_entries` or `max_bytes` of bodies."""

    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 256,
        max_bytes: int = 128 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ProxyResult]] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(
        method: str, url: str, body: bytes, content_type: str | None, accept: str | None
    ) -> str:
        digest = hashlib.sha256()
        for part in (method.upper(), url, content_type or "", accept or ""):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(body)
        return digest.hexdigest()

    def get(self, key: str) -> ProxyResult | None:
        found = self._entries.get(key)
        if found is None:
            return None
        stored_at, value = found
        if self._clock() - stored_at > self.ttl:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: ProxyResult) -> None:
        if self.ttl <= 0 or self.max_entries <= 0 or len(value.body) > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._clock(), value)
        self._bytes += len(value.body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value.body)


async def fetch(
    url: str,
    allow: AllowList,
    *,
    method: str = "GET",
    body: bytes = b"",
    content_type: str | None = None,
    accept: str | None = None,
    limits: ProxyLimits | None = None,
    cache: ResponseCache | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProxyResult:
    """GET, or POST `body` (JSON for STAC search, XML for CSW), to an allowed URL. Redirects are
    followed by hand, each one checked against the allow-list. Nothing of the browser's request
    but the body, its content type and Accept travels upstream: no cookie, no credentials."""
    limits = limits or ProxyLimits()
    method = method.upper()
    if method not in ("GET", "POST"):
        raise InvalidTarget(f"The catalogue proxy sends GET and POST requests only, not {method}.")
    target = allow.target(url)
    key = ResponseCache.key(method, str(target), body, content_type, accept)
    if cache is not None and (hit := cache.get(key)) is not None:
        return ProxyResult(
            hit.status, hit.content_type, hit.body, hit.truncated, hit.url, from_cache=True
        )
    try:
        async with asyncio.timeout(limits.timeout):
            result = await _exchange(
                target, allow, method, body, content_type, accept, limits, transport
            )
    except TimeoutError:
        raise UpstreamTimeout(
            f"{_netloc(target)} did not answer within {limits.timeout:g} s: the catalogue server "
            "is slow or overloaded; try again, or narrow the search."
        ) from None
    if cache is not None:
        cache.put(key, result)
    return result


async def _exchange(
    url: httpx.URL,
    allow: AllowList,
    method: str,
    body: bytes,
    content_type: str | None,
    accept: str | None,
    limits: ProxyLimits,
    transport: httpx.AsyncBaseTransport | None,
) -> ProxyResult:
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=False,
        trust_env=True,
        transport=transport,
    ) as client:
        for _ in range(limits.max_redirects + 1):
            headers = {"User-Agent": USER_AGENT, "Accept": accept or "*/*"}
            if method == "POST":
                headers["Content-Type"] = content_type or "application/octet-stream"
            request = client.build_request(
                method, url, headers=headers, content=body if method == "POST" else None
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.ConnectError as e:
                raise Unreachable(
                    f"The catalogue server cannot be reached: {_connect_failure(_netloc(url), e)}."
                ) from None
            except httpx.HTTPError as e:
                raise Unreachable(
                    f"{_netloc(url)} did not answer HTTP properly: {e or type(e).__name__}."
                ) from None
            try:
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    url = allow.redirect(url, location, "the catalogue proxy")
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, body, content_type = "GET", b"", None
                    continue
                if response.status_code >= 400:
                    raise _http_error(url, response, (await _read(response, 4096))[0])
                data, truncated = await _read(response, limits.max_bytes)
                return ProxyResult(
                    status=response.status_code,
                    content_type=response.headers.get("Content-Type", "application/octet-stream"),
                    body=data,
                    truncated=truncated,
                    url=str(url),
                )
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as e:
                raise Unreachable(
                    f"{_netloc(url)} broke off its answer: {e or type(e).__name__}."
                ) from None
            finally:
                await response.aclose()
    raise Unreachable(
        f"{_netloc(url)} redirected more than {limits.max_redirects} times: the catalogue "
        "server is misconfigured or loops."
    )


async def _read(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the decoded body, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _http_error(url: httpx.URL, response: httpx.Response, head: bytes) -> UpstreamHTTPError:
    status = response.status_code
    sentence = f"{_netloc(url)} answered HTTP {status} {_phrase(status)}".rstrip()
    content_type = response.headers.get("Content-Type", "").lower()
    excerpt = " ".join(head.decode("utf-8", errors="replace").split())
    if excerpt and "html" not in content_type:
        if len(excerpt) > MAX_ERROR_EXCERPT:
            excerpt = excerpt[: MAX_ERROR_EXCERPT - 1].rstrip() + "…"
        sentence += f": {excerpt}"
    return UpstreamHTTPError(status, sentence + ("" if sentence.endswith(".") else "."))


def _parse_allowed_host(raw: object) -> tuple[tuple[str, int | None] | None, str | None]:
    """(("host", port or None), problem) from "host", "host:port", "[v6]:port" or a URL."""
    refused = f"EspriVreApp.allowed_hosts: {raw!r} is not a host name or host:port: ignored"
    if not isinstance(raw, str) or not raw.strip():
        return None, refused
    text = raw.strip()
    try:
        url = httpx.URL(text if "://" in text else f"http://{text}")
    except httpx.InvalidURL:
        return None, refused
    if url.scheme not in DEFAULT_PORTS or not url.host or url.userinfo:
        return None, refused
    entry = (_host(url), url.port)
    if url.path not in ("", "/") or url.query:
        return entry, (
            f"EspriVreApp.allowed_hosts: {raw!r} has a path, but hosts are allowed as a whole: "
            f"{_netloc(url)} is allowed"
        )
    return entry, None


def _host(url: httpx.URL) -> str:
    return url.host.lower().rstrip(".")


def _netloc(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port is not None else host


_IPV4_SHORTHAND = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_IPV4_SHORTHAND.match(host))
    return True


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
