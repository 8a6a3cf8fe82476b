"""The operator API at ``/api/v1/tenants``: the installation's tenants, for platform operators.

Authenticated by operator bearer tokens (``trellis tokens create EMAIL --operator``);
tenant API tokens do not work here, and every refusal is the same 401. Errors are
RFC 9457 problem documents like the rest of the API.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from trellis.platform.core import Platform
from trellis.platform.errors import FieldProblem, InvalidInput, TrellisError, Unauthorized
from trellis.tenants import lifecycle
from trellis.tenants.operators import resolve_operator_token
from trellis.tenants.registry import TenantInfo, create_tenant, find_tenant, list_tenants

from .auth import bearer_token
from .payload import json_object, json_response
from .problems import from_http_exception, from_trellis_error, from_unexpected

_PATCHABLE = {"name", "status"}


def operator_blueprint() -> Blueprint:
    """The operator API; ``create_app`` mounts it at ``/api/v1/tenants``."""
    bp = Blueprint("operator", __name__)
    bp.register_error_handler(TrellisError, from_trellis_error)
    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(Exception, from_unexpected)
    bp.before_request(_authenticate)
    bp.add_url_rule("", view_func=_list, methods=["GET"])
    bp.add_url_rule("", view_func=_create, methods=["POST"])
    bp.add_url_rule("/<slug>", view_func=_get, methods=["GET"])
    bp.add_url_rule("/<slug>", view_func=_patch, methods=["PATCH"])
    bp.add_url_rule("/<slug>", view_func=_delete, methods=["DELETE"])
    return bp


def _platform() -> Platform:
    return current_app.extensions["trellis"]


def _authenticate() -> None:
    token = bearer_token(request.headers.get("Authorization"))
    with _platform().control() as session:
        if token is None or resolve_operator_token(session, token) is None:
            raise Unauthorized("Send an operator token in the header Authorization: Bearer <token>; "
                               "create one with 'trellis tokens create EMAIL --operator'.")


def _list() -> Response:
    return json_response({"tenants": [_shown(info) for info in list_tenants(_platform())]})


def _get(slug: str) -> Response:
    return json_response(_shown(find_tenant(_platform(), slug)))


def _create() -> Response:
    body = _fields(json_object(), {"slug", "name", "database"}, required={"slug"})
    ref = create_tenant(_platform(), body["slug"], body.get("name", ""), body.get("database"))
    info = find_tenant(_platform(), ref.slug)
    return json_response(_shown(info), 201, {"Location": url_for("operator._get", slug=ref.slug)})


def _patch(slug: str) -> Response:
    body = _fields(json_object(), _PATCHABLE, required=set())
    return json_response(_shown(lifecycle.update(_platform(), slug, **body)))


def _delete(slug: str) -> Response:
    keep = request.args.get("backup", "true").lower()
    if keep not in ("true", "false"):
        raise InvalidInput("Bad parameter.", [FieldProblem("backup", "Use backup=true (default) or backup=false.")])
    path = lifecycle.delete(_platform(), slug, backup=keep == "true")
    return json_response({"slug": slug, "deleted": True, "backup": str(path) if path else None})


def _fields(body: dict[str, Any], allowed: set[str], *, required: set[str]) -> dict[str, Any]:
    """The body's fields, each a string; unknown and missing ones are refused by name."""
    problems = [FieldProblem(key, f"Unknown field; use {', '.join(sorted(allowed))}.") for key in body
                if key not in allowed]
    problems += [FieldProblem(key, "Required.") for key in sorted(required) if key not in body]
    problems += [FieldProblem(key, "Must be a string.") for key, value in body.items()
                 if key in allowed and not isinstance(value, str)]
    if problems:
        raise InvalidInput("The tenant fields are not valid.", problems)
    return body


def _shown(info: TenantInfo) -> dict[str, Any]:
    return asdict(info)
