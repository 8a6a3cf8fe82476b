"""The tenant registry: create and list the organizations on this installation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from trellis.platform.controlplane.tables import SLUG_PATTERN, Tenant
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, FieldProblem, InvalidInput
from trellis.platform.runtime import TenantRef
from trellis.platform.storage.stores import store_name


@dataclass(frozen=True)
class TenantInfo:
    slug: str
    name: str
    status: str
    store: str


def create_tenant(platform: Platform, slug: str, name: str = "") -> TenantRef:
    """Register a tenant and create its empty store (schema or file) with revision 0."""
    if not SLUG_PATTERN.match(slug or ""):
        raise InvalidInput("Bad tenant name.", [FieldProblem("slug", (
            f"{slug!r} cannot name a tenant: use 2-63 lower-case letters, digits and hyphens, "
            "starting with a letter (for example acme-sales)."))])
    with platform.control() as session:
        if session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
            raise Conflict("That tenant exists.", [FieldProblem("slug", f"A tenant named {slug!r} already exists.")])
    store = store_name(slug)
    platform.stores.provision(store)
    try:
        with platform.control() as session:
            tenant = Tenant(slug=slug, name=name or slug, schema_name=store)
            session.add(tenant)
            session.flush()
            return TenantRef.of(tenant)
    except Exception:
        platform.stores.drop(store)
        raise


def list_tenants(platform: Platform) -> list[TenantInfo]:
    with platform.control() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        return [TenantInfo(t.slug, t.name, t.status, t.schema_name) for t in rows]


def delete_tenant(platform: Platform, slug: str) -> None:
    """Remove a tenant and its store for good (no backup yet: used by tests and benchmarks)."""
    with platform.control() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        store = tenant.schema_name
        session.delete(tenant)
    platform.stores.drop(store)
    platform.forget(slug)
