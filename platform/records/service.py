"""The record service: create, read, list, update and delete records.

Every door — API, screens, imports, automations, templates — comes through
here, so typing, defaults, required fields, uniqueness, lookups, autonumbers
and optimistic concurrency hold the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import ColumnElement, Connection, Select, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trellis.metadata.formulas import formulas_of
from trellis.metadata.model import ObjectDef
from trellis.metadata.values import INT64_MAX, INT64_MIN

from ..automation.events import RecordEvent, RecordListener
from ..errors import Conflict, FieldProblem, InvalidInput, NotFound
from ..expressions import Context
from ..expressions.context import PathGuard
from ..extensions import hooks
from ..permissions.access import UNRESTRICTED, Unrestricted
from ..runtime import TenantRuntime
from .batch import RowResult, create_many
from .history import forget_changes, track_changes
from .query import ListQuery, Page, Source, build_select, encode_cursor, formula_source, sort_keys
from .rules import check_update, prepare_create
from .sequences import next_autonumber
from .stages import enter_stages, forget_record


@dataclass(frozen=True)
class Actor:
    """Who is acting: recorded as owner, created_by and updated_by."""

    user_id: int | None
    locale: str = "en"
    #: What the user may do (``trellis.platform.permissions``); None: everything (admins, the platform's jobs).
    access: Unrestricted | None = None


class RecordService:
    def __init__(self, runtime: TenantRuntime, actor: Actor, *, events: RecordListener | None = None,
                 depth: int = 0, people: Callable[[set[int]], dict[int, str]] | None = None) -> None:
        self.runtime = runtime
        self.actor = actor
        self.access = (actor.access.resolve(runtime) if actor.access else None) or UNRESTRICTED
        #: Told of each committed change (automations); ``depth``: how many rule runs led to this change.
        self.events = events
        self.depth = depth
        #: Names users by id (owner, created_by…): users live in the control plane, not in the tenant's store.
        self.people = people

    # -- reads ------------------------------------------------------------

    def get(self, object_name: str, record_id: int) -> dict[str, Any]:
        obj, table = self._object(object_name)
        _check_id(obj, record_id)
        source = self._source(obj, table)
        readable = self.access.read_predicate(obj, source)
        with self.runtime.store.engine.connect() as conn:
            row = conn.execute(source.select().where(table.c.id == record_id, readable)).mappings().first()
        if row is None:
            raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
        return self._dump(obj, row)

    def list(self, object_name: str, query: ListQuery | None = None) -> Page:
        query = query or ListQuery()
        obj, table = self._object(object_name)
        self.access.require(obj, "read")
        self.access.check_where(query.where)
        if query.where is not None and (guard := self._path_guard()) is not None:
            query = replace(query, where=replace(query.where, context=replace(query.where.context, guard=guard)))
        source = self._source(obj, table)
        statement, count = build_select(self.access.visible(obj), source, query)
        readable = self.access.read_predicate(obj, source)
        statement, count = statement.where(readable), None if count is None else count.where(readable)
        with self.runtime.store.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
            total = conn.execute(count).scalar() if count is not None else None
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor(dict(rows[-1]), sort_keys(obj, query.sort)) if more else None
        records = [{key: _aware(value) for key, value in row.items()} for row in rows]
        dumped = self.runtime.output_schema(obj.api_name).dump(records, many=True)
        return Page([self.access.strip(obj, record) for record in dumped], cursor, total)

    def titles(self, object_name: str, ids: set[int]) -> dict[int, str]:
        """Display titles of records (their name field), for lookups shown as text."""
        obj, table = self._object(object_name)
        ids = {i for i in ids if i is not None and INT64_MIN <= i <= INT64_MAX}
        if not ids:
            return {}
        column = table.c[obj.name_field] if obj.name_field else table.c.id
        readable = self.access.read_predicate(obj, self._source(obj, table))
        with self.runtime.store.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, column).where(table.c.id.in_(ids), readable)).all()
        return {row[0]: str(row[1]) if row[1] is not None else f"#{row[0]}" for row in rows}

    def user_names(self, ids: set[int]) -> dict[int, str]:
        """Display names of users (for owner, created_by and updated_by shown as text); unknown ids are absent."""
        return self.people(ids) if self.people is not None and ids else {}

    def read_source(self, object_name: str) -> tuple[ObjectDef, Source, ColumnElement[bool]]:
        """What this actor may read of an object, for queries built outside this service (reports, exports):
        its source (formulas and rollups compiled) and the record-level predicate every read must add."""
        obj, table = self._object(object_name)
        self.access.require(obj, "read")
        source = self._source(obj, table)
        return obj, source, self.access.read_predicate(obj, source)

    def readable_fields(self, object_name: str) -> list[str]:
        """The fields this actor may see, in the object's order (field-level security hides the rest)."""
        obj = self.runtime.object(object_name)
        return [field.api_name for field in self.access.visible(obj).fields]

    # -- writes -----------------------------------------------------------

    def create(self, object_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        obj, table = self._object(object_name)
        values = self._new_values(obj, data)
        user = self.actor.user_id
        with self._write() as conn:
            hooks.before(self, obj, "create", values, None)
            self._check_references(conn, obj, values)
            self._check_unique(conn, obj, values, record_id=None)
            for field in obj.fields:
                if field.kind.generated:
                    values[field.api_name] = next_autonumber(conn, self.runtime.store, obj.api_name, field)
            record_id = conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
            enter_stages(conn, self.runtime.store, obj, record_id, None, values, user)
            track_changes(conn, self.runtime.store, obj, record_id, None, values, user)
            row = conn.execute(self._select(obj, table).where(table.c.id == record_id)).mappings().one()
        self._emit(obj, "created", None, row)
        return self._dump(obj, row)

    def create_many(self, object_name: str, rows: Sequence[Mapping[str, Any]], **options: Any) -> list[RowResult]:
        """Create (or, with ``upsert_by``, update) many records with every check of ``create``, the SQL in
        batches; each row succeeds or is rejected on its own (``trellis.platform.records.batch``)."""
        return create_many(self, object_name, rows, **options)

    def update(self, object_name: str, record_id: int, data: Mapping[str, Any],
               expected_version: int | None = None) -> dict[str, Any]:
        """Change some fields; ``expected_version`` (the version the client saw) guards against lost updates."""
        obj, table = self._object(object_name)
        _check_id(obj, record_id)
        self.access.check_input(obj, data, creating=False)
        values = self._load(obj, data)
        with self._write() as conn:
            current = conn.execute(select(table).where(table.c.id == record_id)).mappings().first()
            if current is None:
                raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
            self.access.check_edit(conn, obj, self._source(obj, table), current, values)
            self._check_version(obj, current, expected_version)
            hooks.before(self, obj, "update", values, current)
            self._check_required(obj, {**current, **values})
            self._check_references(conn, obj, values)
            self._check_unique(conn, obj, values, record_id=record_id)
            values.update(updated_at=datetime.now(UTC), updated_by=self.actor.user_id,
                          version=current["version"] + 1)
            guard = (table.c.id == record_id) & (table.c.version == current["version"])
            if conn.execute(update(table).where(guard).values(values)).rowcount != 1:
                raise Conflict(f"This {obj.title('en')} was changed by someone else at the same time. "
                               "Reload it and apply your change again.")
            enter_stages(conn, self.runtime.store, obj, record_id, current, values, self.actor.user_id)
            track_changes(conn, self.runtime.store, obj, record_id, current, values, self.actor.user_id)
            check_update(self.runtime, conn, obj, current, values, self.actor.user_id)
            row = conn.execute(self._select(obj, table).where(table.c.id == record_id)).mappings().one()
        self._emit(obj, "updated", current, row)
        return self._dump(obj, row)

    def delete(self, object_name: str, record_id: int, expected_version: int | None = None) -> None:
        obj, table = self._object(object_name)
        _check_id(obj, record_id)
        with self._write() as conn:
            current = conn.execute(self._select(obj, table).where(table.c.id == record_id)).mappings().first()
            if current is None:
                raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
            self.access.check_edit(conn, obj, self._source(obj, table), current, None)
            self._check_version(obj, current, expected_version)
            hooks.before(self, obj, "delete", {}, current)
            try:
                with conn.begin_nested():
                    conn.execute(delete(table).where(table.c.id == record_id))
            except IntegrityError:
                raise Conflict(f"Other records point at this {obj.title('en')} through a lookup that "
                               "forbids deletion; change or delete them first.") from None
            forget_record(conn, self.runtime.store, obj, record_id)
            forget_changes(conn, self.runtime.store, obj, record_id)
        self._emit(obj, "deleted", current, None)

    # -- helpers ----------------------------------------------------------

    def _new_values(self, obj: ObjectDef, data: Mapping[str, Any]) -> dict[str, Any]:
        """A new record's checked values: typed, defaults filled, rules and required fields obeyed."""
        self.access.check_input(obj, data, creating=True)
        values = self._load(obj, data, creating=True)
        for field in obj.fields:
            if field.api_name not in values and field.default is not None and not field.kind.generated:
                values[field.api_name] = self._load(obj, {field.api_name: field.default})[field.api_name]
        prepare_create(self.runtime, obj, values, self.actor.user_id)
        self._check_required(obj, values)
        now = datetime.now(UTC)
        user = self.actor.user_id
        values.setdefault("owner", user)
        values.update(created_at=now, updated_at=now, created_by=user, updated_by=user, version=1)
        return values

    def snapshot(self, object_name: str, record_id: int) -> dict[str, Any] | None:
        """The record with typed values (dates, Decimals; formulas included) as expressions read it, or None."""
        obj, table = self._object(object_name)
        with self.runtime.store.engine.connect() as conn:
            row = conn.execute(self._select(obj, table).where(table.c.id == record_id)).mappings().first()
        return None if row is None else {key: _aware(value) for key, value in row.items()}

    def _emit(self, obj: ObjectDef, kind: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any] | None) -> None:
        """After the commit (a rolled-back write never fires a rule): tell the listener what changed."""
        if self.events is not None:
            typed = [None if row is None else {key: _aware(value) for key, value in row.items()}
                     for row in (before, after)]
            record_id = (after or before or {}).get("id")
            self.events(self.runtime, RecordEvent(obj.api_name, record_id, kind, typed[0], typed[1],
                                                  self.actor.user_id, self.depth))
        hooks.after(self, obj, kind, before, after)

    def _object(self, name: str):
        return self.runtime.object(name), self.runtime.tables[name]

    def _source(self, obj: ObjectDef, table: Table) -> Source:
        """The table with the object's formulas compiled for this actor and this moment (USER(), NOW())."""
        formulas = formulas_of(obj, self.runtime.objects)
        return formula_source(obj, table, formulas, Context(user_id=self.actor.user_id, guard=self._path_guard()))

    def _path_guard(self) -> PathGuard | None:
        """Lookup paths (in formulas and ``where=``) read only related records this actor may read, so a
        condition on ``account.name`` cannot probe an account hidden from them."""
        if self.access is UNRESTRICTED:
            return None

        def guard(object_name: str, target: Any) -> ColumnElement[bool]:
            return self.access.read_predicate(self.runtime.object(object_name), Source(target, {}, {}))
        return guard

    def _select(self, obj: ObjectDef, table: Table) -> Select:
        return self._source(obj, table).select()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction; a unique index that a concurrent writer beat us to is a conflict, not a 500."""
        try:
            with self.runtime.store.engine.begin() as conn:
                yield conn
        except IntegrityError as error:
            raise Conflict("The change clashes with another record saved at the same time "
                           "(a unique value or a lookup). Try again.") from error

    def _load(self, obj: ObjectDef, data: Mapping[str, Any], *, creating: bool = False) -> dict[str, Any]:
        """Type-check ``data``; when creating, empty required fields are reported in the same answer."""
        if not isinstance(data, Mapping):
            raise InvalidInput("The record must be a JSON object of field values.")
        computed = [FieldProblem(f.api_name, f"{f.title('en')} is a {f.type} computed on read from "
                                 f"{'child records' if f.type == 'rollup' else 'other fields'}, so it "
                                 "cannot be written; remove it.") for f in obj.fields
                    if f.kind.computed and f.api_name in data]
        if computed:
            raise InvalidInput("Computed fields are read-only.", computed)
        try:
            return dict(self.runtime.input_schema(obj.api_name).load(data))
        except ValidationError as error:
            problems = _problems(obj, error.messages)
            if creating:
                named = {problem.field for problem in problems}
                defaults = {f.api_name: f.default for f in obj.fields if f.default is not None}
                problems += [p for p in _required_problems(obj, {**defaults, **data}) if p.field not in named]
            raise InvalidInput(f"Some values of this {obj.title('en')} are not valid.", problems) from None

    @staticmethod
    def _check_required(obj: ObjectDef, values: Mapping[str, Any]) -> None:
        problems = _required_problems(obj, values)
        if problems:
            raise InvalidInput("Required fields are empty.", problems)

    @staticmethod
    def _check_version(obj: ObjectDef, current: Mapping[str, Any], expected: int | None) -> None:
        if expected is not None and current["version"] != expected:
            raise Conflict(f"This {obj.title('en')} was changed by someone else since you loaded it "
                           f"(you had version {expected}). Reload it and apply your change again.",
                           [FieldProblem("version", "Stale version.")])

    def _check_references(self, conn: Connection, obj: ObjectDef, values: Mapping[str, Any]) -> None:
        problems = []
        for field in obj.fields:
            target_id = values.get(field.api_name)
            if field.type != "lookup" or target_id is None:
                continue
            target = self.runtime.tables[field.target]
            if conn.execute(select(target.c.id).where(target.c.id == target_id)).first() is None:
                target_title = self.runtime.object(field.target).title("en")
                problems.append(FieldProblem(field.api_name, f"There is no {target_title} with id {target_id}."))
        if problems:
            raise InvalidInput("A lookup points at a record that does not exist.", problems)

    def _check_unique(self, conn: Connection, obj: ObjectDef, values: Mapping[str, Any],
                      record_id: int | None) -> None:
        table = self.runtime.tables[obj.api_name]
        problems = []
        for field in obj.fields:
            value = values.get(field.api_name)
            if not field.unique or field.kind.generated or value is None:
                continue
            clash = select(func.count()).where(table.c[field.api_name] == value)
            if record_id is not None:
                clash = clash.where(table.c.id != record_id)
            if conn.execute(clash).scalar():
                problems.append(FieldProblem(field.api_name, f"Another {obj.title('en')} already has "
                                             f"{field.title('en')} {value!r}; it must be unique."))
        if problems:
            raise Conflict("A value that must be unique is already used.", problems)

    def _dump(self, obj: ObjectDef, row: Mapping[str, Any]) -> dict[str, Any]:
        record = {key: _aware(value) for key, value in row.items()}
        return self.access.strip(obj, self.runtime.output_schema(obj.api_name).dump(record))


def _required_problems(obj: ObjectDef, values: Mapping[str, Any]) -> list[FieldProblem]:
    return [FieldProblem(f.api_name, f"{f.title('en')} is required.") for f in obj.fields
            if f.required and not f.kind.generated and values.get(f.api_name) in (None, "", [])]


def _check_id(obj: ObjectDef, record_id: int) -> None:
    """An id beyond 64 bits names no record; asking the database anyway fails (PostgreSQL) instead of answering."""
    if not INT64_MIN <= record_id <= INT64_MAX:
        raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")


def _aware(value: Any) -> Any:
    """Datetimes in UTC: SQLite hands back naive ones (stored in UTC), PostgreSQL ones in the session's zone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _problems(obj: ObjectDef, messages: Any) -> list[FieldProblem]:
    problems = []
    for name, found in (messages.items() if isinstance(messages, dict) else [("_", messages)]):
        if isinstance(found, dict):  # a list field's messages by item: {1: ["'c' is not one of …"]}
            found = [text for item in found.values() for text in (item if isinstance(item, list) else [item])]
        texts = found if isinstance(found, list) else [str(found)]
        if texts == ["Unknown field."]:
            texts = [f"'{name}' is not a field of {obj.title('en')}; check the spelling or add the field first."]
        problems.extend(FieldProblem(str(name), str(text)) for text in texts)
    return problems
