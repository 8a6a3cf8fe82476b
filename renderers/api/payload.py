"""Reading request bodies and writing JSON answers, the same way on every route.

A body that is not JSON, or JSON that is not an object, is refused here with a
problem naming ``$``, so the services below only ever see a mapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import Response, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from trellis.platform.errors import FieldProblem, InvalidInput, TrellisError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 415/400/422 problem saying what is wrong with it."""
    if not request.is_json:
        raise UnsupportedMediaType()
    try:
        body = request.get_json()
    except BadRequest:
        raise TrellisError("The body is not valid JSON.", [FieldProblem(
            "$", "Check the JSON syntax: quotes, commas and brackets.")]) from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", [FieldProblem(
            "$", f"Expected an object in braces {{ }}, got {_json_kind(body)}.")])
    refuse_nul({str(key): value for key, value in body.items()} | {"$": list(body)})
    return body


def flag(name: str, text: str) -> bool:
    """A true/false parameter, spelled exactly as JSON spells it; anything else is a 422 naming it."""
    if text not in ("true", "false"):
        raise InvalidInput(f"{name} is true or false.", [FieldProblem(name, f"'{text}' is not true or false.")])
    return text == "true"


def refuse_nul(values: Mapping[str, Any]) -> None:
    """Refuse text with a NUL character, naming where it is.

    PostgreSQL cannot store NUL in text (SQLite can), so without this check the
    same request would be a 500 on one backend and accepted on the other.
    """
    problems = [FieldProblem(name, "Text cannot contain the NUL character (\\u0000).")
                for name, value in values.items() if _has_nul(value)]
    if problems:
        raise InvalidInput("Text with a NUL character cannot be stored.", problems)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer; dates are written in ISO 8601 (Flask's default would write HTTP dates)."""
    text = json.dumps(body, ensure_ascii=False, default=_iso)
    response = Response(text, status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def empty_response(status: int = 204) -> Response:
    return Response(status=status)


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true or false", str: "a string", list: "an array", int: "a number", float: "a number"}.get(
        type(value), "another value")
