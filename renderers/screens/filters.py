"""List filters, one per (field, operator) that the field-type catalog allows.

flask-admin shows them in its filter bar; each applies by adding a query
engine ``Filter`` to the list's query, so a screen filter means exactly what
the same filter means in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_admin.model.filters import BaseFilter
from flask_babel import lazy_gettext

from trellis.metadata.model import FieldDef, ObjectDef
from trellis.platform.errors import InvalidInput
from trellis.platform.records.query import Filter, typed_value

from .i18n import lazy_label

_OPERATION = {
    "eq": lazy_gettext("equals"),
    "ne": lazy_gettext("not equal"),
    "lt": lazy_gettext("less than"),
    "lte": lazy_gettext("at most"),
    "gt": lazy_gettext("greater than"),
    "gte": lazy_gettext("at least"),
    "contains": lazy_gettext("contains"),
    "starts_with": lazy_gettext("starts with"),
    "in": lazy_gettext("in list"),
    "blank": lazy_gettext("is empty"),
}
_YES_NO = (("1", lazy_gettext("Yes")), ("0", lazy_gettext("No")))
_DATA_TYPES = {"date": "datepicker", "datetime": "datetimepicker"}


class RecordFilter(BaseFilter):
    """``field op value`` on an object's list."""

    def __init__(self, obj: ObjectDef, field: FieldDef, op: str) -> None:
        options = _options(field, op)
        data_type = "select2-tags" if op == "in" else None if options else _DATA_TYPES.get(field.kind.widget)
        super().__init__(lazy_label(field.label, field.api_name), options, data_type)
        self.obj, self.field, self.op = obj, field, op

    def operation(self) -> Any:
        return _OPERATION[self.op]

    def clean(self, value: str) -> Any:
        if self.op == "blank":
            return value == "1"
        if self.op == "in":
            return [part.strip() for part in value.split(",") if part.strip()]
        if self.field.kind.storage == "boolean":
            return value == "1"
        if self.field.kind.widget == "datetime":
            return value.strip().replace(" ", "T", 1)  # the date picker writes "YYYY-MM-DD HH:mm:ss"
        return value

    def validate(self, value: str) -> bool:
        """Refuse values the query engine would refuse, so flask-admin can say which filter is wrong."""
        cleaned = self.clean(value)
        if self.op in ("blank", "contains", "starts_with") or isinstance(cleaned, bool):
            return True
        try:
            for item in cleaned if isinstance(cleaned, list) else [cleaned]:
                typed_value(self.obj, self.field.api_name, item)
        except InvalidInput:
            return False
        return True

    def apply(self, query: list[Filter], value: Any) -> list[Filter]:
        query.append(Filter(self.field.api_name, self.op, value))
        return query


def _options(field: FieldDef, op: str) -> Sequence[tuple[str, Any]] | None:
    if op == "blank" or field.kind.storage == "boolean":
        return _YES_NO
    if field.kind.widget == "select" and op in ("eq", "ne", "in"):
        return [(c["value"], lazy_label(c.get("label"), c["value"])) for c in field.choices]
    return None


def object_filters(obj: ObjectDef) -> list[RecordFilter]:
    """Every filter the catalog allows on ``obj``'s fields, in field order."""
    return [RecordFilter(obj, field, op) for field in obj.fields for op in field.kind.filter_ops]
