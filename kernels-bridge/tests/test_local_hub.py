"""The local JupyterHub (environments/local-hub): a teacher and a student log in through the
hub's form, each gets their own server with the suite, and the teacher role reaches the
student's server while the student cannot reach the teacher's. Real JupyterHub, real
configurable-http-proxy, real single-user servers."""

from __future__ import annotations

import pytest
from local_hub_fixture import login, wait_for_lab


@pytest.fixture(scope="module")
def teacher(hub_login):
    client = hub_login("teacher")
    assert wait_for_lab(client, "teacher").status_code == 200
    return client


@pytest.fixture(scope="module")
def student(hub_login):
    client = hub_login("student")
    assert wait_for_lab(client, "student").status_code == 200
    return client


def test_a_wrong_password_is_refused(local_hub) -> None:
    with pytest.raises(AssertionError, match="could not log in"):
        login(local_hub, "student", "not-the-password")


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_each_user_gets_a_server_with_the_suite(name, teacher, student, local_hub) -> None:
    client = {"teacher": teacher, "student": student}[name]
    lab = client.get(f"/user/{name}/lab")
    assert lab.status_code == 200
    assert "@espri-vre/catalog" in lab.text  # the labextensions are in the page's config
    status = client.get(f"/user/{name}/espri-vre/api/status")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["version"] == "0.1.0"
    assert "demo-esm" in {c["id"] for c in body["catalogs"]}  # the demo's configuration
    assert local_hub.home(name).is_dir()


def test_the_teacher_reaches_the_students_server(teacher, student) -> None:
    lab = wait_for_lab(teacher, "student")
    assert lab.status_code == 200
    status = teacher.get("/user/student/espri-vre/api/status")
    assert status.status_code == 200
    assert status.json()["version"] == "0.1.0"


def test_the_student_cannot_reach_the_teachers_server(teacher, student) -> None:
    response = student.get("/user/teacher/lab")
    assert response.status_code == 403
    assert response.url.path != "/user/teacher/lab"
