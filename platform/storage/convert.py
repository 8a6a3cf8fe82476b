"""Changing a field's type through a new column, so no original value is ever lost.

The converted values are written into a shadow column (``zz_converting_<id>``)
beside the live one, in batches of rows ordered by id. When every row is done,
``switch`` archives the live column under an archive name (every original
value stays visible and restorable there) and gives the shadow column the
field's name. Small tables do all of it in the metadata editor's transaction;
large ones run the batches as a job, each batch committed with its checkpoint,
and switch in a last short transaction that also re-converts rows people
changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alembic.operations import Operations
from marshmallow import ValidationError
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    MetaData,
    Numeric,
    Row,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.types import TypeEngine

from trellis.metadata.model import FieldDef

from . import evolve
from .stores import TenantStore
from .system import conversion_table
from .tables import RecordId, column_type

#: Rows read, converted and written per statement pair.
BATCH_SIZE = 20_000
#: How many failing values an impact report quotes.
SAMPLES = 10


def shadow_column(field_id: str) -> str:
    """Where the converted values collect until the switch."""
    return f"zz_converting_{field_id.removeprefix('fld_')}"


@dataclass
class Failures:
    """The values a conversion could not carry over: how many, and the first few with the reason."""

    count: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record_id: int, value: Any, reason: str) -> None:
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append({"id": record_id, "value": value, "reason": reason})


def find_failures(conn: Connection, store: TenantStore, table: str, old: FieldDef, new: FieldDef,
                  convert: Callable[[Any], Any]) -> Failures:
    """Try the conversion on every stored value without writing anything (the dry run's impact).

    Values of a plain form (see ``_plain_form``) convert by construction; only the others are tried.
    """
    failures = Failures()
    pair = _pair(store, table, old.api_name, column_type(old), None)
    plain = _plain_form(conn, old, new)
    candidates = None if plain is None else ~pair.c[old.api_name].regexp_match(plain[0])
    for rows in _batches(conn, pair, 0, None, where=candidates):
        for record_id, value in rows:
            _convert_one(convert, record_id, value, failures)
    return failures


def add_shadow(conn: Connection, ops: Operations, store: TenantStore, table: str, new: FieldDef) -> None:
    """A nullable column of the new type, without constraints until the switch."""
    ops.add_column(table, Column(shadow_column(new.id), column_type(new), nullable=True), schema=store.schema)


def convert_rows(conn: Connection, store: TenantStore, table: str, old: FieldDef, new: FieldDef,
                 convert: Callable[[Any], Any], *, after_id: int = 0, limit: int | None = None,
                 changed_since: datetime | None = None, batch_size: int = BATCH_SIZE,
                 skip_plain: bool = False) -> tuple[int, int, Failures]:
    """Convert up to ``limit`` batches of rows with ids above ``after_id`` into the shadow column.

    A batch is the next ``batch_size`` ids. On PostgreSQL the values of a plain form are
    converted by one ``UPDATE`` in the database (or left alone with ``skip_plain``: a one
    pass did them); the rest go through ``convert``. Returns (last id done, values
    converted, failures). ``changed_since`` limits the work to rows updated since then
    (the switch's catch-up pass).
    """
    pair = _pair(store, table, old.api_name, column_type(old), column_type(new), shadow_column(new.id))
    value, shadow = pair.c[old.api_name], shadow_column(new.id)
    write, plain = _writer(conn, pair, shadow), _plain_form(conn, old, new)
    failures, done, last, batches = Failures(), 0, after_id, 0
    # After a one pass only the values it left empty are read: usually few, so the batches skip far ahead.
    pending = and_(pair.c[shadow].is_(None), value.is_not(None)) if skip_plain else value.is_not(None)
    while limit is None or batches < limit:
        upper = _upper_id(conn, pair, last, batch_size, changed_since, pending if skip_plain else None)
        if upper is None:
            break
        rest = and_(pair.c.id > last, pair.c.id <= upper, pending)
        if changed_since is not None:
            rest = and_(rest, pair.c.updated_at >= changed_since)
        if plain is not None:
            matched = value.regexp_match(plain[0])
            if not skip_plain:
                done += conn.execute(update(pair).where(rest, matched).values({shadow: cast(value, plain[1])})
                                     ).rowcount
            rest = and_(rest, ~matched)
        rows = conn.execute(select(pair.c.id, value).where(rest).order_by(pair.c.id)).all()
        if rows:
            write([r[0] for r in rows], [_convert_one(convert, r[0], r[1], failures) for r in rows])
        done, last, batches = done + len(rows), upper, batches + 1
    return last, done, failures


def _upper_id(conn: Connection, pair: Table, after: int, size: int, changed_since: datetime | None,
              pending: ColumnElement[bool] | None = None) -> int | None:
    """The last id of the next batch: the ``size``-th id after ``after`` (of the rows still ``pending``),
    or the last one there is."""
    ids = select(pair.c.id).where(pair.c.id > after)
    if changed_since is not None:
        ids = ids.where(pair.c.updated_at >= changed_since)
    if pending is not None:
        ids = ids.where(pending)
    upper = conn.execute(ids.order_by(pair.c.id).offset(size - 1).limit(1)).scalar()
    return upper if upper is not None else conn.execute(select(func.max(ids.subquery().c.id))).scalar()


#: ASCII whitespace only: both PostgreSQL's number input and Python's strip() skip it.
_SPACE = r"[ \t\n\r\f\v]*"


def _plain_form(conn: Connection, old: FieldDef, new: FieldDef) -> tuple[str, TypeEngine] | None:
    """On PostgreSQL, text → number: a pattern of values the database converts exactly as the converter would.

    A plain integer (at most 18 digits: always in range) or a decimal within the new
    field's digits needs no Python; anything else — thousands separators, exponents,
    other spaces, too many digits — still goes through the converter and its checks.
    """
    if conn.dialect.name != "postgresql" or old.kind.storage not in ("string", "text"):
        return None
    if new.options.get("min") is not None or new.options.get("max") is not None:
        return None
    target = column_type(new)
    if new.type == "integer":
        return rf"^{_SPACE}[+-]?[0-9]{{1,18}}{_SPACE}$", target
    if isinstance(target, Numeric):
        whole, scale = target.precision - target.scale, target.scale
        fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
        return rf"^{_SPACE}[+-]?[0-9]{{1,{whole}}}{fraction}{_SPACE}$", target
    return None


def _writer(conn: Connection, pair: Table, shadow: str) -> Callable[[list[int], list[Any]], None]:
    """Writes one batch of converted values: on PostgreSQL as one statement joining two arrays."""
    target = pair.c[shadow]
    if conn.dialect.name == "postgresql" and not isinstance(target.type, JSON):
        array_type = target.type.compile(dialect=conn.dialect)
        statement = text(f'UPDATE {_qualified(pair)} AS t SET "{shadow}" = v.value FROM unnest('
                         f"CAST(:ids AS BIGINT[]), CAST(:values AS {array_type}[])) AS v(id, value) WHERE t.id = v.id")
        return lambda ids, values: conn.execute(statement, {"ids": ids, "values": values})
    statement = update(pair).where(pair.c.id == bindparam("_id")).values({shadow: bindparam("_value")})
    return lambda ids, values: conn.execute(statement, [{"_id": i, "_value": v} for i, v in zip(ids, values,
                                                                                                   strict=True)])


def _qualified(table: Table) -> str:
    return f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'


# -- conversions run as jobs: a checkpoint row per field in the tenant's store ---------------

def prepare(conn: Connection, ops: Operations, store: TenantStore, table: str, one_pass_from: FieldDef | None,
            new: FieldDef) -> Row:
    """Start (or find) the conversion of ``new``'s values: its shadow column and checkpoint; safe to repeat.

    With ``one_pass_from`` (the old field) the shadow column is filled in the same transaction
    by one pass of the database over the table, for the values of a plain form (see ``one_pass``).
    """
    checkpoints = conversion_table(store.schema)
    checkpoints.create(conn, checkfirst=True)
    row = checkpoint(conn, store, new.id)
    if row is None:
        columns = {c["name"] for c in inspect(conn).get_columns(table, schema=store.schema)}
        if shadow_column(new.id) in columns:  # left by an abandoned attempt: start clean
            ops.drop_column(table, shadow_column(new.id), schema=store.schema)
        plain = _plain_form(conn, one_pass_from, new) if one_pass_from is not None else None
        if plain is None:
            add_shadow(conn, ops, store, table, new)
        converted = one_pass(conn, store, table, one_pass_from, new, plain) if plain is not None else 0
        conn.execute(delete(checkpoints).where(checkpoints.c.field_id == new.id))
        conn.execute(insert(checkpoints).values(field_id=new.id, started_at=datetime.now(UTC), last_id=0,
                                                converted=converted, failed=0))
        row = checkpoint(conn, store, new.id)
    return row


def one_pass(conn: Connection, store: TenantStore, table: str, old: FieldDef, new: FieldDef,
             plain: tuple[str, TypeEngine]) -> int:
    """Add the shadow column already holding every value of a plain form, in one rewrite of the table.

    PostgreSQL fills a stored generated column while it rewrites the table once, which is several
    times faster than updating each row (an UPDATE writes a new version of every row and of every
    index entry); dropping the expression afterwards leaves an ordinary column. The table is locked
    while it runs, so the lock is only waited for briefly. Returns how many values it converted.
    """
    pattern, target = plain
    type_sql = target.compile(dialect=conn.dialect)
    source, shadow = f'"{old.api_name}"', shadow_column(new.id)
    quoted = _qualified(Table(table, MetaData(schema=store.schema)))
    literal_pattern = pattern.replace("'", "''")  # built by _plain_form from digits and fixed text, never input
    value = f"CASE WHEN {source} ~ '{literal_pattern}' THEN CAST({source} AS {type_sql}) END"
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
    conn.execute(text(f'ALTER TABLE {quoted} ADD COLUMN "{shadow}" {type_sql} GENERATED ALWAYS AS ({value}) STORED'))
    conn.execute(text(f'ALTER TABLE {quoted} ALTER COLUMN "{shadow}" DROP EXPRESSION'))
    conn.execute(text("SET LOCAL lock_timeout = 0"))
    return conn.execute(text(f'SELECT count("{shadow}") FROM {quoted}')).scalar_one()


def checkpoint(conn: Connection, store: TenantStore, field_id: str) -> Row | None:
    """The running conversion of ``field_id`` (None when there is none)."""
    checkpoints = conversion_table(store.schema)
    if not inspect(conn).has_table(checkpoints.name, schema=store.schema):
        return None
    return conn.execute(select(checkpoints).where(checkpoints.c.field_id == field_id,
                                                  checkpoints.c.finished_at.is_(None))).first()


def advance(conn: Connection, store: TenantStore, field_id: str, last_id: int, converted: int, failed: int) -> None:
    """Record a committed batch, in the batch's own transaction."""
    checkpoints = conversion_table(store.schema)
    conn.execute(update(checkpoints).where(checkpoints.c.field_id == field_id).values(
        last_id=last_id, converted=checkpoints.c.converted + converted, failed=checkpoints.c.failed + failed))


def finish(conn: Connection, store: TenantStore, field_id: str) -> None:
    checkpoints = conversion_table(store.schema)
    conn.execute(update(checkpoints).where(checkpoints.c.field_id == field_id, checkpoints.c.finished_at.is_(None))
                 .values(finished_at=datetime.now(UTC)))


def abandon(conn: Connection, ops: Operations, store: TenantStore, table: str, field_id: str) -> None:
    """Give up a conversion: drop its shadow column and checkpoint; the live column was never touched."""
    ops.drop_column(table, shadow_column(field_id), schema=store.schema)
    checkpoints = conversion_table(store.schema)
    conn.execute(delete(checkpoints).where(checkpoints.c.field_id == field_id))


def unconverted(conn: Connection, store: TenantStore, table: str, old: FieldDef, new: FieldDef) -> list[Any]:
    """The first values a finished batch conversion left empty: they are the ones that failed."""
    pair = _pair(store, table, old.api_name, column_type(old), column_type(new), shadow_column(new.id))
    query = (select(pair.c[old.api_name]).where(pair.c[old.api_name].is_not(None),
                                                pair.c[shadow_column(new.id)].is_(None))
             .order_by(pair.c.id).limit(SAMPLES))
    return [_plain(value) for value in conn.execute(query).scalars()]


def switch(conn: Connection, ops: Operations, store: TenantStore, table: str, new: FieldDef, archive: str) -> None:
    """Archive the live column, then give the shadow column the field's name (constraints are the caller's)."""
    evolve.archive_field(conn, ops, store, table, new.api_name, archive)
    evolve.rename_column(conn, store, table, shadow_column(new.id), new.api_name)


def _convert_one(convert: Callable[[Any], Any], record_id: int, value: Any, failures: Failures) -> Any:
    try:
        return convert(value)
    except ValidationError as error:
        failures.add(record_id, _plain(value), _first_message(error.messages))
        return None


def _batches(conn: Connection, pair: Table, after_id: int, limit: int | None,
             size: int = BATCH_SIZE, where: ColumnElement[bool] | None = None) -> Iterator[list[tuple[int, Any]]]:
    """Rows (id, value) with a value, in id order, ``size`` at a time (keyset, so each read is cheap)."""
    value = pair.c[list(pair.c.keys())[1]]
    taken = 0
    while limit is None or taken < limit:
        query = select(pair.c.id, value).where(pair.c.id > after_id, value.is_not(None))
        if where is not None:
            query = query.where(where)
        rows = [tuple(row) for row in conn.execute(query.order_by(pair.c.id).limit(size))]
        if not rows:
            return
        yield rows
        after_id, taken = rows[-1][0], taken + 1


def _pair(store: TenantStore, table: str, column: str, old_type: TypeEngine, new_type: TypeEngine | None,
          shadow: str | None = None) -> Table:
    """A throwaway Table with just the columns a conversion reads and writes."""
    columns = [Column("id", RecordId, primary_key=True), Column(column, old_type),
               Column("updated_at", DateTime(timezone=True))]
    if shadow and new_type is not None:
        columns.append(Column(shadow, new_type))
    return Table(table, MetaData(schema=store.schema), *columns)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | list) or value is None else str(value)


def _first_message(messages: Any) -> str:
    while isinstance(messages, list | dict):
        messages = next(iter(messages.values() if isinstance(messages, dict) else messages), "")
    return str(messages)

