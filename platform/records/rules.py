"""Rules on every save: default expressions, the default layout's required/read-only rules, validation rules.

The record service calls ``prepare_create`` and ``check_update`` (one line each), so the API,
the screens, imports and automations all obey the same rules. Each rule is evaluated in
Python (``trellis.platform.expressions.evaluate``) on the record as it will be saved, with
the saved record as PRIORVALUE's source on update. Every violation is collected into one
``InvalidInput`` whose problems name the field and carry the admin's message.

What the default layout enforces: a field the layout marks ``required`` or whose
``required_if`` is true must have a value unless its ``visible_if`` hides it; on update, a
field whose ``readonly_if`` is true on the new record cannot be changed. ``readonly_if`` is
not applied on create (there is no saved value to keep yet).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, select

from trellis.metadata.layouts import FormField, check_form_rule, default_layout
from trellis.metadata.model import FieldDef, ObjectDef
from trellis.metadata.rules import ValidationRule, check_default, check_rule, default_expression, validation_rules_of

from ..errors import FieldProblem, InvalidInput
from ..expressions import Checked, Context, RecordReader, evaluate
from ..runtime import TenantRuntime


@dataclass(frozen=True)
class _FormRules:
    item: FormField
    visible: Checked | None
    required: Checked | None
    readonly: Checked | None


@dataclass(frozen=True)
class ObjectRules:
    """An object's rules, checked once per compiled runtime."""

    defaults: tuple[tuple[FieldDef, Checked], ...]
    form: tuple[_FormRules, ...]
    validations: tuple[tuple[ValidationRule, Checked], ...]


_COMPILED: weakref.WeakKeyDictionary[TenantRuntime, dict[str, ObjectRules]] = weakref.WeakKeyDictionary()


def rules_of(runtime: TenantRuntime, name: str) -> ObjectRules:
    """The checked rules of object ``name`` at ``runtime``'s revision (metadata validation refused bad ones)."""
    per_object = _COMPILED.setdefault(runtime, {})
    if name not in per_object:
        doc, obj, objects = runtime.documents[name], runtime.object(name), runtime.objects
        layout = default_layout(doc)

        def form_rule(text: str | None) -> Checked | None:
            return None if text is None else check_form_rule(text, obj, objects)

        form = tuple(_FormRules(item, form_rule(item.visible_if), form_rule(item.required_if),
                                form_rule(item.readonly_if)) for item in (layout.form_fields() if layout else ()))
        per_object[name] = ObjectRules(
            defaults=tuple((f, check_default(f, obj, objects)) for f in obj.fields if default_expression(f)),
            form=form,
            validations=tuple((rule, check_rule(rule.error_if, obj, objects)) for rule in validation_rules_of(doc)))
    return per_object[name]


def prepare_create(runtime: TenantRuntime, obj: ObjectDef, values: dict[str, Any], user_id: int | None) -> None:
    """Fill fields left empty from their default expressions, then refuse the record if a rule says so."""
    rules = rules_of(runtime, obj.api_name)
    if not (rules.defaults or rules.form or rules.validations):
        return
    context = Context(user_id=user_id, read=_reader(runtime, None))
    for field, checked in rules.defaults:
        if values.get(field.api_name) is None:
            value = evaluate(checked, values, context)
            if value is not None:
                values[field.api_name] = _load(runtime, obj, field, value)
    _raise(_form_problems(rules, obj, values, None, context) + _rule_problems(rules, values, context))


def check_update(runtime: TenantRuntime, conn: Connection, obj: ObjectDef, current: Mapping[str, Any],
                 values: Mapping[str, Any], user_id: int | None) -> None:
    """Refuse an update whose resulting record breaks a rule of the default layout or a validation rule."""
    rules = rules_of(runtime, obj.api_name)
    if not (rules.form or rules.validations):
        return
    record = {**current, **values}
    context = Context(user_id=user_id, prior=current, read=_reader(runtime, conn))
    _raise(_form_problems(rules, obj, record, current, context) + _rule_problems(rules, record, context))


def _form_problems(rules: ObjectRules, obj: ObjectDef, record: Mapping[str, Any], prior: Mapping[str, Any] | None,
                   context: Context) -> list[FieldProblem]:
    problems = []
    for form in rules.form:
        name = form.item.field
        title = obj.field(name).title("en")
        if form.visible is not None and evaluate(form.visible, record, context) is not True:
            continue
        required = form.item.required or (form.required is not None and evaluate(form.required, record, context))
        if required is True and record.get(name) in (None, "", []):
            problems.append(FieldProblem(name, f"{title} is required here; fill it in."))
        if (prior is not None and form.readonly is not None and _changed(record.get(name), prior.get(name))
                and evaluate(form.readonly, record, context) is True):
            problems.append(FieldProblem(name, f"{title} is read-only while {form.item.readonly_if}; "
                                               "keep its saved value."))
    return problems


def _rule_problems(rules: ObjectRules, record: Mapping[str, Any], context: Context) -> list[FieldProblem]:
    return [FieldProblem(rule.field or "$", rule.message) for rule, checked in rules.validations
            if evaluate(checked, record, context) is True]


def _raise(problems: list[FieldProblem]) -> None:
    if problems:
        raise InvalidInput("The record breaks a rule of this object.", problems)


def _changed(new: Any, old: Any) -> bool:
    return _comparable(new) != _comparable(old)


def _comparable(value: Any) -> Any:
    """Loaded input and a stored row as one kind of value (SQLite hands back naive UTC date-times)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return None if value == "" else value


def _load(runtime: TenantRuntime, obj: ObjectDef, field: FieldDef, value: Any) -> Any:
    """A default expression's value typed by the field, exactly as the same value sent by a client would be."""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else str(value)
    elif isinstance(value, date):
        value = value.isoformat()
    try:
        return runtime.input_schema(obj.api_name).load({field.api_name: value})[field.api_name]
    except ValidationError as error:
        found = error.messages.get(field.api_name, []) if isinstance(error.messages, dict) else []
        reason = " ".join(str(m) for m in found) if isinstance(found, list) else str(found)
        raise InvalidInput("A default expression gave a value the field does not take.", [FieldProblem(
            field.api_name, f"The default expression gave {value!r}, which is not valid here ({reason}). "
                            "Enter a value, or ask an admin to fix the default expression.")]) from None


def _reader(runtime: TenantRuntime, conn: Connection | None) -> RecordReader:
    """How a rule follows a lookup path: a read of the target row, in the write's transaction when there is one."""

    def read(object_name: str, record_id: int) -> Mapping[str, Any] | None:
        table = runtime.tables[object_name]
        statement = select(table).where(table.c.id == record_id)
        if conn is not None:
            return conn.execute(statement).mappings().first()
        with runtime.store.engine.connect() as own:
            return own.execute(statement).mappings().first()

    return read
