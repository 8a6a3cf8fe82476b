"""Validate object and field documents, and explain every problem to a business admin.

Two passes. The JSON Schemas in metadata/schemas check shape, so templates, the designer and
other tools can apply the very same rules. Python then checks what a schema cannot say: names
against SQL words, lookups against the tenant's other objects, defaults against the field's
settings. Each jsonschema error is translated by keyword into one sentence saying what is
wrong and how to mend it (raw jsonschema wording never reaches an admin), and only the first
problem per path is kept, so that one slip reads as one message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from jsonschema.exceptions import ValidationError

from trellis.metadata import names
from trellis.metadata.automations import automation_problems
from trellis.metadata.fieldtypes import is_known_type
from trellis.metadata.formulas import check_formulas
from trellis.metadata.layouts import field_rule_problems, object_rule_problems
from trellis.metadata.model import TITLE_TYPES, ObjectDef, with_ids
from trellis.metadata.pipelines import new_field_problems, pipeline_problems
from trellis.metadata.rollups import field_rollup_problems, object_rollup_problems
from trellis.metadata.schema_files import (
    FIELD_TYPES,
    NUMBER_TYPES,
    load_schema,
    read_schema,
    setting,
    type_options,
    validator,
)
from trellis.metadata.sharing import sharing_problems
from trellis.metadata.value_checks import article, check_value, digits_problem, show

__all__ = ["FIELD_TYPES", "Problem", "check_value", "load_schema", "validate_field", "validate_object"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, located by JSON path so that a screen can point at it."""

    path: str
    message: str



_NO_OBJECTS: Mapping[str, Mapping] = MappingProxyType({})


# --- Translating jsonschema errors -------------------------------------------------------------------------------

_EXAMPLES = {
    "api_name": '"order_date"', "label": '"Deal"', "fields": "[]", "type": '"text"', "value": '"open"',
    "values": '[{"value": "open", "label": "Open"}]', "target": '"account"', "format": '"DEAL-{0000}"',
    "name": '"standard"', "sections": '[{"fields": [{"field": "name"}]}]', "field": '"amount"', "object": '"deal"',
    "via": '"account"', "error_if": '"amount <= 0"', "message": '"The amount must be more than zero."',
    "trigger": '{"on": "created"}', "actions": '[{"type": "webhook", "url": "https://example.com/hook"}]',
    "on": '"created"', "url": '"https://example.com/hook"', "to": '"\\"ops@example.com\\""', "subject": '"name"',
    "body": '"name"', "table": '"zz_archived_0123456789ab"', "column": '"zz_archived_0123456789ab"',
    "archived_at": '"2026-01-01T00:00:00+00:00"',
}
_PATTERN_MESSAGES = {
    "id": "{value} is not a valid id; remove id and Trellis will assign one.",
    "currency": "{value} is not a currency code; use three capital letters, such as USD or EUR.",
    "color": "{value} is not a colour; use # and six hex digits, such as #1F77B4.",
    "format": "{value} is not an autonumber format; put one run of zeros in braces where the number goes, "
              "such as DEAL-{{0000}}.",
}
_KINDS = {
    "string": "text in quotes", "boolean": "true or false", "array": "a list in brackets [ ]",
    "object": "a set of settings in braces { }",
}
_LOCALE = read_schema("field")["$defs"]["locale"]["pattern"]


