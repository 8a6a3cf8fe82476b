"""``GET /records/<object>/<id>/stage-history``: a record's moves through its pipelines, and their OpenAPI.

Moving a stage needs no route of its own: it is an ordinary PATCH of the stage field,
which the record service refuses with the missing fields named when the stage's rules
are not met. This module only serves the history the service records.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response

from trellis.metadata.pipelines import pipelines_of
from trellis.metadata.values import INT64_MAX
from trellis.platform.errors import NotFound
from trellis.platform.records.stages import stage_history
from trellis.platform.runtime import TenantRuntime

from .auth import caller
from .openapi_responses import problems, ref
from .payload import json_response

_ENTRY = {
    "type": "object", "additionalProperties": False,
    "required": ["field", "from", "to", "changed_by", "changed_at", "left_at"],
    "properties": {
        "field": {"type": "string", "description": "The pipeline's picklist field."},
        "from": {"type": ["string", "null"], "description": "The stage left; null for the first stage."},
        "to": {"type": ["string", "null"], "description": "The stage entered."},
        "changed_by": {"type": ["integer", "null"], "description": "The user who moved the record."},
        "changed_at": {"type": "string", "format": "date-time"},
        "left_at": {"type": ["string", "null"], "format": "date-time",
                    "description": "When the record left the stage it entered here; null while it is there."},
    },
}


def get_stage_history(object_name: str, record_id: int) -> Response:
    who = caller()
    service = who.platform.records(who.runtime(), who.actor)
    obj = service.runtime.object(object_name)
    if not pipelines_of(obj):
        raise NotFound(f"{obj.plural_title('en')} have no pipeline, so they have no stage history.")
    if record_id > INT64_MAX:
        raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
    return json_response({"data": stage_history(service, object_name, record_id)})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/records/<object_name>/<int:record_id>/stage-history", view_func=get_stage_history,
                    methods=["GET"])


def add_stage_history(spec: APISpec, runtime: TenantRuntime) -> None:
    """The history path of every object that has a pipeline."""
    spec.components.schema("stage_history", {
        "type": "object", "required": ["data"], "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": _ENTRY}}})
    for name, obj in runtime.objects.items():
        if pipelines_of(obj):
            spec.path(path=f"/records/{name}/{{id}}/stage-history", operations=_operations(name, obj.title("en")),
                      parameters=[{"name": "id", "in": "path", "required": True,
                                   "schema": {"type": "integer", "minimum": 1, "maximum": INT64_MAX}}])


def _operations(name: str, title: str) -> dict[str, Any]:
    return {"get": {
        "summary": f"Stage history of a {title}", "operationId": f"stage_history_{name}", "tags": [name],
        "description": "Every stage change, oldest first (the first stage on create included). Time in a stage "
                       "is left_at − changed_at. To move a stage, PATCH the record's stage field.",
        "responses": {"200": {"description": "The record's stage changes.", "content": {
            "application/json": {"schema": ref("stage_history")}}}, **problems(401, 404)}}}
