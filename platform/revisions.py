"""The append-only log of a tenant's metadata revisions.

Revision 0 is the empty configuration a tenant is born with. Every change
appends the next number with the full set of documents (so any revision can be
rebuilt, diffed or exported on its own) and the list of changes it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from trellis.metadata import definitions as kinds

from .errors import Conflict
from .storage.stores import TenantStore
from .storage.system import system_tables


@dataclass(frozen=True)
class Revision:
    number: int
    created_at: datetime | None
    author_id: int | None
    summary: str
    #: The object documents (archived ones included).
    documents: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    #: Roles, reports, dashboards… by kind and api_name (``metadata/definitions.py``).
    definitions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def current_number(conn: Connection, store: TenantStore) -> int:
    """The newest revision number: one indexed lookup, cheap enough for every request."""
    revisions, _ = system_tables(store.schema)
    return conn.execute(select(func.max(revisions.c.number))).scalar() or 0


def load(conn: Connection, store: TenantStore, number: int | None = None) -> Revision:
    """Revision ``number`` (the newest when ``None``); an empty revision 0 if none exists yet."""
    revisions, _ = system_tables(store.schema)
    number = current_number(conn, store) if number is None else number
    row = conn.execute(select(revisions).where(revisions.c.number == number)).mappings().first()
    if row is None:
        return Revision(0, None, None, "Empty configuration", [], [])
    objects, definitions = kinds.split(row["documents"])
    return Revision(row["number"], row["created_at"], row["author_id"], row["summary"],
                    objects, list(row["changes"]), definitions)


def history(conn: Connection, store: TenantStore) -> list[Revision]:
    """All revisions, newest first, without their documents (for listings)."""
    revisions, _ = system_tables(store.schema)
    c = revisions.c
    columns = [c.number, c.created_at, c.author_id, c.summary, c.changes]
    rows = conn.execute(select(*columns).order_by(revisions.c.number.desc())).all()
    return [Revision(r.number, r.created_at, r.author_id, r.summary, [], list(r.changes)) for r in rows]


def append(conn: Connection, store: TenantStore, *, after: int, documents: list[dict[str, Any]],
           definitions: kinds.Definitions, changes: list[dict[str, Any]], author_id: int | None,
           summary: str) -> int:
    """Record revision ``after + 1`` (its object documents and definitions) inside the caller's transaction.

    Two admins saving at once both try to write the same number; the primary
    key lets exactly one win and the other gets a conflict to retry.
    """
    revisions, _ = system_tables(store.schema)
    number = after + 1
    try:
        with conn.begin_nested():
            conn.execute(insert(revisions).values(
                number=number, author_id=author_id, summary=summary, documents=kinds.join(documents, definitions),
                changes=changes))
    except IntegrityError:
        raise Conflict("Someone else changed the configuration at the same time. Reload and try again.") from None
    return number
