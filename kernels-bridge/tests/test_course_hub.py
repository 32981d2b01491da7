"""The worked example course end to end through the local JupyterHub: the student opens the
class link, the hub starts their server in the class profile, nbgitpuller pulls the notebooks
from the course's git repository (a local one: no internet here), the suite applies the pins and
presets and opens the first notebook; the pulled notebook then runs in a real kernel on the
pinned data."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import nbclient
import nbformat
import pytest
import xarray as xr
from local_hub_fixture import wait_for_lab

from espri_vre.course import course_link, read_course
from espri_vre.course.apply import RECORD_NAME, SUBMIT_SETTINGS
from espri_vre.course.example import FIRST, write_example


@pytest.fixture(scope="module")
def course(tmp_path_factory, demo_dir, local_hub):
    return read_course(
        write_example(tmp_path_factory.mktemp("class") / "climate-101", demo_dir, local_hub.url)
    )


def test_the_class_link_pulls_applies_and_opens_the_first_notebook(
    course, hub_login, local_hub, demo_dir
) -> None:
    student = hub_login("student")
    assert wait_for_lab(student, "student").status_code == 200
    # 1. The link: the hub (class profile) sends the browser to nbgitpuller's page.
    page = student.get(course_link(course))
    assert page.status_code == 200
    assert page.url.path == "/user/student/git-pull"
    pull = parse_qs(page.url.query.decode())
    # 2. What nbgitpuller's page does in the browser: the pull (an event stream), then the
    #    redirect to its urlpath.
    events = student.get(
        "/user/student/git-pull/api",
        params={k: pull[k][0] for k in ("repo", "branch", "targetpath")},
    )
    assert '"phase": "finished"' in events.text, events.text[-2000:]
    folder = local_hub.home("student") / "climate-101"
    assert (folder / FIRST).is_file()
    # 3. The suite shows what applying the course will do; its button applies the course and
    #    opens the first notebook in JupyterLab.
    assert not (folder / RECORD_NAME).exists()
    opened = apply_from_the_page(student, pull["urlpath"][0])
    assert opened.status_code == 200
    assert urlsplit(str(opened.url)).path == f"/user/student/lab/tree/climate-101/{FIRST}"
    record = json.loads((folder / RECORD_NAME).read_text())
    assert [(d["name"], d["state"]) for d in record["datasets"]] == [
        ("tas", "verified"),
        ("stations", "verified"),
    ]
    settings = local_hub.home("student") / ".jupyter" / "lab" / "user-settings" / SUBMIT_SETTINGS
    presets = json.loads(settings.read_text())["presets"]
    assert [p["cpus"] for p in presets] == [1, 2]

    # 4. The pulled notebook runs on the pinned file (the same process user as the server).
    notebook = nbformat.read(folder / FIRST, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(folder / "notebooks")}}
    ).execute()
    mean_cell = next(c for c in notebook.cells if c.source.startswith('float(ds["tas"].mean())'))
    shown = float(mean_cell.outputs[0]["data"]["text/plain"])
    with xr.open_dataset(demo_dir / "data" / "tas_demo_monthly.nc") as ds:
        assert shown == pytest.approx(float(ds["tas"].mean()))


def test_opening_the_link_again_keeps_the_student_s_edits(course, hub_login, local_hub) -> None:
    """nbgitpuller's merge keeps local changes: a second click must not lose work."""
    student = hub_login("student")
    folder = local_hub.home("student") / "climate-101"
    if not folder.is_dir():
        pytest.skip("needs the first test's pull")
    mine = folder / "notebooks" / "my_notes.txt"
    mine.write_text("my work\n")
    page = student.get(course_link(course))
    pull = parse_qs(page.url.query.decode())
    events = student.get(
        "/user/student/git-pull/api",
        params={k: pull[k][0] for k in ("repo", "branch", "targetpath")},
    )
    assert '"phase": "finished"' in events.text
    assert mine.read_text() == "my work\n"
    assert apply_from_the_page(student, pull["urlpath"][0]).status_code == 200


def apply_from_the_page(student: httpx.Client, urlpath: str) -> httpx.Response:
    """What the browser does on the page nbgitpuller redirects to: the click on its button, a
    form POST with the `_xsrf` value (the client keeps the server's `_xsrf` cookie)."""
    page = student.get(f"/user/student/{urlpath}")
    assert page.status_code == 200, page.text[-2000:]
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert action and xsrf, page.text[-2000:]
    return student.post(unescape(action.group(1)), data={"_xsrf": unescape(xsrf.group(1))})
