"""The REST API: records, metadata and a per-tenant OpenAPI document under ``/t/<tenant>/api/v1``.

Each concern lives in its own module — problems (errors), auth (tokens),
records, metadata and openapi — and ``api_blueprint`` wires them into one
Flask blueprint. A new blueprint is built per app, so every app (and every
test) gets its own OpenAPI cache.
"""

from __future__ import annotations

from flask import Blueprint

from . import audit, auth, automations, exports, field_history, jobs, metadata, openapi, problems, records, tokens
from . import extensions as extension_api
from . import imports as csv_imports
from . import permissions as member_roles
from . import reports as report_routes
from . import stages as stage_routes
from . import templates as template_routes


def api_blueprint() -> Blueprint:
    """The API as a blueprint; ``create_app`` mounts it at ``/t/<tenant>/api/v1``."""
    bp = Blueprint("api", __name__)
    problems.register(bp)
    auth.register(bp)
    records.register(bp)
    stage_routes.register(bp)
    metadata.register(bp)
    jobs.register(bp)
    exports.register(bp)
    csv_imports.register(bp)
    field_history.register(bp)
    report_routes.register(bp)
    automations.register(bp)
    extension_api.register(bp)
    tokens.register(bp)
    audit.register(bp)
    member_roles.register(bp)
    template_routes.register(bp)
    openapi.register(bp)
    return bp
