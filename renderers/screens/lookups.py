"""Choosing the record a lookup points at: flask-admin's ajax Select2 over the record service.

The choices are searched as the user types (``<view>/ajax/lookup/?name=<field>``)
instead of being listed in the page, so a lookup to an object with a million
records costs one short query, and the user only sees records the query
engine lets them see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from flask_admin.model.ajax import AjaxModelLoader
from flask_babel import lazy_gettext

from trellis.metadata.model import ObjectDef
from trellis.metadata.values import INT64_MAX
from trellis.platform.errors import Forbidden, InvalidInput
from trellis.platform.records.query import MAX_LIMIT, ListQuery
from trellis.platform.records.service import RecordService


def record_id(raw: Any) -> int | None:
    """A record id from a URL or form, or None if it cannot be one (the database would overflow on it)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= INT64_MAX else None


class Choice(TypedDict):
    """A lookup value as the form holds it: the target record's id and title."""

    id: int
    title: str


class RecordLoader(AjaxModelLoader):
    """Finds records of ``target`` by their title for one lookup field."""

    def __init__(self, name: str, target: ObjectDef, service: Callable[[], RecordService]) -> None:
        super().__init__(name, {"placeholder": lazy_gettext("Type to search"), "minimum_input_length": 0})
        self.target = target.api_name
        self.title_field = target.name_field
        title = self.title_field
        sortable = bool(title) and target.has_field(title) and target.field(title).kind.sortable
        self.sort = [(title, False)] if sortable else []
        self.service = service

    def format(self, model: Choice | None) -> tuple[Any, str] | None:
        return (model["id"], model["title"]) if model else None

    def get_one(self, pk: Any) -> Choice | None:
        found = record_id(pk)
        title = self.service().titles(self.target, {found}).get(found) if found is not None else None
        return Choice(id=found, title=title) if found is not None and title is not None else None

    def get_list(self, query: str, offset: int = 0, limit: int = 10) -> list[Choice]:
        request = ListQuery(search=query or None, sort=self.sort, limit=max(1, min(limit or 10, MAX_LIMIT)),
                            offset=max(0, offset or 0))
        try:
            page = self.service().list(self.target, request)
        except (InvalidInput, Forbidden):  # a bad search, or an object the user's roles cannot read
            return []
        return [self.choice(record) for record in page.records]

    def choice(self, record: dict[str, Any]) -> Choice:
        value = record.get(self.title_field) if self.title_field else None
        return Choice(id=record["id"], title=str(value) if value is not None else f"#{record['id']}")
