"""Validate object and field documents, and explain every problem to a business admin.

Two passes. The JSON Schemas in metadata/schemas check shape, so templates, the designer and
other tools can apply the very same rules. Python then checks what a schema cannot say: names
against SQL words, lookups against the tenant's other objects, defaults against the field's
settings. Each jsonschema error is translated by keyword into one sentence saying what is
wrong and how to mend it (raw jsonschema wording never reaches an admin), and only the first
problem per path is kept, so that one slip reads as one message.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from trellis.metadata import names
from trellis.metadata.fieldtypes import PHONE_PATTERN
from trellis.metadata.model import TITLE_TYPES
from trellis.metadata.values import INT64_MAX, INT64_MIN


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, located by JSON path so that a screen can point at it."""

    path: str
    message: str


_SCHEMA_DIR = Path(__file__).parent / "schemas"
_FORMATS = FormatChecker()
_NO_OBJECTS: Mapping[str, Mapping] = MappingProxyType({})


@cache
def _read_schema(name: str) -> dict[str, Any]:
    """Parse a schema once per process; the validators share this copy."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"{name!r} is not a schema name")
    return json.loads((_SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    """Return metadata/schemas/<name>.schema.json as a copy, so no caller can alter the one we validate with."""
    return copy.deepcopy(_read_schema(name))


FIELD_TYPES: tuple[str, ...] = tuple(_read_schema("field")["$defs"]["field_type"]["enum"])
_NUMBER_TYPES = ("integer", "decimal", "currency", "percent")


@cache
def _validator(name: str) -> Draft202012Validator:
    """A validator whose registry resolves the $refs between our schemas by their $id."""
    schemas = [_read_schema(other) for other in ("object", "field")]
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas)
    return Draft202012Validator(_read_schema(name), registry=registry, format_checker=_FORMATS)


@cache
def _options(field_type: str) -> dict[str, dict[str, Any]]:
    """The type's own settings with their schemas ($refs into $defs merged), which also hold their defaults."""
    schema = _read_schema("field")
    options: dict[str, dict[str, Any]] = {}
    for branch in schema["allOf"]:
        if branch["if"].get("properties", {}).get("type", {}).get("const") == field_type:
            for key, option in branch["then"]["properties"].items():
                shared = schema["$defs"][option["$ref"].rsplit("/", 1)[1]] if "$ref" in option else {}
                options[key] = {**shared, **option}
    return options


def _setting(field: Mapping, key: str) -> Any:
    """A field's setting, or the schema's default for its type when the admin left it out."""
    return field.get(key, _options(field["type"]).get(key, {}).get("default"))


# --- Translating jsonschema errors -------------------------------------------------------------------------------

_EXAMPLES = {
    "api_name": '"order_date"', "label": '"Deal"', "fields": "[]", "type": '"text"', "value": '"open"',
    "values": '[{"value": "open", "label": "Open"}]', "target": '"account"', "format": '"DEAL-{0000}"',
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
_LOCALE = _read_schema("field")["$defs"]["locale"]["pattern"]


def _show(value: object) -> str:
    """Quote a value the way the admin wrote it, cut short so that a message stays one line."""
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:58] + "…"


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


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
        Problem(_child(error.json_path, key), f"{key} is missing; add it, for example \"{key}\": {_EXAMPLES[key]}.")
        for key in error.validator_value
        if key not in error.instance
    ]


def _unknown_settings(error: ValidationError) -> list[Problem]:
    if error.validator == "unevaluatedProperties":  # only fields; their type is known, or all settings pass
        kind = error.instance["type"]
        allowed, owner = (*_options(kind), *_read_schema("field")["properties"]), f"{_article(kind)} field"
    else:
        allowed, owner = tuple(error.schema["properties"]), _article(error.schema["title"])
    return [
        Problem(_child(error.json_path, key), f"'{key}' is not a setting of {owner}; remove it (allowed: "
                f"{', '.join(allowed)}).")
        for key in error.instance
        if key not in allowed
    ]


def _message(error: ValidationError) -> str:
    """Translate an error about one value, by the keyword that failed."""
    what, value, keyword = _subject(error), _show(error.instance), error.validator
    if keyword == "enum" and what == "type":
        return f"{value} is not a field type. Use one of: {', '.join(FIELD_TYPES)}."
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


