"""Schema evolution that never loses data: rename objects; rename, archive, restore and purge fields.

Every step renames or drops in place inside the caller's transaction, so the
revision that asked for it commits with it or neither does. Archiving never
drops a column: it is renamed to ``zz_archived_<id>`` (the field's stable id, so
two archives cannot collide and the live name is free for a new field) and made
nullable so inserts that no longer know it keep working. Indexes go with the
archive and come back with the restore; a lookup keeps its foreign key while
archived (renamed with the column), so a restore never meets orphaned values.
Only ``purge`` drops a column, and only as its own explicit step.
"""

from __future__ import annotations

import re

from alembic.operations import Operations
from sqlalchemy import Connection, Table, func, inspect, select, update

from trellis.metadata.model import FieldDef

from ..errors import Conflict
from .stores import TenantStore
from .system import system_tables
from .tables import field_indexes

#: PostgreSQL's identifier limit; longer names would be cut silently.
MAX_IDENTIFIER = 63


def archive_column(field_id: str) -> str:
    """The column an archived field's values live in: legal, short and unique per field."""
    return f"zz_archived_{field_id.removeprefix('fld_')}"


def archive_table(object_id: str) -> str:
    """The table an archived object's records live in: legal, short and unique per object."""
    return f"zz_archived_{object_id.removeprefix('obj_')}"


def rename_field(conn: Connection, store: TenantStore, new: Table, old_name: str, field: FieldDef) -> None:
    """Rename the column in place (catalog-only), then give its indexes and key the new names."""
    rename_column(conn, store, new.name, old_name, field.api_name)
    if conn.dialect.name == "postgresql":
        for prefix in ("ix", "uq"):
            conn.exec_driver_sql(f'ALTER INDEX IF EXISTS {_qualified(store, _name(prefix, new.name, old_name))} '
                                 f'RENAME TO "{_name(prefix, new.name, field.api_name)}"')
        _rename_foreign_key(conn, store, new.name, field.api_name)
        return
    _drop_indexes(conn, store, new.name, old_name)
    for index in field_indexes(new, field):
        index.create(conn)


def rename_object(conn: Connection, store: TenantStore, old: Table, new: Table) -> None:
    """Rename the table in place; its indexes, keys and autonumber counters follow the new name.

    Lookups pointing here keep working: PostgreSQL's foreign keys refer to the
    table itself, and SQLite (3.26+) rewrites the references in other tables.
    """
    conn.exec_driver_sql(f'ALTER TABLE {_qualified(store, old.name)} RENAME TO "{new.name}"')
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'ALTER INDEX IF EXISTS {_qualified(store, f"pk_{old.name}")} '
                             f'RENAME TO "{f"pk_{new.name}"[:MAX_IDENTIFIER]}"')
        conn.exec_driver_sql(f'ALTER SEQUENCE IF EXISTS {_qualified(store, f"{old.name}_id_seq")} '
                             f'RENAME TO "{f"{new.name}_id_seq"[:MAX_IDENTIFIER]}"')
        for index in old.indexes:
            renamed = _name(index.name.split("_", 1)[0], new.name, "_".join(index.columns.keys()))
            conn.exec_driver_sql(f"ALTER INDEX IF EXISTS {_qualified(store, index.name)} RENAME TO \"{renamed}\"")
        for key in inspect(conn).get_foreign_keys(new.name, schema=store.schema):
            _rename_foreign_key(conn, store, new.name, key["constrained_columns"][0])
    else:
        for index in old.indexes:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_qualified(store, index.name)}")
        for index in new.indexes:
            index.create(conn)
    _rename_counters(conn, store, old.name, new.name)


def _rename_counters(conn: Connection, store: TenantStore, old: str, new: str) -> None:
    """Autonumber counters are named ``<object>.<field id>``: move them with the object."""
    _, sequences = system_tables(store.schema)
    owned = select(sequences.c.name).where(sequences.c.name.startswith(f"{old}.", autoescape=True))
    for name in conn.execute(owned).scalars().all():
        conn.execute(update(sequences).where(sequences.c.name == name)
                     .values(name=f"{new}.{name.removeprefix(old + '.')}"))


