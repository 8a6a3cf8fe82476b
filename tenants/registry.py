"""The tenant registry: create, find and list the organizations on this installation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from trellis.platform.controlplane.tables import SLUG_PATTERN, Tenant
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, FieldProblem, InvalidInput, NotFound
from trellis.platform.runtime import TenantRef
from trellis.platform.storage.stores import store_name

#: PostgreSQL cuts identifiers at 63 bytes: two longer schema names could silently become one.
MAX_STORE_NAME = 63


@dataclass(frozen=True)
class TenantInfo:
    slug: str
    name: str
    status: str
    store: str
    #: The configured database holding the tenant's store.
    database: str = ""
    #: The database a move is copying it to, while one runs.
    moving_to: str | None = None

    @classmethod
    def of(cls, row: Tenant, default_database: str) -> TenantInfo:
        return cls(row.slug, row.name, row.status, row.schema_name, row.database or default_database, row.moving_to)


def create_tenant(platform: Platform, slug: str, name: str = "", database: str | None = None) -> TenantRef:
    """Register a tenant and create its empty store (schema or file) with revision 0.

    On PostgreSQL with several databases configured, the store goes to ``database``
    or, by default, to the one holding the fewest tenants.
    """
    if not SLUG_PATTERN.match(slug or "") or len(store_name(slug)) > MAX_STORE_NAME:
        raise InvalidInput("Bad tenant name.", [FieldProblem("slug", (
            f"{slug!r} cannot name a tenant: use 2-{MAX_STORE_NAME - len(store_name(''))} lower-case letters, "
            "digits and hyphens, starting with a letter (for example acme-sales)."))])
    check_database(platform, database)
    with platform.control() as session:
        if session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
            raise Conflict("That tenant exists.", [FieldProblem("slug", f"A tenant named {slug!r} already exists.")])
    store = store_name(slug)
    placed = platform.stores.provision(store, database or platform.stores.least_loaded())
    try:
        with platform.control() as session:
            tenant = Tenant(slug=slug, name=name or slug, schema_name=store, database=placed.database)
            session.add(tenant)
            session.flush()
            return TenantRef.of(tenant)
    except Exception:
        platform.stores.drop(store, placed.database)
        raise


def check_database(platform: Platform, database: str | None) -> None:
    """Refuse a database name the configuration does not list, naming the ones it does."""
    names = platform.settings.database_names
    if database is not None and database not in names:
        raise InvalidInput("Unknown database.", [FieldProblem("database", (
            f"No database is named {database!r}; TRELLIS_DATABASES names {', '.join(names)}."))])


def find_tenant(platform: Platform, slug: str) -> TenantInfo:
    """Tenant ``slug`` whatever its status (operators act on suspended and archived tenants too)."""
    with platform.control() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
        if row is None:
            raise NotFound("There is no such tenant.", [FieldProblem("slug", (
                f"No tenant is named {slug!r}; see 'trellis tenants list'."))])
        return TenantInfo.of(row, platform.settings.database_names[0])


def list_tenants(platform: Platform) -> list[TenantInfo]:
    default = platform.settings.database_names[0]
    with platform.control() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        return [TenantInfo.of(t, default) for t in rows]


def delete_tenant(platform: Platform, slug: str) -> None:
    """Remove a tenant and its store for good, without a backup (see ``lifecycle.delete`` for the guarded one).

    The registry row goes in the same control-plane transaction that is still
    open while the store is dropped: if dropping fails, the row stays.
    """
    with platform.control() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        store, database = tenant.schema_name, tenant.database
        session.delete(tenant)
        session.flush()
        platform.stores.drop(store, database)
    platform.forget(slug)
