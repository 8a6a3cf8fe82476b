"""Field history: one row per change of a field marked ``"tracked": true`` — old value, new value, who, when.

The record service calls ``track_changes`` inside the transaction that writes the
record (like ``enter_stages``), so a change and its history commit or roll back
together, through every door. Values are stored as JSON text (decimals as
strings without trailing zeros, dates and times in ISO 8601, UTC) and read back as JSON values. A
record's history is deleted with the record: on SQLite a deleted record's id may
be handed out again, and the new record must not inherit someone else's past.
Readers see only the history of fields they may read (``readable_fields``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from trellis.metadata.model import FieldDef, ObjectDef

from ..errors import FieldProblem, InvalidInput
from ..storage.field_history import field_history_table
from ..storage.stores import TenantStore
from ..storage.transfer import read_table, restore_table

if TYPE_CHECKING:
    from .service import RecordService

MAX_PAGE = 200


def tracked_fields(obj: ObjectDef) -> list[FieldDef]:
    return [field for field in obj.fields if field.options.get("tracked") and not field.kind.computed]


def track_changes(conn: Connection, store: TenantStore, obj: ObjectDef, record_id: int,
                  before: Mapping[str, Any] | None, changes: Mapping[str, Any], user_id: int | None) -> None:
    """Append a row per tracked field whose value the write changes; ``before`` is None on create
    (then the fields given a value are recorded, from blank)."""
    rows = []
    now = datetime.now(UTC)
    for field in tracked_fields(obj):
        if field.api_name not in changes:
            continue
        old = _comparable((before or {}).get(field.api_name))
        new = _comparable(changes[field.api_name])
        if old != new:
            rows.append({"object_id": obj.id, "record_id": record_id, "field_id": field.id, "field": field.api_name,
                         "old_value": _text(old), "new_value": _text(new), "changed_by": user_id, "changed_at": now})
    if rows:
        conn.execute(insert(field_history_table(store.schema)), rows)


def forget_changes(conn: Connection, store: TenantStore, obj: ObjectDef, record_id: int) -> None:
    """Delete a deleted record's field history with it (even of fields no longer tracked)."""
    history = field_history_table(store.schema)
    conn.execute(delete(history).where(history.c.object_id == obj.id, history.c.record_id == record_id))


@dataclass(frozen=True)
class HistoryPage:
    entries: list[dict[str, Any]]
    #: The id to pass as ``before`` for the next (older) page; None on the last page.
    next_before: int | None


def field_history(service: RecordService, object_name: str, record_id: int, *, limit: int = 50,
                  before: int | None = None) -> HistoryPage:
    """A record's tracked-field changes, newest first, only of the fields the actor may read.

    A record the actor cannot read (or that does not exist) is ``NotFound``, as for ``get``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("Bad limit.", [FieldProblem("limit", f"limit must be from 1 to {MAX_PAGE}.")])
    service.get(object_name, record_id)
    obj = service.runtime.object(object_name)
    readable = set(service.readable_fields(object_name))
    fields = {f.id: f for f in obj.fields if f.api_name in readable}
    history = field_history_table(service.runtime.store.schema)
    query = (select(history).where(history.c.object_id == obj.id, history.c.record_id == record_id,
                                   history.c.field_id.in_(list(fields)))
             .order_by(history.c.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(history.c.id < before)
    with service.runtime.store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    entries = [{"id": row["id"], "field": fields[row["field_id"]].api_name, "old": _value(row["old_value"]),
                "new": _value(row["new_value"]), "changed_by": row["changed_by"],
                "changed_at": _aware(row["changed_at"])} for row in rows[:limit]]
    return HistoryPage(entries, entries[-1]["id"] if len(rows) > limit else None)


def read_history(conn: Connection, store: TenantStore) -> list[dict[str, Any]]:
    """Every row as JSON-ready values, in id order, for a tenant's backup."""
    return read_table(conn, field_history_table(store.schema))


def restore_history(conn: Connection, store: TenantStore, rows: list[dict[str, Any]]) -> None:
    """Put a backup's rows back with their ids, inside the restore's transaction."""
    restore_table(conn, store, field_history_table(store.schema), rows)


def _comparable(value: Any) -> Any:
    """Stored and typed values alike: times in UTC (SQLite gives them naive), JSON lists parsed, blanks None."""
    if isinstance(value, datetime):
        return _aware(value)
    if value in ("", []):
        return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        plain: Any = value.isoformat()
    elif isinstance(value, Decimal):  # the same number reads the same whether typed (2.5) or stored (2.50)
        plain = format(value.normalize(), "f")
    else:
        plain = value
    return json.dumps(plain, ensure_ascii=False)


def _value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
