"""The migration plan: what a metadata change will do to the tables, and what it costs the data.

Before any DDL runs, every change of a revision becomes a ``Step`` that says
in words what happens, how many rows it touches and — for the changes that
could hurt — which values would not survive: text that is not a number, empty
values of a field becoming required, duplicates blocking uniqueness. A step
with ``blocking`` problems stops the whole revision unless the admin supplies
what makes it safe (``Migration``): a value to fill empty records with,
permission to keep unconvertible values only in the archive, a mapping of old
picklist values to new ones. The same plan is the dry run's answer, the
refusal's problem document and, later, what the designer shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, Table, func, inspect, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.sql.expression import ColumnClause

from trellis.metadata.conversions import conversion_problem, converter
from trellis.metadata.model import FieldDef, ObjectDef

from ..errors import FieldProblem, InvalidInput
from . import convert
from .stores import TenantStore
from .tables import computed_change


@dataclass(frozen=True)
class Migration:
    """What an admin supplies to make an unsafe change safe (the request's ``migration`` object)."""

    #: A value for records that have none, when a field becomes required.
    fill: Any = None
    #: Convert anyway: values that do not convert become empty and live on only in the archive.
    keep_unconvertible: bool = False
    #: Picklist values to rewrite: ``{"old value": "new value"}``.
    value_map: Mapping[str, str] = field(default_factory=dict)
    #: Convert a big table's plain values in one pass of the database over the table (PostgreSQL): several
    #: times faster than batches, but the table is locked for reads and writes while the pass runs.
    one_pass: bool = False

    @classmethod
    def from_request(cls, doc: Any) -> Migration:
        if doc is None:
            return cls()
        if not isinstance(doc, Mapping) or set(doc) - {"fill", "keep_unconvertible", "value_map", "one_pass"}:
            raise _bad("$.migration", "Send an object with any of: fill, keep_unconvertible, value_map, one_pass.")
        value_map = doc.get("value_map", {})
        if not isinstance(value_map, Mapping) or not all(isinstance(v, str) for v in value_map.values()):
            raise _bad("$.migration.value_map", 'Map old picklist values to new ones: {"old": "new"}.')
        for flag in ("keep_unconvertible", "one_pass"):
            if not isinstance(doc.get(flag, False), bool):
                raise _bad(f"$.migration.{flag}", "Use true or false.")
        return cls(doc.get("fill"), doc.get("keep_unconvertible", False), dict(value_map), doc.get("one_pass", False))


@dataclass
class Step:
    """One operation of the plan with its impact."""

    op: str
    target: str
    summary: str
    #: Records the step reads or rewrites; ``None`` for catalog-only steps, which never count a table.
    rows: int | None = None
    blocking: list[FieldProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    #: Too big for one transaction: the step runs as a resumable job (a type conversion).
    background: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "target": self.target, "summary": self.summary, "rows": self.rows,
                "safe": not self.blocking, "blocking": [p.message for p in self.blocking],
                "notes": self.notes, "samples": self.samples, "background": self.background}


@dataclass
class Plan:
    from_revision: int
    steps: list[Step]

    @property
    def blocked(self) -> bool:
        return any(step.blocking for step in self.steps)

    @property
    def background(self) -> bool:
        return any(step.background for step in self.steps)

    def problems(self) -> list[FieldProblem]:
        return [problem for step in self.steps for problem in step.blocking]

    def lines(self) -> list[str]:
        """The plan as text for a terminal: each step, then its blocking reasons and notes, indented."""
        lines = []
        for step in self.steps:
            lines.append(f"{'BLOCKED ' if step.blocking else ''}{step.summary}"
                         + (f" ({step.rows} records)" if step.rows is not None else ""))
            lines.extend(f"    ! {problem.message}" for problem in step.blocking)
            lines.extend(f"    - {note}" for note in step.notes)
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"from_revision": self.from_revision, "safe": not self.blocked,
                "steps": [step.as_dict() for step in self.steps]}


