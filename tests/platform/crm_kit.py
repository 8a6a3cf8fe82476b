"""Shared by the platform tests (imported by conftest.py and the test modules): sample objects
and ``Crm``, a small handle on one tenant's CRM seen through the platform's own doors.

``Crm`` always asks the platform for the tenant's current runtime, as a request would, so a test
sees each metadata change the way the next request after it does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Inspector, inspect, text

from trellis.platform import revisions
from trellis.platform.configuration import MetadataEditor
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor, RecordService
from trellis.platform.runtime import TenantRuntime

ACCOUNT: dict[str, Any] = {
    "api_name": "account",
    "label": {"en": "Account", "fr": "Compte"},
    "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Account name", "type": "text", "required": True, "unique": True,
         "max_length": 200},
        {"api_name": "website", "label": "Website", "type": "url"},
    ],
}

DEAL: dict[str, Any] = {
    "api_name": "deal",
    "label": "Deal",
    "name_field": "name",
    "fields": [
        {"api_name": "number", "label": "Deal number", "type": "autonumber", "format": "DEAL-{0000}"},
        {"api_name": "name", "label": "Deal name", "type": "text", "required": True, "indexed": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account", "required": True,
         "on_delete": "restrict"},
        {"api_name": "partner", "label": "Partner", "type": "lookup", "target": "account"},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "required": True, "default": "new",
         "values": [{"value": "new", "label": "New"}, {"value": "won", "label": "Won"},
                    {"value": "lost", "label": "Lost"}]},
        {"api_name": "tags", "label": "Tags", "type": "multi_picklist",
         "values": [{"value": "vip", "label": "VIP"}, {"value": "renewal", "label": "Renewal"}]},
        {"api_name": "amount", "label": "Amount", "type": "currency", "min": 0},
        {"api_name": "ratio", "label": "Ratio", "type": "decimal", "precision": 12, "scale": 6},
        {"api_name": "seats", "label": "Seats", "type": "integer", "default": 1},
        {"api_name": "hot", "label": "Hot", "type": "boolean", "default": False},
        {"api_name": "close_date", "label": "Close date", "type": "date"},
        {"api_name": "closed_at", "label": "Closed at", "type": "datetime"},
        {"api_name": "contact_email", "label": "Contact email", "type": "email", "unique": True},
        {"api_name": "phone", "label": "Phone", "type": "phone"},
        {"api_name": "notes", "label": "Notes", "type": "long_text"},
    ],
}


@dataclass
class Crm:
    """One tenant, seen through the platform's own doors."""

    platform: Platform
    slug: str
    actor: Actor

    @property
    def runtime(self) -> TenantRuntime:
        return self.platform.runtime(self.slug)

    def editor(self, actor: Actor | None = None) -> MetadataEditor:
        return self.platform.editor(self.runtime, actor or self.actor)

    @property
    def records(self) -> RecordService:
        return self.platform.records(self.runtime, self.actor)

    def create(self, *docs: dict[str, Any]) -> None:
        for doc in docs:
            self.editor().create_object(copy.deepcopy(doc))

    def sales(self) -> None:
        """The account and deal objects above."""
        self.create(ACCOUNT, DEAL)

    @property
    def schema(self) -> str | None:
        return self.runtime.store.schema

    def inspector(self) -> Inspector:
        """A fresh inspector (SQLAlchemy's caches what it has seen)."""
        return inspect(self.runtime.store.engine)

    def tables(self) -> set[str]:
        return set(self.inspector().get_table_names(schema=self.schema))

    def columns(self, table: str) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.inspector().get_columns(table, schema=self.schema)}

    def qualified(self, table: str) -> str:
        return f'"{self.schema}".{table}' if self.schema else table

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Plain SQL against the tenant's tables, as a BI tool would run it ({t} is the schema prefix)."""
        prefix = f'"{self.schema}".' if self.schema else ""
        with self.runtime.store.engine.begin() as conn:
            result = conn.execute(text(statement.replace("{t}", prefix)), params)
            return result.all() if result.returns_rows else []

    def revision(self) -> int:
        with self.runtime.store.engine.connect() as conn:
            return revisions.current_number(conn, self.runtime.store)

    def history(self) -> list[revisions.Revision]:
        with self.runtime.store.engine.connect() as conn:
            return revisions.history(conn, self.runtime.store)

    def load_revision(self, number: int | None = None) -> revisions.Revision:
        with self.runtime.store.engine.connect() as conn:
            return revisions.load(conn, self.runtime.store, number)
