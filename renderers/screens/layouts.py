"""Form layouts on the screens: sections and columns, live rules in the browser, related lists on a record.

``FormLayouts`` is a mixin of ``RecordView``. With a default layout, the create and edit forms
show its sections (1-3 columns), in its order, with its help texts; fields it shows read-only
are taken out of the submitted form, so saving keeps their values, and fields it does not place
(say, added after it was written) follow in a last section. Each form
rule is compiled from its checked tree to JSON (``rule_json``) and sent with the page, where
``static/trellis-rules.js`` evaluates it on every input event. The record service enforces the
same rules again on save (``trellis.platform.records.rules``). An object without layouts keeps
the plain form of every field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Response, send_file, url_for
from flask_admin import expose
from flask_admin.helpers import is_form_submitted
from markupsafe import Markup
from wtforms.form import Form

from trellis.metadata.expressions import Binary, Call, Checked, FieldRef, InList, Literal, Node, Unary, children
from trellis.metadata.labels import localize
from trellis.metadata.layouts import FormField, Layout, check_form_rule, default_layout
from trellis.platform.records.query import Filter, ListQuery

from .display import TITLES
from .i18n import language_tag
from .permissions import role_layout

STATIC = Path(__file__).resolve().parent / "static"


def rule_json(checked: Checked) -> dict[str, Any]:
    """The checked tree as the JSON the browser's evaluator reads; every node carries its type."""

    def node(n: Node) -> dict[str, Any]:
        kind = checked.type_of(n).value
        if isinstance(n, Literal):
            return {"k": "lit", "t": kind, "v": _plain(n.value)}
        if isinstance(n, FieldRef):
            return {"k": "field", "t": kind, "n": n.path[0]}
        if isinstance(n, Unary):
            return {"k": "un", "t": kind, "op": n.op, "a": node(n.operand)}
        if isinstance(n, Binary):
            return {"k": "bin", "t": kind, "op": n.op, "l": node(n.left), "r": node(n.right)}
        if isinstance(n, InList):
            return {"k": "in", "t": kind, "v": node(n.value), "items": [node(i) for i in n.items]}
        assert isinstance(n, Call)
        return {"k": "call", "t": kind, "f": n.name, "args": [node(a) for a in n.args]}

    return node(checked.root)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class Cell:
    """One place in a section: the bound form field, or a read-only value when the form does not edit it."""

    name: str
    label: str
    form_field: Any = None
    value: str = ""
    readonly: bool = False


@dataclass
class ShownSection:
    label: str
    width: int
    cells: list[Cell] = field(default_factory=list)


class FormLayouts:
    """Mixin of ``RecordView`` (which provides ``obj`` and ``service``)."""

    create_template = "trellis/layout_create.html"
    edit_template = "trellis/layout_edit.html"

    def default_layout(self) -> Layout | None:
        service = self.service()  # type: ignore[attr-defined]
        document = service.runtime.documents[self.obj.api_name]  # type: ignore[attr-defined]
        return role_layout(document, service.access, self.obj) or default_layout(document)  # type: ignore[attr-defined]

    def validate_form(self, form: Form) -> bool:
        """Before saving, drop the fields the layout shows read-only, so saving keeps their values."""
        layout = self.default_layout()
        if layout is not None and is_form_submitted():
            for name in [item.field for item in layout.form_fields() if item.readonly and item.field in form]:
                del form[name]
        return super().validate_form(form)  # type: ignore[misc]

    def form_sections(self, form: Form, model: dict[str, Any] | None = None) -> list[ShownSection]:
        """The default layout's sections with the form's fields in place (help texts set from the layout)."""
        layout, locale = self.default_layout(), language_tag()
        sections = []
        for section in layout.sections if layout else ():
            shown = ShownSection(localize(section.label, locale, ""), 12 // section.columns)
            for item in section.fields:
                shown.cells.append(self._cell(form, item, model, locale))
            sections.append(shown)
        placed = {item.field for item in layout.form_fields()} if layout else set()
        rest = [f.api_name for f in self.obj.fields if f.api_name in form and f.api_name not in placed]  # type: ignore
        if layout and rest:  # a field added after the layout was written is still reachable
            sections.append(ShownSection("", 12, [self._cell(form, FormField(name), model, locale) for name in rest]))
        return sections

    def _cell(self, form: Form, item: FormField, model: dict[str, Any] | None, locale: str) -> Cell:
        definition = self.obj.field(item.field)  # type: ignore[attr-defined]
        cell = Cell(item.field, definition.title(locale), readonly=item.readonly or definition.kind.generated)
        if item.field in form:
            cell.form_field = form[item.field]
            if item.help_text:
                cell.form_field.description = localize(item.help_text, locale, "")
        elif model is not None:
            value = model.get(TITLES, {}).get(item.field, model.get(item.field))
            cell.value = "" if value is None else str(value)
        return cell

    def layout_rules(self, model: dict[str, Any] | None = None) -> Markup:
        """The layout's live rules as JSON for ``trellis-rules.js`` (safe inside a <script> element)."""
        layout = self.default_layout()
        runtime = self.service().runtime  # type: ignore[attr-defined]
        fields, names = [], set()
        for item in layout.form_fields() if layout else ():
            rule: dict[str, Any] = {"field": item.field, "required": item.required,
                                    "always_required": self.obj.field(item.field).required}  # type: ignore
            for key, out in (("visible_if", "visible"), ("required_if", "required_if"), ("readonly_if", "readonly_if")):
                text = item.rule(key)
                if text is not None:
                    checked = check_form_rule(text, self.obj, runtime.objects)  # type: ignore[attr-defined]
                    rule[out] = rule_json(checked)
                    names |= _field_refs(checked.root)
            fields.append(rule)
        values = {name: (model or {}).get(name) for name in names}
        spec = {"fields": fields, "values": values, "now": int(datetime.now(UTC).timestamp() * 1000)}
        text = json.dumps(spec, default=str).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return Markup(text)

    @expose("/trellis-rules.js")
    def rules_script(self) -> Response:
        """The browser's rule evaluator, served by the tenant app (which has no static folder of its own)."""
        return send_file(STATIC / "trellis-rules.js", mimetype="text/javascript", max_age=3600)

    def related_lists(self, model: dict[str, Any]) -> list[dict[str, Any]]:
        """For the record page: each related list of the default layout with up to 20 child records."""
        from .views import endpoint_for  # views imports this module

        layout, locale = self.default_layout(), language_tag()
        panels = []
        runtime = self.service().runtime  # type: ignore[attr-defined]
        for related in layout.related_lists if layout else ():
            if related.object not in runtime.objects:  # archived since the layout was saved
                continue
            child = runtime.object(related.object)
            names = list(related.fields) or [child.name_field or "id"]
            page = self.service().list(related.object, ListQuery(  # type: ignore[attr-defined]
                filters=[Filter(related.via, "eq", model["id"])], limit=20, with_total=True))
            rows = [{"url": url_for(f"{endpoint_for(child.api_name)}.details_view", id=record["id"]),
                     "cells": ["" if record.get(n) is None else str(record.get(n)) for n in names]}
                    for record in page.records]
            panels.append({"label": child.plural_title(locale), "total": page.total, "rows": rows,
                           "columns": [child.field(n).title(locale) if child.has_field(n) else n for n in names],
                           "object": child.api_name})
        return panels


def _field_refs(node: Node) -> set[str]:
    found = {node.path[0]} if isinstance(node, FieldRef) else set()
    for child in children(node):
        found |= _field_refs(child)
    return found
