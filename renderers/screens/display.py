"""How a stored value reads in lists and detail pages.

Values arrive as the record service dumps them (ISO strings, plain numbers,
ids); people want picklist labels in their language, the title of the record
a lookup points at (linked to it), and dates without machine noise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import url_for
from markupsafe import Markup
from werkzeug.routing import BuildError

from trellis.metadata.labels import localize
from trellis.metadata.model import FieldDef

from .i18n import language_tag

#: Where a listed or shown record keeps the titles of the records its lookups point at.
TITLES = "_titles"

Formatter = Callable[[Any, Any, dict[str, Any], str], Any]


def formatter(field: FieldDef, endpoint_of: Callable[[str], str]) -> Formatter | None:
    """A flask-admin column formatter for ``field``, or None when the plain value reads well."""
    widget = field.kind.widget
    if widget == "lookup":
        endpoint = endpoint_of(field.target or "")
        return lambda view, context, model, name: lookup_link(model, name, endpoint)
    if widget in ("select", "multiselect"):
        labels = {c["value"]: c.get("label") for c in field.choices}
        return lambda view, context, model, name: choice_labels(model.get(name), labels)
    if widget == "datetime":
        return lambda view, context, model, name: moment(model.get(name))
    if widget == "rating":  # an extension's star rating: ★★★☆☆
        return lambda view, context, model, name: "" if model.get(name) is None else (
            "★" * int(model[name]) + "☆" * (5 - int(model[name])))
    if field.type in ("currency", "percent"):
        suffix = "%" if field.type == "percent" else f" {field.options.get('currency', '')}".rstrip()
        return lambda view, context, model, name: amount(model.get(name), suffix)
    return None


def lookup_link(model: dict[str, Any], name: str, endpoint: str) -> Markup | str:
    target_id = model.get(name)
    if target_id is None:
        return ""
    title = model.get(TITLES, {}).get(name) or f"#{target_id}"
    try:
        href = url_for(endpoint, id=target_id)
    except BuildError:
        return title
    return Markup('<a href="{}">{}</a>').format(href, title)


def choice_labels(value: Any, labels: dict[str, Any]) -> str:
    values = value if isinstance(value, list) else [] if value is None else [value]
    return ", ".join(localize(labels.get(v), language_tag(), str(v)) or str(v) for v in values)


def moment(value: Any) -> str:
    if not isinstance(value, str):
        return "" if value is None else str(value)
    parsed = datetime.fromisoformat(value)
    parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def amount(value: Any, suffix: str) -> str:
    """Money with two decimals and its currency; percentages as typed."""
    if value is None:
        return ""
    number = Decimal(str(value))
    return f"{number:g}%" if suffix == "%" else f"{number:,.2f}{suffix}"
