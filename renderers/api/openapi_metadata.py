"""The metadata paths of the OpenAPI document, described by the metadata JSON Schemas themselves.

The object and field documents are specified once, as JSON Schemas (Draft
2020-12, the dialect of OpenAPI 3.1) in ``metadata/schemas``. They are copied
into the document's components with their ``$defs`` lifted beside them and
their references rewritten to point there, so a tool reading the API sees the
very rules the editor validates with, and needs no other file.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from trellis.metadata.validation import load_schema

from .openapi_automations import automation_schema
from .openapi_responses import problems, ref

_FIELD, _OBJECT = "MetadataField", "MetadataObject"
_CHANGEABLE_OBJECT_KEYS = ("api_name", "label", "plural_label", "description", "name_field", "layouts",
                           "validation_rules", "automations")


def add_metadata(spec: APISpec) -> None:
    _add_schemas(spec)
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    field = {"name": "field", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(path="/metadata/objects", operations={
        "get": _read("List the objects", "list_objects", {"type": "array", "items": ref(_OBJECT)}),
        "post": _write("Create an object (and its table)", "create_object", _OBJECT, _OBJECT, 201)})
    spec.path(path="/metadata/objects/{name}", parameters=[name], operations={
        "get": _read("Read an object", "get_object", ref(_OBJECT)),
        "patch": _write("Change an object's settings; a new api_name renames it (and its table)", "update_object",
                        "MetadataObjectChanges", _OBJECT, 200),
        "delete": _act("Archive an object: hidden everywhere, its records kept until restored or purged",
                       "archive_object", {"type": "array", "items": ref(_OBJECT)})})
    spec.path(path="/metadata/objects/{name}/fields", parameters=[name], operations={
        "post": _write("Add a field (and its column)", "add_field", _FIELD, _FIELD, 201)})
    spec.path(path="/metadata/objects/{name}/fields/{field}", parameters=[name, field], operations={
        "get": _read("Read a field", "get_field", ref(_FIELD)),
        "patch": _write("Change a field's settings; a new api_name renames it, keeping its values", "update_field",
                        "MetadataFieldChanges", _FIELD, 200),
        "delete": _act("Archive a field: hidden everywhere, its values kept until restored or purged",
                       "archive_field")})
    _add_archive_paths(spec, name)
    _add_archived_object_paths(spec)
    spec.path(path="/metadata/revisions", operations={
        "get": _read("The revision log, newest first", "list_revisions", {"type": "array", "items": ref("Revision")})})
    _add_revision_paths(spec)


def _add_revision_paths(spec: APISpec) -> None:
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    other = {**number, "name": "other"}
    spec.path(path="/metadata/revisions/{number}", parameters=[number], operations={
        "get": _read("One revision with its documents", "get_revision", {"allOf": [ref("Revision"), {
            "type": "object", "required": ["documents"], "properties": {
                "documents": {"type": "array", "items": ref(_OBJECT)}}}]})})
    spec.path(path="/metadata/revisions/{number}/diff/{other}", parameters=[number, other], operations={
        "get": _read("The changes from one revision to another", "diff_revisions",
                     {"type": "array", "items": {"type": "object"}})})
    rollback = _act("Roll back to a revision: a new revision with its configuration; fields added since are "
                    "archived, nothing is lost", "rollback")
    rollback["responses"]["200"]["content"]["application/json"]["schema"] = _changed(
        {"type": "array", "items": ref(_OBJECT)})
    spec.path(path="/metadata/revisions/{number}/rollback", parameters=[number], operations={"post": rollback})


def _add_archived_object_paths(spec: APISpec) -> None:
    ref_param = {"name": "ref", "in": "path", "required": True, "description": "The archived object's id "
                 "(``obj_…``) or its API name (then the newest archive of that name).", "schema": {"type": "string"}}
    objects = {"type": "array", "items": ref(_OBJECT)}
    spec.path(path="/metadata/archived-objects", operations={
        "get": _read("List the archived objects", "list_archived_objects", objects)})
    spec.path(path="/metadata/archived-objects/{ref}/restore", parameters=[ref_param], operations={
        "post": _act("Restore an archived object with all its records", "restore_object", objects)})
    spec.path(path="/metadata/archived-objects/{ref}", parameters=[ref_param], operations={
        "delete": _act("Purge an archived object: its table and records are deleted for good", "purge_object",
                       objects)})


def _add_archive_paths(spec: APISpec, name: dict[str, Any]) -> None:
    field_id = {"name": "field_id", "in": "path", "required": True, "description": "The archived field's id "
                "(``fld_…``) or its API name (then the newest archive of that name).", "schema": {"type": "string"}}
    archived = "/metadata/objects/{name}/archived-fields"
    spec.path(path=archived, parameters=[name], operations={
        "get": _read("List the object's archived fields", "list_archived_fields",
                     {"type": "array", "items": ref("MetadataArchivedField")})})
    spec.path(path=archived + "/{field_id}/restore", parameters=[name, field_id], operations={
        "post": _act("Restore an archived field with all its values", "restore_field")})
    spec.path(path=archived + "/{field_id}", parameters=[name, field_id], operations={
        "delete": _act("Purge an archived field: its column and values are deleted for good", "purge_field")})


_DRY_RUN = {"name": "dry_run", "in": "query", "required": False, "schema": {"type": "boolean"},
            "description": "true: answer with the migration plan and its impact, change nothing."}


def _act(summary: str, operation: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A change without a body that answers with the whole object document (or ``data``)."""
    return {"summary": summary, "operationId": operation, "tags": ["metadata"], "parameters": [_DRY_RUN],
            "responses": {"200": {"description": "Saved as a new revision (or, in a dry run, the plan).", "content": {
                "application/json": {"schema": _changed(data or ref(_OBJECT))}}},
                **problems(400, 401, 403, 404, 409, 422)}}


