"""``trellis_templates``: which templates a tenant installed, and exactly what they installed.

One row per template. ``base`` keeps the documents as the installed version shipped
them and ``ids`` the stable ids they were given, so an upgrade can three-way merge
(installed version, new version, the tenant's current configuration) and still
recognize a field the tenant renamed. Kept in the tenant's store so a backup
carries it with the revisions it refers to.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from .tables import NAMING_CONVENTION, JsonValue


@lru_cache(maxsize=4096)
def template_table(schema: str | None) -> Table:
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    return Table(
        "trellis_templates",
        metadata,
        Column("name", String(63), primary_key=True),
        Column("version", String(60), nullable=False),
        #: "installed", or "uninstalled" (its objects archived, its row kept as a record).
        Column("status", String(20), nullable=False),
        Column("revision", Integer, nullable=False),
        Column("installed_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("manifest", JsonValue, nullable=False),
        Column("base", JsonValue, nullable=False),
        Column("ids", JsonValue, nullable=False),
    )
