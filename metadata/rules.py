"""Validation rules and default expressions: typed views of their settings and the checks a schema cannot say.

A validation rule follows Salesforce's convention: ``error_if`` is a boolean expression and
the record is refused when it is TRUE (so ``amount <= 0`` reads "it is an error if the
amount is not positive"). Rules may compare the record with its saved version through
ISCHANGED and PRIORVALUE. A field's ``default_expression`` (``ADD_DAYS(TODAY(), 30)``)
is evaluated when a record is created without a value for it; it must give the field's
type. The platform (``trellis.platform.records.rules``) runs both on every door.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .expressions import FIELD_TYPES, Checked, ExpressionError, ExprType, Scope, check, parse
from .model import FieldDef, ObjectDef


@dataclass(frozen=True)
class ValidationRule:
    """One rule of ``validation_rules``: refuse the record with ``message`` when ``error_if`` is true."""

    name: str
    error_if: str
    message: str
    field: str | None
    active: bool

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ValidationRule:
        return cls(doc["name"], doc["error_if"], doc["message"], doc.get("field"), bool(doc.get("active", True)))


def validation_rules_of(doc: Mapping[str, Any]) -> list[ValidationRule]:
    """The active validation rules of an object document, in order."""
    rules = [ValidationRule.from_document(rule) for rule in doc.get("validation_rules") or []]
    return [rule for rule in rules if rule.active]


def check_rule(text: str, obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> Checked:
    """A validation rule's condition, checked as a boolean in a rule scope (ISCHANGED/PRIORVALUE allowed)."""
    return check(parse(text), Scope(obj, objects, rules=True), expect=ExprType.BOOLEAN)


def default_expression(field: FieldDef) -> str | None:
    return field.options.get("default_expression")


def check_default(field: FieldDef, obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> Checked:
    """A field's default expression, checked to give the field's own type."""
    return check(parse(default_expression(field) or ""), Scope(obj, objects), expect=FIELD_TYPES[field.type])


def rule_problems(doc: Mapping[str, Any], obj: ObjectDef,
                  objects: Mapping[str, ObjectDef]) -> Iterator[tuple[str, str]]:
    """(JSON path, message) for each validation rule and default expression of a schema-valid object."""
    names: set[str] = set()
    for index, rule in enumerate(doc.get("validation_rules") or []):
        path = f"$.validation_rules[{index}]"
        if rule["name"] in names:
            yield f"{path}.name", f"Another validation rule is already named '{rule['name']}'; rename this one."
        names.add(rule["name"])
        if rule.get("field") is not None and not obj.has_field(rule["field"]):
            yield f"{path}.field", (f"'{rule['field']}' is not a field of {obj.api_name}; name the field the "
                                    "message should be shown on, or remove field to show it for the whole record.")
        try:
            check_rule(rule["error_if"], obj, objects)
        except ExpressionError as error:
            yield f"{path}.error_if", str(error)
    for index, field in enumerate(obj.fields):
        if default_expression(field) is not None:
            yield from _default_problems(f"$.fields[{index}]", field, obj, objects)


def _default_problems(path: str, field: FieldDef, obj: ObjectDef,
                      objects: Mapping[str, ObjectDef]) -> Iterator[tuple[str, str]]:
    if field.type not in FIELD_TYPES or field.kind.generated or field.type == "lookup":
        yield f"{path}.default_expression", (f"A {field.type} field cannot have a default expression; "
                                             "remove default_expression.")
        return
    if field.default is not None:
        yield f"{path}.default_expression", "Give either default or default_expression, not both; remove one."
        return
    try:
        check_default(field, obj, objects)
    except ExpressionError as error:
        yield f"{path}.default_expression", str(error)
