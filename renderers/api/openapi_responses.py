"""The parts of the OpenAPI document every operation shares: problems and security.

Every operation lists the problems it can answer with, and a ``default``
problem for the rest (a 405, a 500), so a client generated from the document
knows that any error body is an RFC 9457 problem with an ``errors`` list.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from .problems import PROBLEM_TYPE

_DESCRIPTIONS = {
    400: "The request could not be read (not JSON, a malformed header).",
    401: "No valid API token for this tenant.",
    403: "The token's user may not do this (only admins change the configuration).",
    404: "No such object, record or address.",
    409: "The change clashes with stored data: a stale version, a value that must be unique, a record in use.",
    412: "If-Match names a version the record no longer has.",
    415: "The body is not sent as application/json.",
    422: "Values that cannot be accepted; errors names each field or JSON path.",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string", "description": "A field name, parameter or JSON path."},
                           "message": {"type": "string"}}}},
    },
}


#: A moment, and a moment that may not have happened yet, as the API writes them.
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def problems(*statuses: int) -> dict[str, Any]:
    """Response entries for these problem statuses plus the ``default`` problem."""
    entries: dict[str, Any] = {str(status): {"$ref": f"#/components/responses/problem_{status}"}
                               for status in statuses}
    entries["default"] = {"$ref": "#/components/responses/problem"}
    return entries


def add_shared(spec: APISpec) -> None:
    """The problem schema and responses, and the bearer token scheme."""
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    content = {PROBLEM_TYPE: {"schema": ref("Problem")}}
    spec.components.response("problem", {"description": "Any other problem.", "content": content})
    for status, description in _DESCRIPTIONS.items():
        response: dict[str, Any] = {"description": description, "content": content}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        spec.components.response(f"problem_{status}", response)
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "An API token (trl_…) of a member of this tenant, sent as Authorization: Bearer <token>."})
