"""Many creates at once: every check of ``RecordService.create``, the SQL in batches.

An import of 100,000 rows cannot afford a transaction and half a dozen queries per row.
``create_many`` keeps each row's checks exactly as ``create`` does them — permissions,
typing, defaults, rules, required fields, extensions' ``before_create`` hooks and stage
rules, through the service's own helpers, in Python — and does what needs the database
once per batch: one query per lookup field for the targets, one per unique field for
clashes, one counter update per autonumber field, one insert of the rows (on PostgreSQL
ids drawn from the sequence in one query and the rows streamed with COPY), one insert of
stage history (field history of tracked fields is written as ``create`` writes it). Events
and ``after_*`` hooks follow the commit, read back in one query — skipped when nothing
listens (no ``after_create`` hook, no automation rule on the object).
Each row is accepted or rejected on its own (with the problems ``create`` would have
raised); the accepted rows commit together, with the caller's ``checkpoint`` in the same
transaction so a resumed job never writes a row twice. Rows whose ``upsert_by`` value
names an existing record are updated through ``RecordService.update``, one by one, so
updates obey every rule too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import sql
from sqlalchemy import ARRAY, ColumnElement, Connection, Table, any_, bindparam, insert, select, text

from trellis.metadata.model import ObjectDef

from ..automation.events import listens
from ..errors import Conflict, FieldProblem, InvalidInput, TrellisError
from ..extensions import hooks
from .history import track_changes, tracked_fields
from .sequences import reserve_autonumbers
from .stages import Moves, check_stages, write_history

if TYPE_CHECKING:
    from .service import RecordService

@dataclass(frozen=True)
class RowResult:
    """What became of one row: ``created``, ``updated`` or ``rejected`` (with the reasons)."""

    index: int
    action: str
    id: int | None = None
    problems: tuple[FieldProblem, ...] = ()


#: Called inside the batch's transaction, before it commits, with what became of each row.
Checkpoint = Callable[[Connection, list["RowResult"]], None]


@dataclass
class _Pending:
    index: int
    data: Mapping[str, Any]
    values: dict[str, Any]
    moves: Moves


def create_many(service: RecordService, object_name: str, rows: Sequence[Mapping[str, Any]], *,
                upsert_by: str | None = None, checkpoint: Checkpoint | None = None) -> list[RowResult]:
    """Save ``rows`` (one batch, about a thousand) and say what became of each, in order."""
    obj, table = service._object(object_name)
    results: dict[int, RowResult] = {}
    creates = list(enumerate(rows))
    if upsert_by is not None:
        creates = _upsert(service, obj, table, creates, upsert_by, results)
    pending = _prepare(service, obj, creates, results)
    try:
        with service._write() as conn:
            accepted = _insert(service, conn, obj, table, pending, results)
            if checkpoint is not None:
                checkpoint(conn, [results[index] for index in range(len(rows))])
    except Conflict:  # a concurrent writer took a unique value first: settle these rows one by one
        accepted = _one_by_one(service, obj, pending, results)
        if checkpoint is not None:
            with service._write() as conn:
                checkpoint(conn, [results[index] for index in range(len(rows))])
    _emit(service, obj, table, accepted)
    return [results[index] for index in range(len(rows))]


def preview_many(service: RecordService, object_name: str, rows: Sequence[Mapping[str, Any]], *,
                 upsert_by: str | None = None) -> list[tuple[RowResult, dict[str, Any] | None]]:
    """What ``create_many`` would do with ``rows``, writing nothing: each row's result and, for a row that
    would be created, its values as they would be stored (JSON-ready; autonumbers are not drawn)."""
    obj, table = service._object(object_name)
    results: dict[int, RowResult] = {}
    creates = list(enumerate(rows))
    if upsert_by is not None:
        found = _existing(service, obj, table, creates, upsert_by, results)
        for index, _ in creates:
            if found.get(index) is not None:
                results[index] = RowResult(index, "updated", found[index])
        creates = [(index, data) for index, data in creates if index not in results]
    pending = _prepare(service, obj, creates, results)
    with service.runtime.store.engine.connect() as conn:
        refused = _missing_targets(service, conn, obj, pending) | _clashes(conn, obj, table, pending)
    shown: dict[int, dict[str, Any]] = {}
    for row in pending:
        if row.index in refused:
            results[row.index] = RowResult(row.index, "rejected", None, tuple(refused[row.index]))
        else:
            results[row.index] = RowResult(row.index, "created")
            shown[row.index] = service._dump(obj, row.values)
    return [(results[index], shown.get(index)) for index in range(len(rows))]


def _prepare(service: RecordService, obj: ObjectDef, creates: list[tuple[int, Mapping[str, Any]]],
             results: dict[int, RowResult]) -> list[_Pending]:
    """Each row checked as ``create`` checks it before touching the database; refusals go to ``results``."""
    pending = []
    for index, data in creates:
        try:
            values = service._new_values(obj, data)
            hooks.before(service, obj, "create", values, None)
            pending.append(_Pending(index, data, values, check_stages(obj, None, values)))
        except TrellisError as error:
            results[index] = _rejected(index, error)
    return pending


def _existing(service: RecordService, obj: ObjectDef, table: Table, rows: list[tuple[int, Mapping[str, Any]]],
              key: str, results: dict[int, RowResult]) -> dict[int, int | None]:
    """The id of the stored record each row's ``key`` value names (None: a new record); bad keys are refused."""
    field = obj.field(key) if key in {f.api_name for f in obj.fields} else None
    if field is None or not field.unique or field.kind.generated or field.kind.computed:
        raise InvalidInput("Records can be matched only by a unique field.", [FieldProblem(
            "upsert_by", f"'{key}' is not a unique field of {obj.title('en')}; choose one marked unique.")])
    typed: dict[int, Any] = {}
    for index, data in rows:
        try:
            typed[index] = service._load(obj, {key: data.get(key)}).get(key) if data.get(key) is not None else None
        except TrellisError as error:
            results[index] = _rejected(index, error)
    with service.runtime.store.engine.connect() as conn:
        found = dict(conn.execute(select(table.c[key], table.c.id)
                                  .where(table.c[key].in_({v for v in typed.values() if v is not None}))).all())
    return {index: found.get(value) for index, value in typed.items()}