def _read(summary: str, operation: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"summary": summary, "operationId": operation, "tags": ["metadata"],
            "responses": {"200": {"description": "OK.", "content": {"application/json": {
                "schema": _answer(data)}}}, **problems(401, 404)}}


def _write(summary: str, operation: str, body: str, answer: str, status: int) -> dict[str, Any]:
    headers = {"Location": {"schema": {"type": "string"}}} if status == 201 else {}
    return {"summary": summary, "operationId": operation, "tags": ["metadata"], "parameters": [_DRY_RUN],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(body)}}},
            "responses": {str(status): {"description": "Saved as a new revision.", "headers": headers, "content": {
                "application/json": {"schema": _changed(ref(answer))}}},
                **({"200": {"description": "The dry run's plan; nothing was changed.", "content": {
                    "application/json": {"schema": _answer(ref("MigrationPlan"))}}}} if status != 200 else {}),
                **problems(400, 401, 403, 404, 409, 415, 422)}}


def _changed(data: dict[str, Any]) -> dict[str, Any]:
    """A change's answer: the saved document with the plan that was applied, or a dry run's plan."""
    answer = _answer({"anyOf": [data, ref("MigrationPlan")]})
    answer["properties"]["plan"] = ref("MigrationPlan")
    return answer


def _answer(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data", "revision"], "properties": {
        "data": data, "revision": {"type": "integer", "description": "The revision this answer reflects."}}}


def _add_schemas(spec: APISpec) -> None:
    field, obj = load_schema("field"), load_schema("object")
    for key, definition in field["$defs"].items():
        spec.components.schema(f"{_FIELD}_{key}", _rewrite(definition))
    spec.components.schema(_FIELD, _rewrite(_field_variants(field)))
    spec.components.schema("MetadataAutomation", automation_schema())
    spec.components.schema(_OBJECT, _rewrite(_plain(obj)))
    spec.components.schema("MetadataArchivedField", _rewrite(obj["properties"]["archived_fields"]["items"]))
    spec.components.schema("MetadataObjectChanges", {
        "type": "object", "additionalProperties": False,
        "properties": {key: _rewrite(obj["properties"][key]) for key in _CHANGEABLE_OBJECT_KEYS}})
    spec.components.schema("MetadataFieldChanges", {
        "type": "object", "description": "Any settings of the field to change; the others stay as they are. "
        "A new type converts the values through a new column and archives the old one.",
        "properties": {**{key: _rewrite(value) for key, value in field["properties"].items() if key != "id"},
                       "type": ref(f"{_FIELD}_field_type"), "migration": ref("Migration")}})
    _add_plan_schemas(spec)
    spec.components.schema("Revision", {
        "type": "object", "required": ["number", "created_at", "author_id", "summary", "changes"], "properties": {
            "number": {"type": "integer"}, "created_at": {"type": ["string", "null"], "format": "date-time"},
            "author_id": {"type": ["integer", "null"]}, "summary": {"type": "string"},
            "changes": {"type": "array", "items": {"type": "object"}}}})


