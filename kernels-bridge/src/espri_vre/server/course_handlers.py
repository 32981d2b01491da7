"""The route a course link ends on: /espri-vre/course/apply?path=<the pulled course file>.

A browser page, not part of the JSON API: nbgitpuller sends the student's browser here once it
has pulled the notebooks. Applying a course changes the user's files (the course record) and
settings (the Submit-as-job presets), and a link can be opened from any site: so the GET only
reads the course and shows what applying it will do, with a button, and the button's POST
applies it, behind jupyter_server's XSRF and origin checks (a form posted from another site has
neither the `_xsrf` cookie's value nor this server's origin).
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_escape, url_path_join
from tornado import web

from ..course.apply import RECORD_NAME, Planned, apply_course, plan_course
from ..course.link import APPLY_PATH
from ..errors import EspriVreError
from .base import AUTH_RESOURCE

CONFIRM_PAGE = """{% extends "page.html" %}
{% block title %}Apply the course {{ course.title }}{% endblock %}
{% block stylesheet %}{{ super() }}
<style>
  #site { display: block; }
  .espri-vre-course { max-width: 48em; margin: 2em auto; }
  .espri-vre-course code { white-space: normal; }
</style>
{% endblock %}
{% block site %}
<div class="espri-vre-course" data-course-id="{{ course.id }}">
  <h1>{{ course.title }}</h1>
  <p>The notebooks are in <code>{{ folder }}</code>. Nothing has changed yet; applying the
    course will:</p>
  <ul>
    <li>check the pinned datasets:
      {% if course.datasets %}<ul>
        {% for pin in course.datasets %}
        <li><strong>{{ pin.name }}</strong>: <code>{{ pin.path }}</code> in the data root
          <code>{{ pin.root }}</code>{% if pin.sha256 %} (SHA-256 pinned){% endif %}</li>
        {% endfor %}
      </ul>{% else %} none{% endif %}
    </li>
    <li>record the course in <code>{{ record }}</code>;</li>
    <li>replace your Submit-as-job presets with the course's:
      {% if presets %}<ul>
        {% for name in presets %}<li>{{ name }}</li>{% endfor %}
      </ul>{% else %} none{% endif %}
    </li>
    <li>open <code>{{ open_path }}</code>.</li>
  </ul>
  <form method="post" action="{{ action }}">
    {{ xsrf_form_html() | safe }}
    <button type="submit" class="btn btn-primary" id="espri-vre-apply-course">
      Apply the course</button>
  </form>
</div>
{% endblock %}
"""


def _user_settings_dir(handler: JupyterHandler) -> str:
    """JupyterLab's user settings directory of this server (LabApp.user_settings_dir)."""
    for app in handler.serverapp.extension_manager.extension_apps.get("jupyterlab", ()):
        if getattr(app, "user_settings_dir", None):
            return str(app.user_settings_dir)
    from jupyterlab.commands import get_user_settings_dir

    return get_user_settings_dir()


def _page_error(error: EspriVreError) -> web.HTTPError:
    """A page for the student's browser, not the JSON API: Jupyter's HTML error page."""
    return web.HTTPError(error.status, "The course cannot be applied: %s", error.detail)


class CourseApplyHandler(ExtensionHandlerMixin, JupyterHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized("read")
    def get(self) -> None:
        """What applying the course will do, and the button that applies it."""
        path = self.get_argument("path", "")
        try:
            planned = plan_course(path, self.serverapp.root_dir)
        except EspriVreError as error:
            raise _page_error(error) from None
        self.finish(self.confirm_page(path, planned))

    @web.authenticated
    @authorized("write")
    def post(self) -> None:
        path = self.get_argument("path", "")
        app: Any = self.extensionapp
        roots = {r.id: r.path for r in app.validated.data_roots if r.problem is None}
        try:
            applied = apply_course(path, self.serverapp.root_dir, roots, _user_settings_dir(self))
        except EspriVreError as error:
            raise _page_error(error) from None
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
        # 303: the browser follows with a GET, and a reload does not post again.
        self.redirect(
            url_path_join(self.base_url, "lab", "tree", url_escape(applied.open_path)),
            status=303,
        )

    def confirm_page(self, path: str, planned: Planned) -> str:
        folder = planned.folder.relative_to(self.serverapp.root_dir).as_posix()
        template = self.settings["jinja2_env"].from_string(CONFIRM_PAGE)
        # The server's own page template, so the server's static files, as
        # ExtensionHandlerMixin.render_template does for the error pages.
        namespace = {
            **self.template_namespace,
            "static_url": partial(JupyterHandler.static_url, self),
        }
        return template.render(
            **namespace,
            course=planned.course,
            folder=folder,
            record=f"{folder}/{RECORD_NAME}",
            presets=[str(p.get("name", "")) for p in planned.course.presets],
            open_path=planned.open_path,
            # Not the request's URI: a token in it would make the POST skip the XSRF check.
            action=url_path_join(self.base_url, APPLY_PATH) + "?" + urlencode({"path": path}),
        )
