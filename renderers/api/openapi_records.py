"""The record paths of a tenant's OpenAPI document: one resource per object.

Each object gets concrete paths (``/records/deal``) and its own
schemas — the record as written, the body of a create (required fields
required), the body of an update — plus one query parameter per filter the
query engine allows on each field, so a generated client or a fuzzer knows
exactly what each object accepts.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import OpenAPIConverter

from trellis.metadata.expressions import MAX_LENGTH
from trellis.metadata.model import SYSTEM_FIELDS, ObjectDef
from trellis.metadata.values import INT64_MAX
from trellis.platform.records.query import MAX_LIMIT
from trellis.platform.runtime import TenantRuntime

from .listing import OPERATORS
from .openapi_fields import Schema, nullable, output_schema, value_schema
from .openapi_responses import problems, ref

_SYSTEM_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "blank")
_IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {
    "type": "string", "pattern": r'^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$'}, "description": (
    'The ETag of the version you last read, e.g. "3": the change is refused with 412 if the record has moved on.')}
_ETAG = {"description": "The record's version, for If-Match.", "schema": {"type": "string"}}


def add_records(spec: APISpec, converter: OpenAPIConverter, runtime: TenantRuntime) -> None:
    """Schemas and paths of every object of the runtime's revision."""
    for name, obj in runtime.objects.items():
        _add_schemas(spec, converter, runtime, obj)
        base = f"/records/{name}"
        spec.path(path=base, operations=_collection(converter, runtime, obj))
        spec.path(path=base + "/{id}", operations=_item(obj), parameters=[{
            "name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": INT64_MAX}}])


def _add_schemas(spec: APISpec, converter: OpenAPIConverter, runtime: TenantRuntime, obj: ObjectDef) -> None:
    name = obj.api_name
    dumped = runtime.output_schema(name).fields
    spec.components.schema(name, {
        "type": "object", "title": obj.title("en"), "required": list(dumped), "additionalProperties": False,
        "properties": {key: output_schema(converter, field) for key, field in dumped.items()}})
    inputs = _input_properties(converter, runtime, obj)
    required = [f.api_name for f in obj.fields if f.required and f.default is None and not f.kind.generated]
    spec.components.schema(f"{name}_create", {
        "type": "object", "required": required, "additionalProperties": False, "properties": inputs})
    spec.components.schema(f"{name}_update", {
        "type": "object", "additionalProperties": False, "properties": {**inputs, "version": {
            "type": "integer", "minimum": 1, "maximum": INT64_MAX,
            "description": "The version you last read; the change is refused with 409 if the record moved on."}}})
    spec.components.schema(f"{name}_page", {
        "type": "object", "required": ["data", "next_cursor", "total"], "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": ref(name)},
                       "next_cursor": {"type": ["string", "null"]}, "total": {"type": ["integer", "null"]}}})


def _input_properties(converter: OpenAPIConverter, runtime: TenantRuntime, obj: ObjectDef) -> dict[str, Schema]:
    """Writable fields; a required one may be left out where a default fills it, but never sent empty."""
    properties = {}
    for key, field in runtime.input_schema(obj.api_name).fields.items():
        definition = obj.field(key) if obj.has_field(key) else None
        schema = value_schema(converter, field, definition)
        properties[key] = schema if definition is not None and definition.required else nullable(schema)
    return properties


def _collection(converter: OpenAPIConverter, runtime: TenantRuntime, obj: ObjectDef) -> dict[str, Any]:
    name, title = obj.api_name, obj.plural_title("en")
    return {
        "get": {"summary": f"List {title}", "operationId": f"list_{name}", "tags": [name],
                "parameters": _list_parameters(obj) + _filter_parameters(converter, runtime, obj),
                "responses": {"200": {"description": "A page of records.", "content": {
                    "application/json": {"schema": ref(f"{name}_page")}}}, **problems(401, 404, 422)}},
        "post": {"summary": f"Create a {obj.title('en')}", "operationId": f"create_{name}", "tags": [name],
                 "requestBody": _body(f"{name}_create"),
                 "responses": {"201": _record(name, "Created.", location=True),
                               **problems(400, 401, 404, 409, 415, 422)}},
    }


