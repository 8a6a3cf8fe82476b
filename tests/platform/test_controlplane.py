"""Control plane: migrations, accounts and API tokens, on SQLite and PostgreSQL.

PostgreSQL is required, never skipped: the PostgreSQL cases fail when the
server at ``TRELLIS_TEST_POSTGRES_URL`` (default: the local ``test``
database) cannot be reached. Each test module gets a fresh database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trellis.platform.controlplane import accounts
from trellis.platform.controlplane.accounts import AccountError
from trellis.platform.controlplane.db import MIGRATIONS, session_factory, upgrade
from trellis.platform.controlplane.tables import (
    ApiToken,
    ControlBase,
    Membership,
    Tenant,
    User,
)
from trellis.platform.database import make_engine

POSTGRES_URL = os.environ.get("TRELLIS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TABLES = {"tenants", "users", "memberships", "api_tokens"}


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database for this module, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"trellis_cp_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty control-plane database, not yet migrated."""
    if request.param == "sqlite":
        # A folder that does not exist yet: make_engine must create it.
        eng = make_engine(f"sqlite:///{tmp_path / 'data' / 'control.db'}")
        yield eng
        eng.dispose()
        return
    eng = make_engine(request.getfixturevalue("postgres_url"))
    try:
        yield eng
    finally:
        with eng.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a migrated database, inside a transaction the test may commit."""
    upgrade(engine)
    with session_factory(engine)() as sess, sess.begin():
        yield sess


def make_tenant(session: Session, slug: str = "acme") -> Tenant:
    tenant = Tenant(slug=slug, name=slug.title(), schema_name=f"t_{slug}")
    session.add(tenant)
    session.flush()
    return tenant


def make_member(session: Session, tenant: Tenant, email: str = "ada@example.com") -> User:
    user = accounts.create_user(session, email=email, password="correct horse")
    accounts.add_membership(session, tenant, user)
    return user


# --- migrations and engine ---------------------------------------------------------


def test_upgrade_creates_tables_and_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        newest = sorted(path.name[:4] for path in MIGRATIONS.glob("versions/[0-9]*.py"))[-1]
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == newest
        diff = compare_metadata(MigrationContext.configure(conn), ControlBase.metadata)
    assert diff == [], "migrations and models disagree"


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Membership(tenant_id=999, user_id=999))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_sqlite_ddl_rolls_back(tmp_path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'ddl.db'}")
    with pytest.raises(RuntimeError), eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
        raise RuntimeError("abort")
    assert "scratch" not in inspect(eng).get_table_names()
    eng.dispose()


def test_tenant_rules_and_utc_timestamps(engine: Engine) -> None:
    upgrade(engine)
    with pytest.raises(ValueError, match="slug"):
        Tenant(slug="Not A Slug", name="x", schema_name="x")
    with pytest.raises(ValueError, match="status"):
        Tenant(slug="ok", name="x", schema_name="x", status="deleted")
    factory = session_factory(engine)
    with factory.begin() as sess:
        tenant_id = make_tenant(sess).id
    with factory() as sess:
        tenant = sess.get(Tenant, tenant_id)
        assert tenant.status == "active" and tenant.database is None
        assert tenant.created_at.tzinfo is not None
        assert tenant.created_at.utcoffset() == timedelta(0)


# --- users and passwords ------------------------------------------------------------


def test_create_user_and_authenticate(session: Session) -> None:
    user = accounts.create_user(session, email="  Ada@Example.COM ", password="correct horse", name="Ada")
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert accounts.authenticate(session, "ADA@example.com", "correct horse") is user
    assert accounts.authenticate(session, "ada@example.com", "wrong horse") is None
    assert accounts.authenticate(session, "nobody@example.com", "correct horse") is None
    user.is_active = False
    assert accounts.authenticate(session, "ada@example.com", "correct horse") is None


def test_user_without_password_cannot_sign_in(session: Session) -> None:
    user = accounts.create_user(session, email="invited@example.com", password=None)
    assert user.password_hash is None
    assert accounts.authenticate(session, "invited@example.com", "") is None


def test_authenticate_rehashes_weak_hash(session: Session) -> None:
    user = accounts.create_user(session, email="old@example.com", password=None)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    user.password_hash = weak.hash("correct horse")
    assert accounts.authenticate(session, "old@example.com", "correct horse") is user
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert accounts.authenticate(session, "old@example.com", "correct horse") is user


def test_duplicate_email_is_an_account_error(session: Session) -> None:
    accounts.create_user(session, email="ada@example.com", password="correct horse")
    with pytest.raises(AccountError) as caught:
        accounts.create_user(session, email="ADA@example.com", password="another one")
    assert caught.value.field == "email"
    assert "already has an account" in caught.value.message
    # The savepoint kept the transaction usable.
    accounts.create_user(session, email="grace@example.com", password="correct horse")
    assert session.scalar(select(func.count()).select_from(User)) == 2


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"email": "not-an-email", "password": "long enough"}, "email"),
        ({"email": "a@b", "password": "long enough"}, "email"),
        ({"email": "ada@example.com", "password": "short"}, "password"),
        ({"email": "ada@example.com", "password": None, "locale": "x" * 17}, "locale"),
    ],
)
def test_create_user_validation(session: Session, fields: dict, bad_field: str) -> None:
    with pytest.raises(AccountError) as caught:
        accounts.create_user(session, **fields)
    assert caught.value.field == bad_field
    assert caught.value.message


# --- memberships --------------------------------------------------------------------


def test_membership_is_unique_and_idempotent(session: Session) -> None:
    tenant = make_tenant(session)
    user = accounts.create_user(session, email="ada@example.com", password=None)
    first = accounts.add_membership(session, tenant, user)
    again = accounts.add_membership(session, tenant, user, role="viewer")
    assert again is first and first.role == "admin"
    count = select(func.count()).select_from(Membership)
    assert session.scalar(count) == 1
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Membership(tenant_id=tenant.id, user_id=user.id))
    assert session.scalar(count) == 1


# --- API tokens ---------------------------------------------------------------------


def test_token_lifecycle(session: Session) -> None:
    tenant = make_tenant(session)
    other = make_tenant(session, "globex")
    user = make_member(session, tenant)
    plaintext, token = accounts.create_token(session, tenant=tenant, user=user, name="CI")
    assert plaintext.startswith("trl_") and len(plaintext) > 40
    assert token.prefix == plaintext[:12]
    assert len(token.token_hash) == 64 and plaintext not in token.token_hash
    assert token.last_used_at is None

    assert accounts.resolve_token(session, plaintext, tenant_slug="acme") == (user, tenant, "admin")
    assert accounts.resolve_token(session, plaintext, tenant_slug=other.slug) is None
    assert accounts.resolve_token(session, "trl_guess", tenant_slug="acme") is None
    assert accounts.resolve_token(session, "", tenant_slug="acme") is None

    accounts.revoke_token(session, token.id)
    assert token.revoked_at is not None
    assert accounts.resolve_token(session, plaintext, tenant_slug="acme") is None
    with pytest.raises(AccountError):
        accounts.revoke_token(session, 987654)


def test_token_last_used_is_written_at_most_once_a_minute(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_member(session, tenant)
    plaintext, token = accounts.create_token(session, tenant=tenant, user=user, name="CI")
    accounts.resolve_token(session, plaintext, tenant_slug="acme")
    first = token.last_used_at
    assert first is not None and first.tzinfo == UTC
    accounts.resolve_token(session, plaintext, tenant_slug="acme")
    assert token.last_used_at == first
    token.last_used_at = first - timedelta(minutes=2)
    session.flush()
    accounts.resolve_token(session, plaintext, tenant_slug="acme")
    assert token.last_used_at >= first


def test_token_needs_active_member(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_member(session, tenant)
    plaintext, _ = accounts.create_token(session, tenant=tenant, user=user, name="CI")
    user.is_active = False
    assert accounts.resolve_token(session, plaintext, tenant_slug="acme") is None
    user.is_active = True
    tenant.status = "suspended"
    assert accounts.resolve_token(session, plaintext, tenant_slug="acme") is None
    tenant.status = "active"
    session.delete(session.scalars(select(Membership)).one())
    assert accounts.resolve_token(session, plaintext, tenant_slug="acme") is None


def test_token_only_for_members(session: Session) -> None:
    tenant = make_tenant(session)
    outsider = accounts.create_user(session, email="eve@example.com", password=None)
    with pytest.raises(AccountError) as caught:
        accounts.create_token(session, tenant=tenant, user=outsider, name="sneaky")
    assert caught.value.field == "user"
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_token_survives_commit(engine: Engine) -> None:
    """The stored hash, not the plaintext, finds the token in a later transaction."""
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as sess:
        tenant = make_tenant(sess)
        plaintext, _ = accounts.create_token(sess, tenant=tenant, user=make_member(sess, tenant), name="CI")
    with factory.begin() as sess:
        resolved = accounts.resolve_token(sess, plaintext, tenant_slug="acme")
        assert resolved is not None and resolved[0].email == "ada@example.com"
    with factory() as sess:
        stored = sess.scalars(select(ApiToken)).one()
        assert stored.last_used_at is not None and stored.last_used_at.tzinfo == UTC
