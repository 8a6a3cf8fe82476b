"""Every error of the API as an RFC 9457 ``application/problem+json`` document.

An integration cannot read an HTML error page or a stack trace, and should
not have to guess which of its values was wrong: each problem names the field
(or JSON path) it is about in ``errors``, whatever raised it — the record
service, the metadata editor, Werkzeug's routing or a bug of ours (which is
logged and answered with a generic 500, never with its details).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from trellis.platform.errors import FieldProblem, TrellisError

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://trellis.dev/problems/"

log = logging.getLogger(__name__)

#: Messages for Werkzeug's errors, in the API's voice rather than Werkzeug's HTML-page prose.
_HTTP_DETAILS = {
    400: "The request could not be read.",
    404: "There is nothing at this address. Check the path against the API's openapi.json.",
    405: "This address does not accept that method; the Allow header lists the ones it does.",
    413: "The request body is too large.",
    415: "Send the body as JSON with the header Content-Type: application/json.",
}


class PreconditionFailed(TrellisError):
    """An ``If-Match`` that does not match the record's current version (RFC 9110 §13.1.1)."""

    status = 412
    title = "Precondition failed"


def problem(status: int, title: str, detail: str, errors: Iterable[FieldProblem] = (),
            kind: str = "about:blank", headers: Mapping[str, str] | None = None,
            extra: Mapping[str, Any] | None = None) -> Response:
    """One problem document as a response; ``errors`` is always present so clients can rely on it."""
    body = {
        "type": kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "errors": [{"field": p.field, "message": p.message} for p in errors],
        **(extra or {}),
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def from_trellis_error(error: TrellisError) -> Response:
    name = "BadRequest" if type(error) is TrellisError else type(error).__name__
    kind = TYPE_BASE + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
    headers = {"WWW-Authenticate": _challenge()} if error.status == 401 else None
    return problem(error.status, error.title, error.detail, error.problems, kind, headers, error.extra)


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug's errors (routing 404/405, unreadable JSON 400, 415…) keep their status and headers."""
    status = error.code or 500
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    detail = _HTTP_DETAILS.get(status, error.description or error.name)
    return problem(status, error.name, detail, headers=headers)


def from_unexpected(error: Exception) -> Response:
    """A bug: logged with its traceback for us, a generic message for the client."""
    log.exception("Unhandled error in API request %s %s", request.method, request.path)
    return problem(500, "Internal server error",
                   "Something went wrong on our side; the error has been logged. Try again later.")


def _challenge() -> str:
    """RFC 6750: say how to authenticate, and whether the token that was sent was refused."""
    if request.headers.get("Authorization"):
        return 'Bearer realm="trellis", error="invalid_token"'
    return 'Bearer realm="trellis"'


def register(bp: Blueprint) -> None:
    """Install the handlers: on the blueprint for its views, on the app for routing failures under it.

    Werkzeug's routing 404s and 405s happen before any blueprint is chosen, so
    they reach only app-wide handlers; those answer with a problem only for
    paths under the API's prefix and leave every other path to the app.
    """
    bp.register_error_handler(TrellisError, from_trellis_error)
    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(Exception, from_unexpected)
    prefix: dict[str, re.Pattern[str]] = {}

    @bp.record_once
    def _remember_prefix(state: Any) -> None:
        pattern = re.sub(r"<[^>]*>", "[^/]+", re.escape(state.url_prefix or ""))
        prefix["pattern"] = re.compile(pattern + r"(/|$)")

    @bp.app_errorhandler(HTTPException)
    def _routing_failure(error: HTTPException) -> Any:
        if "pattern" in prefix and prefix["pattern"].match(request.path):
            return from_http_exception(error)
        return error
