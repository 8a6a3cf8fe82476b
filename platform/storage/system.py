"""Tables the platform keeps inside each tenant's own store.

Metadata revisions live beside the tenant's records, not in the control plane,
so that a revision and the DDL it causes commit in one transaction on SQLite
(one file per tenant) as well as on PostgreSQL, and so that a tenant's backup
carries its whole configuration history.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, func

from .tables import NAMING_CONVENTION, JsonValue


@lru_cache(maxsize=4096)
def system_tables(schema: str | None) -> tuple[Table, Table]:
    """The revision log and the autonumber counters of one tenant store.

    Cached per schema: every request reads the newest revision number, and the same
    ``Table`` objects let SQLAlchemy reuse the compiled statement instead of compiling it anew.
    """
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    revisions = Table(
        "trellis_revisions",
        metadata,
        Column("number", Integer, primary_key=True, autoincrement=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.current_timestamp()),
        Column("author_id", BigInteger, nullable=True),
        Column("summary", Text, nullable=False),
        Column("documents", JsonValue, nullable=False),
        Column("changes", JsonValue, nullable=False),
    )
    sequences = Table(
        "trellis_sequences",
        metadata,
        Column("name", String(200), primary_key=True),
        Column("last_value", BigInteger, nullable=False),
    )
    return revisions, sequences


@lru_cache(maxsize=4096)
def conversion_table(schema: str | None) -> Table:
    """Checkpoints of type conversions running as jobs: one row per field being converted.

    Kept in the tenant's store so that each batch of converted values and the
    checkpoint saying it is done commit in one transaction: a worker killed
    between batches resumes after the last committed one, converting each row
    once. Created on first use; a finished conversion keeps its row as a record.
    """
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    return Table(
        "trellis_conversions",
        metadata,
        Column("field_id", String(40), primary_key=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("last_id", BigInteger, nullable=False),
        Column("converted", BigInteger, nullable=False),
        Column("failed", BigInteger, nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
    )
