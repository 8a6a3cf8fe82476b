"""Migrations and sessions for the control-plane database (engines: ``trellis.platform.database``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().with_name("migrations")

#: Arbitrary constant key of the PostgreSQL advisory lock that serializes upgrades.
_UPGRADE_LOCK_KEY = 0x7472_6C73  # "trls"


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
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit.

    ``expire_on_commit=False`` lets a request hand a committed user or tenant
    to the renderer without a second round trip to reload it.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)
