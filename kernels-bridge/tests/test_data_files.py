"""GET /espri-vre/api/data/files/<path> through a real Jupyter server (pytest-jupyter): Zarr v2
keys (hidden names) and chunks, Range requests with exact bytes, 416, files in a data root
outside root_dir through the @<root-id> form, traversal refused, authentication required."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from espri_vre.data.paths import is_hidden_outside_zarr

STORE = "data/tas_demo_monthly.zarr"


@pytest.fixture
def jp_server_config(jp_root_dir: Path, demo_dir: Path) -> dict[str, Any]:
    """root_dir holds a copy of the demo's Zarr v2 store and NetCDF file, a hidden file and a
    symbolic link to /etc; the demo's data folder (outside root_dir) is the data root `demo`."""
    data = jp_root_dir / "data"
    data.mkdir()
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", data / "tas_demo_monthly.nc")
    shutil.copytree(demo_dir / "data" / "tas_demo_monthly.zarr", data / "tas_demo_monthly.zarr")
    (data / ".secret").write_text("hidden\n")
    (jp_root_dir / "escape").symlink_to("/etc")
    roots = [{"id": "demo", "title": "Demo data", "path": str(demo_dir / "data")}]
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": roots},
    }


async def get(jp_fetch: Any, path: str, **kwargs: Any) -> Any:
    return await jp_fetch("espri-vre", "api", "data", "files", path, **kwargs)


async def get_error(jp_fetch: Any, path: str, **kwargs: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as failed:
        await get(jp_fetch, path, **kwargs)
    response = failed.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    return failed.value.code, json.loads(response.body)


async def test_a_zarr_v2_store_serves_its_hidden_keys_and_chunks(jp_fetch, jp_root_dir: Path):
    store = jp_root_dir / STORE
    meta = await get(jp_fetch, f"{STORE}/.zmetadata")
    assert meta.code == 200
    assert meta.body == (store / ".zmetadata").read_bytes()
    assert "tas/.zarray" in json.loads(meta.body)["metadata"]
    assert meta.headers["Accept-Ranges"] == "bytes"
    assert meta.headers["Cache-Control"].startswith("private")
    assert meta.headers["ETag"] and meta.headers["Last-Modified"]
    chunk = next(p for p in sorted((store / "tas").iterdir()) if not p.name.startswith("."))
    got = await get(jp_fetch, f"{STORE}/tas/{chunk.name}")
    assert got.body == chunk.read_bytes()
    assert got.headers["Content-Type"] == "application/octet-stream"
    # A missing key is a 404, which zarrita reads as a missing chunk (the fill value).
    code, body = await get_error(jp_fetch, f"{STORE}/tas/99.99.99")
    assert (code, body["error"]) == (404, "not-found")


async def test_range_requests_answer_206_with_the_exact_bytes(jp_fetch, jp_root_dir: Path):
    data = (jp_root_dir / "data" / "tas_demo_monthly.nc").read_bytes()
    for header, start, end in [
        ("bytes=100-199", 100, 200),
        ("bytes=0-0", 0, 1),
        ("bytes=1000-", 1000, len(data)),
        ("bytes=-16", len(data) - 16, len(data)),
        (f"bytes={len(data) - 5}-{len(data) + 1000}", len(data) - 5, len(data)),
    ]:
        got = await get(jp_fetch, "data/tas_demo_monthly.nc", headers={"Range": header})
        assert got.code == 206, header
        assert got.body == data[start:end], header
        assert got.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(data)}"
        assert int(got.headers["Content-Length"]) == end - start
    whole = await get(jp_fetch, "data/tas_demo_monthly.nc")
    assert whole.code == 200 and whole.body == data
    head = await get(jp_fetch, "data/tas_demo_monthly.nc", method="HEAD")
    assert head.code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert head.body == b""


async def test_a_range_past_the_end_is_416(jp_fetch, jp_root_dir: Path):
    size = (jp_root_dir / "data" / "tas_demo_monthly.nc").stat().st_size
    with pytest.raises(HTTPClientError) as failed:
        await get(jp_fetch, "data/tas_demo_monthly.nc", headers={"Range": f"bytes={size}-"})
    assert failed.value.code == 416
    assert failed.value.response.headers["Content-Range"] == f"bytes */{size}"
    assert json.loads(failed.value.response.body)["error"] == "range-not-satisfiable"


async def test_an_unchanged_file_revalidates_to_304(jp_fetch):
    first = await get(jp_fetch, f"{STORE}/.zmetadata")
    with pytest.raises(HTTPClientError) as failed:
        await get(jp_fetch, f"{STORE}/.zmetadata", headers={"If-None-Match": first.headers["ETag"]})
    assert failed.value.code == 304


