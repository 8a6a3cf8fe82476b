"""The REST API: records, metadata and a per-tenant OpenAPI document under ``/t/<tenant>/api/v1``.

Each concern lives in its own module — problems (errors), auth (tokens),
records, metadata and openapi — and ``api_blueprint`` wires them into one
Flask blueprint. A new blueprint is built per app, so every app (and every
test) gets its own OpenAPI cache.
"""

from __future__ import annotations

from flask import Blueprint

from . import audit, auth, automations, jobs, metadata, openapi, problems, records, tokens
from . import stages as stage_routes


def api_blueprint() -> Blueprint:
    """The API as a blueprint; ``create_app`` mounts it at ``/t/<tenant>/api/v1``."""
    bp = Blueprint("api", __name__)
    problems.register(bp)
    auth.register(bp)
    records.register(bp)
    stage_routes.register(bp)
    metadata.register(bp)
    jobs.register(bp)
    automations.register(bp)
    tokens.register(bp)
    audit.register(bp)
    openapi.register(bp)
    return bp
