"""marshmallow fields with the strictness a CRM's API needs.

marshmallow's own Integer silently truncates ``2.5`` and its Decimal accepts
``NaN``; an integration that sends either must hear about it, not lose data.
"""

from __future__ import annotations

import decimal
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class WholeNumber(fields.Integer):
    """An integer that accepts ``3`` and ``3.0`` but rejects ``3.5``, ``"3"`` and bools."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Enter a whole number, for example 42.")
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError(f"{value!r} is not a whole number.")
        number = int(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise ValidationError("The number is too large to store.")
        return number


class ExactDecimal(fields.Field):
    """A decimal number with at most ``precision`` digits, ``scale`` of them after the point.

    Accepts JSON numbers or numeric strings and never rounds: a value with more
    decimal places than the field keeps is refused, so nothing is silently lost.
    Dumped as a JSON number.
    """

    def __init__(self, precision: int, scale: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.precision, self.scale = precision, scale

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValidationError("Enter a number, for example 1250.50.")
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValidationError(f"{value!r} is not a number.") from None
        if not number.is_finite():
            raise ValidationError("Enter a finite number.")
        _, digits, exponent = number.as_tuple()
        places = max(0, -exponent)
        if places > self.scale:
            raise ValidationError(f"Use at most {self.scale} decimal places.")
        whole_digits = max(0, len(digits) + exponent)
        if number != 0 and whole_digits > self.precision - self.scale:
            raise ValidationError(
                f"The number is too large: at most {self.precision - self.scale} digits before the point."
            )
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | float | None:
        if value is None:
            return None
        number = decimal.Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date and time, read as UTC when it names no zone, and always converted to UTC.

    SQLite keeps a datetime as text without its offset, so ``14:30+02:00`` must become
    ``12:30`` UTC before it is stored or compared, or it would silently read back as 14:30 UTC.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


class Selection(fields.List):
    """The chosen values of a multi-picklist: ``[]`` and ``null`` both mean nothing chosen.

    Nothing chosen is stored as SQL NULL, so "is blank" filters and BI tools see
    one kind of empty, and is always shown as ``[]``, so clients see one shape.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list | None:
        return [] if value is None else super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list | None:
        return super()._deserialize(value, attr, data, **kwargs) or None
