"""The automation logs in a tenant backup: the run log (the time scan's memory) and the delivery log.

A restored tenant must not fire its time-based rules again for records that
already fired, so the run log travels with the records, ids and all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select

from ..storage.stores import TenantStore
from ..storage.system import automation_tables
from ..storage.transfer import from_plain, reset_id_sequences, to_plain


def read_logs(conn: Connection, store: TenantStore) -> dict[str, list[dict[str, Any]]]:
    """Both logs in id order as JSON-ready rows; empty for a tenant whose rules never ran."""
    found: dict[str, list[dict[str, Any]]] = {}
    existing = set(inspect(conn).get_table_names(schema=store.schema))
    for key, table in zip(("runs", "deliveries"), automation_tables(store.schema), strict=True):
        rows = conn.execute(select(table).order_by(table.c.id)).mappings() if table.name in existing else []
        found[key] = [{name: to_plain(value) for name, value in row.items()} for row in rows]
    return found


def restore_logs(conn: Connection, store: TenantStore, logs: dict[str, list[dict[str, Any]]]) -> None:
    """Create the log tables in the new store (inside the restore's transaction) and fill them."""
    tables = automation_tables(store.schema)
    for key, table in zip(("runs", "deliveries"), tables, strict=True):
        table.create(conn, checkfirst=True)
        rows = logs.get(key) or []
        if rows:
            types = {column.name: column.type for column in table.c}
            conn.execute(insert(table), [{k: from_plain(types[k], v) for k, v in row.items()} for row in rows])
    reset_id_sequences(conn, store, tables)
