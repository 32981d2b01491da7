"""Remote NetCDF-4/HDF5 and NetCDF-3 files over HTTP(S): the data nodes' HTTPServer /
fileServer URLs that ESGF and THREDDS hand out.

The server reaches them on the browser's behalf, as the catalogue proxy does and within the
same rules (the proxy's allow-list and limits; redirects followed by hand, each one checked):
data servers send no CORS headers, and no browser request may reach an arbitrary host.

- `probe` asks for the first bytes with a Range request: it says what the file is, how large,
  and its validators (ETag, Last-Modified); a server that ignores Range (it answers 200 and the
  whole file), answers an HTML page (a login or error page) or cannot be reached is refused
  with a sentence that says so.
- `RemoteData.references` runs kerchunk on the URL (fsspec's HTTP file system, Range requests,
  no redirects: the probe's final URL is used), cached by (URL, ETag, Last-Modified, size).
- `RemoteData.overview` and `RemoteData.cell` open the file itself (h5netcdf on fsspec's HTTP
  file, Range requests) for the screen-sized overview of a slice and the exact value of a cell,
  as data/overview does for a local file: the first picture asks for it with the URL alone, in
  parallel with the references, so that it does not wait for them.
- `RemoteData.read_range` forwards one Range request of the browser (a chunk) and gives back
  the 206 answer: the browser reads only the chunks in view, through the Jupyter server.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ..catalogs.proxy import (
    REDIRECT_STATUSES,
    USER_AGENT,
    AllowList,
    ProxyError,
    ProxyLimits,
    Unreachable,
    UpstreamHTTPError,
    UpstreamTimeout,
)
from ..catalogs.reachability import _connect_failure
from .kinds import DESCRIPTIONS, HDF5_SIGNATURE, OTHER_SIGNATURES, CorruptFile, WrongKind
from .overview import Overview, OverviewRequest, cell_of_dataset, overview_of_dataset
from .references import (
    DEFAULT_CACHE,
    ReferenceCache,
    References,
    Source,
    UnsupportedContent,
    build_references,
)

PROBE_BYTES = 8
"""The first bytes asked for: enough for the HDF5 and NetCDF-3 signatures."""

MAX_RANGE_BYTES = 64 * 1024 * 1024
"""The largest Range one chunk request may ask for: a chunk is a few MiB at most, and the
route must not become a way to download whole files through the server."""

BLOCK_BYTES = 64 * 1024
"""What kerchunk's reads fetch at once (fsspec's block): HDF5 metadata is scattered in small
pieces (object headers, B-tree nodes next to the chunks they index), so larger blocks read bytes
nobody needs. Measured on the bench's 826 MB file (365 chunks, B-tree nodes at 8 places) on the
loopback: 64 KiB blocks 36 ms, 512 KiB 50 ms, the same 7 requests; 10 such files translated 4
at a time 0.45 s instead of 1.4 s with 512 KiB read-ahead blocks."""

CACHE_TYPE = "blockcache"
"""fsspec's cache of the HTTP file: blocks kept in an LRU, so that the second pass over the
file's metadata (h5py, after kerchunk) and HDF5's backward reads hit blocks already fetched.
The default read-ahead cache keeps one block: 19 requests instead of 7 on the bench's file."""

_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class RangeNotSupported(ProxyError):
    """The data server answers a Range request with the whole file."""

    status = 502
    code = "range-not-supported"


class NotAFile(ProxyError):
    """The data server answers with an HTML page instead of the file."""

    status = 502
    code = "html-answer"


class BadRange(ProxyError):
    status = 416
    code = "bad-range"


@dataclass(frozen=True)
class RemoteFile:
    url: str
    """The URL that answered, after the allowed redirects."""
    size: int
    etag: str
    last_modified: str
    kind: str
    description: str


@dataclass(frozen=True)
class RangeAnswer:
    body: bytes
    content_range: str
    content_type: str


