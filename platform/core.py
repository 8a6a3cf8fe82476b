"""``Platform``: the runtime as one object that every door holds.

Renderers, the CLI and the tenant layer ask it for a tenant's compiled
runtime, a record service and a metadata editor; they never open engines or
sessions of their own for records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import conversion_job
from .automation.engine import Automation
from .config import Settings
from .configuration import Background, MetadataEditor
from .controlplane.db import session_factory, upgrade
from .controlplane.people import names_of
from .controlplane.tables import Tenant
from .errors import NotFound
from .extensions import registry as extensions
from .jobs import Jobs
from .records.service import Actor, RecordService
from .runtime import RuntimeCache, TenantRef, TenantRuntime
from .storage.plan import Migration
from .storage.stores import Stores


class Platform:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        extensions.installed()  # their field types join the catalog before any revision is compiled
        self.stores = Stores(self.settings)
        self._sessions = session_factory(self.stores.control)
        self._runtimes = RuntimeCache()
        #: Background work: enqueue, wait, retry, run a worker (``trellis.platform.jobs``).
        self.jobs = Jobs(self)
        #: Automation rules: record events and the periodic scan start rule runs (``trellis.platform.automation``).
        self.automation = Automation(self)

    def migrate(self) -> None:
        """Bring the control plane's tables up to date (Alembic)."""
        upgrade(self.stores.control)

    @contextmanager
    def control(self) -> Iterator[Session]:
        """A control-plane session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def tenant(self, slug: str) -> TenantRef:
        """The active tenant ``slug``; unknown, suspended and archived tenants look the same: absent."""
        with self._sessions() as session:
            row = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
            if row is None or row.status != "active":
                raise NotFound("There is no such tenant.")
            return TenantRef.of(row)

    def runtime(self, tenant: TenantRef | str) -> TenantRuntime:
        """The compiled runtime of the tenant's newest revision (cached)."""
        ref = self.tenant(tenant) if isinstance(tenant, str) else tenant
        store = self.stores.tenant(ref.store_name)
        self.stores.upgrade(store)
        return self._runtimes.get(ref, store)

    def forget(self, slug: str) -> None:
        """Drop a tenant's cached runtime (after it was deleted or moved)."""
        self._runtimes.forget(slug)

    def records(self, runtime: TenantRuntime, actor: Actor, *, depth: int = 0) -> RecordService:
        """The record service; its changes fire automation rules (``depth``: rule runs that led to them)."""
        return RecordService(runtime, actor, events=self.automation.record_changed, depth=depth,
                             people=self.user_names)

    def user_names(self, ids: set[int]) -> dict[int, str]:
        """``{user id: name}`` for display, in one control-plane query."""
        with self.control() as session:
            return names_of(session, ids)

    def editor(self, runtime: TenantRuntime, actor: Actor, *, migration: Migration | None = None,
               dry_run: bool = False) -> MetadataEditor:
        """A metadata editor whose large type conversions run as jobs of this platform."""

        def enqueue(documents: list[dict], summary: str, revision: int, change: dict, plan: Migration) -> int:
            args = conversion_job.job_arguments(documents, summary, revision, change, plan,
                                                self.settings.convert_batch_rows)
            key = f"convert:{runtime.tenant.slug}:{revision}:{change['object']}.{change['field']}"
            return self.jobs.enqueue(runtime.tenant.slug, conversion_job.KIND, args, actor.user_id,
                                     idempotency_key=key, timeout_s=24 * 3600)

        background = Background(self.settings.convert_job_rows, enqueue)
        return MetadataEditor(runtime, actor, migration=migration, dry_run=dry_run, background=background)

    def dispose(self) -> None:
        self.jobs.stop()
        self.stores.dispose()
