"""Moving a whole tenant store out and back in: the SQL side of backup and restore.

The tenant layer decides the archive's shape; every statement lives here so
renderers and tenants never write SQL. Rows are read through reflection of the
real tables, not the compiled metadata, so columns the live metadata no longer
names (archived fields) travel too. Values are turned into JSON-ready ones that
keep their exact meaning on either backend: decimals as strings, dates and
times as ISO text with a UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, ForeignKey, MetaData, Table, bindparam, insert, inspect, select, text, update
from sqlalchemy.types import JSON, Date, DateTime, Numeric, TypeEngine

from trellis.metadata.definitions import split
from trellis.metadata.fieldtypes import field_type
from trellis.metadata.model import FieldDef, ObjectDef, live_documents, stored_as
from trellis.metadata.validation import validate_object

from ..errors import FieldProblem, InvalidInput
from .stores import TenantStore
from .system import system_tables
from .tables import NAMING_CONVENTION, JsonValue, build_tables, field_column

#: Rows per SELECT round trip and per INSERT batch: bounded memory for big tables.
BATCH = 1000

Row = dict[str, Any]


@contextmanager
def snapshot(store: TenantStore, *, block_writes: bool = False) -> Iterator[Connection]:
    """A read transaction seeing one consistent state, so a backup taken while users work is coherent.

    ``block_writes`` (PostgreSQL) first locks every table of the store in SHARE mode: writes
    already under way finish before the snapshot is taken, and new ones wait until the
    transaction ends. The lock must be the transaction's first statement, or the snapshot
    would predate it and miss what the waited-for writers committed.
    """
    postgres = store.engine.dialect.name == "postgresql"
    names = []
    if block_writes and postgres:
        with store.engine.connect() as look:
            names = inspect(look).get_table_names(schema=store.schema)
    options = {"isolation_level": "REPEATABLE READ"} if postgres else {}
    with store.engine.connect().execution_options(**options) as conn, conn.begin():
        if names:
            conn.execute(text("LOCK TABLE " + ", ".join(f'"{store.schema}"."{name}"' for name in names)
                              + " IN SHARE MODE"))
        yield conn


def to_plain(value: Any) -> Any:
    """A JSON-ready value that ``from_plain`` turns back into the same database value."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_plain(type_: TypeEngine, value: Any) -> Any:
    """Undo ``to_plain`` for a column of ``type_`` (the column type says what the text meant)."""
    if not isinstance(value, str) or isinstance(type_, JSON):
        return value
    if isinstance(type_, DateTime):
        return datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(type_, Date):
        return date.fromisoformat(value)
    if isinstance(type_, Numeric):
        return Decimal(value)
    return value


def read_revisions(conn: Connection, store: TenantStore) -> list[Row]:
    """Every revision row, oldest first, with documents and changes."""
    revisions, _ = system_tables(store.schema)
    rows = conn.execute(select(revisions).order_by(revisions.c.number)).mappings()
    return [{key: to_plain(value) for key, value in row.items()} for row in rows]


def read_sequences(conn: Connection, store: TenantStore) -> list[Row]:
    """The autonumber counters, so a restored tenant never hands out a number twice."""
    _, sequences = system_tables(store.schema)
    return [dict(row) for row in conn.execute(select(sequences).order_by(sequences.c.name)).mappings()]


def record_tables(conn: Connection, store: TenantStore) -> list[str]:
    """The names of the store's record tables (everything but the platform's own ``trellis_…``)."""
    names = inspect(conn).get_table_names(schema=store.schema)
    return sorted(name for name in names if not name.startswith("trellis_"))


def stream_rows(conn: Connection, store: TenantStore, name: str, batch: int = BATCH) -> Iterator[list[Row]]:
    """Every row of table ``name`` with all its columns as they are in the database, in id order, in batches."""
    table = _reflect(conn, store, [name])[name]
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select(table).order_by(table.c.id))
    for part in result.mappings().partitions(batch):
        yield [{key: to_plain(value) for key, value in row.items()} for row in part]


def restore(conn: Connection, store: TenantStore, revisions: list[Row], sequences: list[Row],
            rows_of: Callable[[str], Iterable[Row]], tables: Iterable[str]) -> None:
    """Fill an empty store inside the caller's transaction: tables, revision log, counters, records.

    The tables come from the newest revision's documents through ``build_tables``,
    the same definitions the metadata editor creates them from. ``rows_of(name)``
    yields table ``name``'s rows as ``stream_rows`` produced them.
    """
    documents = split(revisions[-1]["documents"])[0] if revisions else []  # objects; definitions have no tables
    create_tables(conn, store, documents)
    revision_table, sequence_table = system_tables(store.schema)
    _insert(conn, revision_table, revisions)
    _insert(conn, sequence_table, sequences)
    wanted = set(tables)
    reflected = _reflect(conn, store, sorted(wanted))
    metadata = next(iter(reflected.values())).metadata if reflected else MetaData()
    later: list[tuple[Table, str, list[Row]]] = []
    done: set[str] = set()
    for table in metadata.sorted_tables:
        if table.name in wanted:
            deferred = [c.name for c in table.c if c.nullable and any(
                fk.column.table.name not in done for fk in c.foreign_keys)]
            later += _insert_table(conn, table, rows_of(table.name), deferred)
            done.add(table.name)
    for table, column, pairs in later:
        conn.execute(update(table).where(table.c.id == bindparam("_id")).values({column: bindparam("_value")}),
                     pairs)
    reset_id_sequences(conn, store, [reflected[name] for name in sorted(wanted)])


