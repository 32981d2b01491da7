"""GET /espri-vre/api/data/roots/<id>/list through a real Jupyter server (pytest-jupyter): what the
file browser's drive of a data root shows. Folders page by name; hidden names, links out of the
roots, links to hidden files and broken links are left out; `..`, absolute paths, hidden paths and
paths through an escaping link are refused with the API's JSON error; a folder past the scan
bound says it is cut."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from espri_vre.data import listing

BIG = 2500
"""Files of the big folder: three pages of 1000."""


@pytest.fixture
def data_root(tmp_path: Path, demo_dir: Path) -> Path:
    """A data root outside root_dir: the demo's NetCDF file and Zarr store, a hidden file and
    folder, links (inside, out of the roots, to a hidden file, broken) and a big folder."""
    root = tmp_path / "bdd"
    (root / "model").mkdir(parents=True)
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", root / "model" / "tas.nc")
    shutil.copytree(demo_dir / "data" / "tas_demo_monthly.zarr", root / "model" / "tas.zarr")
    (root / "model" / "README.txt").write_text("monthly tas\n")
    (root / ".secret").write_text("hidden\n")
    (root / ".private").mkdir()
    (root / ".private" / "notes.txt").write_text("hidden folder\n")
    (root / "escape").symlink_to("/etc")
    (root / "to-secret").symlink_to(root / ".secret")
    (root / "dangling").symlink_to(root / "nowhere")
    (root / "tas-link.nc").symlink_to(root / "model" / "tas.nc")
    big = root / "big"
    big.mkdir()
    for i in range(BIG):
        (big / f"f{i:05d}.txt").touch()
    return root


@pytest.fixture
def jp_server_config(jp_root_dir: Path, data_root: Path) -> dict[str, Any]:
    roots = [{"id": "bdd", "title": "Storage", "path": str(data_root)}]
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}, "root_dir": str(jp_root_dir)},
        "EspriVreApp": {"data_roots": roots},
    }


async def get(jp_fetch: Any, root: str = "bdd", **params: Any) -> dict[str, Any]:
    response = await jp_fetch("espri-vre", "api", "data", "roots", root, "list", params=params)
    assert response.code == 200
    return json.loads(response.body)


async def get_error(jp_fetch: Any, root: str = "bdd", **params: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("espri-vre", "api", "data", "roots", root, "list", params=params)
    response = failed.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert set(body) >= {"error", "detail"}
    return failed.value.code, body["detail"]


async def test_the_root_lists_only_what_the_server_serves(jp_fetch, data_root: Path):
    answer = await get(jp_fetch, path="")
    assert (answer["root"], answer["path"], answer["type"]) == ("bdd", "", "directory")
    assert answer["writable"] is False
    names = [e["name"] for e in answer["entries"]]
    # Sorted; no hidden names, no link to /etc, to a hidden file or to nothing.
    assert names == ["big", "model", "tas-link.nc"]
    assert (answer["total"], answer["complete"]) == (3, True)
    link = answer["entries"][2]
    assert link == {
        "name": "tas-link.nc",
        "path": "tas-link.nc",
        "type": "file",
        "size": (data_root / "model" / "tas.nc").stat().st_size,
        "mtime": link["mtime"],
        "zarr": False,
    }


async def test_a_folder_lists_its_files_and_flags_zarr_stores(jp_fetch, data_root: Path):
    answer = await get(jp_fetch, path="model")
    by_name = {e["name"]: e for e in answer["entries"]}
    assert list(by_name) == ["README.txt", "tas.nc", "tas.zarr"]
    assert by_name["tas.zarr"]["type"] == "directory"
    assert by_name["tas.zarr"]["zarr"] is True and by_name["tas.zarr"]["size"] is None
    assert by_name["tas.nc"]["path"] == "model/tas.nc"
    assert by_name["README.txt"]["size"] == len("monthly tas\n")
    # Inside a store, its hidden keys are not listed (the store is previewed as a whole).
    store = await get(jp_fetch, path="model/tas.zarr")
    assert store["zarr"] is True
    assert all(not e["name"].startswith(".") for e in store["entries"])
    assert "tas" in [e["name"] for e in store["entries"]]


async def test_a_file_answers_its_description_without_entries(jp_fetch, data_root: Path):
    answer = await get(jp_fetch, path="model/tas.nc")
    assert answer["type"] == "file" and answer["entries"] is None
    assert answer["name"] == "tas.nc"
    assert answer["size"] == (data_root / "model" / "tas.nc").stat().st_size


async def test_a_big_folder_comes_in_pages(jp_fetch):
    pages = [await get(jp_fetch, path="big", offset=o, limit=1000) for o in (0, 1000, 2000)]
    assert [p["total"] for p in pages] == [BIG] * 3
    assert [len(p["entries"]) for p in pages] == [1000, 1000, 500]
    names = [e["name"] for p in pages for e in p["entries"]]
    assert names == [f"f{i:05d}.txt" for i in range(BIG)]
    assert (await get(jp_fetch, path="big", offset=BIG))["entries"] == []


async def test_a_page_larger_than_the_bound_is_refused(jp_fetch):
    code, detail = await get_error(jp_fetch, path="big", limit=listing.MAX_LIMIT + 1)
    assert code == 400 and str(listing.MAX_LIMIT) in detail
    code, detail = await get_error(jp_fetch, path="big", offset=-1)
    assert code == 400 and "offset" in detail


async def test_a_folder_past_the_scan_bound_says_it_is_cut(jp_fetch, monkeypatch):
    # The bound (100,000 names) lowered so that the test folder exceeds it.
    monkeypatch.setattr(listing, "SCAN_LIMIT", 2000)
    answer = await get(jp_fetch, path="big", offset=1500, limit=1000)
    assert (answer["total"], answer["complete"]) == (2000, False)
    assert len(answer["entries"]) == 500


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("../", 403, "'..'"),
        ("model/../../", 403, "'..'"),
        ("/etc", 403, "absolute"),
        ("escape", 403, "symbolic link"),
        ("escape/passwd", 403, "symbolic link"),
        (".secret", 403, "hidden"),
        (".private/notes.txt", 403, "hidden"),
        ("to-secret", 403, "hidden"),
        ("nowhere", 404, "no file"),
        ("model/tas.nc\x00", 400, "NUL"),
    ],
)
async def test_paths_out_of_the_root_are_refused(
    jp_fetch, data_root: Path, path: str, status: int, words: str
):
    code, detail = await get_error(jp_fetch, path=path)
    assert code == status, detail
    assert words in detail
    # Every sentence names the path as given, never where the root lies on the server.
    assert str(data_root) not in detail


async def test_an_unknown_root_is_a_404(jp_fetch):
    code, detail = await get_error(jp_fetch, root="elsewhere", path="")
    assert code == 404 and "elsewhere" in detail


async def test_listing_needs_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch(
            "espri-vre", "api", "data", "roots", "bdd", "list", headers={"Authorization": ""}
        )
    assert failed.value.code == 403


def test_a_link_into_the_server_root_is_listed(tmp_path: Path):
    """Links between the roots are followed (the data routes serve both ends)."""
    root, other = tmp_path / "a", tmp_path / "b"
    root.mkdir()
    other.mkdir()
    (other / "x.nc").write_bytes(b"x")
    (root / "x.nc").symlink_to(other / "x.nc")
    real = [Path(os.path.realpath(p)) for p in (root, other)]
    found = listing.list_folder(root, real, allow_hidden=False)
    assert [e.name for e in found.entries] == ["x.nc"]
    assert listing.list_folder(root, real[:1], allow_hidden=False).entries == []
