"""Whether a value suits a field document: used for defaults, in a business admin's words.

Every message quotes the value as the admin wrote it and says what to write instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from urllib.parse import urlsplit

from marshmallow import ValidationError

from trellis.metadata.fieldtypes import PHONE_PATTERN, field_type
from trellis.metadata.schema_files import FORMATS, NUMBER_TYPES, setting
from trellis.metadata.values import INT64_MAX, INT64_MIN


def show(value: object) -> str:
    """Quote a value the way the admin wrote it, cut short so that a message stays one line."""
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:58] + "…"


def article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(PHONE_PATTERN)


def _is_web_address(text: str) -> bool:
    parts = urlsplit(text)
    return len(text) <= 2048 and parts.scheme in ("http", "https") and bool(parts.netloc) and FORMATS.conforms(
        text, "uri")


_SHAPES: dict[str, tuple[Callable[[str], bool], str]] = {
    "date": (lambda s: FORMATS.conforms(s, "date"), "a date written YYYY-MM-DD, such as 2024-05-31"),
    # A time without a zone is read as UTC, as the record layer does; so "…T14:30:00" passes with a "Z" added.
    "datetime": (lambda s: any(FORMATS.conforms(t, "date-time") for t in (s, s + "Z")),
                 "an ISO 8601 date and time, such as 2024-05-31T14:30:00Z"),
    "email": (lambda s: len(s) <= 254 and bool(_EMAIL.fullmatch(s)), "an email address, such as ana@example.com"),
    "phone": (lambda s: bool(_PHONE.fullmatch(s)), "a phone number, such as +44 20 7946 0958"),
    "url": (_is_web_address, "a web address starting with http:// or https://, such as https://example.com"),
}


def _check_shape(field: Mapping, value: object) -> str | None:
    accepts, example = _SHAPES[field["type"]]
    return None if isinstance(value, str) and accepts(value) else f"{show(value)} is not valid here; use {example}."


def _check_text(field: Mapping, value: object) -> str | None:
    limit = setting(field, "max_length")
    if not isinstance(value, str):
        return f"{show(value)} is not text; put it in quotes."
    if limit is not None and len(value) > limit:
        return f"The text has {len(value)} characters; shorten it to at most {limit}."
    return None


def digits_problem(field: Mapping, value: object) -> str | None:
    """Check that a number fits the column: a 64-bit whole number, or the field's precision and scale."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not Decimal(value).is_finite():
        return f"{show(value)} is not a number; write digits without quotes, such as 1250.50."
    if field["type"] == "integer":
        if value != int(value):
            return f"{value} is not a whole number; leave out the decimal places."
        return None if INT64_MIN <= value <= INT64_MAX else f"{value} is too large; stay within ±{INT64_MAX}."
    precision, scale = setting(field, "precision"), setting(field, "scale")
    places = max(0, -int(Decimal(str(value)).as_tuple().exponent))
    if places > scale:
        return f"{value} has {places} decimal places, but this field keeps {scale}; round it."
    if abs(Decimal(str(value))) >= 10 ** (precision - scale):
        return (f"{value} is too large: with precision {precision} and scale {scale} a number has at most "
                f"{precision - scale} digits before the decimal point.")
    return None


def _check_number(field: Mapping, value: object) -> str | None:
    low, high = field.get("min"), field.get("max")
    if problem := digits_problem(field, value):
        return problem
    if low is not None and value < low:
        return f"{value} is below the minimum of {low}; use {low} or more."
    if high is not None and value > high:
        return f"{value} is above the maximum of {high}; use {high} or less."
    return None


def _check_boolean(field: Mapping, value: object) -> str | None:
    return None if isinstance(value, bool) else f"{show(value)} is not true or false; write true or false."


def _check_choice(field: Mapping, value: object) -> str | None:
    choices = [choice["value"] for choice in field["values"]]
    if isinstance(value, str) and value in choices:
        return None
    return f"{show(value)} is not a value of this picklist; use one of: {', '.join(choices)}."


def _check_choices(field: Mapping, value: object) -> str | None:
    if not isinstance(value, list):
        return f'{show(value)} is not a list; put the chosen values in brackets, such as ["new"].'
    if problem := next(filter(None, (_check_choice(field, item) for item in value)), None):
        return problem
    return "A value is chosen twice; list each value once." if len(set(value)) < len(value) else None


def _check_record_id(field: Mapping, value: object) -> str | None:
    if type(value) is int and value > 0:
        return None
    return f"{show(value)} is not a record id; pick {article(field['target'])} record by its id, such as 42."


def _check_autonumber(field: Mapping, value: object) -> str | None:
    before, zeros, after = re.fullmatch(r"([^{}]*)\{(0+)\}([^{}]*)", field["format"], re.DOTALL).groups()
    if isinstance(value, str) and re.fullmatch(f"{re.escape(before)}[0-9]{{{len(zeros)},}}{re.escape(after)}", value):
        return None
    return f"{show(value)} does not follow the numbering {field['format']}; leave the number to Trellis."


def _check_formula(field: Mapping, value: object) -> str:
    return "A formula is computed from its expression and takes no value; remove this value."


def _check_rollup(field: Mapping, value: object) -> str:
    return "A rollup is computed from child records and takes no value; remove this value."


_CHECKS: dict[str, Callable[[Mapping, object], str | None]] = {
    "formula": _check_formula, "rollup": _check_rollup,
    "text": _check_text, "long_text": _check_text, "boolean": _check_boolean, "picklist": _check_choice,
    "multi_picklist": _check_choices, "lookup": _check_record_id, "autonumber": _check_autonumber,
    **dict.fromkeys(NUMBER_TYPES, _check_number), **dict.fromkeys(_SHAPES, _check_shape),
}


def check_value(field: Mapping, value: object) -> str | None:
    """Return None if `value` suits the (valid) field document, else a sentence saying what to change.

    Defaults are checked with it, and the record layer may reuse it so that both follow one rule.
    None means "no value", which is fine unless the field is required; a boolean is never empty.
    """
    if value is None and field["type"] != "boolean":
        return "A value is required; fill it in." if field.get("required") else None
    return _CHECKS.get(field["type"], _check_extension)(field, value)


def _check_extension(field: Mapping, value: object) -> str | None:
    """An extension's type: its own marshmallow field is the judge (the catalog has it once it is installed)."""
    try:
        field_type(field["type"]).make_field(field).deserialize(value)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, list) else [str(error.messages)]
        return f"{show(value)} is not valid here: {' '.join(map(str, messages))}"
    except KeyError:
        return None  # no such type installed: reported on the type itself
    return None
