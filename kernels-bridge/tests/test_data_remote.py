"""Remote NetCDF files through a real Jupyter server (pytest-jupyter): data/remote/references
computes kerchunk references by Range requests on real data servers on the loopback (tornado's
StaticFileHandler, allow-listed), data/remote/bytes forwards the browser's chunk requests; read
back that way, every variable decodes to what xarray reads from the local file. A server that
ignores Range, one that answers HTML, a closed port and a host outside the allow-list each get
a sentence that says so."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import xarray as xr
from conftest import SHARED
from remote_servers import RemoteServers, start, suite_config
from test_data_netcdf3 import write_packed_netcdf3_with_nan_fill
from test_data_references import assert_same_decoded_values, open_references
from tornado.httpclient import HTTPClientError

CMIP6 = SHARED / "data" / "cmip6-sample"
# The largest file of the sample (its small chunks travel inside the references).
CMIP6_FILE = max(CMIP6.rglob("*.nc"), key=lambda p: p.stat().st_size) if CMIP6.is_dir() else None
pytestmark = [
    pytest.mark.filterwarnings("ignore:variable '[tq]' has non-conforming"),
    pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("remote")
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", root / "tas.nc")
    write_packed_netcdf3_with_nan_fill(root / "packed3.nc", records=True)
    (root / "notes.nc").write_text("not a netcdf file\n")
    if CMIP6_FILE is not None:
        shutil.copy(CMIP6_FILE, root / "cmip6.nc")
    return root


@pytest.fixture(scope="module")
def servers(served: Path) -> Iterator[RemoteServers]:
    found, stop = start(served)
    yield found
    stop()


@pytest.fixture
def jp_server_config(jp_root_dir: Path, servers: RemoteServers) -> dict[str, Any]:
    return suite_config(jp_root_dir, servers.allowed_hosts)


async def references(jp_fetch: Any, url: str, **kwargs: Any) -> Any:
    return await jp_fetch(
        "espri-vre", "api", "data", "remote", "references", params={"url": url}, **kwargs
    )


async def error_of(call: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await call
    body = failed.value.response.body
    return failed.value.code, json.loads(body) if body else {}


async def read_back(jp_fetch: Any, response: Any) -> tuple[dict[str, Any], int]:
    """The references with every chunk read as the browser reads it: a Range request on the
    X-Files-Url route (data/remote/bytes), inlined here for zarr to read; and how many."""
    spec = json.loads(response.body)
    route = urlsplit(response.headers["X-Files-Url"])
    assert route.path == "espri-vre/api/data/remote/bytes"
    url = parse_qs(route.query)["url"][0]
    ranged = 0
    for key, ref in spec["refs"].items():
        if isinstance(ref, list):
            _, offset, length = ref
            chunk = await jp_fetch(
                *route.path.split("/"),
                params={"url": url},
                headers={"Range": f"bytes={offset}-{offset + length - 1}"},
            )
            assert chunk.code == 206 and len(chunk.body) == length
            assert chunk.headers["Content-Range"].startswith(f"bytes {offset}-")
            spec["refs"][key] = "base64:" + base64.b64encode(chunk.body).decode()
            ranged += 1
    return spec, ranged


@pytest.mark.parametrize(
    ("name", "kind"),
    [("tas.nc", "files"), ("packed3.nc", "files"), ("tas.nc", "moved"), ("cmip6.nc", "files")],
    ids=["netcdf4", "netcdf3-nan-fill", "through-a-redirect", "cmip6"],
)
async def test_remote_files_read_by_range_requests_decode_like_xarray(
    jp_fetch, servers: RemoteServers, served: Path, name: str, kind: str
):
    if not (served / name).exists():
        pytest.skip(f"the shared CMIP6 sample ({CMIP6}) is absent")
    response = await references(jp_fetch, servers.url(kind, name))
    assert response.code == 200
    assert int(response.headers["X-Remote-Size"]) == (served / name).stat().st_size
    # The redirect was followed (on the allowed host): the chunks are read at its target.
    assert "%2Ffiles%2F" in response.headers["X-Files-Url"]
    spec, ranged = await read_back(jp_fetch, response)
    assert ranged > 0 or name == "cmip6.nc"
    path = served / name
    with open_references(spec, path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)


async def test_remote_references_answer_304_to_their_etag_until_the_file_changes(
    jp_fetch, servers: RemoteServers, served: Path
):
    url = servers.url("files", "tas.nc")
    first = await references(jp_fetch, url)
    etag = first.headers["ETag"]
    code, _ = await error_of(references(jp_fetch, url, headers={"If-None-Match": etag}))
    assert code == 304
    copy = served / "tas-changing.nc"
    shutil.copy(served / "tas.nc", copy)
    before = await references(jp_fetch, servers.url("files", copy.name))
    with copy.open("ab") as f:  # a new version: new size, new ETag and Last-Modified
        f.write(b"\0" * 16)
    after = await references(
        jp_fetch, servers.url("files", copy.name), headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.code == 200 and after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize(
    ("kind", "status", "code", "words"),
    [
        ("norange", 502, "range-not-supported", "ignores HTTP Range requests (it answered 200"),
        ("portal", 502, "html-answer", "answered an HTML page instead of the file"),
        ("closed", 502, "unreachable", "The data server cannot be reached: connection refused"),
        ("gzipped", 502, "unreachable", "answered gzip-compressed bytes to a Range request"),
        ("dying", 502, "unreachable", "broke off while the server read the file"),
    ],
)
async def test_servers_that_cannot_serve_chunks_are_named_with_what_they_did(
    jp_fetch, servers: RemoteServers, kind: str, status: int, code: str, words: str
):
    got, body = await error_of(references(jp_fetch, servers.url(kind, "tas.nc")))
    assert (got, body["error"]) == (status, code)
    assert words in body["detail"]
    assert "127.0.0.1" in body["detail"]


async def test_hosts_outside_the_allow_list_are_never_reached(jp_fetch, servers: RemoteServers):
    url = f"http://localhost:{servers.range_port}/files/tas.nc"
    code, body = await error_of(references(jp_fetch, url))
    assert (code, body["error"]) == (403, "host-not-allowed")
    assert f'"localhost:{servers.range_port}" to EspriVreApp.allowed_hosts' in body["detail"]
    code, body = await error_of(
        jp_fetch(
            "espri-vre", "api", "data", "remote", "bytes",
            params={"url": url}, headers={"Range": "bytes=0-7"},
        )
    )  # fmt: skip
    assert (code, body["error"]) == (403, "host-not-allowed")


async def test_a_remote_text_file_is_named_for_what_it_is(jp_fetch, servers: RemoteServers):
    code, body = await error_of(references(jp_fetch, servers.url("files", "notes.nc")))
    assert (code, body["error"]) == (415, "unsupported-file")
    assert body["detail"].startswith(f"{servers.url('files', 'notes.nc')} is a file of unknown")


@pytest.mark.parametrize(
    ("range_header", "words"),
    [(None, "got none"), ("bytes=0-", "got bytes=0-"), ("bytes=0-99999999", "longer than 64 MiB")],
)
async def test_the_bytes_route_reads_one_bounded_range_only(
    jp_fetch, servers: RemoteServers, range_header: str | None, words: str
):
    headers = {"Range": range_header} if range_header else {}
    code, body = await error_of(
        jp_fetch(
            "espri-vre", "api", "data", "remote", "bytes",
            params={"url": servers.url("files", "tas.nc")}, headers=headers,
        )
    )  # fmt: skip
    assert (code, body["error"]) == (416, "bad-range")
    assert words in body["detail"]


async def test_a_remote_route_without_a_url_says_what_to_pass(jp_fetch, servers: RemoteServers):
    code, body = await error_of(references(jp_fetch, ""))
    assert code == 400
    assert body["detail"] == "No url was given: pass the file's URL as url."
