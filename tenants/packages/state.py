"""What a tenant has installed: rows of ``trellis_templates`` read and written as plain dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from trellis.platform.errors import NotFound
from trellis.platform.storage.installed import template_table
from trellis.platform.storage.stores import TenantStore


def installed(store: TenantStore) -> dict[str, dict[str, Any]]:
    """Every template the tenant installed (uninstalled ones included), by name."""
    table = template_table(store.schema)
    with store.engine.connect() as conn:
        return {row["name"]: dict(row) for row in conn.execute(select(table).order_by(table.c.name)).mappings()}


def installed_one(store: TenantStore, name: str) -> dict[str, Any]:
    row = installed(store).get(name)
    if row is None or row["status"] != "installed":
        raise NotFound(f"The template '{name}' is not installed in this tenant; install it first.")
    return row


def record(conn: Connection, store: TenantStore, *, manifest: dict[str, Any], revision: int, base: dict[str, Any],
           ids: dict[str, Any], status: str = "installed") -> None:
    """Remember the installed version, its documents (the next merge base) and their ids, in ``conn``'s
    transaction."""
    table = template_table(store.schema)
    now = datetime.now(UTC)
    values = {"version": manifest["version"], "status": status, "revision": revision, "updated_at": now,
              "manifest": manifest, "base": base, "ids": ids}
    exists = conn.execute(select(table.c.name).where(table.c.name == manifest["name"])).first()
    if exists:
        conn.execute(update(table).where(table.c.name == manifest["name"]).values(values))
    else:
        conn.execute(insert(table).values(name=manifest["name"], installed_at=now, **values))
