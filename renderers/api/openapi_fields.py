"""JSON Schemas of record values, made from the runtime's marshmallow fields.

The record service loads input with generated marshmallow schemas; the
OpenAPI document is made from those very fields (through apispec's
MarshmallowPlugin converter) and then tightened where marshmallow's own
description is looser than what the service enforces — the 64-bit range of
whole numbers, the digits of exact decimals, required fields that may not be
empty — so that what the document calls valid the API accepts, and the
other way round.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apispec.ext.marshmallow import OpenAPIConverter
from marshmallow import fields

from trellis.metadata.fieldtypes import FormulaValue
from trellis.metadata.model import FieldDef
from trellis.metadata.values import INT64_MAX, INT64_MIN, ExactDecimal

Schema = dict[str, Any]

#: Keys that constrain a value; output schemas keep only the shape, never a rule a stored value might predate.
_RULES = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
          "pattern", "minItems", "maxItems", "format")
_KEPT_FORMATS = ("date", "date-time")
#: Web addresses marshmallow's URL field accepts (it takes a few more forms, such as IP addresses).
_URL_PATTERN = r"^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,6}(/[A-Za-z0-9._~%/-]*)?$"


#: A formula's value by its result type; one whose type is known only through a lookup may be any of them.
_FORMULA_RESULTS: dict[str | None, Schema] = {
    "number": {"type": "number"}, "text": {"type": "string"}, "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"}, "datetime": {"type": "string", "format": "date-time"},
    None: {"type": ["number", "string", "boolean"]},
}


def value_schema(converter: OpenAPIConverter, field: fields.Field, definition: FieldDef | None,
                 *, filtering: bool = False) -> Schema:
    """The schema of one non-null value of ``field`` in a body or, with ``filtering``, in a filter."""
    if isinstance(field, FormulaValue):
        return dict(_FORMULA_RESULTS[field.result])
    if isinstance(field, ExactDecimal):
        return _decimal(field)
    schema = _without_null(converter.field2property(field))
    if isinstance(field, fields.Integer) and filtering:  # the query engine takes any 64-bit number here
        schema.update(minimum=INT64_MIN, maximum=INT64_MAX)
    elif isinstance(field, fields.Integer):
        lowest = 1 if _is_lookup(definition) else INT64_MIN
        schema["minimum"] = max(schema.get("minimum", INT64_MIN), lowest)
        schema["maximum"] = min(schema.get("maximum", INT64_MAX), INT64_MAX)
    if isinstance(field, fields.URL):
        schema.pop("format", None)
        schema["pattern"] = _URL_PATTERN
    if definition is not None and definition.required and not filtering:
        key = "minItems" if schema.get("type") == "array" else "minLength"
        if schema.get("type") in ("array", "string"):
            schema[key] = max(schema.get(key, 0), 1)
    return schema


def output_schema(converter: OpenAPIConverter, field: fields.Field) -> Schema:
    """The schema of a value as the API writes it: its type, without input rules."""
    if isinstance(field, FormulaValue):  # computed by the database: never written
        return {**nullable(dict(_FORMULA_RESULTS[field.result])), "readOnly": True}
    if isinstance(field, ExactDecimal):
        schema: Schema = {"type": "number"}
    else:
        schema = _without_null(converter.field2property(field))
    schema.pop("enum", None)
    for key in _RULES:
        if key != "format" or schema.get("format") not in _KEPT_FORMATS:
            schema.pop(key, None)
    if isinstance(schema.get("items"), dict):
        schema["items"] = {k: v for k, v in schema["items"].items() if k == "type"}
    return nullable(schema) if field.allow_none else schema


def nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null, in OpenAPI 3.1's words."""
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], **_typed_null(schema)}
    if isinstance(schema.get("type"), str) and "anyOf" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _typed_null(schema: Schema) -> Schema:
    return {"type": [schema["type"], "null"]} if isinstance(schema.get("type"), str) else {}


def _without_null(schema: Schema) -> Schema:
    """apispec marks ``allow_none`` fields nullable; the callers decide that themselves."""
    schema = dict(schema)
    if isinstance(schema.get("type"), list):
        kinds = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    if isinstance(schema.get("items"), dict):
        schema["items"] = _without_null(schema["items"])
    return schema


def _decimal(field: ExactDecimal) -> Schema:
    """An exact decimal: a JSON number within the field's digits and decimal places."""
    limit = 10 ** (field.precision - field.scale)
    schema: Schema = {"type": "number", "exclusiveMinimum": -limit, "exclusiveMaximum": limit,
                      "description": f"At most {field.scale} decimal places; never rounded."}
    schema["multipleOf"] = 1 if field.scale == 0 else float(Decimal(1).scaleb(-field.scale))
    for validator in field.validators:
        low, high = getattr(validator, "min", None), getattr(validator, "max", None)
        if low is not None:
            schema["minimum"] = _number(low)
        if high is not None:
            schema["maximum"] = _number(high)
    return schema


def _number(value: Any) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _is_lookup(definition: FieldDef | None) -> bool:
    return definition is not None and definition.type == "lookup"
