"""marshmallow schemas generated from an object's metadata.

The input schema loads and type-checks what a client sends (unknown keys are
refused — marshmallow's default — not ignored: a typo in an integration must not silently drop data);
the output schema dumps stored rows into JSON-ready dicts, system fields first.
"""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, fields

from trellis.metadata.fieldtypes import FormulaValue
from trellis.metadata.formulas import check_formulas
from trellis.metadata.model import ObjectDef
from trellis.metadata.rollups import result_names
from trellis.metadata.values import WholeNumber


def input_schema(obj: ObjectDef) -> type[Schema]:
    """The schema for create and update bodies: every writable field, none required here.

    Required-ness is checked by the record service against the merged record,
    so that an update may omit fields and a default may fill them.
    """
    declared = {}
    for field in obj.fields:
        if field.kind.generated or field.kind.computed:  # the record service refuses formulas by name
            continue
        declared[field.api_name] = field.kind.make_field(field.options)
        declared[field.api_name].allow_none = True
    declared["owner"] = WholeNumber(allow_none=True)  # not fields.Integer: it truncates 2.5 and overflows 64 bits
    return Schema.from_dict(declared, name=f"{obj.api_name}_input")


def output_schema(obj: ObjectDef, objects: Mapping[str, ObjectDef] | None = None) -> type[Schema]:
    """The schema that dumps a stored row, system fields first; ``objects`` (the tenant's) type rollups."""
    declared: dict[str, fields.Field] = {
        "id": fields.Integer(),
        "owner": fields.Integer(allow_none=True),
        "created_at": fields.DateTime(),
        "created_by": fields.Integer(allow_none=True),
        "updated_at": fields.DateTime(),
        "updated_by": fields.Integer(allow_none=True),
        "version": fields.Integer(),
    }
    # Result types of formulas that declare none, as far as the object alone tells (not through lookups).
    inferred = check_formulas(obj, {obj.api_name: obj})[0]
    for field in obj.fields:
        declared[field.api_name] = field.kind.make_field(field.options)
        declared[field.api_name].allow_none = True
        if field.kind.computed and field.api_name in inferred.checked and not field.options.get("result"):
            declared[field.api_name] = FormulaValue(inferred.result(field.api_name).value, allow_none=True)
    for name, result in result_names(obj, objects or {}).items():
        declared[name] = FormulaValue(result, allow_none=True)
    return Schema.from_dict(declared, name=obj.api_name)
