"""Hostile and malformed requests on a real Jupyter server (pytest-jupyter), issue 19: links to
hidden files, error details that would name the server's real paths, names longer than a file
system holds, JSON nested past every request's need, user files of the wrong shape, and a class
link opened from another site. Each answer is a clear 4xx, never a 500, and changes nothing."""

from __future__ import annotations

import asyncio
import json
import re
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nbformat
import pytest
from test_course import pulled

from espri_vre.course.apply import RECORD_NAME, SUBMIT_SETTINGS
from espri_vre.course.example import write_example

LONG = "a" * 300
"""A path component longer than NAME_MAX (255 bytes): ENAMETOOLONG from the file system."""


@pytest.fixture
def bdd(tmp_path: Path) -> dict[str, Path]:
    """A data root outside root_dir, configured through a symbolic link (as /bdd on Lustre)."""
    real = tmp_path / "lustre" / "bdd"
    real.mkdir(parents=True)
    (real / "tas.csv").write_text("a,b\n1,2\n")
    link = tmp_path / "bdd"
    link.symlink_to(real)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text("root:x:0:0\n")
    return {"real": real, "link": link, "secret": secret}


@pytest.fixture
def jp_server_config(jp_root_dir: Path, bdd: dict[str, Path], tmp_path: Path) -> dict[str, Any]:
    """root_dir holds a hidden folder with a file and a notebook, visible links to both, a Zarr
    store with a key linking into the hidden folder, and a link out of every root."""
    root = jp_root_dir
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.csv").write_text("a,b\n1,2\n")
    nbformat.write(nbformat.v4.new_notebook(), root / ".hidden" / "analysis.ipynb")
    (root / "data").mkdir()
    (root / "data" / "visible.csv").symlink_to(root / ".hidden" / "secret.csv")
    (root / "data" / "notebook.ipynb").symlink_to(root / ".hidden" / "analysis.ipynb")
    (root / "data" / "dir").symlink_to(root / ".hidden")
    store = root / "data" / "x.zarr"
    store.mkdir()
    (store / ".zarray").write_text("{}")
    (store / ".zattrs").symlink_to(root / ".hidden" / "secret.csv")
    (root / "escape").symlink_to(bdd["secret"])
    nbformat.write(nbformat.v4.new_notebook(), root / "analysis.ipynb")
    return {
        # JupyterLab too: the course route writes into LabApp.user_settings_dir.
        "ServerApp": {"jpserver_extensions": {"espri_vre": True, "jupyterlab": True}},
        "EspriVreApp": {
            "data_roots": [{"id": "bdd", "title": "BDD", "path": str(bdd["link"])}],
            "job_store_dir": str(tmp_path / "jobs"),
        },
        "LabApp": {"user_settings_dir": str(tmp_path / "lab-settings")},
    }


async def fetch(jp_fetch: Any, *parts: str, body: Any = None, **params: str) -> tuple[int, Any]:
    """(status, JSON body) of an API call that may fail."""
    kwargs: dict[str, Any] = {"params": params, "raise_error": False}
    if body is not None:
        kwargs.update(method="POST", body=body if isinstance(body, str) else json.dumps(body))
    response = await jp_fetch("espri-vre", "api", *parts, **kwargs)
    assert response.headers["Content-Type"].startswith("application/json"), response.body[:200]
    return response.code, json.loads(response.body)


# 1. Hidden files, through a visible link too.


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("data/info", "data/visible.csv"),
        ("data/table", "data/visible.csv"),
        ("data/info", "data/dir/secret.csv"),
        ("provenance/runs", "data/notebook.ipynb"),
        ("provenance/runs", ".hidden/analysis.ipynb"),
        ("provenance/crate", ".hidden"),
        ("provenance/report", ".hidden"),
    ],
)
async def test_a_visible_link_to_a_hidden_file_is_refused_like_the_hidden_file(
    jp_fetch, route, path
):
    code, body = await fetch(jp_fetch, *route.split("/"), path=path)
    assert code == 403, body
    assert body["error"] == "forbidden"
    assert "ContentsManager.allow_hidden" in body["detail"]


@pytest.mark.parametrize("path", ["data/visible.csv", "data/dir/secret.csv", "data/x.zarr/.zattrs"])
async def test_data_files_does_not_serve_a_hidden_file_through_a_visible_link(jp_fetch, path):
    code, body = await fetch(jp_fetch, "data", "files", path)
    assert code == 403, body
    assert "hidden" in body["detail"]
    # A Zarr store's own keys are still served.
    served = await jp_fetch("espri-vre", "api", "data", "files", "data/x.zarr/.zarray")
    assert served.body == b"{}"


async def test_provenance_routes_follow_allow_hidden_when_the_server_shows_hidden_files(
    jp_fetch, jp_serverapp
):
    jp_serverapp.contents_manager.allow_hidden = True
    code, body = await fetch(jp_fetch, "provenance", "runs", path=".hidden/analysis.ipynb")
    assert (code, body) == (200, {"notebook": ".hidden/analysis.ipynb", "runs": []})


