"""The OpenAPI paths and schemas of the tenant's enabled extensions: actions, routes, the field-type catalog.

Built from the same runtime as the rest of the tenant's document, so an extension the
tenant disables leaves it with the next revision. Records' fields of an extension's type
are described by the records' own schemas (their marshmallow fields).
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec

from trellis.platform.extensions.calls import actions_for
from trellis.platform.extensions.registry import enabled
from trellis.platform.runtime import TenantRuntime

from .openapi_responses import problems

_ANSWER = {"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}


_LISTS = {
    "/extensions": ("list_extensions", "The installed extensions, whether this tenant enabled each, and what "
                                       "each brings (field types, actions, routes, jobs)."),
    "/extensions/runs": ("list_extension_runs", "Failed after-hooks and scheduled jobs of extensions, newest "
                                                "first (admins only)."),
    "/metadata/field-types": ("list_field_types", "The field-type catalog as this tenant may use it: built-in "
                                                  "types and its enabled extensions' types."),
}


def add_extensions(spec: APISpec, runtime: TenantRuntime) -> None:
    active = enabled(runtime)
    for path, (operation, summary) in _LISTS.items():
        list_answer = {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "array", "items": {"type": "object"}}}}
        spec.path(path=path, operations={"get": {
            "summary": summary, "operationId": operation, "tags": ["extensions"],
            "responses": {"200": _json("The list.", list_answer), **problems(401, 403)}}})
    spec.components.schema("ExtensionFieldTypes", {
        "description": "The field types of the enabled extensions, usable as a field's type in this tenant.",
        "enum": sorted(f"{name}.{t}" for name, entry in active.items() for t in entry.extension.field_types)})
    for object_name in runtime.objects:
        for entry, action in actions_for(runtime, object_name):
            qualified = f"{entry.extension.name}.{action.name}"
            spec.path(path=f"/records/{object_name}/{{record_id}}/actions/{qualified}", operations={"post": {
                "summary": f"{action.label} ({entry.extension.title})", "tags": [object_name],
                "operationId": f"action_{object_name}_{qualified.replace('.', '_')}",
                "parameters": [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _json("What the action answered.", _ANSWER), **problems(401, 404, 409, 422)}}})
    for name, entry in active.items():
        for index, route in enumerate(entry.extension.routes):
            path, parameters = _openapi_path(route.rule)
            operations = {method.lower(): {
                "summary": f"{entry.extension.title}: {route.function.__doc__ or route.rule}".strip()[:200],
                "tags": [f"x.{name}"], "operationId": f"x_{name}_{index}_{method.lower()}", "parameters": parameters,
                "security": [] if route.public else [{"bearer": []}],
                "responses": {"200": _json("The extension's answer.", {}), **problems(401, 404, 409, 422)}}
                for method in route.methods}
            spec.path(path=f"/x/{name}{path}", operations=operations)


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A Werkzeug rule (/leads/<int:id>) as an OpenAPI path (/leads/{id}) and its parameters."""
    parameters = []

    def swap(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        kind = "integer" if converter == "int" else "number" if converter == "float" else "string"
        parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
        return f"{{{name}}}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", swap, rule), parameters


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