def archive_field(conn: Connection, ops: Operations, store: TenantStore, table: str, field: str,
                  column: str) -> None:
    """Hide the column under its archive name, nullable and unindexed; its values stay."""
    _drop_indexes(conn, store, table, field)
    rename_column(conn, store, table, field, column)
    if conn.dialect.name == "postgresql":
        ops.alter_column(table, column, nullable=True, schema=store.schema)
        _rename_foreign_key(conn, store, table, column)
    else:
        _sqlite_drop_not_null(conn, table, column)


def restore_field(conn: Connection, ops: Operations, store: TenantStore, new: Table, field: FieldDef,
                  column: str) -> None:
    """Bring the archived column back under the field's name with its indexes (and its key's name)."""
    rename_column(conn, store, new.name, column, field.api_name)
    live = new.c[field.api_name]
    if conn.dialect.name == "postgresql":
        _rename_foreign_key(conn, store, new.name, field.api_name)
        empty = conn.execute(select(func.count()).where(live.is_(None))).scalar()
        if field.required and not empty:
            # Records created while the field was archived have no value: the record
            # service enforces required-ness on new writes, as it does on SQLite.
            ops.alter_column(new.name, field.api_name, nullable=False, schema=store.schema)
    for index in field_indexes(new, field):
        index.create(conn)


def purge_field(conn: Connection, ops: Operations, store: TenantStore, table: str, field: str,
                column: str) -> None:
    """Drop an archived column for good: the one step of schema evolution that deletes values.

    The plan has refused it already where SQLite cannot drop the column (one carrying a foreign key).
    """
    ops.drop_column(table, column, schema=store.schema)


def rename_column(conn: Connection, store: TenantStore, table: str, old: str, new: str) -> None:
    conn.exec_driver_sql(f'ALTER TABLE {_qualified(store, table)} RENAME COLUMN "{old}" TO "{new}"')


def _rename_foreign_key(conn: Connection, store: TenantStore, table: str, column: str) -> None:
    """Give the (PostgreSQL) foreign key on ``column`` the convention's name for it, whatever it was called."""
    target = _name("fk", table, column)
    for key in inspect(conn).get_foreign_keys(table, schema=store.schema):
        if key["constrained_columns"] == [column] and key["name"] != target:
            conn.exec_driver_sql(f'ALTER TABLE {_qualified(store, table)} RENAME CONSTRAINT "{key["name"]}" '
                                 f'TO "{target}"')


def _drop_indexes(conn: Connection, store: TenantStore, table: str, column: str) -> None:
    for prefix in ("ix", "uq"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_qualified(store, _name(prefix, table, column))}")


def _sqlite_drop_not_null(conn: Connection, table: str, column: str) -> None:
    """Remove NOT NULL from one SQLite column without copying the table.

    Copying would drop the table, and with foreign keys on that fires the
    ``ON DELETE`` actions of every lookup pointing here. SQLite documents editing
    the stored CREATE TABLE text for exactly this (removing NOT NULL changes no
    stored row); the edit is part of the transaction and checked afterwards.
    """
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar_one()
    pattern = rf'((?:^|[(,]|\n)\s*"?{re.escape(column)}"?\s[^,\n]*?) NOT NULL'
    edited = re.sub(pattern, r"\1", sql, count=1)
    if edited == sql:
        return
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edited, table))
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    info = {row[1]: row[3] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')}
    if info.get(column):
        raise Conflict(f"Could not make the archived column {column} optional; nothing was changed.")


def _name(prefix: str, table: str, column: str) -> str:
    return f"{prefix}_{table}_{column}"[:MAX_IDENTIFIER]


def _qualified(store: TenantStore, name: str) -> str:
    return f'"{store.schema}"."{name}"' if store.schema else f'"{name}"'