def _child(path: str, key: str | int) -> str:
    """Extend a JSON path the way jsonschema's ValidationError.json_path spells paths."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    return "{}['{}']".format(path, key.replace("\\", "\\\\").replace("'", "\\'"))


def _subject(error: ValidationError) -> str:
    """Name the setting an error is about, as the admin sees it in the document."""
    path = error.absolute_path
    if path and isinstance(path[-1], int):
        return f"item {path[-1] + 1} of {path[-2]}"
    return str(path[-1]) if path else "the document"


def _expectation(schema: Mapping) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. ["integer", "null"]: what matters is the non-null kind
        kind = next((k for k in kind if k != "null"), None)
    if kind not in ("integer", "number"):
        return _KINDS.get(kind, "a valid value")
    noun = "a whole number" if kind == "integer" else "a number"
    low, high = schema.get("minimum"), schema.get("maximum")
    if high is not None:
        return f"{noun} from {low} to {high}"
    return f"{noun} of at least {low}" if low is not None else noun


def _text_problem(what: str, value: object, limit: int) -> str:
    """One clear sentence for a label-like value, instead of the errors of every anyOf branch."""
    if isinstance(value, str):
        if not value:
            return f"{what} is empty; enter the text people will see."
        return f"{what} has {len(value)} characters; shorten it to at most {limit}."
    if isinstance(value, dict) and not value:
        return f'{what} has no languages; add at least one, such as {{"en": "Deal"}}.'
    for locale, text in value.items() if isinstance(value, dict) else ():
        if not re.search(_LOCALE, locale):
            return f"'{locale}' is not a language code; use codes such as en, fr or zh-CN."
        if not (isinstance(text, str) and 0 < len(text) <= limit):
            return f"The {locale} text of {what} must have 1 to {limit} characters."
    return (f"{what} must be text of 1 to {limit} characters, "
            'or texts by language, such as {"en": "Deal", "fr": "Affaire"}.')


def _missing(error: ValidationError) -> list[Problem]:
    return [
        Problem(_child(error.json_path, key), f"{key} is missing; add it, for example \"{key}\": {_EXAMPLES[key]}."
                if key in _EXAMPLES else f"{key} is missing; add it.")
        for key in error.validator_value
        if key not in error.instance
    ]


def _unknown_settings(error: ValidationError) -> list[Problem]:
    if error.validator == "unevaluatedProperties":  # only fields; their type is known, or all settings pass
        kind = error.instance["type"]
        allowed, owner = (*type_options(kind), *read_schema("field")["properties"]), f"{article(kind)} field"
    else:
        title = error.schema.get("title")  # a $defs part (a dashboard's widget) may have none
        allowed, owner = tuple(error.schema.get("properties", {})), article(title) if title else "this part"
    return [
        Problem(_child(error.json_path, key), f"'{key}' is not a setting of {owner}; remove it (allowed: "
                f"{', '.join(allowed)}).")
        for key in error.instance
        if key not in allowed
    ]


def _message(error: ValidationError) -> str:
    """Translate an error about one value, by the keyword that failed."""
    what, value, keyword = _subject(error), show(error.instance), error.validator
    if keyword in ("enum", "anyOf") and what == "type":
        return (f"{value} is not a field type. Use one of: {', '.join(FIELD_TYPES)}, or an enabled extension's "
                "type as <extension>.<type>.")
    if keyword == "enum":
        return f"{value} is not a choice for {what}; use one of: {', '.join(error.validator_value)}."
    if keyword == "pattern" and what == "api_name":
        return names.shape_problem(error.instance) or f"{value} is not a valid API name."
    if keyword == "pattern":
        return _PATTERN_MESSAGES.get(what, "{value} is not in the expected form; correct it.").format(value=value)
    if keyword == "minLength":
        return f"{what} is empty; fill it in."
    if keyword == "maxLength":
        return f"{what} has {len(error.instance)} characters; shorten it to at most {error.validator_value}."
    if keyword == "minItems":
        return f"{what} is empty; add at least one, for example {_EXAMPLES.get(what, '[…]')}."
    if keyword == "anyOf":
        return _text_problem(what, error.instance, error.schema["anyOf"][0]["maxLength"])
    return f"{what} must be {_expectation(error.schema)}."


def schema_problems(doc: dict, schema: str) -> tuple[list[Problem], list[tuple]]:
    """Translated problems, and the paths they sit at, so later rules can skip settings already wrong."""
    problems, paths = [], []
    for error in validator(schema).iter_errors(doc):
        paths.append(tuple(error.absolute_path))
        if error.validator == "required":
            problems += _missing(error)
        elif error.validator in ("additionalProperties", "unevaluatedProperties"):
            problems += _unknown_settings(error)
        else:
            problems.append(Problem(error.json_path, _message(error)))
    return problems, paths


# --- Rules across settings, fields and objects -------------------------------------------------------------------

_FORBIDDEN = {
    ("autonumber", "required"): "Trellis always fills in an autonumber, so it cannot be required; remove required.",
    ("autonumber", "unique"): "An autonumber is always unique already; remove unique.",
    ("autonumber", "default"): "An autonumber is numbered from its format and start, so remove default.",
    ("lookup", "unique"): "A lookup cannot be unique; remove unique (indexed is allowed).",
    ("multi_picklist", "unique"): "A multi_picklist cannot be unique; remove unique.",
    ("boolean", "required"): "A boolean is always true or false, so it cannot be required; remove required.",
    ("formula", "required"): "A formula is computed from other fields, so it cannot be required; remove required.",
    ("formula", "unique"): "A formula is computed on read and has no column to keep unique; remove unique.",
    ("formula", "indexed"): "A formula is computed on read and has no column to index; remove indexed.",
    ("formula", "default"): "A formula is computed from its expression, so remove default.",
    ("formula", "tracked"): "A formula is computed on read and never changes by a write, so it has no history; "
                            "remove tracked (track the fields it reads instead).",
    **{("rollup", flag): f"A rollup is computed from child records on read, so remove {flag}."
       for flag in ("required", "unique", "indexed", "default", "tracked")},
}


def _number_rules(field: Mapping) -> list[tuple[str, str]]:
    rules = [(key, problem) for key in ("min", "max")
             if (problem := key in field and digits_problem(field, field[key]))]
    if field["type"] != "integer" and (scale := setting(field, "scale")) > (precision := setting(field, "precision")):
        rules.append(("scale" if "scale" in field else "precision", f"scale {scale} is more than precision "
                      f"{precision}, but decimal places are part of the digits; lower scale or raise precision."))
    if field.get("min", float("-inf")) > field.get("max", float("inf")):
        rules.append(("min", f"min {field['min']} is larger than max {field['max']}; swap them."))
    return rules


def _choice_rules(field: Mapping) -> list[tuple[str, str]]:
    seen: set[str] = set()
    rules = []
    for index, choice in enumerate(field["values"]):
        if choice["value"] in seen:
            rules.append((f"values[{index}].value", f"'{choice['value']}' is already a value of this picklist; "
                          "change this one or remove it."))
        seen.add(choice["value"])
    return rules


def _target_problem(target: str, objects: list[str]) -> str:
    close = difflib.get_close_matches(target, objects, n=3)
    choices = close + [name for name in objects if name not in close]
    shown = ", ".join(choices[:10]) + (", …" if len(choices) > 10 else "")
    return (f"This lookup points at '{target}', which is not an object in this CRM. Create that object first"
            + (f" or pick one of: {shown}." if shown else "."))


def _field_rules(field: Mapping, objects: list[str]) -> list[tuple[str, str]]:
    """Rules within one schema-valid field, as (setting, message) pairs."""
    kind = field["type"]
    rules = [(flag, message) for (forbidden, flag), message in _FORBIDDEN.items()
             if kind == forbidden and flag in field and (flag == "default" or field[flag])]
    if kind in NUMBER_TYPES:
        rules += _number_rules(field)
    if kind in ("picklist", "multi_picklist"):
        rules += _choice_rules(field)
    if not is_known_type(kind):  # an extension's type (the schema checked its shape) whose package is not installed
        rules.append(("type", f"{show(kind)} is no installed extension's field type; install the extension, "
                      "or use another type."))
    if kind == "lookup" and field["target"] not in objects:
        rules.append(("target", _target_problem(field["target"], objects)))
    if "default" in field and kind != "autonumber" and (problem := check_value(field, field["default"])):
        rules.append(("default", problem))
    return rules


def _field_problems(path: str, field: dict, objects: list[str], checked: bool) -> list[Problem]:
    """A field's name problems, and its settings rules once its schema problems are mended (no cascades)."""
    name = field.get("api_name")
    problem = names.api_name_problem(name, kind="field") if isinstance(name, str) else None
    problems = [Problem(_child(path, "api_name"), problem)] if problem else []
    if checked:
        # Rule keys are our own settings or paths into them ("values[1].value"), so they extend the path as is.
        problems += [Problem(f"{path}.{key}", message) for key, message in _field_rules(field, objects)]
    return problems