def create_tables(conn: Connection, store: TenantStore, documents: list[dict[str, Any]]) -> None:
    """Create the real tables of a whole set of documents at once (lookup targets first).

    The set is validated as the metadata editor would, so a hand-edited archive cannot build
    tables the editor would never have made.
    """
    live = {d["api_name"]: d for d in live_documents(documents)}
    problems = [FieldProblem(f"documents[{index}]{p.path[1:]}", p.message) for index, doc in enumerate(documents)
                for p in validate_object(doc, known_objects={k: d for k, d in live.items() if d is not doc})]
    if problems:
        raise InvalidInput("The documents are not valid.", problems)
    stored = [stored_as(doc) for doc in documents]  # archived objects' tables under their archive names
    tables = build_tables([ObjectDef.from_document(doc) for doc in stored], store.schema)
    for doc in stored:
        for entry in doc.get("archived_fields") or []:
            if not field_type(entry["field"]["type"]).computed:  # an archived formula or rollup never had a column
                tables[doc["api_name"]].append_column(_archived_column(entry, store.schema))
    if tables:
        for table in next(iter(tables.values())).metadata.sorted_tables:
            table.create(conn)


def _archived_column(entry: Mapping[str, Any], schema: str | None) -> Column:
    """An archived field's column as archiving leaves it: its archive name, nullable, unindexed, key kept."""
    live = field_column(FieldDef.from_document(entry["field"]), schema)
    keys = [ForeignKey(key.target_fullname, ondelete=key.ondelete) for key in live.foreign_keys]
    return Column(entry["column"], live.type, *keys, nullable=True)


def reset_id_sequences(conn: Connection, store: TenantStore, tables: Iterable[Table]) -> None:
    """Move PostgreSQL's id sequences past the restored ids (SQLite takes max(rowid)+1 by itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        qualified = f'"{store.schema}"."{table.name}"'
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:name, 'id'), max(id)) FROM {qualified} "
                          "HAVING max(id) IS NOT NULL"), {"name": qualified})


def _reflect(conn: Connection, store: TenantStore, names: list[str]) -> dict[str, Table]:
    """The tables as the database has them; JSON columns keep SQL NULL for None as Trellis writes it."""
    missing = set(names) - set(inspect(conn).get_table_names(schema=store.schema))
    if missing:
        raise InvalidInput("Records for unknown tables.", [FieldProblem(
            "records", f"No object creates the table {', '.join(sorted(missing))}.")])
    metadata = MetaData(schema=store.schema, naming_convention=NAMING_CONVENTION)
    metadata.reflect(conn, only=names, resolve_fks=True)
    found = {table.name: table for table in metadata.tables.values()}
    for table in found.values():
        for column in table.c:
            if isinstance(column.type, JSON):
                column.type = JsonValue
    return found


def read_table(conn: Connection, table: Table) -> list[Row]:
    """Every row of one of the platform's tables as JSON-ready values, in key order, for a backup."""
    query = select(table).order_by(*table.primary_key.columns)
    return [{key: to_plain(value) for key, value in row.items()} for row in conn.execute(query).mappings()]


def restore_table(conn: Connection, store: TenantStore, table: Table, rows: list[Row]) -> None:
    """Put a backup's rows of one of the platform's tables back as they were (ids kept), in the restore's
    transaction."""
    _insert(conn, table, rows)
    if rows and "id" in table.c:
        reset_id_sequences(conn, store, [table])


def _insert_table(conn: Connection, table: Table, rows: Iterable[Row],
                  deferred: list[str]) -> list[tuple[Table, str, list[Row]]]:
    """Insert ``rows`` in batches; lookups to rows not yet inserted (self or cycles) are set afterwards."""
    pending: dict[str, list[Row]] = {name: [] for name in deferred}
    batch: list[Row] = []
    for row in rows:
        unknown = set(row) - set(table.c.keys())
        if unknown:
            raise InvalidInput("Records with unknown columns.", [FieldProblem(
                f"records/{table.name}", f"The table has no column {', '.join(sorted(unknown))}.")])
        values = dict(row)
        for name in deferred:
            if values.get(name) is not None:
                pending[name].append({"_id": values["id"], "_value": values[name]})
                values[name] = None
        batch.append(values)
        if len(batch) >= BATCH:
            _insert(conn, table, batch)
            batch = []
    _insert(conn, table, batch)
    return [(table, name, pairs) for name, pairs in pending.items() if pairs]


def _insert(conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
    if rows:
        types = {column.name: column.type for column in table.c}
        conn.execute(insert(table), [{k: from_plain(types[k], v) for k, v in row.items()} for row in rows])
