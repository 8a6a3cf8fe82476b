"""Converting a field's stored values when its type changes.

A value is converted the way a person would retype it: the old value is
written out as the text (or JSON value) a user would enter, then loaded
through the new type's catalog field, with every check the record service
applies to fresh input. So text ``" 42 "`` becomes the integer 42, the
decimal 12.50 becomes the text ``"12.50"``, and ``"n/a"`` fails to become a
number with the same message a user typing it would see. A failed value is
never dropped: the schema-evolution layer keeps the old column archived.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError

from .model import FieldDef

#: Types whose values mean something only together with other metadata (a target table, a
#: counter); converting to or from them is refused rather than guessed.
NOT_CONVERTIBLE = {"lookup", "autonumber"}
_NUMBERS = {"integer", "decimal", "currency", "percent"}
_TRUTH = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

Converter = Callable[[Any], Any]


def conversion_problem(old: FieldDef, new: FieldDef) -> str | None:
    """Why ``old``'s values cannot be converted to ``new``'s type at all, or None if they can be tried."""
    for side in (old, new):
        if side.type in NOT_CONVERTIBLE:
            return (f"A {side.type} field's type cannot be changed: create a new field of the type you want, "
                    "copy the values, then archive this one.")
    return None


def converter(old: FieldDef, new: FieldDef) -> Converter:
    """A function from a stored ``old`` value to a stored ``new`` value; raises ``ValidationError``."""
    load = new.kind.make_field(new.options).deserialize

    def convert(value: Any) -> Any:
        if value is None:
            return None
        return load(_as_input(old.type, new.type, value))

    return convert


def _as_input(old_type: str, new_type: str, value: Any) -> Any:
    """``value`` as a user would type it into a field of ``new_type``."""
    if new_type == "multi_picklist":
        return list(value) if isinstance(value, list) else [_text(value)]
    if isinstance(value, list):  # a multi-picklist's choices, for a single-valued type
        if len(value) > 1:
            raise ValidationError(f"{len(value)} values were chosen; only one fits.")
        value = value[0] if value else None
        if value is None:
            return None
    if new_type in _NUMBERS:
        return _number(value)
    if new_type == "boolean":
        return _truth(value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() if isinstance(value, str) else str(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | decimal.Decimal):
        return int(value) if value == int(value) else str(value)
    text = _text(value).replace(",", "")
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValidationError(f"{value!r} is not a number.") from None
    return int(number) if number.is_finite() and number == number.to_integral_value() else text


def _truth(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    truth = _TRUTH.get(_text(value).lower())
    if truth is None:
        raise ValidationError(f"{value!r} is not yes or no.")
    return truth
