"""The automation paths of the OpenAPI document: a rule's run log and the webhook delivery log."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from trellis.metadata.schema_files import load_schema

from .automations import MAX_LIMIT, RUN_STATUSES
from .openapi_responses import MAYBE_TIME, TIME, problems, ref

RUN_SCHEMA = {
    "type": "object",
    "required": ["id", "object", "rule", "trigger", "status", "depth", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "object": {"type": "string"},
        "rule": {"type": "string"},
        "record_id": {"type": ["integer", "null"]},
        "trigger": {"type": "string", "enum": ["created", "updated", "field_changed", "deleted", "time", "schedule"]},
        "status": {"type": "string", "enum": list(RUN_STATUSES)},
        "depth": {"type": "integer", "description": "How many rule runs led to the change that fired this one."},
        "job_id": {"type": ["integer", "null"], "description": "The job that runs it (see /jobs)."},
        "attempts": {"type": "integer"},
        "actions_done": {"type": "integer"},
        "error": {"type": ["string", "null"], "description": "The last error, or why the run stopped or was "
                                                             "skipped."},
        "fire_key": {"type": ["string", "null"], "description": "Time and schedule rules: the date value or "
                                                                "slot it fired for."},
        "created_at": TIME,
        "started_at": MAYBE_TIME,
        "finished_at": MAYBE_TIME,
    },
}

DELIVERY_SCHEMA = {
    "type": "object",
    "required": ["id", "delivery_id", "url", "attempt", "duration_ms", "at"],
    "properties": {
        "id": {"type": "integer"},
        "delivery_id": {"type": "string", "description": "The X-Trellis-Delivery header, the same on every attempt."},
        "run_id": {"type": ["integer", "null"]},
        "url": {"type": "string"},
        "attempt": {"type": "integer"},
        "status_code": {"type": ["integer", "null"], "description": "Null when the receiver did not answer."},
        "error": {"type": ["string", "null"]},
        "duration_ms": {"type": "integer"},
        "at": TIME,
    },
}


def automation_schema() -> dict[str, Any]:
    """``automation.schema.json`` as an OpenAPI component: its own ``$defs`` inlined (the document has
    no place for them), the api_name rule pointing at the metadata component that holds it."""
    schema = load_schema("automation")
    defs = schema.pop("$defs")

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        target = node.get("$ref", "")
        if target.startswith("#/$defs/"):
            return inline(defs[target.removeprefix("#/$defs/")])
        if target == "field.schema.json#/$defs/api_name":
            return {"$ref": "#/components/schemas/MetadataField_api_name"}
        return {key: inline(value) for key, value in node.items()}

    return inline({key: value for key, value in schema.items() if key not in ("$schema", "$id")})


def add_automations(spec: APISpec) -> None:
    spec.components.schema("AutomationRun", RUN_SCHEMA)
    spec.components.schema("WebhookDelivery", DELIVERY_SCHEMA)
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}
    path = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ("object_name", "rule")]
    spec.path(path="/automations/{object_name}/{rule}/runs", parameters=path, operations={"get": {
        "summary": "The run log of an automation rule, newest first (admins)", "operationId": "list_automation_runs",
        "tags": ["automations"],
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(RUN_STATUSES)}},
            {"name": "record_id", "in": "query", "schema": {"type": "integer", "minimum": 1}}, limit],
        "responses": {"200": _answer(ref("AutomationRun")), **problems(401, 403, 404, 422)}}})
    spec.path(path="/webhooks/deliveries", operations={"get": {
        "summary": "Every attempt of every webhook delivery, newest first (admins)",
        "operationId": "list_webhook_deliveries", "tags": ["automations"],
        "parameters": [{"name": "delivery_id", "in": "query", "schema": {"type": "string",
                                                                          "pattern": "^[0-9a-f]{1,64}$"}}, limit],
        "responses": {"200": _answer(ref("WebhookDelivery")), **problems(401, 403, 422)}}})


def _answer(item: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": item}}}}}}