def _clash(name: object) -> str:
    return f"Another field of this object already has the API name '{name}'; give this one another, such as {name}_2."


def _duplicates(fields: list) -> list[Problem]:
    seen: set[object] = set()
    problems = []
    for index, field in enumerate(fields):
        name = field.get("api_name") if isinstance(field, dict) else None
        if not isinstance(name, str):  # a missing or non-text api_name is reported by the schema
            continue
        if name in seen:
            problems.append(Problem(f"$.fields[{index}].api_name", _clash(name)))
        seen.add(name)
    return problems


def _name_field_problem(doc: dict) -> str | None:
    name, fields = doc.get("name_field"), doc.get("fields")
    if not isinstance(name, str) or not isinstance(fields, list):
        return None
    kinds = {field["api_name"]: field.get("type") for field in fields  # a non-text api_name is reported elsewhere
             if isinstance(field, dict) and isinstance(field.get("api_name"), str)}
    usable = ", ".join(str(field) for field, kind in kinds.items() if kind in TITLE_TYPES)
    hint = f", such as {usable}" if usable else " (add one first)"
    if name not in kinds:
        return f"name_field is '{name}', but this object has no such field; name one of its fields{hint}."
    if kinds[name] in FIELD_TYPES and kinds[name] not in TITLE_TYPES:
        return (f"'{name}' is a {kinds[name]} field and cannot title records; name a {', '.join(TITLE_TYPES)} "
                f"field{hint}.")
    return None


