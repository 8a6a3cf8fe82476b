"""``trellis_field_history``: every change of a tracked field, kept in the tenant's own store.

Beside the records (not in the control plane) so a change and its history row
commit in one transaction, and so backups and moves carry it. Objects and fields
are named by their stable ids, with the field's api_name at the time for reading.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Column, Connection, DateTime, Index, MetaData, String, Table, Text, delete, inspect

from .tables import NAMING_CONVENTION, RecordId


@lru_cache(maxsize=4096)
def field_history_table(schema: str | None) -> Table:
    """One row per tracked field changed by a write: old and new values as JSON text, who and when."""
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    history = Table(
        "trellis_field_history",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("object_id", String(40), nullable=False),
        Column("record_id", BigInteger, nullable=False),
        Column("field_id", String(40), nullable=False),
        Column("field", String(100), nullable=False),
        Column("old_value", Text, nullable=True),
        Column("new_value", Text, nullable=True),
        Column("changed_by", BigInteger, nullable=True),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    Index("ix_trellis_field_history_record", history.c.object_id, history.c.record_id, history.c.id)
    return history


def forget_field_history(conn: Connection, schema: str | None, object_id: str) -> None:
    """Delete the field history of an object whose table is purged for good (archiving keeps it)."""
    history = field_history_table(schema)
    if inspect(conn).has_table(history.name, schema=schema):
        conn.execute(delete(history).where(history.c.object_id == object_id))
