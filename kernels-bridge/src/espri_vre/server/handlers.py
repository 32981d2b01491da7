"""HTTP layer of /espri-vre/api: one thin APIHandler per endpoint, and the route table.

Every handler is authenticated (token or login cookie; XSRF for state-changing methods, as
jupyter_server enforces) and authorised through jupyter_server's Authorizer on the
`espri-vre` resource. Every error answers the contract's ErrorBody: {"error", "detail"}.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web

from .. import __version__
from ..schema import validation_errors
from .status import collect_status

if TYPE_CHECKING:
    from .app import EspriVreApp

NAMESPACE = ("espri-vre", "api")
AUTH_RESOURCE = "espri-vre"

ERROR_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    422: "invalid",
    500: "internal-error",
    502: "bad-gateway",
    503: "unavailable",
    504: "timeout",
}

DEFAULT_DETAILS = {
    403: "This request is not authenticated: open JupyterLab with its token, or log in again.",
    404: "There is no such espri-vre API endpoint.",
    405: "This espri-vre API endpoint does not accept that HTTP method.",
    500: "The server failed to answer; its log says why.",
}


class ApiError(web.HTTPError):
    """An error with a stable code and a sentence for the user."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(status, detail.replace("%", "%%"))
        self.code = code or ERROR_CODES.get(status, "error")
        self.detail = detail


class EspriVreHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def espri_app(self) -> EspriVreApp:
        return self.extensionapp  # type: ignore[return-value]

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(payload))

    def respond(self, definition: str, payload: Any, status: int = 200) -> None:
        """Writes `payload` after checking it against the API schema's `definition`."""
        problems = validation_errors(definition, payload)
        if problems:
            self.log.error("espri-vre: %s breaks the schema: %s", definition, "; ".join(problems))
            raise ApiError(500, f"The {definition} response does not match the API schema.")
        self.write_json(payload, status)

    def json_body(self, definition: str, limit: int = 16 * 1024) -> dict[str, Any]:
        """The request's JSON body, checked against the API schema's `definition`."""
        if len(self.request.body) > limit:
            raise ApiError(413, f"The request is larger than {limit} bytes.")
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise ApiError(400, f"The body is not JSON: {e}.", "invalid-json") from e
        problems = validation_errors(definition, body)
        if problems:
            raise ApiError(400, "The request is refused: " + "; ".join(problems) + ".")
        return body  # type: ignore[no-any-return]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every 4xx/5xx answers {"error", "detail"}; internals stay in the server log."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        code = ERROR_CODES.get(status_code, "client-error" if status_code < 500 else "error")
        detail = DEFAULT_DETAILS.get(status_code) or _phrase(status_code)
        if isinstance(error, ApiError):
            code, detail = error.code, error.detail
        elif isinstance(error, web.HTTPError) and error.log_message and status_code < 500:
            detail = error.log_message % error.args if error.args else error.log_message
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": code, "detail": detail}))


class StatusHandler(EspriVreHandler):
    """GET: the StatusResponse (version; catalogues, clusters, data roots with reachability)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        app = self.espri_app
        payload = await collect_status(app.validated, app.reachability_timeout, __version__)
        problems = validation_errors("StatusResponse", payload)
        if problems:
            self.log.error("espri-vre: status response breaks the schema: %s", "; ".join(problems))
            raise ApiError(500, "The status response does not match the API schema.")
        self.write_json(payload)


class NotFoundHandler(EspriVreHandler):
    """Anything else under /espri-vre/api: a JSON 404 rather than the server's HTML page."""

    @web.authenticated
    def get(self, *args: Any) -> None:
        raise ApiError(404, f"There is no espri-vre API endpoint at {self.request.path}.")

    post = put = patch = delete = head = get


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def routes() -> list[tuple[str, type[EspriVreHandler]]]:
    """The route table, relative to the server's base_url (ExtensionApp prefixes it)."""
    # Imported here: each of these modules imports this one.
    from .catalog_handlers import routes as catalog_routes
    from .dask_handlers import routes as dask_routes
    from .data_handlers import routes as data_routes
    from .job_handlers import routes as job_routes
    from .provenance_handlers import routes as provenance_routes

    table: list[tuple[str, type[EspriVreHandler]]] = [
        ("status", StatusHandler),
        *catalog_routes,
        *data_routes,
        *job_routes,
        *dask_routes,
        *provenance_routes,
    ]
    from ..course.handlers import routes as course_routes

    return [(url_path_join(*NAMESPACE, path), handler) for path, handler in table] + [
        (url_path_join(*NAMESPACE) + r"(?:/.*)?", NotFoundHandler),
        *course_routes,  # a browser page (the end of a class link), not the JSON API
    ]