class RemoteData:
    """Remote files reached through the allow-list, within `limits`; one HTTP client (its
    connections kept between chunk requests) per event loop."""

    def __init__(
        self,
        allow: AllowList,
        limits: ProxyLimits | None = None,
        cache: ReferenceCache | None = DEFAULT_CACHE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow = allow
        self.limits = limits or ProxyLimits()
        self.cache = cache
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.limits.timeout),
                follow_redirects=False,
                trust_env=True,
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def probe(self, url: str) -> RemoteFile:
        """What the file at `url` is, from its first bytes (HostNotAllowed, RangeNotSupported,
        NotAFile, Unreachable, UpstreamTimeout, WrongKind otherwise)."""
        response, body = await self._get(url, 0, PROBE_BYTES - 1)
        size = _total_size(response)
        kind = _kind(body)
        where = _shown(response.url)
        if kind is None:
            raise WrongKind(
                f"{where} is {_description(body)}, not NetCDF/HDF5 or NetCDF-3: previews of "
                "remote files read NetCDF-4, HDF5 and NetCDF-3 files."
            )
        return RemoteFile(
            url=str(response.url),
            size=size,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            kind=kind,
            description=DESCRIPTIONS[kind],
        )

    def references(self, remote: RemoteFile) -> References:
        """kerchunk references of a probed file (blocking: run it in a worker thread). Cached
        when the server gives a validator (ETag or Last-Modified), computed anew otherwise."""
        key = (remote.url, remote.etag, remote.last_modified, remote.size)
        source = Source(remote.url, lambda: self._open(remote), self.storage_options())

        def build() -> References:
            return build_references(
                source, _shown(httpx.URL(remote.url)), remote.kind, remote.description, key
            )

        with _reading(remote):
            if self.cache is None or not (remote.etag or remote.last_modified):
                return build()
            return self.cache.get_or_compute(key, build)

    def overview(self, remote: RemoteFile, request: OverviewRequest) -> Overview:
        """The overview of a slice of a probed file (blocking: run it in a worker thread)."""
        with _reading(remote), self._dataset(remote) as ds:
            return overview_of_dataset(ds, _shown(httpx.URL(remote.url)), request)

    def cell(self, remote: RemoteFile, name: str, index_text: str) -> float | None:
        """The exact value of one cell of a probed file (blocking)."""
        with _reading(remote), self._dataset(remote) as ds:
            return cell_of_dataset(ds, _shown(httpx.URL(remote.url)), name, index_text)

    @contextlib.contextmanager
    def _dataset(self, remote: RemoteFile) -> Iterator[Any]:
        """The file as an xarray Dataset read by Range requests (CF-decoded, times as numbers,
        as data/overview opens a local file), closed on leaving: an h5py object left to the
        garbage collector can deadlock a translation (references._no_cyclic_collection)."""
        import fsspec
        import xarray as xr

        shown = _shown(httpx.URL(remote.url))
        if remote.kind != "netcdf4":
            # xarray's NetCDF-3 reader (scipy) reads every variable whole from a file object.
            raise UnsupportedContent(
                f"{shown} is {remote.description}: the server makes overviews of remote "
                "NetCDF-4/HDF5 files only, as reading one slice of a remote NetCDF-3 file "
                "here would download all of it; the preview reads the slice's chunks instead."
            )
        fs = fsspec.filesystem("http", **self.storage_options())
        # The read-ahead cache (fsspec's default), not the block cache of the references: a
        # slice's chunk is one large read, which the block cache would split into a request
        # per block.
        with fs.open(remote.url, "rb", block_size=BLOCK_BYTES, size=remote.size) as f:
            try:
                ds = xr.open_dataset(
                    f, engine="h5netcdf", cache=False, decode_times=False, decode_timedelta=False
                )
            except (OSError, ValueError, TypeError, KeyError) as e:
                raise CorruptFile(
                    f"{shown} starts like {remote.description} but could not be opened "
                    f"({type(e).__name__}: {e}); open it in a notebook with xarray to see what "
                    "is wrong."
                ) from e
            with ds:
                yield ds

    async def read_range(self, url: str, range_header: str | None) -> RangeAnswer:
        """One chunk: the browser's `Range: bytes=a-b` forwarded to `url`."""
        match = _RANGE.match((range_header or "").strip())
        if not match:
            raise BadRange(
                "This route reads byte ranges of remote files only: send one Range header "
                f"of the form bytes=<first>-<last> (got {range_header or 'none'})."
            )
        first, last = int(match[1]), int(match[2])
        if last < first or last - first + 1 > MAX_RANGE_BYTES:
            raise BadRange(
                f"The range bytes={first}-{last} is empty or longer than "
                f"{MAX_RANGE_BYTES // 2**20} MiB, the most one chunk request may read."
            )
        response, body = await self._get(url, first, last)
        return RangeAnswer(
            body=body,
            content_range=response.headers.get("Content-Range", ""),
            content_type=response.headers.get("Content-Type", "application/octet-stream"),
        )

    async def _get(self, url: str, first: int, last: int) -> tuple[httpx.Response, bytes]:
        """A Range request to an allowed URL, redirects followed on allowed hosts only; the 206
        answer with its body, or the error that says what the server did instead."""
        target = self.allow.target(url)
        try:
            async with asyncio.timeout(self.limits.timeout):
                for _ in range(self.limits.max_redirects + 1):
                    response, body = await self._send(target, first, last)
                    location = response.headers.get("Location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        target = self.allow.redirect(target, location)
                        continue
                    _check_answer(response, body, first, last)
                    return response, body
        except TimeoutError:
            raise UpstreamTimeout(
                f"{_shown(target)} did not answer within {self.limits.timeout:g} s: the data "
                "server is slow or overloaded; try again later."
            ) from None
        raise Unreachable(
            f"{_shown(target)} redirected more than {self.limits.max_redirects} times: the "
            "data server is misconfigured or loops."
        )

    async def _send(self, url: httpx.URL, first: int, last: int) -> tuple[httpx.Response, bytes]:
        headers = {
            "User-Agent": USER_AGENT,
            "Range": f"bytes={first}-{last}",
            # A compressed answer would not be the file's bytes at those offsets.
            "Accept-Encoding": "identity",
        }
        client = self.client()
        try:
            response = await client.send(
                client.build_request("GET", url, headers=headers), stream=True
            )
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.ConnectError as e:
            raise Unreachable(
                f"The data server cannot be reached: {_connect_failure(_shown(url), e)}."
            ) from None
        except httpx.HTTPError as e:
            raise Unreachable(
                f"{_shown(url)} did not answer HTTP properly: {e or type(e).__name__}."
            ) from None
        try:
            # At most what was asked for (+1, to tell a server that sends more): a server that
            # ignores Range is not read to the end.
            body = bytearray()
            async for part in response.aiter_raw():
                body += part
                if len(body) > last - first + 1:
                    break
            return response, bytes(body)
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as e:
            raise Unreachable(
                f"{_shown(url)} broke off its answer: {e or type(e).__name__}."
            ) from None
        finally:
            await response.aclose()

    def storage_options(self) -> dict[str, Any]:
        """fsspec's HTTP file system as kerchunk uses it: the probe's final URL, so no
        redirect is followed (an unchecked host is never reached); the proxy's timeout."""
        import aiohttp

        return {
            "allow_redirects": False,
            "headers": {"User-Agent": USER_AGENT},
            "client_kwargs": {
                "timeout": aiohttp.ClientTimeout(total=self.limits.timeout),
                "trust_env": True,
            },
        }

    def _open(self, remote: RemoteFile) -> Any:
        import fsspec

        fs = fsspec.filesystem("http", **self.storage_options())
        return fs.open(
            remote.url, "rb", block_size=BLOCK_BYTES, size=remote.size, cache_type=CACHE_TYPE
        )


@contextlib.contextmanager
def _reading(remote: RemoteFile) -> Iterator[None]:
    """What fsspec's HTTP file system raises while the file is read (through h5py, kerchunk or
    xarray, which let it through), said as the proxy's errors: the data server broke off an
    answer, refused a later request, or stopped answering in time."""
    import aiohttp

    where = _shown(httpx.URL(remote.url))
    try:
        yield
    except TimeoutError:
        raise UpstreamTimeout(
            f"{where} stopped answering while the server read the file: the data server is "
            "slow or overloaded; try again later."
        ) from None
    except aiohttp.ClientError as e:
        raise Unreachable(
            f"{where} broke off while the server read the file ({_first_line(e)}): the data "
            "server failed or the connection was cut; try again later."
        ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _check_answer(response: httpx.Response, body: bytes, first: int, last: int) -> None:
    where = _shown(response.url)
    content_type = response.headers.get("Content-Type", "").lower()
    if response.status_code >= 400:
        raise UpstreamHTTPError(
            response.status_code,
            f"{where} answered HTTP {response.status_code} for {response.url.path or '/'}.",
        )
    if "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        raise NotAFile(
            f"{where} answered an HTML page instead of the file (a login, error or listing "
            "page): check the URL, or whether the data server wants you to sign in first."
        )
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise Unreachable(
            f"{where} answered {encoding}-compressed bytes to a Range request for the file's "
            "own bytes: the chunks cannot be located in them."
        )
    if response.status_code != 206:
        raise RangeNotSupported(
            f"{where} ignores HTTP Range requests (it answered {response.status_code} with the "
            "whole file to a request for a few bytes): the preview reads only the chunks in "
            "view and cannot read this server's files. Download the file, or open it in a "
            "notebook."
        )
    found = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
    if not found or int(found[1]) != first or len(body) != int(found[2]) - int(found[1]) + 1:
        raise Unreachable(
            f"{where} answered the Range request for bytes {first}-{last} with other bytes "
            f"(Content-Range {response.headers.get('Content-Range', 'missing')!r})."
        )


def _total_size(response: httpx.Response) -> int:
    found = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
    if not found or found[3] == "*":
        raise RangeNotSupported(
            f"{_shown(response.url)} does not say the size of the file in its Range answers "
            "(Content-Range without a length): its chunks cannot be located."
        )
    return int(found[3])


def _kind(head: bytes) -> str | None:
    if head.startswith(HDF5_SIGNATURE):
        return "netcdf4"
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        return "netcdf3"
    return None


def _description(head: bytes) -> str:
    for signature, description in OTHER_SIGNATURES.items():
        if head.startswith(signature):
            return description
    return "a file of unknown type"


def _shown(url: httpx.URL) -> str:
    """The URL as messages name it: scheme, host and path, without the query (which may
    hold tokens)."""
    return str(url.copy_with(query=None, fragment=None))