async def test_a_file_in_a_data_root_outside_root_dir_through_its_root_id(jp_fetch, demo_dir: Path):
    path = demo_dir / "data" / "balloon_demo_trajectory.nc"
    data = path.read_bytes()
    got = await get(jp_fetch, "@demo/balloon_demo_trajectory.nc", headers={"Range": "bytes=8-39"})
    assert got.code == 206 and got.body == data[8:40]
    meta = await get(jp_fetch, "@demo/tas_demo_monthly.zarr/.zmetadata")
    assert meta.body == (demo_dir / "data" / "tas_demo_monthly.zarr" / ".zmetadata").read_bytes()
    # data/references points the browser at this route for such a file.
    refs = await jp_fetch("espri-vre", "api", "data", "references", params={"path": str(path)})
    assert refs.headers["X-Files-Url"] == (
        "espri-vre/api/data/files/%40demo/balloon_demo_trajectory.nc"
    )
    inside = await jp_fetch(
        "espri-vre", "api", "data", "references", params={"path": "data/tas_demo_monthly.nc"}
    )
    assert inside.headers["X-Files-Url"] == "files/data/tas_demo_monthly.nc"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("data/../../etc/passwd", 403),
        ("data/%2e%2e/%2e%2e/etc/passwd", 403),
        ("%2e%2e/etc/passwd", 403),
        ("@demo/%2e%2e/%2e%2e/etc/passwd", 403),
        ("%2Fetc%2Fpasswd", 403),
        ("@demo/%2Fetc%2Fpasswd", 403),
        ("escape/passwd", 403),
        ("data/tas%00.nc", 400),
        ("data/no-such-file.nc", 404),
        ("data", 404),
        ("@demo", 404),
    ],
)
async def test_bad_paths_are_refused_with_the_json_error(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    path: str,
    status: int,
):
    # Sent as written (jp_fetch would quote the '%'), with the server's token.
    url = f"{jp_base_url}espri-vre/api/data/files/{path}"
    with pytest.raises(HTTPClientError) as failed:
        await http_server_client.fetch(url, headers=jp_auth_header)
    code, body = failed.value.code, json.loads(failed.value.response.body)
    assert code == status, body
    assert body["error"] == {400: "bad-request", 403: "forbidden", 404: "not-found"}[status]
    assert body["detail"]


async def test_a_hidden_file_outside_a_zarr_store_is_refused(jp_fetch):
    code, body = await get_error(jp_fetch, "data/.secret")
    assert code == 403 and "hidden" in body["detail"]


def test_hidden_names_are_allowed_only_inside_a_zarr_store() -> None:
    assert not is_hidden_outside_zarr(("data", "x.zarr", ".zmetadata"))
    assert not is_hidden_outside_zarr(("x.zarr", "tas", ".zarray"))
    assert is_hidden_outside_zarr(("data", ".secret"))
    assert is_hidden_outside_zarr((".hidden.zarr", ".zarray"))
    assert is_hidden_outside_zarr((".ssh", "x.zarr", "k"))


async def test_the_route_needs_authentication(jp_fetch):
    code, body = await get_error(jp_fetch, f"{STORE}/.zmetadata", headers={"Authorization": ""})
    assert (code, body["error"]) == (403, "forbidden")


async def test_data_info_names_the_root_id_route_for_a_zarr_store_outside_root_dir(
    jp_fetch, demo_dir: Path
):
    """The previewer reads a Zarr store from data/info's files_url: for a store in a data root
    outside root_dir that is the data/files/@<root-id>/ route, whose keys it then serves."""
    store = demo_dir / "data" / "tas_demo_monthly.v3.zarr"
    info = await jp_fetch("espri-vre", "api", "data", "info", params={"path": str(store)})
    body = json.loads(info.body)
    assert body["kind"] == "zarr-v3" and body["reader"] == "zarr"
    assert body["files_url"] == "espri-vre/api/data/files/%40demo/tas_demo_monthly.v3.zarr"
    key = body["files_url"].removeprefix("espri-vre/api/data/files/").replace("%40", "@")
    meta = await get(jp_fetch, key + "/zarr.json")
    assert meta.body == (store / "zarr.json").read_bytes()
    # Inside root_dir it stays Jupyter's /files/ path, which the previewer maps to data/files.
    inside = await jp_fetch(
        "espri-vre", "api", "data", "info", params={"path": "data/tas_demo_monthly.zarr"}
    )
    assert json.loads(inside.body)["files_url"] == "files/data/tas_demo_monthly.zarr"
