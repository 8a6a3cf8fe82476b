"""Object documents → SQLAlchemy Core tables.

One table per object, named by its API name, one readably named column per
stored field, plus the system columns every record has. Core ``Table``s (not
mapped classes) because objects change at run time and Core builds them in half
the time; they live as long as the tenant's compiled revision so SQLAlchemy's
statement cache stays warm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from trellis.metadata.fieldtypes import field_type
from trellis.metadata.model import FieldDef, ObjectDef

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

#: A record id: 64-bit everywhere, but plain INTEGER on SQLite so it is the rowid alias.
RecordId = BigInteger().with_variant(Integer(), "sqlite")
#: None is stored as SQL NULL (not JSON null), so an empty multi-picklist is blank to IS NULL and to a BI tool.
JsonValue = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def column_type(field: FieldDef) -> TypeEngine:
    """The real column type for a field, from its catalog entry's abstract storage."""
    kind = field.kind
    storage = kind.storage
    if storage == "string":
        return String(field.options.get("max_length", kind.length))
    if storage == "numeric":
        defaults = {"percent": (5, 2)}.get(field.type, (18, 2))
        return Numeric(field.options.get("precision", defaults[0]), field.options.get("scale", defaults[1]))
    simple: dict[str, TypeEngine] = {
        "text": Text(),
        "integer": BigInteger(),
        "boolean": Boolean(),
        "date": Date(),
        "datetime": DateTime(timezone=True),
        "json": JsonValue,
        "reference": RecordId,
    }
    return simple[storage]


def field_column(field: FieldDef, schema: str | None) -> Column:
    """The column for one field (constraints that need the table come from ``field_indexes``)."""
    args: list = []
    if field.type == "lookup":
        ondelete = "RESTRICT" if field.options.get("on_delete") == "restrict" or field.required else "SET NULL"
        args.append(ForeignKey(f"{_qualified(field.target, schema)}.id", ondelete=ondelete))
    return Column(field.api_name, column_type(field), *args, nullable=not field.required)


def field_indexes(table: Table, field: FieldDef) -> list[Index]:
    """The indexes of ``table`` that serve ``field`` alone."""
    return [index for index in table.indexes if list(index.columns.keys()) == [field.api_name]]


def _add_indexes(table: Table, field: FieldDef) -> None:
    """Unique and plain indexes a field asks for (lookups are always indexed for joins)."""
    column = table.c[field.api_name]
    if field.unique:
        Index(f"uq_{table.name}_{field.api_name}", column, unique=True)
    elif field.indexed or field.type == "lookup":
        Index(f"ix_{table.name}_{field.api_name}", column)


def system_columns() -> list[Column]:
    now = func.current_timestamp()
    return [
        Column("id", RecordId, primary_key=True, autoincrement=True),
        Column("owner", BigInteger, nullable=True, index=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=now),
        Column("created_by", BigInteger, nullable=True),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=now),
        Column("updated_by", BigInteger, nullable=True),
        Column("version", Integer, nullable=False, server_default="1"),
    ]


def object_table(metadata: MetaData, obj: ObjectDef) -> Table:
    """Add the table for ``obj`` to ``metadata`` (whose schema is the tenant's)."""
    stored = [f for f in obj.fields if f.kind.storage != "none"]  # formulas are computed on read, not stored
    columns = [field_column(f, metadata.schema) for f in stored]
    table = Table(obj.api_name, metadata, *system_columns(), *columns)
    for field in stored:
        _add_indexes(table, field)
    return table


def build_tables(objects: Iterable[ObjectDef], schema: str | None) -> dict[str, Table]:
    """All object tables of one tenant revision, in one ``MetaData`` so foreign keys resolve."""
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    return {obj.api_name: object_table(metadata, obj) for obj in objects}


def computed_change(change: Mapping[str, Any], old: Mapping[str, ObjectDef], new: Mapping[str, ObjectDef]) -> bool:
    """Whether a metadata change is about a field computed on read (a formula) in either revision:
    such a field has no column, so the change is catalog-only."""
    if "type" in change:  # a purge: the field is in neither revision's live fields
        return field_type(change["type"]).computed
    name, field = change["object"], change.get("field")
    return field is not None and any(obj.has_field(field) and obj.field(field).kind.computed
                                     for obj in (old.get(name), new.get(name)) if obj is not None)


def _qualified(table_name: str | None, schema: str | None) -> str:
    return f"{schema}.{table_name}" if schema else str(table_name)
