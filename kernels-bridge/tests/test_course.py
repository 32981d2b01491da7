"""Practical classes: the course file, its one link, applying it on a real Jupyter server
(pins checked on the demo's real files, presets written to the user's settings), and the
pinned datasets read from a notebook's kernel helpers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import xarray as xr
import yaml

from espri_vre.course import CourseError, course_link, dataset, open_dataset, parse_course
from espri_vre.course.apply import RECORD_NAME, SUBMIT_SETTINGS, apply_course
from espri_vre.course.example import write_example


@pytest.fixture(scope="module")
def example(tmp_path_factory, demo_dir) -> Path:
    """The worked example course, written as a git repository."""
    return write_example(
        tmp_path_factory.mktemp("course") / "climate-101", demo_dir, "https://vre.example.org"
    )


def course_text(example: Path, **changes) -> str:
    data = yaml.safe_load(example.read_text())
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return yaml.safe_dump(data)


def test_the_link_goes_through_the_class_profile_then_nbgitpuller_then_the_apply_route(
    example,
) -> None:
    course = parse_course(example.read_text())
    link = urlsplit(course_link(course))
    assert (link.scheme, link.netloc, link.path) == ("https", "vre.example.org", "/hub/spawn")
    query = parse_qs(link.query)
    assert query["profile"] == ["class"]
    pull = urlsplit(query["next"][0])
    assert pull.path == "/hub/user-redirect/git-pull"
    pull_query = parse_qs(pull.query)
    assert pull_query["repo"] == [example.parent.as_uri()]
    assert pull_query["branch"] == ["main"]
    assert pull_query["targetpath"] == ["climate-101"]
    apply = urlsplit(pull_query["urlpath"][0])
    assert apply.path == "espri-vre/course/apply"
    assert parse_qs(apply.query) == {"path": ["climate-101/course.yaml"]}


def test_without_a_profile_the_link_is_nbgitpuller_s_own(example) -> None:
    data = yaml.safe_load(example.read_text())
    del data["environment"]
    data["hub"] = "https://hub.example.org/jupyter/"
    link = course_link(parse_course(yaml.safe_dump(data)))
    assert link.startswith("https://hub.example.org/jupyter/hub/user-redirect/git-pull?repo=")


@pytest.mark.parametrize(
    ("changes", "where", "what"),
    [
        ({"jobs__presets__0__cpus": 4}, "jobs/presets/0/cpus", "above the course's cap 2"),
        ({"jobs__presets__1__memory": "3G"}, "jobs/presets/1/memory", "above the course's cap 2G"),
        ({"jobs__presets__0__walltime": "2:00:00"}, "jobs/presets/0/walltime", "above"),
        ({"jobs__presets__0__memory": "lots"}, "jobs/presets/0/memory", "must be a size"),
        ({"datasets__0__path": "../etc/passwd"}, "datasets/0/path", "no '..'"),
        ({"datasets__1__name": "tas"}, "datasets/1/name", "pinned twice"),
        ({"datasets__0__sha256": "abc"}, "datasets/0/sha256", "does not match"),
        ({"notebooks__repo": "ssh://git@host/x"}, "notebooks/repo", "does not match"),
        ({"environment__profile": "Class!"}, "environment/profile", "does not match"),
        ({"hub": "vre.example.org"}, "hub", "does not match"),
        ({"teacher": "me"}, "(top)", "'teacher' was unexpected"),
    ],
)
def test_a_bad_course_is_refused_naming_the_field(example, changes, where, what) -> None:
    with pytest.raises(CourseError) as caught:
        parse_course(course_text(example, **changes))
    assert any(w == where and what in m for w, m in caught.value.problems), caught.value.problems


def test_a_preset_must_give_what_the_course_caps(example) -> None:
    data = yaml.safe_load(example.read_text())
    del data["jobs"]["presets"][0]["memory"]
    with pytest.raises(CourseError, match="jobs/presets/0/memory: the course caps memory at 2G"):
        parse_course(yaml.safe_dump(data))


def test_text_that_is_not_a_course_is_refused() -> None:
    with pytest.raises(CourseError, match="not valid YAML"):
        parse_course("id: [unclosed")
    with pytest.raises(CourseError, match="must be a mapping"):
        parse_course("- a list")


def test_the_command_prints_the_link_and_refuses_a_bad_file(example, tmp_path) -> None:
    cli = [sys.executable, "-m", "espri_vre.cli", "course"]
    done = subprocess.run([*cli, "link", str(example)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == course_link(parse_course(example.read_text()))
    bad = tmp_path / "bad.yaml"
    bad.write_text(course_text(example, jobs__presets__0__gpus=1))
    done = subprocess.run([*cli, "link", str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "jobs/presets/0/gpus: gpus 1 is above the course's cap 0" in done.stderr
    done = subprocess.run(
        [*cli, "link", str(tmp_path / "none.yaml")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "cannot read" in done.stderr


def pulled(example: Path, home: Path) -> Path:
    """The course as nbgitpuller leaves it in a student's home: a clone in ~/<targetpath>."""
    target = home / "climate-101"
    subprocess.run(["git", "clone", "-q", str(example.parent), str(target)], check=True)
    return target


