"""Apply metadata changes to real tables, inside the caller's transaction.

The plan (``plan.py``) has already said what each change costs and refused the
unsafe ones; this module runs the DDL: new objects and fields; index,
uniqueness and required-ness switches (filling empty records if the admin said
how); picklist value rewrites; type conversions through a new column
(``convert``); and, through ``evolve``, renames, archives, restores and
explicit purges. Removals without archive are refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.schema import CreateColumn

from trellis.metadata.conversions import converter
from trellis.metadata.model import FieldDef, ObjectDef

from ..errors import FieldProblem, InvalidInput
from . import convert, evolve
from .field_history import forget_field_history
from .plan import Migration
from .stores import TenantStore
from .system import forget_stage_history
from .tables import computed_change, field_column, field_indexes

#: Field keys whose change only affects validation and display, never the table
#: (``values``: retired picklist values stay readable; mapped ones are rewritten).
DISPLAY_KEYS = {"label", "help_text", "default", "values", "min", "max", "on_delete", "pipeline",
                "default_expression", "tracked"}
#: Field keys this planner can change on a live table after checking the data.
TABLE_KEYS = {"indexed", "unique", "required"}
#: Settings of a formula or a rollup: it has no column, so changing them changes only the catalog.
FORMULA_KEYS = {"expression", "result", "child_object", "via", "function", "field", "filter"}
#: Object keys that never touch the table.
OBJECT_KEYS = {"label", "plural_label", "description", "name_field", "layouts", "validation_rules",
               "automations", "sharing"}


def check_supported(changes: Iterable[Mapping[str, Any]]) -> None:
    """Refuse, before anything runs, changes this planner cannot make without risk."""
    problems = []
    changes = list(changes)
    # A lookup's target changes only when the editor follows an object rename in the same revision.
    followed = {"target"} if any(c["op"] == "rename_object" for c in changes) else set()
    for change in changes:
        op, where = change["op"], _where(change)
        if op == "remove_object":
            verb = op.split("_")[0]
            problems.append(FieldProblem(where, f"Cannot {verb} {where} yet: that needs the archive-and-restore "
                                                "migration planner, so it is refused rather than risk data."))
        elif op == "remove_field":
            problems.append(FieldProblem(where, f"Fields are not deleted outright: archive {where} instead "
                                                "(its values are kept and it can be restored)."))
        elif op == "update_field":
            for key in set(change["keys"]) - DISPLAY_KEYS - TABLE_KEYS - FORMULA_KEYS - followed:
                problems.append(FieldProblem(f"{where}.{key}", f"Changing {key} of an existing field is not "
                                                               "supported yet; create a new field instead."))
        elif op == "convert_field" and {"formula", "rollup"} & {change["from_type"], change["to_type"]}:
            problems.append(FieldProblem(f"{where}.type", "A stored field cannot become a formula or the other way "
                                                          "round; archive it and add a new field instead."))
        elif op == "update_object":
            for key in set(change["keys"]) - OBJECT_KEYS:
                problems.append(FieldProblem(f"{where}.{key}", f"{key} of an object cannot be changed."))
    if problems:
        raise InvalidInput("This change cannot be applied.", problems)


def apply_changes(conn: Connection, store: TenantStore, old_objects: Mapping[str, ObjectDef],
                  objects: Mapping[str, ObjectDef], old_tables: Mapping[str, Table], new_tables: Mapping[str, Table],
                  changes: Iterable[Mapping[str, Any]], migration: Migration,
                  archived: Mapping[str, Table] | None = None) -> None:
    """Run the DDL for ``changes`` (already planned and found safe); the caller commits it with the revision.

    ``archived`` has the tables of archived objects (before and after), by their archive names.
    """
    archived = archived or {}
    created = {c["object"] for c in changes if c["op"] == "create_object"}
    for table in new_tables[next(iter(new_tables))].metadata.sorted_tables if new_tables else []:
        if table.name in created:
            table.create(conn)
    ops = Operations(MigrationContext.configure(conn))
    for change in sorted(changes, key=lambda c: _ORDER.get(c["op"], 9)):
        name = change["object"]
        if computed_change(change, old_objects, objects):
            continue  # a formula has no column: adding, renaming, archiving or editing one is catalog-only
        if change["op"] == "archive_object":
            evolve.rename_object(conn, store, old_tables[name], archived[change["table"]])
        elif change["op"] == "restore_object":
            evolve.rename_object(conn, store, archived[change["table"]], new_tables[name])
        elif change["op"] == "purge_object":
            ops.drop_table(change["table"], schema=store.schema)
            forget_stage_history(conn, store.schema, "obj_" + change["table"].removeprefix("zz_archived_"))
            forget_field_history(conn, store.schema, "obj_" + change["table"].removeprefix("zz_archived_"))
        elif change["op"] in EVOLVE_OPS:
            _evolve(conn, ops, store, objects, old_tables, new_tables, change)
        elif change["op"] == "add_field":
            field = objects[name].field(change["field"])
            _add_field(conn, ops, store, old_tables[name], new_tables[name], field)
        elif change["op"] == "convert_field":
            new = objects[name].field(change["field"])
            old = next(f for f in old_objects[name].fields if f.id == new.id)
            _convert_field(conn, ops, store, new_tables[name], old, new, change["column"], migration)
        elif change["op"] == "update_field":
            field = objects[name].field(change["field"])
            _update_field(conn, ops, store, new_tables[name], field, set(change["keys"]), migration)


#: Archives and renames free names first, so an add or restore in the same revision can take them.
_ORDER = {"archive_object": -3, "restore_object": -2, "rename_object": -1, "archive_field": 0, "rename_field": 1,
          "restore_field": 2, "add_field": 3, "purge_field": 5, "purge_object": 6}
EVOLVE_OPS = ("rename_object", "archive_field", "rename_field", "restore_field", "purge_field")


def _evolve(conn: Connection, ops: Operations, store: TenantStore, objects: Mapping[str, ObjectDef],
            old_tables: Mapping[str, Table], new_tables: Mapping[str, Table], change: Mapping[str, Any]) -> None:
    op, name = change["op"], change["object"]
    if op == "rename_object":
        evolve.rename_object(conn, store, old_tables[change["from"]], new_tables[name])
    elif op == "rename_field":
        evolve.rename_field(conn, store, new_tables[name], change["from"], objects[name].field(change["field"]))
    elif op == "restore_field":
        evolve.restore_field(conn, ops, store, new_tables[name], objects[name].field(change["field"]),
                             change["column"])
    else:
        step = evolve.archive_field if op == "archive_field" else evolve.purge_field
        step(conn, ops, store, name, change["field"], change["column"])


def _add_field(conn: Connection, ops: Operations, store: TenantStore, old: Table, new: Table,
               field: FieldDef) -> None:
    column = field_column(field, store.schema)
    column.nullable = True
    if column.foreign_keys and conn.dialect.name == "sqlite":
        # SQLite cannot add a constraint to an existing table (Alembic refuses), but it accepts
        # REFERENCES inline in ADD COLUMN when the column's default is NULL, as it is here.
        [key] = column.foreign_keys
        spec = CreateColumn(column).compile(dialect=conn.dialect)
        conn.exec_driver_sql(f'ALTER TABLE "{new.name}" ADD COLUMN {spec} CONSTRAINT "fk_{new.name}_{field.api_name}" '
                             f'REFERENCES "{key.target_fullname.split(".")[0]}" (id) ON DELETE {key.ondelete}')
    else:
        ops.add_column(new.name, column, schema=store.schema)
    if field.default is not None:
        conn.execute(update(new).values({field.api_name: _typed(field, field.default)}))
    _constrain(conn, ops, store, new, field)


def _convert_field(conn: Connection, ops: Operations, store: TenantStore, table: Table, old: FieldDef,
                   new: FieldDef, archive: str, migration: Migration) -> None:
    """Convert every value into a new column, then switch.

    A conversion a job has prepared (see ``conversion_job``) only catches up here
    with the records changed since it started, with writes to the table blocked
    on PostgreSQL; otherwise every row is converted in this transaction.
    """
    prepared = convert.checkpoint(conn, store, new.id)
    if prepared is None:
        convert.add_shadow(conn, ops, store, table.name, new)
        convert.convert_rows(conn, store, table.name, old, new, converter(old, new))
    else:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f'LOCK TABLE "{store.schema}"."{table.name}" IN SHARE MODE')
        convert.convert_rows(conn, store, table.name, old, new, converter(old, new),
                             changed_since=prepared.started_at)
        convert.finish(conn, store, new.id)
    convert.switch(conn, ops, store, table.name, new, archive)
    _fill(conn, table, new, migration)
    _constrain(conn, ops, store, table, new)


def _update_field(conn: Connection, ops: Operations, store: TenantStore, table: Table, field: FieldDef,
                  keys: set[str], migration: Migration) -> None:
    column = table.c[field.api_name]
    if "required" in keys:
        _fill(conn, table, field, migration)
    if "values" in keys and field.type == "picklist":
        for old_value, new_value in migration.value_map.items():
            conn.execute(update(table).where(column == old_value).values({field.api_name: new_value}))
    elif "values" in keys and field.type == "multi_picklist" and migration.value_map:
        _rewrite_choices(conn, table, field, migration.value_map)
    if "required" in keys and conn.dialect.name != "sqlite":
        ops.alter_column(table.name, field.api_name, nullable=not field.required, schema=store.schema)
    if keys & {"indexed", "unique"}:
        for prefix in ("uq", "ix"):
            ops.execute(f'DROP INDEX IF EXISTS {_index_name(store, f"{prefix}_{table.name}_{field.api_name}")}')
        for index in field_indexes(table, field):
            index.create(conn)


def _rewrite_choices(conn: Connection, table: Table, field: FieldDef, value_map: Mapping[str, str]) -> None:
    """Rename values inside a multi-picklist's lists (keeping their order, once each)."""
    column = table.c[field.api_name]
    rows = conn.execute(select(table.c.id, column).where(column.is_not(None))).all()
    changed = [{"_id": record_id, "_value": list(dict.fromkeys(value_map.get(v, v) for v in chosen))}
               for record_id, chosen in rows if set(chosen) & set(value_map)]
    if changed:
        conn.execute(update(table).where(table.c.id == bindparam("_id")).values({field.api_name: bindparam("_value")}),
                     changed)


