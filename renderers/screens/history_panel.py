"""The record page's "History" panel: changes of tracked fields, newest first, with who made them by name.

``RecordView`` inherits ``FieldHistoryPanel``; ``record_details.html`` includes
``trellis/field_history.html``, which calls ``field_changes`` with the shown record.
Values are shown as the record page shows them: picklists by label, lookups by title.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import gettext

from trellis.metadata.labels import localize
from trellis.metadata.model import FieldDef, ObjectDef
from trellis.platform.controlplane.people import names_of
from trellis.platform.core import Platform
from trellis.platform.errors import NotFound
from trellis.platform.records.history import field_history, tracked_fields
from trellis.platform.records.service import RecordService

from .i18n import language_tag

#: Changes shown on the page; the API pages through all of them.
SHOWN = 50


class FieldHistoryPanel:
    """The method the History panel calls; the view provides ``obj`` and ``service``."""

    obj: ObjectDef
    service: Callable[[], RecordService]

    def field_changes(self, record: dict[str, Any]) -> list[dict[str, str]]:
        if not tracked_fields(self.obj) or record.get("id") is None:
            return []
        service = self.service()
        try:
            entries = field_history(service, self.obj.api_name, record["id"], limit=SHOWN).entries
        except NotFound:
            return []
        platform: Platform = current_app.extensions["trellis"]
        with platform.control() as session:
            names = names_of(session, {entry["changed_by"] for entry in entries})
        locale = language_tag()
        fields = {field.api_name: field for field in self.obj.fields}
        return [{"field": localize(fields[e["field"]].label, locale, e["field"]),
                 "old": _shown(service, fields[e["field"]], e["old"], locale),
                 "new": _shown(service, fields[e["field"]], e["new"], locale),
                 "who": names.get(e["changed_by"]) or (gettext("the system") if e["changed_by"] is None
                                                       else gettext("user #%(id)s", id=e["changed_by"])),
                 "when": e["changed_at"].strftime("%Y-%m-%d %H:%M UTC")} for e in entries]


def _shown(service: RecordService, field: FieldDef, value: Any, locale: str) -> str:
    """A stored history value in words: picklist labels, lookup titles, lists joined; blank as a dash."""
    if value is None or value == []:
        return "—"
    labels = {c["value"]: localize(c.get("label"), locale, c["value"]) for c in field.choices}
    if field.type == "lookup" and field.target:
        return service.titles(field.target, {value}).get(value, f"#{value}")
    if isinstance(value, list):
        return ", ".join(labels.get(item, str(item)) for item in value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return labels.get(value, str(value))
