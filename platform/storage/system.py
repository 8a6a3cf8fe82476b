"""Tables the platform keeps inside each tenant's own store.

Metadata revisions live beside the tenant's records, not in the control plane,
so that a revision and the DDL it causes commit in one transaction on SQLite
(one file per tenant) as well as on PostgreSQL, and so that a tenant's backup
carries its whole configuration history.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    inspect,
)

from .field_history import field_history_table
from .import_log import import_tables
from .installed import template_table
from .tables import NAMING_CONVENTION, JsonValue, RecordId


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


@lru_cache(maxsize=4096)
def stage_history_table(schema: str | None) -> Table:
    """Every stage change of every record of a tenant: one row per move (and per first stage on create).

    Objects and fields are named by their stable ids, so the history survives renames and an
    object's archive and restore. Written in the transaction that changes the record, so a
    record and its history never disagree; time in a stage is the gap to the next row.
    """
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    history = Table(
        "trellis_stage_history",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("object_id", String(40), nullable=False),
        Column("record_id", BigInteger, nullable=False),
        Column("field_id", String(40), nullable=False),
        Column("from_value", String(100), nullable=True),
        Column("to_value", String(100), nullable=True),
        Column("changed_by", BigInteger, nullable=True),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    Index("ix_trellis_stage_history_record", history.c.object_id, history.c.record_id, history.c.id)
    return history


def forget_stage_history(conn: Connection, schema: str | None, object_id: str) -> None:
    """Delete the stage history of an object whose table is purged for good (archiving keeps it)."""
    history = stage_history_table(schema)
    if inspect(conn).has_table(history.name, schema=schema):
        conn.execute(delete(history).where(history.c.object_id == object_id))


@lru_cache(maxsize=4096)
def automation_tables(schema: str | None) -> tuple[Table, Table]:
    """``trellis_automation_runs`` and ``trellis_webhook_deliveries`` of one store."""
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    runs = Table(
        "trellis_automation_runs",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("object", String(100), nullable=False),
        Column("rule", String(100), nullable=False),
        Column("record_id", BigInteger, nullable=True),
        Column("trigger", String(20), nullable=False),
        #: What fired it, unique per run: rule + record + version (or date value, or schedule slot).
        Column("event_key", String(200), nullable=False, unique=True),
        #: For time and schedule rules: the date value or slot it fired for (the scan's memory).
        Column("fire_key", String(60), nullable=True),
        Column("status", String(20), nullable=False),
        Column("depth", Integer, nullable=False),
        Column("job_id", BigInteger, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("actions_done", Integer, nullable=False, default=0),
        Column("error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=True),
        Column("finished_at", DateTime(timezone=True), nullable=True),
    )
    Index("ix_trellis_automation_runs_rule", runs.c.object, runs.c.rule, runs.c.created_at)
    Index("ix_trellis_automation_runs_fired", runs.c.object, runs.c.rule, runs.c.record_id, runs.c.fire_key)
    deliveries = Table(
        "trellis_webhook_deliveries",
        metadata,
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("delivery_id", String(64), nullable=False),
        Column("run_id", BigInteger, nullable=True),
        Column("url", String(2000), nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("error", Text, nullable=True),
        Column("duration_ms", Integer, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
    )
    Index("ix_trellis_webhook_deliveries_delivery", deliveries.c.delivery_id, deliveries.c.attempt)
    return runs, deliveries


def platform_tables(schema: str | None) -> tuple[Table, ...]:
    """Every table the platform keeps in a tenant store, created when the store is provisioned
    (and, for a store provisioned before one of them existed, when a process first opens it)."""
    return (*system_tables(schema), stage_history_table(schema), *automation_tables(schema), template_table(schema),
            field_history_table(schema), *import_tables(schema))
