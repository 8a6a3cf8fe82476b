"""Extensions in the API: record actions, the field-type catalog, the extensions list and extension routes.

Actions are ``POST /records/<object>/<id>/actions/<extension>.<action>`` on the
API blueprint (token required). Extension routes live on their own blueprint
at ``/t/<tenant>/api/v1/x/<extension>/…`` because a route may be ``public``
(an inbound integration that checks a signature instead of a token); all
others authenticate exactly as the rest of the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from trellis.metadata.fieldtypes import CATALOG, EXTENSION_TYPES
from trellis.platform.errors import Forbidden, TrellisError
from trellis.platform.extensions import calls
from trellis.platform.extensions import jobs as extension_jobs
from trellis.platform.extensions.registry import enabled, installed
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRuntime

from . import problems
from .auth import authenticate, caller
from .payload import json_response

#: Settings of an extension's route that open it to callers without a token (it must check them itself).
PUBLIC = "public"


def run_action(object_name: str, record_id: int, qualified: str) -> Response:
    who = caller()
    result = calls.run_action(who.platform, who.runtime(), who.actor, object_name, record_id, qualified)
    return json_response({"data": result})


def list_field_types() -> Response:
    """The field-type catalog as this tenant may use it: the built-in types and its enabled extensions' types."""
    runtime = caller().runtime()
    usable = {f"{name}.{spec}" for name, entry in enabled(runtime).items() for spec in entry.extension.field_types}
    data = [{"type": entry.name, "storage": entry.storage, "widget": entry.widget, "filter_ops": list(entry.filter_ops),
             "extension": entry.name.split(".")[0] if "." in entry.name else None}
            for entry in (*CATALOG.values(), *EXTENSION_TYPES.values())
            if "." not in entry.name or entry.name in usable]
    return json_response({"data": data})


def list_extensions() -> Response:
    """The installed extensions, whether this tenant enabled each, and what each brings."""
    active = enabled(caller().runtime())
    data = [{"name": ext.name, "version": ext.version, "title": ext.title, "api_version": ext.api_version,
             "description": ext.description, "enabled": name in active,
             "field_types": [f"{name}.{t}" for t in ext.field_types], "actions": [
                 {"name": f"{name}.{a.name}", "label": a.label, "object": a.object} for a in ext.actions.values()],
             "routes": [{"path": f"/x/{name}{r.rule}", "methods": list(r.methods)} for r in ext.routes],
             "jobs": [{"name": j.name, "schedule": dict(j.schedule)} for j in ext.jobs.values()]}
            for name, ext in sorted(installed().items())]
    return json_response({"data": data})


def list_extension_runs() -> Response:
    """What extension code did after the fact: failed after-hooks and scheduled jobs (admins only)."""
    who = caller()
    if who.role != "admin":
        raise Forbidden("Only an admin of this CRM can read its extension log.")
    return json_response({"data": extension_jobs.runs(who.runtime())})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/records/<object_name>/<int:record_id>/actions/<qualified>", view_func=run_action,
                    methods=["POST"])
    bp.add_url_rule("/metadata/field-types", view_func=list_field_types, methods=["GET"])
    bp.add_url_rule("/extensions", view_func=list_extensions, methods=["GET"])
    bp.add_url_rule("/extensions/runs", view_func=list_extension_runs, methods=["GET"])


# -- extension routes ------------------------------------------------------------------------------------------------

def extension_route(name: str, path: str = "") -> Response:
    platform = current_app.extensions["trellis"]
    runtime: TenantRuntime = platform.runtime(g.trellis_tenant)
    entry, route, values = calls.find_route(runtime, name, path, request.method)
    if route.public:
        actor = Actor(None)
    else:
        authenticate()
        actor = caller().actor
    body = request.get_json(silent=True) if request.is_json else None
    answer = calls.call_route(platform, runtime, actor, entry, route, values, body=body,
                              raw_body=request.get_data(), headers=dict(request.headers))
    status = 200
    if isinstance(answer, tuple):
        answer, status = answer
    return json_response(answer, status)


def routes_blueprint() -> Blueprint:
    """Mounted at /t/<tenant>/api/v1/x: every enabled extension's routes."""
    bp = Blueprint("api_extensions", __name__)
    # Only this blueprint's handlers: the API blueprint's app-wide one already answers routing failures here.
    bp.register_error_handler(TrellisError, problems.from_trellis_error)
    bp.register_error_handler(HTTPException, problems.from_http_exception)
    bp.register_error_handler(Exception, problems.from_unexpected)

    @bp.url_value_preprocessor
    def _pop_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.trellis_tenant = (values or {}).pop("tenant", None)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    bp.add_url_rule("/<name>", view_func=extension_route, methods=methods)
    bp.add_url_rule("/<name>/<path:path>", view_func=extension_route, methods=methods)
    return bp
