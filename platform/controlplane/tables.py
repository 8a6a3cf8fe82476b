"""Control-plane tables: who the tenants and users are, and who may reach what.

The schema is owned by the Alembic migrations next to this file; these models
must describe exactly what the migrations create (a test compares the two).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

#: Constraint names are spelled out so later migrations can find them by name
#: on every database (SQLite and PostgreSQL name unnamed constraints differently).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A slug becomes part of URLs, host names and PostgreSQL schema names.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
TENANT_STATUSES = ("active", "suspended", "archived")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind we store)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are
    stored as naive UTC and labelled UTC again when read. Naive values are
    refused: guessing their zone is how timestamps silently drift.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware one such as utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ControlBase(DeclarativeBase):
    """Declarative base of the control plane, separate from any tenant's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(ControlBase):
    """An organization with its own CRM, stored in its own schema or file."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended', 'archived')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    #: Name of the configured database holding the tenant; None = the default one.
    database: Mapped[str | None] = mapped_column(String(100))
    #: PostgreSQL schema, or stem of the SQLite file, holding the tenant's tables.
    schema_name: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: While a move runs: the database the tenant is being copied to (its writes answer 503 meanwhile).
    moving_to: Mapped[str | None] = mapped_column(String(100))

    @validates("slug")
    def _check_slug(self, _key: str, slug: str) -> str:
        if not SLUG_PATTERN.match(slug):
            raise ValueError(
                f"Tenant slug {slug!r} must be 2-63 characters: lower-case letters, "
                "digits and hyphens, starting with a letter."
            )
        return slug

    @validates("status")
    def _check_status(self, _key: str, status: str) -> str:
        if status not in TENANT_STATUSES:
            raise ValueError(f"Tenant status must be one of {', '.join(TENANT_STATUSES)}.")
        return status


class User(ControlBase):
    """A person who signs in; one user may belong to several tenants."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Always lower-case, so uniqueness and sign-in ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: None for users who cannot sign in with a password (invited, SSO).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Platform operators run the installation (the operator API: tenants' lifecycle); not a tenant role.
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @validates("email")
    def _normalize_email(self, _key: str, email: str) -> str:
        return email.strip().lower()


class Membership(ControlBase):
    """A user's place in a tenant; the role names a permission set there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(50), default="admin")
    #: The api_names of the role definitions the user holds here (trellis.platform.permissions).
    roles: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship()
    user: Mapped[User] = relationship()


class ApiToken(ControlBase):
    """A bearer token for one user in one tenant; only its sha256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant] = relationship()
    user: Mapped[User] = relationship()


class OperatorToken(ControlBase):
    """A bearer token for the operator API; belongs to a user, not to a tenant. Only its sha256 is kept."""

    __tablename__ = "operator_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class Job(ControlBase):
    """One piece of background work for a tenant (migration, import, export, automation).

    The row, not the queue, is the truth about a job: its status, attempts,
    progress and the handler's checkpoint. Queues (rq or the in-process runner)
    only carry its id, so a lost or duplicated queue entry can never run a job
    twice at once (see ``trellis.platform.jobs.store.claim``).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_jobs_status_available_at", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)
    #: The last failure's message, for people; the traceback goes to the logs only.
    error: Mapped[str | None] = mapped_column(Text)
    #: Where a resumable handler got to; saved with its progress in one update.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    timeout_s: Mapped[int] = mapped_column(Integer, default=3600)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Not before: a retry waits out its backoff until then.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Refreshed while a process runs the job; a stale one means that process died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(ControlBase):
    """Who did what, when and from where: sign-ins, tokens, passwords, configuration changes.

    ``actor`` keeps the address as it was at the time (a failed sign-in may
    name nobody who exists), so the log stays readable after a user is gone.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(ControlBase):
    """A message waiting to be mailed (reset links...); ``sent_at`` stays empty until a sender delivers it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