# 2. Error details name the path as the user gave it.


@pytest.mark.parametrize(
    ("route", "path", "detail"),
    [
        (
            "data/info",
            "escape/passwd",
            "escape/passwd leads through a symbolic link to a place outside the server root and "
            "the configured data roots.",
        ),
        ("data/files/@bdd/nothing.nc", None, "There is no file @bdd/nothing.nc on the server."),
        ("data/files/@bdd/x/../tas.csv", None, "The path '@bdd/x/../tas.csv' contains '..'"),
    ],
)
async def test_error_details_never_name_a_real_path_of_the_server(
    jp_fetch, bdd, route, path, detail
):
    params = {"path": path} if path else {}
    code, body = await fetch(jp_fetch, *route.split("/"), **params)
    assert code in (403, 404), body
    assert body["detail"].startswith(detail)
    for real in (bdd["real"], bdd["link"], bdd["secret"]):
        assert str(real) not in json.dumps(body)


async def test_a_crate_whose_metadata_breaks_names_the_crate_not_its_real_path(
    jp_fetch, jp_root_dir
):
    crate = jp_root_dir / "broken-crate"
    crate.mkdir()
    (crate / "ro-crate-metadata.json").write_text(json.dumps({"@graph": [{"@id": "./"}]}))
    code, body = await fetch(jp_fetch, "provenance", "crate", path="broken-crate")
    assert code == 422, body
    assert body["detail"].startswith("broken-crate/ro-crate-metadata.json cannot be read")
    assert str(jp_root_dir) not in body["detail"]


# 4. Bad input: a clear 4xx, never a 500.


@pytest.mark.parametrize(
    "route",
    [
        "data/info",
        "data/references",
        "data/table",
        "provenance/runs",
        "provenance/events",
        "provenance/crate",
        "provenance/report",
    ],
)
@pytest.mark.parametrize("path", [f"data/{LONG}", f"{LONG}/analysis.ipynb", f"/{LONG}"])
async def test_a_name_of_300_characters_is_a_bad_request_on_every_path_route(jp_fetch, route, path):
    code, body = await fetch(jp_fetch, *route.split("/"), path=path, run="r")
    assert code == 400, body
    assert "longer than 255 bytes" in body["detail"]


@pytest.mark.parametrize("path", [f"data/{LONG}", f"@bdd/{LONG}", f"@bdd/x/{LONG}.zarr/.zarray"])
async def test_a_name_of_300_characters_is_a_bad_request_on_data_files(jp_fetch, path):
    code, body = await fetch(jp_fetch, "data", "files", path)
    assert code == 400, body


@pytest.mark.parametrize("route", ["provenance/export", "provenance/replay"])
async def test_a_name_of_300_characters_in_a_provenance_body_is_a_bad_request(jp_fetch, route):
    code, body = await fetch(jp_fetch, *route.split("/"), body={"path": f"{LONG}.ipynb"})
    assert code == 400, body
    assert "longer than 255 bytes" in body["detail"]


def nested(depth: int) -> str:
    """A JSON object whose `path` holds arrays nested `depth` deep."""
    return '{"path": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    "route", ["provenance/export", "provenance/replay", "dask/clusters", "jobs/preview"]
)
@pytest.mark.parametrize("depth", [100, 5000])
async def test_a_deeply_nested_body_is_refused_before_it_is_read(jp_fetch, route, depth):
    code, body = await fetch(jp_fetch, *route.split("/"), body=nested(depth))
    assert code == 400, body
    assert body == {
        "error": "too-deeply-nested",
        "detail": "The body is too deeply nested: more than 64 levels of arrays and objects.",
    }


async def test_a_body_within_the_nesting_bound_is_checked_as_before(jp_fetch):
    code, body = await fetch(jp_fetch, "provenance", "export", body=nested(60))
    assert code == 400, body
    assert body["detail"].startswith("The request is refused: path: [[[")


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ([], "(root): [] is not of type 'object'"),
        ({"run_id": 5}, "(root): 'notebook' is a required property"),
    ],
)
async def test_a_report_json_of_the_wrong_shape_is_422_saying_what_is_wrong(
    jp_fetch, jp_root_dir, written, problem
):
    folder = jp_root_dir / "analysis-replay"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(written))
    code, body = await fetch(jp_fetch, "provenance", "report", path="analysis-replay")
    assert code == 422, body
    assert body["error"] == "invalid"
    assert body["detail"].startswith("analysis-replay/report.json is not a valid ReplayReport: ")
    assert problem in body["detail"]


async def test_a_report_json_nested_too_deeply_is_422(jp_fetch, jp_root_dir):
    folder = jp_root_dir / "analysis-replay"
    folder.mkdir()
    (folder / "report.json").write_text("[" * 100_000 + "]" * 100_000)
    code, body = await fetch(jp_fetch, "provenance", "report", path="analysis-replay")
    assert (code, body["detail"]) == (
        422,
        "analysis-replay/report.json nests too deeply to be a report.",
    )


