"""Engines, migrations and sessions for the control-plane database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().with_name("migrations")

#: Arbitrary constant key of the PostgreSQL advisory lock that serializes upgrades.
_UPGRADE_LOCK_KEY = 0x7472_6C73  # "trls"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings Trellis relies on.

    SQLite gets foreign keys (off by default there) and real transactions, so
    DDL and savepoints roll back as they do on PostgreSQL; its folder is
    created so a fresh data directory just works. PostgreSQL connections are
    pinged before use, so a restarted server costs no failed request.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys and take BEGIN away from the sqlite3 module.

    Python's sqlite3 (before 3.12's ``autocommit``) never begins a transaction
    before DDL or SAVEPOINT, so those would commit on their own; SQLAlchemy
    emits BEGIN instead (the recipe from SQLAlchemy's SQLite dialect docs).
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def upgrade(engine: Engine) -> None:
    """Bring the control-plane schema to the newest revision; safe to repeat.

    All pending migrations run in one transaction. On PostgreSQL an advisory
    lock makes app servers that start together wait for each other instead
    of racing to create the same tables.
    """
    config = Config()
    # Config values are %-interpolated; a literal % in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit.

    ``expire_on_commit=False`` lets a request hand a committed user or tenant
    to the renderer without a second round trip to reload it.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)
