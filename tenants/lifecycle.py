"""A tenant's life after creation: rename, suspend, resume, archive and delete.

What each status means to the people using the tenant (decided here, shown by
the doors through ``renderers/gateway.py``):

- ``active``: served normally.
- ``suspended``: its screens and API answer 403 "this organization is suspended",
  so its users know why they cannot work; nothing else about it is revealed.
- ``archived``: no longer served at all; it answers like an unknown tenant (404),
  its data kept until it is resumed or deleted.

Every status change makes this process forget the tenant's cached runtime at
once; other processes read the tenant's row on every request and stop serving
it on their next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from trellis.platform.controlplane.tables import TENANT_STATUSES, Tenant
from trellis.platform.core import Platform
from trellis.platform.errors import FieldProblem, InvalidInput, NotFound

from .backup import backup_tenant
from .registry import TenantInfo, delete_tenant, find_tenant

#: How a change of status is spoken of by the CLI and the operator API.
VERBS = {"active": "resumed", "suspended": "suspended", "archived": "archived"}


@dataclass(frozen=True)
class Gate:
    """What the doors need to know before serving a request to a tenant (None: unknown tenant)."""

    status: str
    moving: bool


def gate(platform: Platform, slug: str) -> Gate | None:
    """The tenant's status and whether a move is blocking its writes: one indexed control-plane read."""
    with platform.control() as session:
        row = session.execute(select(Tenant.status, Tenant.moving_to).where(Tenant.slug == slug)).first()
    return None if row is None else Gate(row.status, row.moving_to is not None)


def rename(platform: Platform, slug: str, name: str) -> TenantInfo:
    """Change the display name (the slug, and so every address, stays)."""
    return update(platform, slug, name=name)


def set_status(platform: Platform, slug: str, status: str) -> TenantInfo:
    """Suspend (``suspended``), archive (``archived``) or resume (``active``) a tenant."""
    return update(platform, slug, status=status)


def update(platform: Platform, slug: str, *, name: str | None = None, status: str | None = None) -> TenantInfo:
    """Rename and/or change the status in one go: every value is checked before anything is written."""
    problems = []
    if name is not None and not 1 <= len(name.strip()) <= 200:
        problems.append(FieldProblem("name", "The name must be 1-200 characters long."))
    if status is not None and status not in TENANT_STATUSES:
        problems.append(FieldProblem("status", (
            f"{status!r} is not a tenant status; use one of {', '.join(TENANT_STATUSES)}.")))
    if problems:
        raise InvalidInput("The tenant's new values are not valid.", problems)
    values = {key: value for key, value in (("name", name and name.strip()), ("status", status)) if value}
    return _update(platform, slug, **values)


def delete(platform: Platform, slug: str, *, backup: bool = True) -> Path | None:
    """Delete tenant ``slug`` and its store; first writes a final backup to the data folder unless ``backup=False``.

    All or nothing: if the backup cannot be written nothing is deleted, and if the
    store cannot be dropped the registry row stays. Returns the backup's path.
    """
    find_tenant(platform, slug)
    path = None
    if backup:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = Path(platform.settings.data_dir) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug}-{stamp}-final.zip"
        backup_tenant(platform, slug, path)
    delete_tenant(platform, slug)
    return path


def _update(platform: Platform, slug: str, **values: str) -> TenantInfo:
    with platform.control() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
        if row is None:
            raise NotFound("There is no such tenant.", [FieldProblem("slug", (
                f"No tenant is named {slug!r}; see 'trellis tenants list'."))])
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        info = TenantInfo.of(row, platform.settings.database_names[0])
    platform.forget(slug)
    return info
