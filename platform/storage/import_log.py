"""The CSV import log of a tenant store: one row per import, one per rejected cell (``trellis.platform.imports``)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

from .tables import NAMING_CONVENTION, JsonValue, RecordId


@lru_cache(maxsize=4096)
def import_tables(schema: str | None) -> tuple[Table, Table]:
    """``trellis_imports`` (one row per import) and ``trellis_import_problems`` (one per rejected cell)."""
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    imports = Table(
        "trellis_imports",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("object", String(100), nullable=False),
        Column("file_name", String(255), nullable=True),
        Column("status", String(20), nullable=False),
        Column("spec", JsonValue, nullable=False),
        Column("content", Text, nullable=False),
        Column("total", Integer, nullable=False),
        Column("done", Integer, nullable=False, default=0),
        Column("created", Integer, nullable=False, default=0),
        Column("updated", Integer, nullable=False, default=0),
        Column("rejected", Integer, nullable=False, default=0),
        Column("job_id", BigInteger, nullable=True),
        Column("error", Text, nullable=True),
        Column("created_by", BigInteger, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
    )
    problems = Table(
        "trellis_import_problems",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("import_id", BigInteger, nullable=False),
        Column("row", Integer, nullable=False),
        Column("column", String(255), nullable=True),
        Column("value", Text, nullable=True),
        Column("reason", Text, nullable=False),
    )
    Index("ix_trellis_import_problems_import", problems.c.import_id, problems.c.row)
    return imports, problems
