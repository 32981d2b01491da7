"""The route a course link ends on: GET /espri-vre/course/apply?path=<the pulled course file>.

A browser page, not part of the JSON API: nbgitpuller sends the student's browser here once it
has pulled the notebooks. Like nbgitpuller's own link, opening it changes the user's files: it
only reads a course file already in the user's home, and the user must be logged in to their
own server (or be a teacher allowed to reach it).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_escape, url_path_join
from tornado import web

from ..course.apply import apply_course
from ..errors import EspriVreError
from .base import AUTH_RESOURCE


def _user_settings_dir(handler: JupyterHandler) -> str:
    """JupyterLab's user settings directory of this server (LabApp.user_settings_dir)."""
    for app in handler.serverapp.extension_manager.extension_apps.get("jupyterlab", ()):
        if getattr(app, "user_settings_dir", None):
            return str(app.user_settings_dir)
    from jupyterlab.commands import get_user_settings_dir

    return get_user_settings_dir()


class CourseApplyHandler(ExtensionHandlerMixin, JupyterHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized("write")
    def get(self) -> None:
        path = self.get_argument("path", "")
        app: Any = self.extensionapp
        roots = {r.id: r.path for r in app.validated.data_roots if r.problem is None}
        try:
            applied = apply_course(path, self.serverapp.root_dir, roots, _user_settings_dir(self))
        except EspriVreError as error:
            # A page for the student's browser, not the JSON API: Jupyter's HTML error page.
            raise web.HTTPError(
                error.status, "The course cannot be applied: %s", error.detail
            ) from None
        self.log.info(
            "espri-vre: applied course %s (%d pins, %d presets)",
            applied.course.id,
            len(applied.pins),
            len(applied.course.presets),
        )
        if applied.problems:
            raise web.HTTPError(
                409,
                "The course %s is applied, but its pinned data is not as the teacher pinned it: "
                "%s. Tell your teacher; the notebooks are in %s.",
                applied.course.title,
                "; ".join(applied.problems),
                applied.open_path,
            )
        self.redirect(url_path_join(self.base_url, "lab", "tree", url_escape(applied.open_path)))
