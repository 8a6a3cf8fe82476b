"""Placement of tenants across the configured PostgreSQL databases, and moving one between them.

New tenants go to the least-loaded database (``Stores.least_loaded``). A move
copies the tenant whole — the same archive a backup writes — into the target
database, switches the registry row, and only then drops the old copy:

1. the row gets ``moving_to``: from then on the doors answer the tenant's writes
   with 503 "try again shortly" (reads continue from the old copy);
2. the archive is written under SHARE locks, so writes already under way finish first;
3. the archive is restored into the target in one transaction, which also appends a
   revision "Moved from … to …": every process notices a new revision on its next
   request and rebuilds its cached runtime and screens against the new database;
4. the row switches to the target database and ``moving_to`` clears, in one commit;
5. the old copy is dropped.

If anything fails before step 4 the target copy is dropped and the tenant stays
where it was, writable again.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from sqlalchemy import inspect, select

from trellis.platform import revisions
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, FieldProblem, InvalidInput
from trellis.platform.storage.stores import TenantStore

from .backup import backup_tenant, restore_store
from .registry import TenantInfo, check_database, find_tenant


def move_tenant(platform: Platform, slug: str, target: str) -> TenantInfo:
    """Move tenant ``slug`` to the configured database ``target``; returns its new registry facts."""
    info = _check_move(platform, slug, target)
    _set_moving(platform, slug, target, expect=None)
    copied = False
    try:
        with tempfile.TemporaryDirectory(prefix="trellis-move-") as folder:
            path = Path(folder) / f"{slug}.zip"
            backup_tenant(platform, slug, path, block_writes=True)
            store = platform.stores.provision(info.store, target)
            copied = True
            _restore_moved(path, store, info.database)
        _switch(platform, slug, target)
    except BaseException:
        if copied:
            platform.stores.drop(info.store, target)
        _set_moving(platform, slug, None, expect=target)
        raise
    platform.forget(slug)
    platform.stores.drop(info.store, info.database)
    return find_tenant(platform, slug)


def _check_move(platform: Platform, slug: str, target: str) -> TenantInfo:
    """Refuse, before touching anything, a move that cannot work; say what to do instead."""
    if platform.settings.embedded:
        raise InvalidInput("Moving needs PostgreSQL.", [FieldProblem("database", (
            "Tenants move between PostgreSQL databases; set TRELLIS_DATABASES=main=postgresql://…,"
            "other=postgresql://…"))])
    check_database(platform, target)
    info = find_tenant(platform, slug)
    if info.moving_to is not None:
        raise Conflict("A move is under way.", [FieldProblem("slug", (
            f"{slug} is already being moved to {info.moving_to}; wait for it to finish."))])
    if info.database == target:
        raise InvalidInput("Already there.", [FieldProblem("database", f"{slug} is already in {target}.")])
    with platform.stores.engine(target).connect() as conn:
        if inspect(conn).has_schema(info.store):
            raise Conflict("The target holds a leftover copy.", [FieldProblem("database", (
                f"{target} already has a schema {info.store} (left by a failed move?); "
                "drop it there after checking, then move again."))])
    return info


def _restore_moved(path: Path, store: TenantStore, source: str) -> None:
    """Restore the archive into ``store`` and record the move as the newest revision, in one transaction."""
    with zipfile.ZipFile(path) as archive, store.engine.begin() as conn:
        restore_store(archive, conn, store)
        newest = revisions.load(conn, store)
        revisions.append(conn, store, after=newest.number, documents=newest.documents,
                         definitions=newest.definitions, changes=[],
                         author_id=None, summary=f"Moved from database {source} to {store.database}")


def _set_moving(platform: Platform, slug: str, target: str | None, *, expect: str | None) -> None:
    """Mark (or clear) a move; the row must be in the expected state, so two moves never overlap."""
    with platform.control() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == slug).with_for_update()).one()
        if row.moving_to != expect:
            raise Conflict("A move is under way.", [FieldProblem("slug", f"{slug} is being moved by someone else.")])
        row.moving_to = target


def _switch(platform: Platform, slug: str, target: str) -> None:
    with platform.control() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == slug).with_for_update()).one()
        row.database, row.moving_to = target, None