class Planner:
    """Builds the plan for one revision's changes, reading (never writing) the tenant's tables."""

    def __init__(self, conn: Connection, store: TenantStore, old: Mapping[str, ObjectDef],
                 new: Mapping[str, ObjectDef], old_tables: Mapping[str, Table], migration: Migration,
                 background_rows: int | None = None) -> None:
        self.conn, self.store, self.old, self.new = conn, store, old, new
        self.old_tables, self.migration = old_tables, migration
        #: Conversions of more records than this run as a job (None: always in the transaction).
        self.background_rows = background_rows

    def plan(self, number: int, changes: list[dict[str, Any]]) -> Plan:
        return Plan(number, [self._step(change) for change in changes])

    def _step(self, change: Mapping[str, Any]) -> Step:
        op, name, field_name = change["op"], change["object"], change.get("field")
        target = f"{name}.{field_name}" if field_name else name
        table = self.old_tables.get(change["from"] if op == "rename_object" else name)
        step = Step(op, target, _SUMMARIES[op].format(**change))
        if computed_change(change, self.old, self.new):
            step.summary = f"Computed field {target} ({op.replace('_', ' ')}): computed on read, no column."
            return step
        check = getattr(self, f"_{op}", None)
        if check is not None and (table is not None or op == "purge_object"):
            check(step, change, table)
        return step

    # -- the checks of the ops that can hurt data ----------------------------

    def _add_field(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        new = self.new[change["object"]].field(change["field"])
        if not new.required and new.default is None:
            return  # a catalog-only change on PostgreSQL: no need to count a big table
        step.rows = self._count(table)
        if step.rows and new.required and new.default is None:
            step.blocking.append(FieldProblem("default", f"{step.rows} existing records would have no "
                                 f"{new.api_name}; give it a default to fill them, or add it as optional first."))
        elif step.rows > 1 and new.unique and new.default is not None:
            step.blocking.append(FieldProblem("default", f"{step.rows} existing records would share the default; "
                                              "remove the default or make the field not unique."))
        elif step.rows and new.default is not None:
            step.notes.append(f"{step.rows} existing records get the default {new.default!r}.")

    def _update_field(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        old, new = self._fields(change)
        keys, column = set(change["keys"]), table.c[old.api_name]
        if keys & {"required", "unique", "values"}:
            step.rows = self._count(table)
        if "required" in keys and new.required:
            self._check_empty(step, column, new)
        if "unique" in keys and new.unique:
            self._check_duplicates(step, column, new.api_name)
        if "values" in keys and new.type in ("picklist", "multi_picklist"):
            self._check_values(step, column, old, new)

    def _restore_field(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        new = self.new[change["object"]].field(change["field"])
        if new.unique:
            self._check_duplicates(step, _stored(table, change["column"]), new.api_name)

    def _purge_field(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        column = _stored(table, change["column"])
        values = self.conn.execute(select(func.count()).where(column.is_not(None))).scalar()
        step.notes.append(f"{values} values are deleted for good.")
        keys = inspect(self.conn).get_foreign_keys(table.name, schema=table.schema)
        if self.conn.dialect.name == "sqlite" and any(k["constrained_columns"] == [column.name] for k in keys):
            step.blocking.append(FieldProblem(change["field"], "SQLite cannot drop a column that carries a "
                                 "foreign key without copying the table; the field stays archived."))

    def _archive_object(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        step.rows = self._count(table)

    def _purge_object(self, step: Step, change: Mapping[str, Any], table: Table | None) -> None:
        stored = inspect(self.conn)
        for other in stored.get_table_names(schema=self.store.schema):
            for key in stored.get_foreign_keys(other, schema=self.store.schema):
                if key["referred_table"] == change["table"] and other != change["table"]:
                    step.blocking.append(FieldProblem("$.table", f"{other}.{key['constrained_columns'][0]} still "
                                         f"refers to the archived {change['object']}; purge or change it first."))

    def _convert_field(self, step: Step, change: Mapping[str, Any], table: Table) -> None:
        old, new = self._fields(change)
        step.rows = self._count(table)
        impossible = conversion_problem(old, new)
        if impossible:
            step.blocking.append(FieldProblem("type", impossible))
            return
        step.notes.append(f"Every original value stays in the archive column {change['column']}.")
        if self.background_rows is not None and step.rows > self.background_rows:
            step.background = True
            step.notes.append("Converted by a background job in batches; the field switches to its new type when "
                              "every record is done. Values that do not convert are reported by the job.")
            if self.migration.one_pass and self.conn.dialect.name == "postgresql":
                step.notes.append("one_pass: plain numbers are converted in one pass over the table, which "
                                  "blocks reading and writing its records until the pass is done.")
            if new.required:
                self._check_empty(step, table.c[old.api_name], new)
            return
        failures = convert.find_failures(self.conn, self.store, table.name, old, new, converter(old, new))
        if failures.count:
            step.samples = failures.samples
            message = (f"{failures.count} values of {new.api_name} cannot become {_article(new.type)} "
                       f"(first {len(failures.samples)}: {_quote(failures.samples)}).")
            if not self.migration.keep_unconvertible:
                step.blocking.append(FieldProblem("type", message + " Correct them first, or send "
                                     '"migration": {"keep_unconvertible": true} to leave them empty '
                                     "(they stay in the archive)."))
            else:
                step.notes.append(message + " They are left empty; the archive keeps them.")
        if new.required:
            self._check_empty(step, table.c[old.api_name], new, extra=failures.count)

    # -- shared checks -------------------------------------------------------

    def _check_empty(self, step: Step, column: Any, new: FieldDef, extra: int = 0) -> None:
        empty = self.conn.execute(select(func.count()).where(column.is_(None))).scalar() + extra
        if not empty:
            return
        if self.migration.fill is None:
            step.blocking.append(FieldProblem("required", f"{empty} records have no {new.api_name}, which is "
                                 'becoming required; fill them in first, or send "migration": {"fill": <value>}.'))
            return
        try:
            new.kind.make_field(new.options).deserialize(self.migration.fill)
        except ValidationError as error:
            step.blocking.append(FieldProblem("$.migration.fill", f"Cannot fill {new.api_name} with "
                                              f"{self.migration.fill!r}: {error.messages}"))
            return
        step.notes.append(f"{empty} records without {new.api_name} are filled with {self.migration.fill!r}.")

    def _check_duplicates(self, step: Step, column: Any, name: str) -> None:
        rows = self.conn.execute(select(column, func.count()).where(column.is_not(None)).group_by(column)
                                 .having(func.count() > 1).order_by(func.count().desc(), column)).all()
        if rows:
            step.samples = [{"value": _json(value), "count": count} for value, count in rows[:convert.SAMPLES]]
            step.blocking.append(FieldProblem("unique", f"{len(rows)} duplicate values block {name} from "
                                 f"becoming unique (first {min(len(rows), convert.SAMPLES)}: "
                                 f"{', '.join(repr(_json(v)) for v, _ in rows[:convert.SAMPLES])})."))

    def _check_values(self, step: Step, column: Any, old: FieldDef, new: FieldDef) -> None:
        kept = {choice["value"] for choice in new.choices}
        retired = {choice["value"] for choice in old.choices} - kept
        for source, target in self.migration.value_map.items():
            if target not in kept:
                step.blocking.append(FieldProblem("$.migration.value_map", f"{source!r} is mapped to {target!r}, "
                                                  "which is not one of the field's values."))
        held = self._held(column, new, retired | set(self.migration.value_map))
        for value in sorted(retired | set(self.migration.value_map)):
            if value in self.migration.value_map:
                step.notes.append(f"{held[value]} records change from {value!r} to "
                                  f"{self.migration.value_map[value]!r}.")
            elif held[value]:
                step.notes.append(f"{held[value]} records keep the retired value {value!r}: still shown, no longer "
                                  "offered.")

    def _held(self, column: Any, field: FieldDef, values: set[str]) -> Counter[str]:
        """How many records hold each of ``values`` (a multi-picklist's lists are counted in Python)."""
        if field.type == "picklist":
            query = select(column, func.count()).where(column.in_(sorted(values))).group_by(column)
            return Counter(dict(self.conn.execute(query).all()))
        held: Counter[str] = Counter()
        for (chosen,) in self.conn.execute(select(column).where(column.is_not(None))):
            held.update(set(chosen) & values)
        return held

    def _fields(self, change: Mapping[str, Any]) -> tuple[FieldDef, FieldDef]:
        """The field before and after the change, matched by id (it may be renamed in the same revision)."""
        new = self.new[change["object"]].field(change["field"])
        old = next(f for f in self.old[change["object"]].fields if f.id == new.id)
        return old, new

    def _count(self, table: Table) -> int:
        return self.conn.execute(select(func.count()).select_from(table)).scalar()


_SUMMARIES = {
    "create_object": "Create the table for {object}.",
    "rename_object": "Rename {from} to {object} (in place; every record keeps its values).",
    "update_object": "Change the settings of {object}.",
    "remove_object": "Remove {object}.",
    "archive_object": "Archive {object}: its records are kept in {table} and can be restored.",
    "restore_object": "Restore {object} with its records from {table}.",
    "purge_object": "Delete the archived object {object} and its records for good.",
    "add_field": "Add the column {object}.{field}.",
    "rename_field": "Rename {object}.{from} to {field} (in place; every value kept).",
    "update_field": "Change the settings of {object}.{field}.",
    "archive_field": "Archive {object}.{field}: its values are kept in {column} and can be restored.",
    "restore_field": "Restore {object}.{field} with its values from {column}.",
    "purge_field": "Delete the archived field {object}.{field} and its values for good.",
    "remove_field": "Remove {object}.{field}.",
    "convert_field": "Convert {object}.{field} from {from_type} to {to_type} through a new column.",
}


def _stored(table: Table, name: str) -> ColumnClause:
    """A column that is in the database but not in the revision's tables (an archive column)."""
    return sql_table(table.name, sql_column(name), schema=table.schema).c[name]


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def _quote(samples: list[dict[str, Any]]) -> str:
    return ", ".join(repr(sample["value"]) for sample in samples)


def _json(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _bad(path: str, message: str) -> InvalidInput:
    return InvalidInput("The migration options are not valid.", [FieldProblem(path, message)])
