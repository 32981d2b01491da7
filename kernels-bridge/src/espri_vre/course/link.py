"""The one link of a practical class. Pure.

Opening it on the hub (after logging in): the hub starts the student's server in the course's
profile when one is named (`/hub/spawn?profile=...`), nbgitpuller pulls the notebooks into the
student's home (`/hub/user-redirect/git-pull?...`), then sends the browser to this suite's
`espri-vre/course/apply?path=<the pulled course file>`, which applies the pins and presets and
opens the first notebook.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from .model import Course

APPLY_PATH = "espri-vre/course/apply"
"""The server route that applies a pulled course (relative to the single-user base URL)."""


def course_link(course: Course) -> str:
    nb = course.notebooks
    pull = {"repo": nb.repo}
    if nb.branch:
        pull["branch"] = nb.branch
    pull["targetpath"] = nb.targetpath
    pull["urlpath"] = f"{APPLY_PATH}?{urlencode({'path': course.course_path})}"
    base = urlsplit(course.hub).path.rstrip("/")
    git_pull = f"{base}/hub/user-redirect/git-pull?{urlencode(pull)}"
    if course.profile is None:
        return f"{course.hub}/hub/user-redirect/git-pull?{urlencode(pull)}"
    spawn = urlencode({"profile": course.profile, "next": git_pull})
    return f"{course.hub}/hub/spawn?{spawn}"