def _same_id(first: object, second: Mapping) -> bool:
    """An edit replaces the document with the same id; any other document with that name is a second one."""
    return isinstance(first, Mapping) and first.get("id") is not None and first.get("id") == second.get("id")


def finish(problems: list[Problem]) -> list[Problem]:
    """Keep the first problem per path, in document order (fields[2] before fields[10])."""
    first: dict[str, Problem] = {}
    for problem in problems:
        first.setdefault(problem.path, problem)

    def order(problem: Problem) -> list[tuple[int, int | str]]:
        return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\[\]']+", problem.path)]

    return sorted(first.values(), key=order)


def _formula_problems(doc: Mapping, known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(formula api_name, message) for every formula of a schema-valid object document that does not check."""
    if not any(isinstance(f, Mapping) and f.get("type") == "formula" for f in doc.get("fields") or []):
        return []
    obj = ObjectDef.from_document(with_ids(doc))
    objects = {name: ObjectDef.from_document(with_ids(other)) for name, other in known_objects.items()}
    objects[obj.api_name] = obj
    return [(problem.field, problem.message) for problem in check_formulas(obj, objects)[1]]


def _not_a_dict(doc: object, what: str, keys: str) -> list[Problem]:
    return [Problem("$", f"{what} must be a set of settings in braces {{ }} with {keys}; this is {show(doc)}.")]


# --- Public API --------------------------------------------------------------------------------------------------

def validate_object(doc: object, *, known_objects: Mapping[str, Mapping] = _NO_OBJECTS) -> list[Problem]:
    """Return every problem of an object document, sorted by path; an empty list when it is valid.

    known_objects are the tenant's other objects by api_name: lookups may point at them (or at this
    object itself), and this object may not take one of their names.
    """
    if not isinstance(doc, dict):
        return _not_a_dict(doc, "An object", "api_name, label and fields")
    problems, wrong = schema_problems(doc, "object")
    name = doc.get("api_name")
    if isinstance(name, str) and (problem := names.api_name_problem(name, kind="object")):
        problems.append(Problem("$.api_name", problem))
    if isinstance(name, str) and name in known_objects and not _same_id(known_objects[name], doc):
        problems.append(Problem("$.api_name", f"Another object already has the API name '{name}'; choose another, "
                                f"such as {name}_2."))
    if problem := _name_field_problem(doc):
        problems.append(Problem("$.name_field", problem))
    fields = doc.get("fields")
    if isinstance(fields, list):
        objects = sorted({*known_objects, *([name] if isinstance(name, str) else [])})
        problems += _duplicates(fields)
        for index, field in enumerate(fields):
            if isinstance(field, dict):
                checked = not any(path[:2] == ("fields", index) for path in wrong)
                problems += _field_problems(f"$.fields[{index}]", field, objects, checked)
    if not problems:
        at = {field["api_name"]: index for index, field in enumerate(fields)}
        problems += [Problem(f"$.fields[{at[name]}].expression", message)
                     for name, message in _formula_problems(doc, known_objects)]
        problems += [Problem(path, message) for path, message in pipeline_problems(doc)]
        problems += [Problem(path, message) for path, message in automation_problems(doc, known_objects)]
        problems += [Problem(path, message) for path, message in object_rollup_problems(doc, known_objects)]
        problems += [Problem(path, message) for path, message in object_rule_problems(doc, known_objects)]
        problems += [Problem(path, message) for path, message in sharing_problems(doc, known_objects)]
    return finish(problems)


def validate_field(doc: object, *, object_doc: Mapping, known_objects: Mapping[str, Mapping] = _NO_OBJECTS,
                   ) -> list[Problem]:
    """Return every problem of a field being added to, or replacing one in, object_doc; paths are the field's own.

    The field may keep the api_name of an existing field only if it carries that field's id, i.e. it edits it.
    """
    if not isinstance(doc, dict):
        return _not_a_dict(doc, "A field", "api_name, label and type")
    problems, wrong = schema_problems(doc, "field")
    siblings = [field for field in object_doc.get("fields") or [] if isinstance(field, Mapping)]
    if any(field.get("api_name") == doc.get("api_name") and not _same_id(field, doc) for field in siblings):
        problems.append(Problem("$.api_name", _clash(doc["api_name"])))
    own = object_doc.get("api_name")
    objects = sorted({*known_objects, *([own] if isinstance(own, str) else [])})
    problems += _field_problems("$", doc, objects, checked=not wrong)
    if not problems:
        problems += _formulas_with(doc, object_doc, known_objects)
        problems += [Problem(path, message) for path, message in new_field_problems(doc, object_doc)]
        problems += [Problem(p, m) for p, m in field_rollup_problems(doc, object_doc, known_objects)]
        problems += [Problem(p, m) for p, m in field_rule_problems(doc, object_doc, known_objects)]
    return finish(problems)


def _formulas_with(doc: dict, object_doc: Mapping, known_objects: Mapping[str, Mapping]) -> list[Problem]:
    """The formula problems of object_doc once ``doc`` is added to it or replaces its namesake (by id)."""
    siblings = [f for f in object_doc.get("fields") or [] if not (_same_id(f, doc) or f.get("api_name") ==
                                                                     doc["api_name"])]
    merged = {**object_doc, "fields": [doc, *siblings]}  # first, so a cycle through it is reported on it
    problems = []
    for name, message in _formula_problems(merged, known_objects):
        if name == doc["api_name"]:
            problems.append(Problem("$.expression", message))
        else:
            problems.append(Problem("$", f"This change breaks the formula '{name}': {message}"))
    return problems