def _fill(conn: Connection, table: Table, field: FieldDef, migration: Migration) -> None:
    """Give records without a value the admin's ``fill`` value, when a field becomes required."""
    if field.required and migration.fill is not None:
        column = table.c[field.api_name]
        conn.execute(update(table).where(column.is_(None)).values({field.api_name: _typed(field, migration.fill)}))


def _constrain(conn: Connection, ops: Operations, store: TenantStore, table: Table, field: FieldDef) -> None:
    """NOT NULL and indexes of a column that has just got its values."""
    if field.required and conn.dialect.name != "sqlite":
        # SQLite cannot add NOT NULL to an existing column without copying the table;
        # the record service enforces required-ness there.
        ops.alter_column(table.name, field.api_name, nullable=False, schema=store.schema)
    for index in field_indexes(table, field):
        index.create(conn)


def _typed(field: FieldDef, value: Any) -> Any:
    """A value from metadata or the admin's migration options, loaded as the field's input would be."""
    return field.kind.make_field(field.options).deserialize(value)


def _index_name(store: TenantStore, name: str) -> str:
    return f'"{store.schema}"."{name}"' if store.schema else f'"{name}"'


def _where(change: Mapping[str, Any]) -> str:
    return ".".join(part for part in (change.get("object"), change.get("field")) if part)