def _upsert(service: RecordService, obj: ObjectDef, table: Table, rows: list[tuple[int, Mapping[str, Any]]],
            key: str, results: dict[int, RowResult]) -> list[tuple[int, Mapping[str, Any]]]:
    """Update the rows whose ``key`` value is already stored; return the rest, to be created."""
    found = _existing(service, obj, table, rows, key, results)
    creates = []
    for index, data in rows:
        if index in results:
            continue
        record_id = found[index]
        if record_id is None:
            creates.append((index, data))
            continue
        try:
            service.update(obj.api_name, record_id, data)
            results[index] = RowResult(index, "updated", record_id)
        except TrellisError as error:
            results[index] = _rejected(index, error)
    return creates


def _insert(service: RecordService, conn: Connection, obj: ObjectDef, table: Table, pending: list[_Pending],
            results: dict[int, RowResult]) -> list[_Pending]:
    """Check lookups and unique values for the whole batch, then insert the rows that pass."""
    refused = _missing_targets(service, conn, obj, pending) | _clashes(conn, obj, table, pending)
    for index, problems in refused.items():
        results[index] = RowResult(index, "rejected", None, tuple(problems))
    accepted = [row for row in pending if row.index not in refused]
    if not accepted:
        return []
    for field in obj.fields:
        if field.kind.generated:
            numbers = reserve_autonumbers(conn, service.runtime.store, obj.api_name, field, len(accepted))
            for row, number in zip(accepted, numbers, strict=True):
                row.values[field.api_name] = number
    ids = store_rows(conn, table, [row.values for row in accepted])
    for row, record_id in zip(accepted, ids, strict=True):
        row.values["id"] = record_id
        results[row.index] = RowResult(row.index, "created", record_id)
    write_history(conn, service.runtime.store, obj, [(row.values["id"], row.moves) for row in accepted],
                  service.actor.user_id)
    if tracked_fields(obj):
        for row in accepted:
            track_changes(conn, service.runtime.store, obj, row.values["id"], None, row.values, service.actor.user_id)
    return accepted


