"""Automation rules of an object: their fields and expressions checked against the metadata, and compiled.

An object document may carry ``automations``: rules with a trigger (created,
updated, field_changed, deleted, time relative to a date field, schedule), an
optional condition and ordered actions (update_fields, create_record, webhook,
send_email). The JSON Schema (``schemas/automation.schema.json``) checks their
shape; this module checks what it cannot: that the fields named exist and can be
written, and that every expression types against the object it runs on — the
condition and every value against the triggering record, each value with the
type of the field it fills (of the target object for create_record). Problems
carry the JSON path of the setting and the position inside the expression.

``compile_rules`` gives the same checks' result as typed rules, which the
platform's automation runtime evaluates; it never runs text that did not check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .expressions import FIELD_TYPES, SYSTEM_TYPES, Checked, ExpressionError, ExprType, Scope, check, parse
from .formulas import formulas_of
from .memo import MetadataMemo
from .model import ObjectDef, with_ids

#: Triggers that fire on a record change (the others fire from the periodic scan).
CHANGE_TRIGGERS = ("created", "updated", "field_changed", "deleted")
#: Triggers where the record before the change exists, so ISCHANGED and PRIORVALUE mean something.
_PRIOR_TRIGGERS = ("updated", "field_changed")
_DATE_TYPES = ("date", "datetime")
_EMAIL_PARTS = ("to", "subject", "body")


@dataclass(frozen=True)
class Action:
    """One checked action: ``values`` (field → checked expression) for update_fields/create_record,
    ``texts`` (to/subject/body → checked expression) for send_email; ``spec`` is the document."""

    type: str
    spec: Mapping[str, Any]
    values: Mapping[str, Checked]
    texts: Mapping[str, Checked]

    @property
    def object(self) -> str | None:
        return self.spec.get("object")


@dataclass(frozen=True)
class Rule:
    """One checked rule of an object."""

    object: str
    name: str
    active: bool
    trigger: Mapping[str, Any]
    condition: Checked | None
    actions: tuple[Action, ...]
    run_as: int | None

    @property
    def on(self) -> str:
        return self.trigger["on"]


def automation_problems(doc: Mapping[str, Any], known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(JSON path, message) for every problem of the schema-valid ``doc``'s automations."""
    if not doc.get("automations"):
        return []
    obj = ObjectDef.from_document(with_ids(doc))
    objects = {name: ObjectDef.from_document(with_ids(other)) for name, other in known_objects.items()}
    objects[obj.api_name] = obj
    return _compile(doc.get("automations") or [], obj, objects)[1]


def _checked_rules(obj: ObjectDef, objects: Mapping[str, ObjectDef], document: Mapping[str, Any]) -> list[Rule]:
    compiled = _compile(document.get("automations") or [], obj, objects)
    return [rule for index, rule in enumerate(compiled[0])
            if not any(path.startswith(f"$.automations[{index}]") for path, _ in compiled[1])]


_rules = MetadataMemo(_checked_rules)


def rules_of(obj: ObjectDef, document: Mapping[str, Any], objects: Mapping[str, ObjectDef]) -> list[Rule]:
    """The object's rules that check, remembered for the same compiled metadata (a runtime holds it).

    A rule that stopped checking (a later change broke it) is left out; it was valid when saved.
    """
    return _rules(obj, objects, document)