def test_applying_checks_the_pins_and_writes_the_record_and_the_presets(
    example, demo_dir, tmp_path
) -> None:
    home, settings = tmp_path / "home", tmp_path / "settings"
    folder = pulled(example, home)
    submit = settings / SUBMIT_SETTINGS
    submit.parent.mkdir(parents=True)
    # The student's own settings file, with a comment as JupyterLab's editor leaves them.
    submit.write_text('{\n  // mine\n  "presets": [{"name": "Mine", "cpus": 64}],\n  "x": 1\n}\n')
    roots = {"demo-data": str(demo_dir / "data")}
    applied = apply_course("climate-101/course.yaml", home, roots, settings)
    assert applied.problems == []
    assert [(p.name, p.state) for p in applied.pins] == [
        ("tas", "verified"),
        ("stations", "verified"),
    ]
    assert applied.open_path == "climate-101/notebooks/01_first_look.ipynb"
    record = json.loads((folder / RECORD_NAME).read_text())
    assert record["datasets"][0]["file"] == str(
        (demo_dir / "data" / "tas_demo_monthly.nc").resolve()
    )
    written = json.loads(submit.read_text())
    assert [p["name"] for p in written["presets"]] == [
        "Class: 1 core, 1 GB, 10 minutes",
        "Class: 2 cores, 2 GB, 30 minutes",
    ]
    assert written["x"] == 1


def test_a_changed_missing_or_unknown_pin_is_reported(example, demo_dir, tmp_path) -> None:
    home = tmp_path / "home"
    pulled(example, home)
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "data", data)
    with open(data / "tas_demo_monthly.nc", "ab") as f:
        f.write(b"\0")
    (data / "stations_demo.parquet").unlink()
    applied = apply_course(
        "climate-101/course.yaml", home, {"demo-data": str(data)}, tmp_path / "s"
    )
    states = {p.name: p.state for p in applied.pins}
    assert states == {"tas": "changed", "stations": "missing"}
    assert "has SHA-256" in applied.problems[0]
    applied = apply_course("climate-101/course.yaml", home, {"other": str(data)}, tmp_path / "s")
    assert {p.state for p in applied.pins} == {"refused"}
    assert "this server has no data root 'demo-data' (it has: other)" in applied.problems[0]


def test_a_course_path_outside_the_home_or_not_a_course_is_refused(example, tmp_path) -> None:
    from espri_vre.data.paths import DataError

    home = tmp_path / "home"
    pulled(example, home)
    with pytest.raises(DataError, match="contains '..'"):
        apply_course("../climate-101/course.yaml", home, {}, tmp_path / "s")
    with pytest.raises(DataError, match="outside the server root"):
        apply_course(str(example), home, {}, tmp_path / "s")
    (home / "climate-101" / "other.yaml").write_text((home / "climate-101/course.yaml").read_text())
    with pytest.raises(CourseError, match="is not the course's file course.yaml"):
        apply_course("climate-101/other.yaml", home, {}, tmp_path / "s")


def test_the_kernel_helpers_give_the_pinned_file_and_refuse_a_changed_one(
    example, demo_dir, tmp_path, monkeypatch
) -> None:
    home = tmp_path / "home"
    folder = pulled(example, home)
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "data", data)
    apply_course("climate-101/course.yaml", home, {"demo-data": str(data)}, tmp_path / "s")
    monkeypatch.chdir(folder / "notebooks")
    assert dataset("tas") == (data / "tas_demo_monthly.nc").resolve()
    with open_dataset("tas") as ds, xr.open_dataset(data / "tas_demo_monthly.nc") as direct:
        assert float(ds["tas"].mean()) == float(direct["tas"].mean())
    with pytest.raises(CourseError, match="pins no dataset 'pr' \\(stations, tas\\)"):
        dataset("pr")
    with open(data / "tas_demo_monthly.nc", "ab") as f:
        f.write(b"\0")
    with pytest.raises(CourseError, match="is no longer the pinned dataset 'tas'"):
        dataset("tas")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError, match="open the course link of the class first"):
        dataset("tas")


# The route on a real Jupyter server (pytest-jupyter), with the demo's data root.


