"""Which columns an object's list and detail pages show, under which labels.

Lists show the record's title first and a handful of short fields after it
(long texts and multi-value fields make rows unreadable); detail pages show
every field plus when the record was created and last changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext

from trellis.metadata.model import ObjectDef

from .display import Formatter, formatter, moment
from .i18n import lazy_label

#: How many columns a list shows at most.
LIST_WIDTH = 6
_WIDE_WIDGETS = ("textarea", "multiselect")
_SYSTEM_LABELS = {
    "id": lazy_gettext("ID"),
    "created_at": lazy_gettext("Created"),
    "updated_at": lazy_gettext("Last changed"),
}


def list_columns(obj: ObjectDef) -> list[str]:
    """The title field first, then the first short fields in metadata order."""
    names = [obj.name_field] if obj.name_field else ["id"]
    for field in obj.fields:
        if len(names) >= LIST_WIDTH:
            break
        if field.api_name not in names and field.kind.widget not in _WIDE_WIDGETS:
            names.append(field.api_name)
    return names


def detail_columns(obj: ObjectDef) -> list[str]:
    return ["id", *(f.api_name for f in obj.fields), "created_at", "updated_at"]


def sortable_columns(obj: ObjectDef, shown: list[str]) -> dict[str, str]:
    """Shown columns the catalog lets the query engine sort by."""
    def sortable(name: str) -> bool:
        return name == "id" or (obj.has_field(name) and obj.field(name).kind.sortable)

    return {name: name for name in shown if sortable(name)}


def column_labels(obj: ObjectDef) -> dict[str, Any]:
    labels: dict[str, Any] = {f.api_name: lazy_label(f.label, f.api_name) for f in obj.fields}
    labels.update(_SYSTEM_LABELS)
    return labels


def column_descriptions(obj: ObjectDef) -> dict[str, Any]:
    return {f.api_name: lazy_label(f.help_text, "") for f in obj.fields if f.help_text}


def column_formatters(obj: ObjectDef, endpoint_of: Callable[[str], str]) -> dict[str, Formatter]:
    formatters: dict[str, Formatter] = {}
    for field in obj.fields:
        found = formatter(field, endpoint_of)
        if found is not None:
            formatters[field.api_name] = found
    for name in ("created_at", "updated_at"):
        formatters[name] = lambda view, context, model, name: moment(model.get(name))
    return formatters