def _schema_problems(doc: dict, schema: str) -> tuple[list[Problem], list[tuple]]:
    """Translated problems, and the paths they sit at, so later rules can skip settings already wrong."""
    problems, paths = [], []
    for error in _validator(schema).iter_errors(doc):
        paths.append(tuple(error.absolute_path))
        if error.validator == "required":
            problems += _missing(error)
        elif error.validator in ("additionalProperties", "unevaluatedProperties"):
            problems += _unknown_settings(error)
        else:
            problems.append(Problem(error.json_path, _message(error)))
    return problems, paths


# --- Values: defaults here, record values wherever the record layer wants the same rule ---------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(PHONE_PATTERN)


def _is_web_address(text: str) -> bool:
    parts = urlsplit(text)
    return len(text) <= 2048 and parts.scheme in ("http", "https") and bool(parts.netloc) and _FORMATS.conforms(
        text, "uri")


_SHAPES: dict[str, tuple[Callable[[str], bool], str]] = {
    "date": (lambda s: _FORMATS.conforms(s, "date"), "a date written YYYY-MM-DD, such as 2024-05-31"),
    # A time without a zone is read as UTC, as the record layer does; so "…T14:30:00" passes with a "Z" added.
    "datetime": (lambda s: any(_FORMATS.conforms(t, "date-time") for t in (s, s + "Z")),
                 "an ISO 8601 date and time, such as 2024-05-31T14:30:00Z"),
    "email": (lambda s: len(s) <= 254 and bool(_EMAIL.fullmatch(s)), "an email address, such as ana@example.com"),
    "phone": (lambda s: bool(_PHONE.fullmatch(s)), "a phone number, such as +44 20 7946 0958"),
    "url": (_is_web_address, "a web address starting with http:// or https://, such as https://example.com"),
}


def _check_shape(field: Mapping, value: object) -> str | None:
    accepts, example = _SHAPES[field["type"]]
    return None if isinstance(value, str) and accepts(value) else f"{_show(value)} is not valid here; use {example}."


def _check_text(field: Mapping, value: object) -> str | None:
    limit = _setting(field, "max_length")
    if not isinstance(value, str):
        return f"{_show(value)} is not text; put it in quotes."
    if limit is not None and len(value) > limit:
        return f"The text has {len(value)} characters; shorten it to at most {limit}."
    return None


