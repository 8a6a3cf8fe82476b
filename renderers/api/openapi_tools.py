"""The OpenAPI paths of the tools around records: definitions (roles, reports, dashboards, extensions),
running reports and dashboards, exports, field history, CSV imports, templates and members' roles.

Definition bodies are described by their own JSON Schemas (``metadata/schemas/<kind>.schema.json``),
lifted into the components as the object and field schemas are (``openapi_metadata``), so a client
sees the rules the editor validates with.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from trellis.metadata.definitions import KINDS
from trellis.metadata.validation import load_schema
from trellis.metadata.values import INT64_MAX

from .openapi_jobs import JOB_SCHEMA
from .openapi_responses import MAYBE_TIME, problems, ref

_STRING = {"type": "string"}
_ID = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
#: Ids of the control plane (jobs, users) are INTEGER columns.
_CONTROL_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
            "description": "true: answer with what would change, change nothing."}
_FILTERS = "Runtime filters as on record lists (?owner=7, ?close_date__gte=2025-01-01); they narrow, never widen."


def add_tools(spec: APISpec) -> None:
    """Every path of this module, and the schemas they share."""
    add_definitions(spec)
    _add_reports(spec)
    _add_exports(spec)
    _add_history(spec)
    _add_imports(spec)
    _add_templates(spec)
    _add_members(spec)


def add_definitions(spec: APISpec) -> None:
    """``/metadata/<plural>`` and ``/metadata/<plural>/{name}`` for each kind of definition."""
    name = {"name": "name", "in": "path", "required": True, "schema": _STRING}
    for kind in KINDS.values():
        schema = _definition_schema(spec, kind.name)
        tag, plural = "metadata", kind.plural
        list_answer = _revisioned({"type": "array", "items": ref(schema)})
        spec.path(path=f"/metadata/{plural}", operations={
            "get": {"summary": f"Every {kind.name} of the configuration", "operationId": f"list_{plural}",
                    "tags": [tag], "responses": {"200": _json("OK.", list_answer), **problems(401, 403)}},
            "post": _definition_write(f"Add a {kind.name} (admins only)", f"create_{kind.name}", schema, 201)})
        spec.path(path=f"/metadata/{plural}/{{name}}", parameters=[name], operations={
            "get": {"summary": f"Read one {kind.name}", "operationId": f"get_{kind.name}", "tags": [tag],
                    "responses": {"200": _json("OK.", _revisioned(ref(schema))), **problems(401, 403, 404)}},
            "put": _definition_write(f"Replace a {kind.name}; a new api_name renames it (admins only)",
                                     f"replace_{kind.name}", schema, 200),
            "delete": {"summary": f"Delete a {kind.name} (admins only)", "operationId": f"delete_{kind.name}",
                       "tags": [tag], "parameters": [_DRY_RUN], "responses": {
                           "200": _json("Deleted (or the dry run's plan): the remaining ones.", _revisioned({
                               "anyOf": [{"type": "array", "items": ref(schema)}, ref("MigrationPlan")]})),
                           **problems(401, 403, 404, 409, 422)}}})


def _definition_schema(spec: APISpec, kind: str) -> str:
    """Lift ``<kind>.schema.json`` and its ``$defs`` into the components; the component's name."""
    source = load_schema(kind)
    prefix = f"Definition_{kind}"
    for key, value in source.get("$defs", {}).items():
        spec.components.schema(f"{prefix}_{key}", _rewrite(value, prefix))
    body = {key: value for key, value in source.items() if key not in ("$schema", "$id", "$defs")}
    body = _rewrite(body, prefix)
    # The stored document also carries its kind (stripped before validation).
    body.setdefault("properties", {})["kind"] = {"type": "string", "const": kind}
    spec.components.schema(prefix, body)
    return prefix


def _rewrite(node: Any, prefix: str) -> Any:
    """Point the schema's ``$ref`` at the lifted components: its own ``$defs`` and the field schema's."""
    if isinstance(node, list):
        return [_rewrite(item, prefix) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rewrite(value, prefix) for key, value in node.items()}
    target = node.get("$ref")
    if isinstance(target, str):
        document, _, pointer = target.partition("#")
        local = pointer.removeprefix("/$defs/")
        result["$ref"] = (f"#/components/schemas/MetadataField_{local}" if document == "field.schema.json"
                          else f"#/components/schemas/{prefix}_{local}")
    return result