async def test_a_crate_whose_fields_have_the_wrong_type_is_422_naming_the_field(
    jp_fetch, jp_root_dir
):
    crate = jp_root_dir / "odd-crate"
    (crate / "provenance").mkdir(parents=True)
    graph = [
        {"@id": "./", "name": ["not", "a", "name"], "mainEntity": {"@id": "analysis.ipynb"}},
        {"@id": "provenance/run.jsonl", "@type": "File"},
    ]
    (crate / "ro-crate-metadata.json").write_text(json.dumps({"@graph": graph}))
    code, body = await fetch(jp_fetch, "provenance", "crate", path="odd-crate")
    assert code == 422, body
    assert body["detail"].startswith("odd-crate/ro-crate-metadata.json is not a valid CrateSummary")
    assert "name: ['not', 'a', 'name'] is not of type" in body["detail"]


# 3. The class link opened from another site changes nothing without the button's POST.


@pytest.fixture
def course_folder(jp_root_dir: Path, demo_dir: Path, tmp_path_factory) -> Path:
    example = write_example(
        tmp_path_factory.mktemp("course") / "climate-101", demo_dir, "https://vre.example.org"
    )
    return pulled(example, jp_root_dir)


async def test_a_cross_site_link_to_the_course_route_only_shows_the_page(
    jp_fetch, course_folder, tmp_path
):
    page = await jp_fetch(
        "espri-vre",
        "course",
        "apply",
        params={"path": "climate-101/course.yaml"},
        headers={"Referer": "https://evil.example/class"},
    )
    assert page.code == 200 and b'<form method="post"' in page.body
    assert not (course_folder / RECORD_NAME).exists()
    assert not (tmp_path / "lab-settings" / SUBMIT_SETTINGS).exists()


@pytest.mark.parametrize(
    ("fields", "headers", "status"),
    [
        ({}, {}, 403),  # no _xsrf value: a form from another site cannot know it
        ({"_xsrf": "forged"}, {}, 403),
        (None, {"Origin": "https://evil.example"}, 404),  # jupyter_server's origin check
    ],
)
async def test_applying_a_course_needs_the_page_s_xsrf_value_and_this_server_s_origin(
    jp_fetch, course_folder, tmp_path, fields, headers, status
):
    page = await jp_fetch(
        "espri-vre", "course", "apply", params={"path": "climate-101/course.yaml"}
    )
    xsrf = unescape(re.search(r'name="_xsrf" value="([^"]+)"', page.body.decode()).group(1))
    jar = SimpleCookie()
    for header in page.headers.get_list("Set-Cookie"):
        jar.load(header)
    cookies = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    response = await jp_fetch(
        "espri-vre",
        "course",
        "apply",
        params={"path": "climate-101/course.yaml"},
        method="POST",
        body=urlencode({"_xsrf": xsrf} if fields is None else fields),
        headers={"Authorization": "", "Cookie": cookies, **headers},
        follow_redirects=False,
        raise_error=False,
    )
    assert response.code == status
    assert not (course_folder / RECORD_NAME).exists()
    assert not (tmp_path / "lab-settings" / SUBMIT_SETTINGS).exists()


@pytest.mark.parametrize("path", [f"{LONG}.sh", f"data/{LONG}/run.sh"])
async def test_a_name_of_300_characters_in_a_job_preview_is_refused(jp_fetch, path):
    spec = {"kind": "script", "path": path, "name": "long"}
    code, body = await fetch(jp_fetch, "jobs", "preview", body={"cluster": "local", "spec": spec})
    assert code == 400, body


async def test_a_failed_replay_names_its_files_relative_to_the_root(jp_fetch, jp_root_dir):
    code, job = await fetch(jp_fetch, "provenance", "replay", body={"path": "analysis.ipynb"})
    assert code == 202, job
    for _ in range(200):
        code, job = await fetch(jp_fetch, "provenance", "replay", job["id"])
        if job["state"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "failed"
    assert job["error"] and str(jp_root_dir) not in job["error"]


async def test_a_provenance_log_of_the_wrong_shape_is_422_not_500(jp_fetch, jp_root_dir):
    logs = jp_root_dir / "analysis.provenance"
    logs.mkdir()
    session = {"kind": "session", "kernel": {"id": 5}, "notebook": str(jp_root_dir)}
    (logs / "run-1.jsonl").write_text(json.dumps(session) + "\n")
    code, body = await fetch(jp_fetch, "provenance", "runs", path="analysis.ipynb")
    assert code == 422, body
    assert body["detail"].startswith(
        "the provenance log of analysis.ipynb is not a valid ProvenanceRunsResponse: "
        "runs/0/kernel_id: 5 is not of type"
    )