def _digits_problem(field: Mapping, value: object) -> str | None:
    """Check that a number fits the column: a 64-bit whole number, or the field's precision and scale."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not Decimal(value).is_finite():
        return f"{_show(value)} is not a number; write digits without quotes, such as 1250.50."
    if field["type"] == "integer":
        if value != int(value):
            return f"{value} is not a whole number; leave out the decimal places."
        return None if INT64_MIN <= value <= INT64_MAX else f"{value} is too large; stay within ±{INT64_MAX}."
    precision, scale = _setting(field, "precision"), _setting(field, "scale")
    places = max(0, -int(Decimal(str(value)).as_tuple().exponent))
    if places > scale:
        return f"{value} has {places} decimal places, but this field keeps {scale}; round it."
    if abs(Decimal(str(value))) >= 10 ** (precision - scale):
        return (f"{value} is too large: with precision {precision} and scale {scale} a number has at most "
                f"{precision - scale} digits before the decimal point.")
    return None


def _check_number(field: Mapping, value: object) -> str | None:
    low, high = field.get("min"), field.get("max")
    if problem := _digits_problem(field, value):
        return problem
    if low is not None and value < low:
        return f"{value} is below the minimum of {low}; use {low} or more."
    if high is not None and value > high:
        return f"{value} is above the maximum of {high}; use {high} or less."
    return None


def _check_boolean(field: Mapping, value: object) -> str | None:
    return None if isinstance(value, bool) else f"{_show(value)} is not true or false; write true or false."


def _check_choice(field: Mapping, value: object) -> str | None:
    choices = [choice["value"] for choice in field["values"]]
    if isinstance(value, str) and value in choices:
        return None
    return f"{_show(value)} is not a value of this picklist; use one of: {', '.join(choices)}."


def _check_choices(field: Mapping, value: object) -> str | None:
    if not isinstance(value, list):
        return f'{_show(value)} is not a list; put the chosen values in brackets, such as ["new"].'
    if problem := next(filter(None, (_check_choice(field, item) for item in value)), None):
        return problem
    return "A value is chosen twice; list each value once." if len(set(value)) < len(value) else None


def _check_record_id(field: Mapping, value: object) -> str | None:
    if type(value) is int and value > 0:
        return None
    return f"{_show(value)} is not a record id; pick {_article(field['target'])} record by its id, such as 42."


def _check_autonumber(field: Mapping, value: object) -> str | None:
    before, zeros, after = re.fullmatch(r"([^{}]*)\{(0+)\}([^{}]*)", field["format"], re.DOTALL).groups()
    if isinstance(value, str) and re.fullmatch(f"{re.escape(before)}[0-9]{{{len(zeros)},}}{re.escape(after)}", value):
        return None
    return f"{_show(value)} does not follow the numbering {field['format']}; leave the number to Trellis."


_CHECKS: dict[str, Callable[[Mapping, object], str | None]] = {
    "text": _check_text, "long_text": _check_text, "boolean": _check_boolean, "picklist": _check_choice,
    "multi_picklist": _check_choices, "lookup": _check_record_id, "autonumber": _check_autonumber,
    **dict.fromkeys(_NUMBER_TYPES, _check_number), **dict.fromkeys(_SHAPES, _check_shape),
}


def check_value(field: Mapping, value: object) -> str | None:
    """Return None if `value` suits the (valid) field document, else a sentence saying what to change.

    Defaults are checked with it, and the record layer may reuse it so that both follow one rule.
    None means "no value", which is fine unless the field is required; a boolean is never empty.
    """
    if value is None and field["type"] != "boolean":
        return "A value is required; fill it in." if field.get("required") else None
    return _CHECKS[field["type"]](field, value)


# --- Rules across settings, fields and objects -------------------------------------------------------------------

_FORBIDDEN = {
    ("autonumber", "required"): "Trellis always fills in an autonumber, so it cannot be required; remove required.",
    ("autonumber", "unique"): "An autonumber is always unique already; remove unique.",
    ("autonumber", "default"): "An autonumber is numbered from its format and start, so remove default.",
    ("lookup", "unique"): "A lookup cannot be unique; remove unique (indexed is allowed).",
    ("multi_picklist", "unique"): "A multi_picklist cannot be unique; remove unique.",
    ("boolean", "required"): "A boolean is always true or false, so it cannot be required; remove required.",
}


def _number_rules(field: Mapping) -> list[tuple[str, str]]:
    rules = [(key, problem) for key in ("min", "max")
             if (problem := key in field and _digits_problem(field, field[key]))]
    if field["type"] != "integer" and (scale := _setting(field, "scale")) > (precision := _setting(field, "precision")):
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
    if kind in _NUMBER_TYPES:
        rules += _number_rules(field)
    if kind in ("picklist", "multi_picklist"):
        rules += _choice_rules(field)
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


def _finish(problems: list[Problem]) -> list[Problem]:
    """Keep the first problem per path, in document order (fields[2] before fields[10])."""
    first: dict[str, Problem] = {}
    for problem in problems:
        first.setdefault(problem.path, problem)

    def order(problem: Problem) -> list[tuple[int, int | str]]:
        return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\[\]']+", problem.path)]

    return sorted(first.values(), key=order)


def _not_a_dict(doc: object, what: str, keys: str) -> list[Problem]:
    return [Problem("$", f"{what} must be a set of settings in braces {{ }} with {keys}; this is {_show(doc)}.")]


# --- Public API --------------------------------------------------------------------------------------------------

def validate_object(doc: object, *, known_objects: Mapping[str, Mapping] = _NO_OBJECTS) -> list[Problem]:
    """Return every problem of an object document, sorted by path; an empty list when it is valid.

    known_objects are the tenant's other objects by api_name: lookups may point at them (or at this
    object itself), and this object may not take one of their names.
    """
    if not isinstance(doc, dict):
        return _not_a_dict(doc, "An object", "api_name, label and fields")
    problems, wrong = _schema_problems(doc, "object")
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
    return _finish(problems)


def validate_field(doc: object, *, object_doc: Mapping, known_objects: Mapping[str, Mapping] = _NO_OBJECTS,
                   ) -> list[Problem]:
    """Return every problem of a field being added to, or replacing one in, object_doc; paths are the field's own.

    The field may keep the api_name of an existing field only if it carries that field's id, i.e. it edits it.
    """
    if not isinstance(doc, dict):
        return _not_a_dict(doc, "A field", "api_name, label and type")
    problems, wrong = _schema_problems(doc, "field")
    siblings = [field for field in object_doc.get("fields") or [] if isinstance(field, Mapping)]
    if any(field.get("api_name") == doc.get("api_name") and not _same_id(field, doc) for field in siblings):
        problems.append(Problem("$.api_name", _clash(doc["api_name"])))
    own = object_doc.get("api_name")
    objects = sorted({*known_objects, *([own] if isinstance(own, str) else [])})
    problems += _field_problems("$", doc, objects, checked=not wrong)
    return _finish(problems)