def _definition_write(summary: str, operation: str, schema: str, status: int) -> dict[str, Any]:
    headers = {"Location": {"schema": _STRING}} if status == 201 else {}
    responses: dict[str, Any] = {str(status): {"description": "Saved as a new revision.", "headers": headers,
                                               "content": {"application/json": {"schema": _revisioned(ref(schema))}}}}
    if status != 200:
        responses["200"] = _json("The dry run's plan; nothing was changed.", _revisioned(ref("MigrationPlan")))
    else:
        responses["200"]["content"]["application/json"]["schema"] = _revisioned(
            {"anyOf": [ref(schema), ref("MigrationPlan")]})
    return {"summary": summary, "operationId": operation, "tags": ["metadata"], "parameters": [_DRY_RUN],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(schema)}}},
            "responses": {**responses, **problems(400, 401, 403, 404, 409, 415, 422)}}


def _add_reports(spec: APISpec) -> None:
    spec.components.schema("ReportResult", {
        "type": "object", "description": "Groups (nested, each with its aggregates), the grand total and the "
        "first rows, as the caller sees the records. Numbers are JSON numbers.",
        "required": ["report", "label", "object", "columns", "rows"], "properties": {
            "report": {"type": ["string", "null"]}, "label": {"type": ["string", "null"]}, "object": _STRING,
            "columns": {"type": "array", "items": {"type": "object"}},
            "rows": {"type": "array", "items": {"type": "object"}}, "chart": {"type": ["object", "null"]}}})
    name = {"name": "name", "in": "path", "required": True, "schema": _STRING}
    ran = _json("The report's result.", ref("ReportResult"))
    spec.path(path="/reports/{name}/run", parameters=[name], operations={"get": {
        "summary": "Run a saved report", "description": _FILTERS, "operationId": "run_report", "tags": ["reports"],
        "responses": {"200": ran, **problems(401, 403, 404, 422)}}})
    spec.path(path="/reports/run", operations={"post": {
        "summary": "Run an unsaved report definition (a builder's preview)", "description": _FILTERS,
        "operationId": "run_report_preview", "tags": ["reports"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "description": "A report definition; api_name and label may be left out."}}}},
        "responses": {"200": ran, **problems(400, 401, 403, 404, 415, 422)}}})
    spec.path(path="/dashboards/{name}/data", parameters=[name], operations={"get": {
        "summary": "Every widget of a dashboard, run with its filters", "description": _FILTERS,
        "operationId": "dashboard_data", "tags": ["reports"],
        "responses": {"200": _json("The dashboard's widgets with their data.", {
            "type": "object", "required": ["dashboard", "label", "filters", "widgets"], "properties": {
                "dashboard": _STRING, "label": _STRING, "filters": {"type": "array"},
                "widgets": {"type": "array", "items": {"type": "object"}}}}), **problems(401, 403, 404, 422)}}})


def _add_exports(spec: APISpec) -> None:
    spec.components.schema("ExportJob", {**JOB_SCHEMA, "properties": {
        **JOB_SCHEMA["properties"], "download": {"type": ["string", "null"],
                                                 "description": "The file's address once the job succeeded."}}})
    queued = {"description": "Queued as a job.", "headers": {"Location": {"schema": _STRING}},
              "content": {"application/json": {"schema": _data(ref("ExportJob"))}}}
    fmt = {"type": "string", "enum": ["csv", "xlsx"]}
    spec.path(path="/records/{object_name}/exports", parameters=[_path("object_name", _STRING)], operations={"post": {
        "summary": "Export a list (its filters, q, sort and where; every row) as a file", "tags": ["exports"],
        "operationId": "export_list", "parameters": [{"name": "format", "in": "query", "schema": fmt}],
        "responses": {"202": queued, **problems(401, 403, 404, 422)}}})
    spec.path(path="/exports", operations={"post": {
        "summary": "Export a saved report as a file", "operationId": "export_report", "tags": ["exports"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["report"], "properties": {
                "report": _STRING, "format": fmt, "params": {"type": "object"}}}}}},
        "responses": {"202": queued, **problems(400, 401, 403, 404, 415, 422)}}})
    job = _path("job_id", _CONTROL_ID)
    spec.path(path="/exports/{job_id}", parameters=[job], operations={"get": {
        "summary": "Follow an export (yours, or any for admins)", "operationId": "get_export", "tags": ["exports"],
        "responses": {"200": _json("OK.", _data(ref("ExportJob"))), **problems(401, 404)}}})
    spec.path(path="/exports/{job_id}/file", parameters=[job], operations={"get": {
        "summary": "Download an export's file", "operationId": "download_export", "tags": ["exports"],
        "responses": {"200": {"description": "The file.", "content": {
            "text/csv": {"schema": _STRING},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}, **problems(401, 404, 409)}}})


def _add_history(spec: APISpec) -> None:
    change = {"type": "object", "required": ["field", "changed_by", "changed_by_name"], "properties": {
        "field": _STRING, "old": {}, "new": {}, "changed_by": {"type": ["integer", "null"]},
        "changed_by_name": {"type": ["string", "null"]}}}
    page = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}
    before = {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                           "maximum": 999_999_999_999_999_999}}
    spec.path(path="/records/{object_name}/{record_id}/history",
              parameters=[_path("object_name", _STRING), _path("record_id", {"type": "integer"})],
              operations={"get": {
                  "summary": "Changes of a record's tracked fields, newest first", "operationId": "field_history",
                  "tags": ["records"], "parameters": [page, before],
                  "responses": {"200": _json("A page of changes.", {
                      "type": "object", "required": ["data", "next_before"], "properties": {
                          "data": {"type": "array", "items": change},
                          "next_before": {"type": ["integer", "null"],
                                          "description": "Send as before= for the next page."}}}),
                      **problems(401, 403, 404, 422)}}})


