"""The account paths of the OpenAPI document: a member's API tokens and the tenant's audit log."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from trellis.platform.controlplane.audit import ACTIONS, MAX_PAGE

from .audit import DEFAULT_LIMIT, MAX_OFFSET
from .openapi_responses import MAYBE_TIME, TIME, problems, ref
from .tokens import MAX_NAME

TOKEN_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "prefix", "user_id", "created_at", "last_used_at", "revoked_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "description": "What the token is for."},
        "prefix": {"type": "string", "description": "The token's first characters, to tell tokens apart."},
        "user_id": {"type": "integer", "description": "The member the token speaks for."},
        "created_at": TIME,
        "last_used_at": {**MAYBE_TIME, "description": "Kept to the minute; null until first used."},
        "revoked_at": {**MAYBE_TIME, "description": "Null while the token works."},
    },
}

NEW_TOKEN_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {
        "type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": r"\S",
        "description": "What the token is for, such as \"invoicing sync\"; stored without surrounding spaces."}},
}

AUDIT_ENTRY_SCHEMA = {
    "type": "object",
    "required": ["id", "at", "actor_id", "actor", "action", "target", "details", "ip"],
    "properties": {
        "id": {"type": "integer"},
        "at": TIME,
        "actor_id": {"type": ["integer", "null"], "description": "Null when nobody is known (a failed sign-in)."},
        "actor": {"type": "string", "description": "The actor's address as it was at the time."},
        "action": {"type": "string", "enum": list(ACTIONS)},
        "target": {"type": "string", "description": "What was acted on, such as a token or a metadata path."},
        "details": {"type": "object"},
        "ip": {"type": ["string", "null"]},
    },
}


def add_accounts(spec: APISpec) -> None:
    spec.components.schema("Token", TOKEN_SCHEMA)
    spec.components.schema("NewToken", NEW_TOKEN_SCHEMA)
    spec.components.schema("AuditEntry", AUDIT_ENTRY_SCHEMA)
    _add_tokens(spec)
    spec.path(path="/audit", operations={"get": {
        "summary": "The tenant's audit log, newest first (admins only)", "operationId": "list_audit",
        "tags": ["audit"],
        "parameters": [
            {"name": "action", "in": "query", "schema": {"type": "string", "enum": list(ACTIONS)}},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_LIMIT}},
            {"name": "offset", "in": "query",
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}}],
        "responses": {"200": _answer({"type": "array", "items": ref("AuditEntry")}, extra={
            "total": {"type": "integer", "description": "Entries matching the filter, on every page."},
            "limit": {"type": "integer"}, "offset": {"type": "integer"}}), **problems(401, 403, 422)}}})


def _add_tokens(spec: APISpec) -> None:
    token_id = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    created = _answer({"allOf": [ref("Token"), {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string", "description": "The token itself, shown in this answer only."}}}]},
        "Created; keep the token now, it cannot be shown again.")
    created["headers"] = {"Location": {"schema": {"type": "string"}, "description": "The list of tokens."}}
    spec.path(path="/tokens", operations={
        "get": {
            "summary": "API tokens, newest first: an admin's list has the tenant's, a member's their own",
            "operationId": "list_tokens", "tags": ["tokens"],
            "parameters": [{"name": "mine", "in": "query", "schema": {"type": "boolean", "default": False},
                            "description": "true: only the caller's own tokens (what members always get)."}],
            "responses": {"200": _answer({"type": "array", "items": ref("Token")}), **problems(401, 422)}},
        "post": {
            "summary": "Create a token for the caller", "operationId": "create_token", "tags": ["tokens"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NewToken")}}},
            "responses": {"201": created, **problems(400, 401, 415, 422)}}})
    spec.path(path="/tokens/{token_id}", parameters=[token_id], operations={"delete": {
        "summary": "Revoke a token at once (members their own, admins any of the tenant's)",
        "operationId": "revoke_token", "tags": ["tokens"],
        "responses": {"200": _answer(ref("Token"), "Revoked; the next request with it gets 401."),
                      **problems(401, 404)}}})


def _answer(data: dict[str, Any], description: str = "OK.", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON answer with ``data`` (and, for a page, ``extra`` properties beside it, all always present)."""
    properties = {"data": data, **(extra or {})}
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": list(properties), "properties": properties}}}}
