"""The job paths of the OpenAPI document: list, read and retry a tenant's background jobs."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from trellis.platform.controlplane.tables import JOB_STATUSES

from .jobs import MAX_LIMIT
from .openapi_responses import MAYBE_TIME, TIME, problems, ref

JOB_SCHEMA = {
    "type": "object",
    "required": ["id", "kind", "status", "progress_done", "attempts", "max_attempts", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "tenant_id": {"type": "integer"},
        "kind": {"type": "string", "description": "Which handler runs the job."},
        "args": {"type": "object"},
        "status": {"type": "string", "enum": list(JOB_STATUSES)},
        "progress_done": {"type": "integer"},
        "progress_total": {"type": ["integer", "null"]},
        "percent": {"type": ["integer", "null"], "description": "Progress in percent; null while the total is "
                                                                 "unknown."},
        "message": {"type": ["string", "null"]},
        "error": {"type": ["string", "null"], "description": "The message of the last failed attempt."},
        "attempts": {"type": "integer"},
        "max_attempts": {"type": "integer"},
        "idempotency_key": {"type": ["string", "null"]},
        "created_by": {"type": ["integer", "null"]},
        "created_at": TIME,
        "started_at": MAYBE_TIME,
        "finished_at": MAYBE_TIME,
        "heartbeat_at": MAYBE_TIME,
    },
}


def add_jobs(spec: APISpec) -> None:
    spec.components.schema("Job", JOB_SCHEMA)
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    spec.path(path="/jobs", operations={"get": {
        "summary": "The tenant's jobs, newest first (members see the jobs they started)", "operationId": "list_jobs",
        "tags": ["jobs"],
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(JOB_STATUSES)}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}],
        "responses": {"200": _answer({"type": "array", "items": ref("Job")}), **problems(401, 422)}}})
    spec.path(path="/jobs/{job_id}", parameters=[job_id], operations={"get": {
        "summary": "Read a job: status, progress, attempts and the last error", "operationId": "get_job",
        "tags": ["jobs"], "responses": {"200": _answer(ref("Job")), **problems(401, 404)}}})
    spec.path(path="/jobs/{job_id}/retry", parameters=[job_id], operations={"post": {
        "summary": "Queue a failed job again with a fresh set of attempts", "operationId": "retry_job",
        "tags": ["jobs"], "responses": {"202": _answer(ref("Job"), "Queued again."), **problems(401, 404, 409)}}})


def _answer(data: dict[str, Any], description: str = "OK.") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": data}}}}}
