"""OPeNDAP datasets (DAP2 and DAP4: THREDDS dodsC / dap4 endpoints, Hyrax, ESGF data nodes)
previewed as virtual Zarr stores computed on request.

The browser cannot speak DAP, and data servers send no CORS headers: the server opens the
dataset with xarray on pydap's client and serves it key by key as the Zarr v2 store of
espri_vre.data.virtual_zarr (the encoding the kernel's `preview(obj)` widget uses), so that
the previewer's Zarr reader reads it. Each chunk is one DAP request for that slice only.

Every request pydap sends, redirects included, passes the catalogue proxy's allow-list
(`AllowList.target`: http(s) only, no credentials in URLs, exact host and port), within the
proxy's timeout and redirect limit: an OPeNDAP URL reaches no host a catalogue could not.
Opened datasets are kept by URL in a small LRU cache. The same opened dataset gives the
screen-sized overview of a slice and the exact value of a cell (data/overview's computation):
the first picture is asked for with the URL alone, its slice one DAP request, and reaches the
browser as 16-bit block means instead of the slice's every value.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np

from ..catalogs.proxy import (
    REDIRECT_STATUSES,
    USER_AGENT,
    AllowList,
    InvalidTarget,
    ProxyError,
    ProxyLimits,
    Unreachable,
    UpstreamHTTPError,
    UpstreamTimeout,
)
from ..catalogs.reachability import _connect_failure
from ..errors import EspriVreError
from .overview import Overview, OverviewRequest, cell_of_dataset, overview_of_dataset
from .virtual_zarr import DEFAULT_CHUNK_BYTES, StoreCache, VirtualZarr, key_bytes

PROTOCOLS = ("dap2", "dap4")

DEFAULT_CACHE_ENTRIES = 16
"""Datasets kept open: each holds its DDS/DAS (or DMR) and its coordinates, not its data."""

SMALL_VARIABLE_BYTES = 256 * 1024
"""Variables up to this size are read whole when the dataset is opened."""

#: The suffixes of DAP responses and form pages a user may paste with the dataset's URL.
_SUFFIX = re.compile(r"\.(dds|das|dods|dmr|dmr\.xml|dap|html|info|ascii|asc|ver)$", re.I)
#: The message of a DAP2 error response: Error { code = ...; message = "..."; }
_DAP_MESSAGE = re.compile(r'message\s*=\s*"([^"]{1,300})')
_DAP4_SUFFIX = re.compile(r"\.(dmr|dmr\.xml|dap)$", re.I)

#: Attributes whose values compare with the variable's raw values: DAP attribute types are
#: parsed to Python floats, so a float32 variable's 1e20 fill value would never match.
_RAW_VALUE_ATTRIBUTES = ("_FillValue", "missing_value", "valid_min", "valid_max", "valid_range")


class OpendapError(ProxyError):
    """The OPeNDAP server answered, but not what the preview needs."""

    status = 502
    code = "opendap-error"


class NotOpendap(OpendapError):
    """The URL answers something that is not a DAP response (a web page, a file)."""

    code = "not-opendap"


@dataclass(frozen=True)
class DapUrl:
    url: str
    """The dataset's http(s) URL, without a DAP response suffix nor a constraint."""
    protocol: str

    @property
    def key(self) -> str:
        return f"{self.protocol}:{self.url}"


def dap_url(raw: str, protocol: str | None = None) -> DapUrl:
    """The dataset URL and protocol of what a user or a catalogue gives: an http(s) URL (DAP2
    unless it ends with a DAP4 suffix or `protocol` says dap4), or `dap2://` / `dap4://`
    (pydap's spelling, https). A response suffix (.dds, .html, .dmr...) and a constraint
    (`?...`) are dropped: the preview reads the whole dataset, one chunk at a time."""
    text = raw.strip()
    if protocol is not None and protocol not in PROTOCOLS:
        raise InvalidTarget(f"The OPeNDAP protocol must be dap2 or dap4, not {protocol!r}.")
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() in PROTOCOLS:
        protocol = protocol or scheme.lower()
        text = "https://" + rest
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as e:
        raise InvalidTarget(f"{raw!r} is not a valid URL: {e}.") from None
    path = url.path
    if protocol is None:
        protocol = "dap4" if _DAP4_SUFFIX.search(path) else "dap2"
    url = url.copy_with(path=_SUFFIX.sub("", path) or "/", query=None, fragment=None)
    return DapUrl(str(url), protocol)


