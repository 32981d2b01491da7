"""The one error base of espri-vre: every domain error that can reach a user derives from it.

A domain module (jobs, catalogs, data, provenance, dask, course) raises a subclass with its
HTTP `status`, a stable `code` and a `detail` sentence that says what failed and what to do
next. It imports nothing else: the domain modules know nothing of HTTP beyond these three
values, and the server maps any `EspriVreError` to `{"error": code, "detail": detail}` in one
place, the base handler's `write_error`.
"""

from __future__ import annotations

from typing import Any

STATUS_CODES = {
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
"""The stable code of an error whose class names none of its own, by HTTP status."""


def code_for(status: int) -> str:
    """The stable code of `status` (STATUS_CODES), `client-error` or `error` for the others."""
    return STATUS_CODES.get(status, "client-error" if status < 500 else "error")


class EspriVreError(Exception):
    """An error with an HTTP status, a stable code and a sentence for the user.

    Subclasses set `status` and `code` as class attributes; an instance may override either
    (an upstream 404 passed on as 404, say). `extra` holds fields added to the error body
    beside `error` and `detail` (e.g. `problems`, a list of validation messages).
    """

    status: int = 400
    code: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The error body of the REST API: `{"error", "detail", ...extra}`."""
        return {**self.extra, "error": self.code, "detail": self.detail}
