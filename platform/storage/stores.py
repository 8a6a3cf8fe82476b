"""Where each tenant's records live: a PostgreSQL schema (in one of the configured databases) or a SQLite file.

With several databases (``TRELLIS_DATABASES``) the tenant's registry row names
the one holding its schema. It is read from the control plane whenever a store
is asked for, so a tenant moved by another process is found in its new home on
the very next request.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from trellis.platform.config import DEFAULT_DATABASE, Settings
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.database import make_engine

from .system import platform_tables


@dataclass(frozen=True)
class TenantStore:
    """The engine holding a tenant's tables and the schema to qualify them with."""

    engine: Engine
    #: PostgreSQL schema name; ``None`` for a SQLite file (one file per tenant).
    schema: str | None
    #: Which configured database holds it (always the first one for SQLite files).
    database: str = DEFAULT_DATABASE


def store_name(slug: str) -> str:
    """The schema (or file stem) for a tenant slug: readable in psql and a BI tool."""
    return "tenant_" + re.sub(r"[^a-z0-9]", "_", slug.lower())


class Stores:
    """Engines for the control plane and every tenant store, opened once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.control = make_engine(settings.control_plane_url)
        self._files: dict[str, Engine] = {}
        self._databases: dict[str, Engine] = {settings.database_names[0]: self.control}
        self._lock = threading.Lock()
        #: Stores whose platform tables this process has made sure of (see ``upgrade``).
        self._upgraded: set[tuple[Engine, str | None]] = set()

    def tenant(self, name: str, database: str | None = None) -> TenantStore:
        """The store named ``name`` (see ``store_name``), in ``database`` or where the registry places it."""
        if not self.settings.embedded:
            database = database or self.database_of(name)
            return TenantStore(self.engine(database), name, database)
        with self._lock:
            if name not in self._files:
                self._files[name] = make_engine(f"sqlite:///{self._file(name)}")
            return TenantStore(self._files[name], None, self.settings.database_names[0])

    def engine(self, database: str) -> Engine:
        """The engine of a configured PostgreSQL database (opened on first use)."""
        url = self.settings.database_url_of(database)
        with self._lock:
            if database not in self._databases:
                self._databases[database] = make_engine(url)
            return self._databases[database]

    def database_of(self, name: str) -> str:
        """The database the registry places store ``name`` in; no query at all when there is only one."""
        names = self.settings.database_names
        if len(names) == 1:
            return names[0]
        with self.control.connect() as conn:
            placed = conn.scalar(select(Tenant.database).where(Tenant.schema_name == name))
        return placed or names[0]

    def least_loaded(self) -> str:
        """The configured database holding the fewest tenants (the first one on a tie)."""
        names = self.settings.database_names
        if len(names) == 1:
            return names[0]
        placed = func.coalesce(Tenant.database, names[0])
        with self.control.connect() as conn:
            counts = dict(conn.execute(select(placed, func.count()).group_by(placed)).all())
        return min(names, key=lambda name: counts.get(name, 0))

    def provision(self, name: str, database: str | None = None) -> TenantStore:
        """Create the store and the platform's tables inside it."""
        store = self.tenant(name, database)
        with store.engine.begin() as conn:
            if store.schema:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"'))
            for table in platform_tables(store.schema):
                table.create(conn, checkfirst=True)
        return store

    def upgrade(self, store: TenantStore) -> None:
        """Add the platform tables a store provisioned by an older Trellis lacks; once per store and process.

        Runs in a transaction of its own, before any request writes, so a record's write never
        has to create a table (and a rolled-back write cannot leave a process believing it did).
        """
        key = (store.engine, store.schema)  # engines live as long as the process: no URL rendering per request
        if key in self._upgraded:
            return
        with store.engine.begin() as conn:
            for table in platform_tables(store.schema):
                table.create(conn, checkfirst=True)
        self._upgraded.add(key)

    def drop(self, name: str, database: str | None = None) -> None:
        """Remove a store and everything in it (tenant deletion, the old copy after a move)."""
        store = self.tenant(name, database)
        if store.schema:
            with store.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE'))
            return
        with self._lock:
            self._files.pop(name).dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._file(name)}{suffix}").unlink(missing_ok=True)

    def dispose(self) -> None:
        for engine in [*self._databases.values(), *self._files.values()]:
            engine.dispose()

    def _file(self, name: str) -> Path:
        return self.settings.data_dir / "tenants" / f"{name}.db"