@pytest.fixture
def jp_server_config(demo_dir, tmp_path):
    return {
        # JupyterLab too: the route writes into LabApp.user_settings_dir.
        "ServerApp": {"jpserver_extensions": {"espri_vre": True, "jupyterlab": True}},
        "EspriVreApp": {
            "data_roots": [{"id": "demo-data", "title": "Demo", "path": str(demo_dir / "data")}],
            "job_store_dir": str(tmp_path / "jobs"),
        },
        "LabApp": {"user_settings_dir": str(tmp_path / "lab-settings")},
    }


def form_of(page: Any) -> tuple[str, str, str]:
    """The confirmation page's form: its action, its `_xsrf` value, and the cookies the page
    set (the login cookie of a token-authenticated request, `_xsrf`), as a browser keeps them."""
    html = page.body.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', html)
    assert action and xsrf, html
    jar = SimpleCookie()
    for header in page.headers.get_list("Set-Cookie"):
        jar.load(header)
    cookies = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    return unescape(action.group(1)), unescape(xsrf.group(1)), cookies


async def post_form(jp_fetch: Any, page: Any, **changes: Any) -> Any:
    """The button's POST as the browser sends it: the login and `_xsrf` cookies, no token."""
    _, xsrf, cookies = form_of(page)
    fields = {"_xsrf": xsrf, **changes.pop("fields", {})}
    headers = {"Authorization": "", "Cookie": cookies, **changes.pop("headers", {})}
    return await jp_fetch(
        "espri-vre",
        "course",
        "apply",
        params={"path": "climate-101/course.yaml"},
        method="POST",
        body=urlencode(fields),
        headers=headers,
        follow_redirects=False,
        raise_error=False,
    )


async def test_the_route_shows_the_course_then_its_button_applies_it_and_opens_the_notebook(
    jp_fetch, jp_root_dir, jp_base_url, example, tmp_path
) -> None:
    pulled(example, jp_root_dir)
    page = await jp_fetch(
        "espri-vre", "course", "apply", params={"path": "climate-101/course.yaml"}
    )
    assert page.code == 200
    html = page.body.decode()
    assert "<h1>Climate data 101: a first look at a temperature field</h1>" in html
    assert "<strong>tas</strong>: <code>tas_demo_monthly.nc</code>" in html
    assert (
        "<li>Class: 1 core, 1 GB, 10 minutes</li><li>Class: 2 cores, 2 GB, 30 minutes</li>" in html
    )
    assert "open <code>climate-101/notebooks/01_first_look.ipynb</code>" in html
    action, _, _ = form_of(page)
    assert action == f"{jp_base_url}espri-vre/course/apply?path=climate-101%2Fcourse.yaml"
    # Showing the page changed nothing.
    settings = tmp_path / "lab-settings" / SUBMIT_SETTINGS
    assert not (jp_root_dir / "climate-101" / RECORD_NAME).exists()
    assert not settings.exists()

    response = await post_form(jp_fetch, page)
    assert response.code == 303
    assert response.headers["Location"].endswith(
        "/lab/tree/climate-101/notebooks/01_first_look.ipynb"
    )
    assert (jp_root_dir / "climate-101" / RECORD_NAME).is_file()
    assert len(json.loads(settings.read_text())["presets"]) == 2


async def test_the_route_shows_why_a_course_cannot_be_applied(
    jp_fetch, jp_root_dir, example
) -> None:
    folder = pulled(example, jp_root_dir)
    bad = await jp_fetch(
        "espri-vre", "course", "apply", params={"path": "climate-101/nope.yaml"}, raise_error=False
    )
    assert bad.code == 404
    (folder / "course.yaml").write_text(course_text(example, jobs__presets__0__cpus=9))
    invalid = await jp_fetch(
        "espri-vre",
        "course",
        "apply",
        params={"path": "climate-101/course.yaml"},
        raise_error=False,
    )
    assert invalid.code == 422
    assert b"jobs/presets/0/cpus: cpus 9 is above the course&#39;s cap 2" in invalid.body
    (folder / "course.yaml").write_text(course_text(example, datasets__0__sha256="0" * 64))
    page = await jp_fetch(
        "espri-vre", "course", "apply", params={"path": "climate-101/course.yaml"}
    )
    changed = await post_form(jp_fetch, page)
    assert changed.code == 409
    assert b"tas:" in changed.body and b"has SHA-256" in changed.body
    assert str(jp_root_dir).encode() not in changed.body


def test_the_course_file_shown_in_the_teacher_guide_is_a_valid_course() -> None:
    from conftest import REPO_ROOT

    guide = (REPO_ROOT / "docs" / "teacher-guide.md").read_text()
    block = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    course = parse_course(block)
    assert course.presets[0]["cpus"] == 1 and course.caps["cpus"] == 2
    assert course_link(course).startswith("https://vre.example.org/hub/spawn?profile=class&next=")