def _add_imports(spec: APISpec) -> None:
    status = {"type": "object", "required": ["id", "object", "status", "total", "done", "percent"], "properties": {
        "id": {"type": "integer"}, "object": _STRING, "file_name": {"type": ["string", "null"]}, "status": _STRING,
        "created_by": {"type": ["integer", "null"]}, "job_id": {"type": ["integer", "null"]},
        "total": {"type": "integer"}, "done": {"type": "integer"}, "percent": {"type": "integer"},
        "rejected": {"type": "integer"}, "error": {"type": ["string", "null"]}, "finished_at": MAYBE_TIME,
        "problems": {"type": "array", "items": {"type": "object"}}}}
    spec.components.schema("ImportStatus", status)
    upload = _import_upload()
    spec.path(path="/imports", operations={"post": {
        "summary": "Import a CSV (or preview it with preview=true)", "operationId": "start_import",
        "tags": ["imports"], "requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": upload, "encoding": {key: {"contentType": "application/json"}
                                           for key in ("mapping", "match_by", "object_document")}}}},
        "responses": {"200": _json("The preview: mapping and first rows; nothing written.", _data({"type": "object"})),
                      "202": {"description": "Queued as a job.", "headers": {"Location": {"schema": _STRING}},
                              "content": {"application/json": {"schema": _data(ref("ImportStatus"))}}},
                      **problems(400, 401, 403, 404, 409, 415, 422)}}})
    spec.path(path="/imports/proposal", operations={"post": {
        "summary": "Propose a new object from a CSV; nothing is created", "operationId": "propose_import",
        "tags": ["imports"], "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "name"], "properties": {
                "file": {"type": "string", "format": "binary"}, "name": _STRING, "label": _STRING}}}}},
        "responses": {"200": _json("The proposal.", _data({"type": "object", "required": ["object_document"]})),
                      **problems(400, 401, 403, 415, 422)}}})
    one = _path("import_id", _ID)
    spec.path(path="/imports/{import_id}", parameters=[one], operations={"get": {
        "summary": "Follow an import (yours, or any for admins)", "operationId": "get_import", "tags": ["imports"],
        "responses": {"200": _json("OK.", _data(ref("ImportStatus"))), **problems(401, 404)}}})
    spec.path(path="/imports/{import_id}/rejected.csv", parameters=[one], operations={"get": {
        "summary": "The rejected rows' problems as CSV (row, column, value, reason)", "tags": ["imports"],
        "operationId": "import_rejected", "responses": {
            "200": {"description": "CSV.", "content": {"text/csv": {"schema": _STRING}}}, **problems(401, 404)}}})


def _import_upload() -> dict[str, Any]:
    """The form of ``POST /imports``: the file, and either an existing object or a new one's document."""
    names = {"type": "object", "additionalProperties": _STRING}
    return {"type": "object", "required": ["file"], "anyOf": [
        {"required": ["object"], "properties": {"object_document": {"not": {}}}},
        {"required": ["object_document"], "properties": {"preview": {"const": False}}}], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The CSV."},
        "object": {"type": "string", "description": "The object to import into (unless object_document is sent)."},
        "mapping": {**names, "description": 'Column → field, as JSON: {"Column": "field_name"}.'},
        "upsert_by": _STRING, "match_by": {**names, "description": "Lookup column → the target's field, as JSON."},
        "object_document": {"type": "object", "required": ["api_name"], "description": "A proposed object "
                            "(from /imports/proposal, adjusted) to create and import into; admins only.",
                            "properties": {"api_name": ref("MetadataField_api_name")}},
        "preview": {"type": "boolean"}}}


