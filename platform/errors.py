"""Errors the runtime raises on purpose.

Each carries an HTTP-like status, a title and per-field problems, so every
door (API, screens, CLI) can explain what went wrong without guessing; the API
turns them into RFC 9457 problem documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field or JSON path, in words a user can act on."""

    field: str
    message: str


class TrellisError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, problems: Iterable[FieldProblem] = (),
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = tuple(problems)
        #: More members for the problem document, e.g. the migration plan a change was refused with.
        self.extra = dict(extra or {})


class InvalidInput(TrellisError):
    """Input that cannot be accepted as sent (types, required, picklist values, metadata rules)."""

    status = 422
    title = "Invalid input"


class NotFound(TrellisError):
    status = 404
    title = "Not found"


class Conflict(TrellisError):
    """The input is valid but clashes with what is stored: a stale version, a duplicate value."""

    status = 409
    title = "Conflict"


class Unauthorized(TrellisError):
    status = 401
    title = "Authentication required"


class Forbidden(TrellisError):
    status = 403
    title = "Forbidden"