def store_rows(conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their new ids, in order.

    On PostgreSQL the ids are drawn from the table's sequence in one query and the rows
    streamed with COPY: an executemany with RETURNING makes psycopg parse a statement of
    ten thousand placeholders per page, which cost more than all the checks of the rows.
    """
    columns = [column for column in table.columns if column.name != "id"]
    if conn.dialect.name != "postgresql":
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(statement, [{c.name: row.get(c.name) for c in columns} for row in rows]).scalars())
    ids = list(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                            {"table": conn.dialect.identifier_preparer.format_table(table), "n": len(rows)}).scalars())
    names = [column.name for column in columns]
    binds = [(column.name, bind) for column in columns
             if (bind := column.type._cached_bind_processor(conn.dialect)) is not None]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*([table.schema] if table.schema else []), table.name),
        sql.SQL(", ").join(sql.Identifier(name) for name in ["id", *names]))
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for record_id, row in zip(ids, rows, strict=True):
            if binds:  # JSON values, custom types: what the driver is handed, as SQLAlchemy would hand it
                row = {**row, **{name: bind(row[name]) for name, bind in binds if row.get(name) is not None}}
            copy.write_row([record_id, *map(row.get, names)])
    return ids


def among(conn: Connection, column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter: a thousand placeholders would make
    a statement psycopg parses anew each time (too long for its cache) and PostgreSQL plans anew."""
    if conn.dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def _missing_targets(service: RecordService, conn: Connection, obj: ObjectDef,
                     pending: list[_Pending]) -> dict[int, list[FieldProblem]]:
    """Rows whose lookup names a record that does not exist: one query per lookup field."""
    refused: dict[int, list[FieldProblem]] = {}
    for field in obj.fields:
        if field.type != "lookup":
            continue
        wanted = {row.values[field.api_name] for row in pending if row.values.get(field.api_name) is not None}
        if not wanted:
            continue
        target = service.runtime.tables[field.target]
        found = set(conn.execute(select(target.c.id).where(among(conn, target.c.id, wanted))).scalars())
        title = service.runtime.object(field.target).title("en")
        for row in pending:
            value = row.values.get(field.api_name)
            if value is not None and value not in found:
                refused.setdefault(row.index, []).append(
                    FieldProblem(field.api_name, f"There is no {title} with id {value}."))
    return refused


def _clashes(conn: Connection, obj: ObjectDef, table: Table, pending: list[_Pending]) -> dict[int, list[FieldProblem]]:
    """Rows whose unique value is already stored or taken by an earlier row of the batch."""
    refused: dict[int, list[FieldProblem]] = {}
    for field in obj.fields:
        if not field.unique or field.kind.generated:
            continue
        name = field.api_name
        wanted = {row.values[name] for row in pending if row.values.get(name) is not None}
        if not wanted:
            continue
        stored = set(conn.execute(select(table.c[name]).where(among(conn, table.c[name], wanted))).scalars())
        seen: set[Any] = set()
        for row in pending:
            value = row.values.get(name)
            if value is None:
                continue
            if value in stored or value in seen:
                refused.setdefault(row.index, []).append(FieldProblem(
                    name, f"Another {obj.title('en')} already has {field.title('en')} {value!r}; it must be unique."))
            seen.add(value)
    return refused


def _one_by_one(service: RecordService, obj: ObjectDef, pending: list[_Pending],
                results: dict[int, RowResult]) -> list[_Pending]:
    """The batch lost a race on a unique value: create its rows singly, so only the clashing ones are refused."""
    for row in pending:
        try:
            record = service.create(obj.api_name, row.data)  # emits its own event
            results[row.index] = RowResult(row.index, "created", record["id"])
        except TrellisError as error:
            results[row.index] = _rejected(row.index, error)
    return []


def _emit(service: RecordService, obj: ObjectDef, table: Table, accepted: list[_Pending]) -> None:
    """After the commit, tell the listener of each new record as ``create`` does (read back in one query)."""
    if not accepted or not _listened(service, obj):
        return
    ids = [row.values["id"] for row in accepted]
    with service.runtime.store.engine.connect() as conn:
        rows = conn.execute(service._select(obj, table).where(table.c.id.in_(ids))).mappings().all()
    for row in rows:
        service._emit(obj, "created", None, row)


def _listened(service: RecordService, obj: ObjectDef) -> bool:
    """Whether anything hears of a new ``obj``: an ``after_create`` hook, or the record listener — unless it is
    the automation engine and the object has no rule. Then the read-back and a thousand events are skipped."""
    if hooks.has_hooks(service, obj.api_name, "after_create"):
        return True
    return service.events is not None and listens(service.events, service.runtime, obj.api_name)


def _rejected(index: int, error: TrellisError) -> RowResult:
    problems = error.problems or (FieldProblem("$", error.detail),)
    return RowResult(index, "rejected", None, tuple(problems))
