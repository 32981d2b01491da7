"""The base of every handler of /espri-vre/api: `espri_vre.server.base.EspriVreHandler`.

Every handler module of the server imports its base from here (`from .base import
EspriVreHandler`), and `app.py` imports the handler modules to build the one route table: the
imports go one way, app -> handler modules -> base.

Every handler is authenticated (token or login cookie; XSRF for state-changing methods, as
jupyter_server enforces) and authorised through jupyter_server's Authorizer on the `espri-vre`
resource. Errors are mapped to HTTP here only: a handler raises (a domain error, or `ApiError`
for what is wrong with the request itself) and `write_error` answers the contract's ErrorBody,
`{"error": code, "detail": detail, ...extra}`, with the error's status.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..config import Validated
from ..errors import EspriVreError, code_for
from ..jobs.service import JobService
from ..schema import validation_errors

AUTH_RESOURCE = "espri-vre"

MAX_JSON_DEPTH = 64
"""No request of the API nests deeper than a few levels; a deeper body is refused before it
reaches json's and jsonschema's recursion (a RecursionError would answer 500)."""

DEFAULT_DETAILS = {
    403: "This request is not authenticated: open JupyterLab with its token, or log in again.",
    404: "There is no such espri-vre API endpoint.",
    405: "This espri-vre API endpoint does not accept that HTTP method.",
    500: "The server failed to answer; its log says why.",
}


class ApiError(EspriVreError):
    """What is wrong with the request itself (a malformed argument, an unknown id), found by a
    handler rather than by a domain module. The code follows the status unless given."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(detail, status=status, code=code or code_for(status))


class ServerState(Protocol):
    """What the handlers read from the extension app (`espri_vre.server.app.EspriVreApp`),
    named here so that this module does not import the app that imports it."""

    validated: Validated
    reachability_timeout: float
    allowed_hosts: list[str]
    log: logging.Logger
    jobs: JobService


class EspriVreHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def espri_app(self) -> ServerState:
        return self.extensionapp  # type: ignore[return-value]

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(payload))

    def check(self, definition: str, payload: Any, source: str | None = None) -> None:
        """500 when `payload` breaks the API schema's `definition` (the server log says how).
        When the payload was read from a user's file, named by `source`, the file is wrong,
        not the server: 422 naming what is wrong in it."""
        problems = validation_errors(definition, payload)
        if not problems:
            return
        if source is not None:
            listed = "; ".join(problems[:10]) + ("; ..." if len(problems) > 10 else "")
            raise ApiError(422, f"{source} is not a valid {definition}: {listed}.")
        self.log.error("espri-vre: %s breaks the schema: %s", definition, "; ".join(problems))
        raise ApiError(500, f"The {definition} response does not match the API schema.")

    def respond(
        self, definition: str, payload: Any, status: int = 200, *, source: str | None = None
    ) -> None:
        """Writes `payload` after checking it against the API schema's `definition` (see
        `check` for `source`)."""
        self.check(definition, payload, source)
        self.write_json(payload, status)

    def path_argument(self) -> str:
        """The `path` query argument, read raw: tornado's get_argument silently drops control
        characters, and a NUL byte must be refused, not removed."""
        raw = self.request.query_arguments.get("path") or [b""]
        try:
            return raw[-1].decode("utf-8")
        except UnicodeDecodeError as e:
            raise ApiError(400, "The path is not valid UTF-8.") from e

    def json_body(self, definition: str, limit: int = 16 * 1024) -> dict[str, Any]:
        """The request's JSON body, checked against the API schema's `definition`."""
        if len(self.request.body) > limit:
            raise ApiError(413, f"The request is larger than {limit} bytes.")
        try:
            body = loads_bounded(self.request.body or b"{}")
        except ValueError as e:
            raise ApiError(400, f"The body is not JSON: {e}.", "invalid-json") from e
        problems = validation_errors(definition, body)
        if problems:
            raise ApiError(400, "The request is refused: " + "; ".join(problems) + ".")
        return body  # type: ignore[no-any-return]

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # An EspriVreError is an answer, not a crash: one line, as tornado logs an HTTPError.
        if isinstance(value, EspriVreError):
            self.log.warning(
                "%d %s %s: %s", value.status, self.request.method, self.request.uri, value.detail
            )
            return
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        # tornado answers 500 to any exception but its own HTTPError: an EspriVreError carries
        # its status.
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, EspriVreError):
            status_code = error.status
        super().send_error(status_code, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every 4xx/5xx answers {"error", "detail"}; internals stay in the server log."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, EspriVreError):
            body = error.body()
        else:
            detail = DEFAULT_DETAILS.get(status_code) or _phrase(status_code)
            if isinstance(error, web.HTTPError) and error.log_message and status_code < 500:
                detail = error.log_message % error.args if error.args else error.log_message
            body = {"error": code_for(status_code), "detail": detail}
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))


class NotFoundHandler(EspriVreHandler):
    """Anything else under /espri-vre/api: a JSON 404 rather than the server's HTML page."""

    @web.authenticated
    def get(self, *args: Any) -> None:
        raise ApiError(404, f"There is no espri-vre API endpoint at {self.request.path}.")

    post = put = patch = delete = head = get


def loads_bounded(raw: bytes | str) -> Any:
    """json.loads, refusing (400) a document nested deeper than MAX_JSON_DEPTH; ValueError
    for what is not JSON, as json.loads."""
    too_deep = ApiError(
        400,
        f"The body is too deeply nested: more than {MAX_JSON_DEPTH} levels of arrays and objects.",
        "too-deeply-nested",
    )
    try:
        value = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def _depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((child, depth + 1) for child in node)
    return deepest


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
