"""The audit log: who signed in (or failed to), used or revoked a token, changed a password or the configuration.

Entries are written in the caller's session, so an audited change and its
entry commit together; entries about something that did not happen (a failed
sign-in) are committed on their own by the door that saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trellis.platform.controlplane.tables import AuditEntry, User

#: The actions the platform records; ``GET /audit?action=`` filters by one of them.
ACTIONS = (
    "sign_in", "sign_in_failed", "sign_out", "password_changed", "password_reset", "password_reset_requested",
    "token_created", "token_revoked", "token_used", "metadata_changed",
    "permissions_changed",
)
MAX_PAGE = 200


@dataclass(frozen=True)
class Who:
    """The person acting and where from; ``user_id`` is None when nobody is known (a failed sign-in)."""

    user_id: int | None
    email: str = ""
    ip: str | None = None


def who_is(session: Session, user_id: int | None, ip: str | None) -> Who:
    """A known user as the log names them: their id, current email and the address they came from."""
    user = session.get(User, user_id) if user_id is not None else None
    return Who(user_id, user.email if user else "", ip)


def record(session: Session, tenant_id: int | None, who: Who, action: str, target: str = "",
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Add one entry; it commits with the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; add it to ACTIONS.")
    entry = AuditEntry(tenant_id=tenant_id, actor_id=who.user_id, actor=who.email[:254], action=action,
                       target=target[:200], details=details or {}, ip=(who.ip or None) and who.ip[:45])
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditPage:
    entries: list[dict[str, Any]]
    total: int


def entries(session: Session, tenant_id: int, *, action: str | None = None, limit: int = 50,
            offset: int = 0) -> AuditPage:
    """A tenant's entries, newest first; ``total`` counts every match, for paging."""
    where = [AuditEntry.tenant_id == tenant_id]
    if action is not None:
        where.append(AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                           .limit(min(limit, MAX_PAGE)).offset(offset))
    return AuditPage([as_dict(row) for row in rows], total)


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": _iso(entry.at), "actor_id": entry.actor_id, "actor": entry.actor,
            "action": entry.action, "target": entry.target, "details": entry.details, "ip": entry.ip}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
