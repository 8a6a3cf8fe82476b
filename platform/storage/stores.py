"""Where each tenant's records live: a PostgreSQL schema or a SQLite file."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from trellis.platform.config import Settings
from trellis.platform.database import make_engine

from .system import system_tables


@dataclass(frozen=True)
class TenantStore:
    """The engine holding a tenant's tables and the schema to qualify them with."""

    engine: Engine
    #: PostgreSQL schema name; ``None`` for a SQLite file (one file per tenant).
    schema: str | None


def store_name(slug: str) -> str:
    """The schema (or file stem) for a tenant slug: readable in psql and a BI tool."""
    return "tenant_" + re.sub(r"[^a-z0-9]", "_", slug.lower())


class Stores:
    """Engines for the control plane and every tenant store, opened once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.control = make_engine(settings.control_plane_url)
        self._files: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def tenant(self, name: str) -> TenantStore:
        """The store named ``name`` (see ``store_name``)."""
        if not self.settings.embedded:
            return TenantStore(self.control, name)
        with self._lock:
            if name not in self._files:
                self._files[name] = make_engine(f"sqlite:///{self._file(name)}")
            return TenantStore(self._files[name], None)

    def provision(self, name: str) -> TenantStore:
        """Create the store and the platform's tables inside it."""
        store = self.tenant(name)
        with store.engine.begin() as conn:
            if store.schema:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"'))
            for table in system_tables(store.schema):
                table.create(conn, checkfirst=True)
        return store

    def drop(self, name: str) -> None:
        """Remove a store and everything in it (used by tests and tenant deletion)."""
        store = self.tenant(name)
        if store.schema:
            with store.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE'))
            return
        with self._lock:
            self._files.pop(name).dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._file(name)}{suffix}").unlink(missing_ok=True)

    def dispose(self) -> None:
        self.control.dispose()
        for engine in self._files.values():
            engine.dispose()

    def _file(self, name: str) -> Path:
        return self.settings.data_dir / "tenants" / f"{name}.db"