class AllowListTransport:
    """What pydap reads through: passed to pydap as its WSGI `application`, it receives every
    request pydap makes for one dataset (DDS, DAS, DMR, each chunk's data) and sends it to
    the dataset's server itself, with httpx, as the catalogue proxy does: the allow-list
    checked on each hop of a redirect (followed by hand), the proxy's timeout and body limit,
    no cookie nor credentials. pydap's own HTTP path cannot be bounded so: it builds a new
    requests session for every request (keeping only a bearer header of the one given),
    follows redirects unchecked, and retries an https URL over plain http."""

    def __init__(self, base: str, allow: AllowList, limits: ProxyLimits, client: httpx.Client):
        self.base = httpx.URL(base)
        self.allow = allow
        self.limits = limits
        self.client = client

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = quote(environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
        query = environ.get("QUERY_STRING", "")
        target = self.allow.target(str(self.base.copy_with(raw_path=_raw(path, query))))
        status, content_type, body = self._get(target)
        start_response(f"{status} {_phrase(status)}", [("Content-Type", content_type)])
        return [body]

    def _get(self, url: httpx.URL) -> tuple[int, str, bytes]:
        for _ in range(self.limits.max_redirects + 1):
            try:
                with self.client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as answer:
                    location = answer.headers.get("Location")
                    if answer.status_code in REDIRECT_STATUSES and location:
                        url = self.allow.redirect(url, location)
                        continue
                    body = _read(answer, self.limits.max_bytes, url)
            except httpx.TimeoutException:
                raise UpstreamTimeout(
                    f"{_shown(str(url))} did not answer within {self.limits.timeout:g} s: the "
                    "OPeNDAP server is slow or overloaded; try again later."
                ) from None
            except httpx.ConnectError as e:
                raise Unreachable(
                    f"The OPeNDAP server cannot be reached: {_connect_failure(_netloc(url), e)}."
                ) from None
            except httpx.HTTPError as e:
                raise Unreachable(
                    f"{_netloc(url)} did not answer HTTP properly: {e or type(e).__name__}."
                ) from None
            content_type = answer.headers.get("Content-Type", "application/octet-stream")
            _check_answer(url, answer.status_code, content_type, body)
            return answer.status_code, content_type, body
        raise Unreachable(
            f"{_netloc(url)} redirected more than {self.limits.max_redirects} times: the "
            "OPeNDAP server is misconfigured or loops."
        )


def _raw(path: str, query: str) -> bytes:
    return (path + ("?" + query if query else "")).encode("ascii")


def _read(answer: httpx.Response, limit: int, url: httpx.URL) -> bytes:
    body = bytearray()
    for part in answer.iter_bytes():
        body += part
        if len(body) > limit:
            raise OpendapError(
                f"{_shown(str(url))} answered one request with more than {limit:,} bytes, "
                "the most the server reads at once (the catalogue proxy's size limit): this "
                "dataset's chunks or metadata are too large to be previewed through it."
            )
    return bytes(body)


def _check_answer(url: httpx.URL, status: int, content_type: str, body: bytes) -> None:
    where = _shown(str(url))
    if status >= 400:
        said = _DAP_MESSAGE.search(body[:4096].decode("utf-8", "replace"))
        raise UpstreamHTTPError(
            status,
            f"{where} answered HTTP {status}"
            + (f": {said[1].strip()}" if said else "")
            + (
                ". Check the URL: the dataset is not there."
                if status == 404
                else ". The OPeNDAP server refused the request."
            ),
        )
    if "html" in content_type.lower() or body.lstrip()[:15].lower().startswith(
        (b"<!doctype", b"<html")
    ):
        raise NotOpendap(
            f"{where} answered an HTML page, not an OPeNDAP response (a login, error or "
            "catalogue page): check that the URL is the dataset's OPeNDAP endpoint (a THREDDS "
            "dodsC or dap4 URL, without .html)."
        )


class OpendapDatasets:
    """OPeNDAP datasets opened through the allow-list, kept by URL (LRU), each served as a
    virtual Zarr store; blocking (call from a worker thread)."""

    def __init__(
        self,
        allow: AllowList,
        limits: ProxyLimits | None = None,
        *,
        max_entries: int = DEFAULT_CACHE_ENTRIES,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        self.allow = allow
        self.limits = limits or ProxyLimits()
        self.chunk_bytes = chunk_bytes
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout), follow_redirects=False, trust_env=True
        )
        self._stores = StoreCache(max_entries)

    def __len__(self) -> int:
        return len(self._stores)

    def store(self, target: DapUrl) -> VirtualZarr:
        """The dataset's virtual Zarr store, opened once (concurrent callers wait for it)."""
        return self._stores.get_or_open(target.key, lambda: self._open(target))

    def get(self, target: DapUrl, key: str) -> bytes:
        """One key of the dataset's store (`.zmetadata`, `tas/0.0.0`...)."""
        store = self.store(target)
        return _reading(target, lambda: key_bytes(store, key))

    def overview(self, target: DapUrl, request: OverviewRequest) -> Overview:
        """The overview of a slice of the dataset (the slice read by one DAP request)."""
        dataset = self.store(target).dataset
        return _reading(target, lambda: overview_of_dataset(dataset, _shown(target.url), request))

    def cell(self, target: DapUrl, name: str, index_text: str) -> float | None:
        """The exact value of one cell of the dataset."""
        dataset = self.store(target).dataset
        return _reading(
            target, lambda: cell_of_dataset(dataset, _shown(target.url), name, index_text)
        )

    def _open(self, target: DapUrl) -> VirtualZarr:
        import xarray as xr
        from pydap.client import open_url
        from xarray.backends import PydapDataStore

        url = self.allow.target(target.url)
        transport = AllowListTransport(
            str(url.copy_with(raw_path=b"/")), self.allow, self.limits, self._client
        )

        def opened() -> VirtualZarr:
            with warnings.catch_warnings():
                # pydap's advice on DAP2 being legacy is for its users, not ours.
                warnings.simplefilter("ignore", UserWarning)
                dataset = open_url(
                    target.url,
                    application=transport,
                    protocol=target.protocol,
                    output_grid=False,
                )
                store = PydapDataStore(dataset, protocol=target.protocol)
                raw = xr.open_dataset(store, decode_cf=False)
                # pydap reads a variable anew on every access, and opening reads coordinates,
                # bounds and scalars several times (indexes, CF decoding, the store's time
                # encoding): the small ones are read once, here.
                for variable in raw.variables.values():
                    if variable.nbytes <= SMALL_VARIABLE_BYTES:
                        variable.load()
                decoded = xr.decode_cf(_raw_typed_attributes(raw))
            return VirtualZarr(decoded, chunk_bytes=self.chunk_bytes)

        return _reading(target, opened)


def _raw_typed_attributes(dataset: Any) -> Any:
    """The dataset with its mask attributes in each variable's own dtype, as a file's are."""
    for variable in dataset.variables.values():
        if variable.dtype.kind not in "iuf":
            continue
        for name in _RAW_VALUE_ATTRIBUTES:
            if name in variable.attrs:
                value = np.asarray(variable.attrs[name])
                if value.dtype.kind in "iuf":
                    variable.attrs[name] = value.astype(variable.dtype)
    return dataset


def _reading(target: DapUrl, read: Any) -> Any:
    """`read()`, with what pydap's parsers raise said as the API's error."""
    try:
        return read()
    except EspriVreError:
        raise
    except Exception as e:  # noqa: BLE001 - pydap's parsers raise bare Exceptions
        raise NotOpendap(
            f"{_shown(target.url)} did not answer as an OPeNDAP server "
            f"({target.protocol.upper()}): {_first_line(e)}. Check that the URL is the "
            "dataset's OPeNDAP endpoint, and the protocol (dap2 or dap4) the server speaks."
        ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:199] + "…"


def _netloc(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port is not None else host


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _shown(url: str) -> str:
    """The URL as messages name it: without a query, which may hold tokens."""
    return url.split("?", 1)[0]
