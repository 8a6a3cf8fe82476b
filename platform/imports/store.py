"""Imports and their rejected rows, kept in the tenant's own store.

The uploaded file lives on the import's row, so any worker (another process, another
machine with rq) can run the job; the rows done and the counts are updated in the same
transaction as each batch of records, so a job run again after a crash resumes after the
last committed batch. Rejected rows are one table row per problem (row number, column,
value, reason), which is what the report shows and the CSV download holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..storage.import_log import import_tables
from ..storage.stores import TenantStore


def create(store: TenantStore, values: dict[str, Any]) -> int:
    imports, _ = import_tables(store.schema)
    row = {"status": "queued", "done": 0, "created": 0, "updated": 0, "rejected": 0,
           "created_at": datetime.now(UTC), **values}
    with store.engine.begin() as conn:
        return conn.execute(insert(imports).values(row).returning(imports.c.id)).scalar_one()


def get(store: TenantStore, import_id: int) -> dict[str, Any] | None:
    imports, _ = import_tables(store.schema)
    with store.engine.connect() as conn:
        row = conn.execute(select(imports).where(imports.c.id == import_id)).mappings().first()
    return dict(row) if row is not None else None


def set_fields(store: TenantStore, import_id: int, **values: Any) -> None:
    imports, _ = import_tables(store.schema)
    with store.engine.begin() as conn:
        conn.execute(update(imports).where(imports.c.id == import_id).values(**values))


def record_batch(conn: Connection, store: TenantStore, import_id: int, done: int, counts: dict[str, int],
                 problems: list[dict[str, Any]]) -> None:
    """Inside a batch's transaction: move the checkpoint and add its counts and rejected rows."""
    imports, problem_table = import_tables(store.schema)
    conn.execute(update(imports).where(imports.c.id == import_id).values(
        done=done, **{name: imports.c[name] + count for name, count in counts.items()}))
    if problems:
        rows = [{"import_id": import_id, **problem, "column": (problem["column"] or "")[:255] or None}
                for problem in problems]  # a header may be longer than the column keeps
        conn.execute(insert(problem_table), rows)


def problems(store: TenantStore, import_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """Rejected rows' problems in row order: row, column, value, reason."""
    _, table = import_tables(store.schema)
    statement = (select(table.c.row, table.c.column, table.c.value, table.c.reason)
                 .where(table.c.import_id == import_id).order_by(table.c.row, table.c.id))
    if limit is not None:
        statement = statement.limit(limit)
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]