def _add_templates(spec: APISpec) -> None:
    outcome = {"type": "object", "required": ["action", "template", "version", "dry_run", "revision"], "properties": {
        "action": _STRING, "template": _STRING, "version": _STRING, "dry_run": {"type": "boolean"},
        "revision": {"type": "integer"}, "plan": {"type": "array", "items": _STRING},
        "conflicts": {"type": "array", "items": {"type": "object"}}, "notes": {"type": "array", "items": _STRING},
        "records": {"type": "object", "additionalProperties": {"type": "integer"}}}}
    spec.components.schema("TemplateOutcome", outcome)
    manifest = load_schema("template_manifest")["properties"]
    spec.path(path="/templates", operations={"get": {
        "summary": "Shipped templates and those installed in this CRM", "operationId": "list_templates",
        "tags": ["templates"], "responses": {"200": _json("OK.", _data({
            "type": "object", "required": ["available", "installed"], "properties": {
                "available": {"type": "array", "items": {"type": "object"}},
                "installed": {"type": "array", "items": {"type": "object"}}}})), **problems(401)}}})
    spec.path(path="/templates/export", operations={"post": {
        "summary": "Export this CRM's configuration as a template package (admins only)", "tags": ["templates"],
        "operationId": "export_template", "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                **{key: _rewrite(manifest[key], "") for key in ("name", "version", "title")},
                "data": {"type": "boolean", "description": "Include the records as CSV files."},
                "objects": {"type": "array", "items": _STRING, "description": "Objects to export (default all)."},
                "definitions": {"type": "array", "items": _STRING,
                                "description": "Definitions to export, as kind or kind/name (default all)."}}}}}},
        "responses": {"200": {"description": "The package.", "content": {"application/zip": {
            "schema": {"type": "string", "format": "binary"}}}}, **problems(400, 401, 403, 404, 415, 422)}}})
    body = {"type": "object", "properties": {
        "with_data": {"type": "boolean"},
        "resolutions": {"type": "object", "additionalProperties": {"enum": ["template", "tenant"]}}}}
    for action, status in (("install", 201), ("upgrade", 200), ("uninstall", 200)):
        answers = {str(status): _json("Done.", _data(ref("TemplateOutcome")))}
        if status != 200:
            answers["200"] = _json("The dry run: what would change.", _data(ref("TemplateOutcome")))
        spec.path(path=f"/templates/{{name}}/{action}", parameters=[_path("name", _STRING)], operations={"post": {
            "summary": f"{action.capitalize()} a template (admins only); name 'package' with a zip body for your own",
            "operationId": f"{action}_template", "tags": ["templates"], "parameters": [_DRY_RUN],
            "requestBody": {"content": {"application/json": {"schema": body},
                                        "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {**answers, **problems(400, 401, 403, 404, 409, 422)}}})


def _add_members(spec: APISpec) -> None:
    member = {"type": "object", "required": ["user_id", "email", "role", "roles"], "properties": {
        "user_id": {"type": "integer"}, "email": _STRING, "role": {"type": "string", "enum": ["admin", "member"]},
        "roles": {"type": "array", "items": _STRING}}}
    spec.components.schema("MemberRoles", member)
    spec.path(path="/members", operations={"get": {
        "summary": "Every member and the roles each holds (admins only)", "operationId": "list_members",
        "tags": ["permissions"], "responses": {"200": _json("OK.", _data({"type": "array", "items": ref(
            "MemberRoles")})), **problems(401, 403)}}})
    spec.path(path="/members/{user_id}/roles", parameters=[_path("user_id", _CONTROL_ID)], operations={
        "get": {"summary": "A member's roles (your own, or anyone's for admins)", "operationId": "get_member_roles",
                "tags": ["permissions"], "responses": {"200": _json("OK.", ref("MemberRoles")),
                                                       **problems(401, 403, 404)}},
        "put": {"summary": "Replace a member's roles (admins only; audited)", "operationId": "set_member_roles",
                "tags": ["permissions"], "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["roles"], "additionalProperties": False,
                    "properties": {"roles": {"type": "array", "items": _STRING}}}}}},
                "responses": {"200": _json("Saved.", ref("MemberRoles")), **problems(400, 401, 403, 404, 415, 422)}}})


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


def _revisioned(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data", "revision"], "properties": {
        "data": schema, "revision": {"type": "integer", "description": "The revision this answer reflects."}}}