def _add_plan_schemas(spec: APISpec) -> None:
    spec.components.schema("Migration", {
        "type": "object", "additionalProperties": False,
        "description": "What makes an unsafe change safe; see the plan's blocking reasons.",
        "properties": {
            "fill": {"description": "Value for records without one, when a field becomes required."},
            "keep_unconvertible": {"type": "boolean", "description": "Convert anyway; values that do not "
                                   "convert are left empty (the archived column keeps them)."},
            "value_map": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "Picklist values to rewrite in the records: old → new."},
            "one_pass": {"type": "boolean", "description": "A type change of a big table (one that runs as a "
                         "job): convert the values PostgreSQL can convert itself in one pass over the table — "
                         "several times faster than the default online batches, but the table is locked for "
                         "reads and writes while the pass runs."}}})
    step = {"type": "object", "required": ["op", "target", "summary", "rows", "safe", "blocking", "notes", "samples",
                                           "background"],
            "properties": {"op": {"type": "string"}, "target": {"type": "string"}, "summary": {"type": "string"},
                           "rows": {"type": ["integer", "null"]}, "safe": {"type": "boolean"},
                           "blocking": {"type": "array", "items": {"type": "string"}},
                           "notes": {"type": "array", "items": {"type": "string"}},
                           "samples": {"type": "array", "items": {"type": "object"}},
                           "background": {"type": "boolean"}}}
    spec.components.schema("MigrationPlan", {
        "type": "object", "required": ["from_revision", "safe", "steps"], "properties": {
            "from_revision": {"type": "integer"}, "safe": {"type": "boolean"},
            "steps": {"type": "array", "items": step}}})


def _field_variants(field: dict[str, Any]) -> dict[str, Any]:
    """The field schema restated as one variant per type: the same rules, in a form fuzzers can generate.

    The schema file says "these settings, plus those its type's ``if``/``then``
    branch allows" with ``unevaluatedProperties``; a variant per type with
    ``additionalProperties: false`` accepts exactly the same documents.
    """
    branches = {branch["if"]["properties"]["type"]["const"]: branch["then"] for branch in field["allOf"]
                if "const" in branch["if"].get("properties", {}).get("type", {})}
    common = {key: value for key, value in field["properties"].items() if key != "type"}
    variants = []
    for kind in field["$defs"]["field_type"]["enum"]:
        extra = branches.get(kind, {})
        variants.append({
            "type": "object", "title": f"{kind} field", "additionalProperties": False,
            "required": [*field["required"], *extra.get("required", [])],
            "properties": {**common, "type": {"const": kind}, **extra.get("properties", {})}})
    return {"description": field["description"], "oneOf": variants}


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema without the keys that make sense only for a standalone file."""
    return {key: value for key, value in schema.items() if key not in ("$schema", "$id")}


def _rewrite(node: Any) -> Any:
    """Point every ``$ref`` of the metadata schemas at the lifted components."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rewrite(value) for key, value in node.items()}
    target = node.get("$ref")
    if isinstance(target, str):
        document, _, pointer = target.partition("#")
        if pointer.startswith("/$defs/"):
            result["$ref"] = f"#/components/schemas/{_FIELD}_{pointer.removeprefix('/$defs/')}"
        elif document == "field.schema.json":
            result["$ref"] = f"#/components/schemas/{_FIELD}"
        elif document == "automation.schema.json":
            result["$ref"] = "#/components/schemas/MetadataAutomation"
    return result