def _item(obj: ObjectDef) -> dict[str, Any]:
    name, title = obj.api_name, obj.title("en")
    return {
        "get": {"summary": f"Read a {title}", "operationId": f"get_{name}", "tags": [name],
                "responses": {"200": _record(name, "The record."), **problems(401, 404)}},
        "patch": {"summary": f"Change a {title}", "operationId": f"update_{name}", "tags": [name],
                  "parameters": [_IF_MATCH], "requestBody": _body(f"{name}_update"),
                  "responses": {"200": _record(name, "The changed record."),
                                **problems(400, 401, 404, 409, 412, 415, 422)}},
        "delete": {"summary": f"Delete a {title}", "operationId": f"delete_{name}", "tags": [name],
                   "parameters": [_IF_MATCH],
                   "responses": {"204": {"description": "Deleted."}, **problems(400, 401, 404, 409, 412)}},
    }


def _record(name: str, description: str, location: bool = False) -> dict[str, Any]:
    headers = {"ETag": _ETAG}
    if location:
        headers["Location"] = {"description": "The new record's address.", "schema": {"type": "string"}}
    return {"description": description, "headers": headers, "content": {"application/json": {"schema": ref(name)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def _list_parameters(obj: ObjectDef) -> list[dict[str, Any]]:
    names = "|".join(re.escape(n) for n in _sortable(obj))
    return [
        _query("q", {"type": "string"}, "Search the text fields."),
        _query("sort", {"type": "string", "pattern": f"^(-?({names})(,-?({names}))*)?$"},
               "Fields to sort by, comma-separated; a minus sorts descending: -amount,name."),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Records per page (default 50)."),
        _query("cursor", {"type": "string"}, "next_cursor of the previous page."),
        _query("total", {"type": "boolean"}, "Also count all matching records."),
        _query("where", {"type": "string", "maxLength": MAX_LENGTH},
               'Only records for which this expression is true, e.g. amount > 1000 AND stage IN ("won", "lost"); '
               "fields, lookup paths (account.industry), AND/OR/NOT, IN and functions such as IF, ISBLANK, "
               "DAYS_BETWEEN and TODAY(). A mistake is a 422 naming `where` and the position."),
    ]


def _filter_parameters(converter: OpenAPIConverter, runtime: TenantRuntime, obj: ObjectDef) -> list[dict[str, Any]]:
    """``field`` (equals) and ``field__op`` for every operator the query engine allows on the field."""
    output = runtime.output_schema(obj.api_name).fields
    parameters = []
    for name in [*SYSTEM_FIELDS, *(f.api_name for f in obj.fields)]:
        definition = obj.field(name) if obj.has_field(name) else None
        ops = definition.kind.filter_ops if definition is not None else _SYSTEM_OPS
        value = value_schema(converter, output[name], definition, filtering=True)
        if name == "version":  # a 32-bit column
            value.update(minimum=-(2**31), maximum=2**31 - 1)
        for op in (op for op in OPERATORS if op in ops):
            parameters.append(_filter(name, op, value))
    return parameters


def _filter(name: str, op: str, value: Schema) -> dict[str, Any]:
    key = name if op == "eq" else f"{name}__{op}"
    if op == "blank":
        return _query(key, {"type": "boolean"}, f"true: {name} is empty; false: it is not.")
    if op in ("contains", "starts_with"):
        return _query(key, {"type": "string"}, f"{name} {op.replace('_', ' ')} this text (any case).")
    if op == "in":
        parameter = _query(key, {"type": "array", "items": value, "minItems": 1},
                           f"{name} is one of these, comma-separated.")
        return {**parameter, "style": "form", "explode": False}
    return _query(key, value, f"{name} {op} this value.")


def _query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _sortable(obj: ObjectDef) -> list[str]:
    return [*SYSTEM_FIELDS, *(f.api_name for f in obj.fields if f.kind.sortable)]