def _compile(docs: list[Mapping[str, Any]], obj: ObjectDef,
             objects: Mapping[str, ObjectDef]) -> tuple[list[Rule], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, spec in enumerate(docs):
        path = f"$.automations[{index}]"
        if spec["name"] in seen:
            problems.append((f"{path}.name", f"Another rule of this object is called '{spec['name']}'; "
                                             "give each rule its own name."))
        seen.add(spec["name"])
        problems += _trigger_problems(path, spec["trigger"], obj)
        scope = Scope(formulas_of(obj, objects).scope_obj, objects, rules=spec["trigger"]["on"] in _PRIOR_TRIGGERS)
        condition = _checked(problems, f"{path}.condition", spec.get("condition"), scope, ExprType.BOOLEAN)
        actions = tuple(_action(problems, f"{path}.actions[{i}]", action, spec["trigger"]["on"], scope,
                                {**objects, obj.api_name: obj}) for i, action in enumerate(spec["actions"]))
        rules.append(Rule(obj.api_name, spec["name"], spec.get("active", True), spec["trigger"], condition, actions,
                          spec.get("run_as")))
    return rules, problems


def _trigger_problems(path: str, trigger: Mapping[str, Any], obj: ObjectDef) -> list[tuple[str, str]]:
    problems = []
    for i, name in enumerate(trigger.get("fields") or []):
        if not obj.has_field(name):
            problems.append((f"{path}.trigger.fields[{i}]", _unknown(name, obj)))
        elif obj.field(name).kind.computed:
            problems.append((f"{path}.trigger.fields[{i}]", f"'{name}' is computed on read, so no change of it "
                                                            "is ever saved; watch the fields it is computed from."))
    if trigger["on"] == "schedule" and ("every_minutes" in trigger) == ("daily_at" in trigger):
        problems.append((f"{path}.trigger", 'A schedule needs exactly one of every_minutes (such as 60) or daily_at '
                                            '(such as "02:30", UTC).'))
    if trigger["on"] == "time":
        name = trigger["field"]
        kind = SYSTEM_TYPES.get(name) if name in SYSTEM_TYPES else (
            obj.field(name).type if obj.has_field(name) else None)
        if kind is None:
            problems.append((f"{path}.trigger.field", _unknown(name, obj)))
        elif kind not in (*_DATE_TYPES, ExprType.DATETIME):
            problems.append((f"{path}.trigger.field", f"'{name}' is not a date or date-time field; a time trigger "
                                                      "counts from one, such as close_date or created_at."))
    return problems


def _action(problems: list[tuple[str, str]], path: str, spec: Mapping[str, Any], on: str, scope: Scope,
            objects: Mapping[str, ObjectDef]) -> Action:
    kind = spec["type"]
    values: dict[str, Checked] = {}
    texts: dict[str, Checked] = {}
    if kind == "update_fields" and on == "deleted":
        problems.append((f"{path}.type", "A deleted record cannot be updated; use create_record, webhook or "
                                         "send_email for a deleted trigger."))
    elif kind in ("update_fields", "create_record"):
        target = objects.get(spec["object"] if kind == "create_record" else scope.obj.api_name)
        if target is None:
            problems.append((f"{path}.object", f"There is no object '{spec['object']}'; use one of "
                                               f"{', '.join(sorted(objects))}."))
        else:
            values = _values(problems, f"{path}.values", spec["values"], target, scope)
    elif kind == "send_email":
        for part in _EMAIL_PARTS:
            found = _checked(problems, f"{path}.{part}", spec[part], scope, ExprType.TEXT)
            if found is not None:
                texts[part] = found
    return Action(kind, spec, values, texts)


def _values(problems: list[tuple[str, str]], path: str, values: Mapping[str, str], target: ObjectDef,
            scope: Scope) -> dict[str, Checked]:
    """Each value's expression, typed as the field of ``target`` it fills."""
    checked: dict[str, Checked] = {}
    for name, text in values.items():
        where = f"{path}.{name}"
        if not target.has_field(name):
            problems.append((where, _unknown(name, target)))
            continue
        field = target.field(name)
        expect = FIELD_TYPES.get(field.type)
        if field.kind.computed or field.kind.generated or expect is None:
            problems.append((where, f"{field.title('en')} ({field.type}) cannot be set by a rule; remove it."))
            continue
        found = _checked(problems, where, text, scope, expect)
        if found is not None:
            checked[name] = found
    return checked


def _checked(problems: list[tuple[str, str]], path: str, text: str | None, scope: Scope,
             expect: ExprType) -> Checked | None:
    if text is None:
        return None
    try:
        return check(parse(text), scope, expect=expect)
    except ExpressionError as error:
        problems.append((path, str(error)))
        return None


def _unknown(name: str, obj: ObjectDef) -> str:
    return f"'{name}' is not a field of {obj.api_name}; use one of {', '.join(f.api_name for f in obj.fields)}."
