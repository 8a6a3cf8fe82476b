"""Which roles each member holds in a tenant (``memberships.roles`` in the control plane).

Assigning roles is a permission change: it is refused for roles the tenant does not define and
recorded in the audit log with the roles before and after.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..controlplane import audit
from ..controlplane.tables import Membership, User
from ..errors import FieldProblem, InvalidInput, NotFound


def members(session: Session, tenant_id: int) -> list[tuple[int, list[str]]]:
    """(user id, role api_names) of every member: one query, enough to resolve a hierarchy."""
    rows = session.execute(select(Membership.user_id, Membership.roles).where(Membership.tenant_id == tenant_id))
    return [(user_id, list(roles or [])) for user_id, roles in rows]


def member_roles(session: Session, tenant_id: int, user_id: int) -> dict[str, Any]:
    """A member as the roles API shows it."""
    row = session.execute(select(Membership, User).join(User, User.id == Membership.user_id).where(
        Membership.tenant_id == tenant_id, Membership.user_id == user_id)).first()
    if row is None:
        raise NotFound(f"User {user_id} is not a member of this organization.")
    membership, user = row
    return {"user_id": user.id, "email": user.email, "role": membership.role, "roles": list(membership.roles or [])}


def set_roles(session: Session, tenant_id: int, user_id: int, roles: Sequence[Any], defined: Mapping[str, Any],
              who: audit.Who) -> dict[str, Any]:
    """Give a member exactly ``roles`` (a list of role api_names); audited. Commits with the caller."""
    if not isinstance(roles, list) or not all(isinstance(name, str) for name in roles):
        raise InvalidInput("Roles must be a list of role names.", [FieldProblem("roles", "Send a list such as "
                                                                                "[\"sales_rep\"].")])
    problems = [FieldProblem(f"roles[{index}]", _unknown(name, defined)) for index, name in enumerate(roles)
                if name not in defined]
    if problems:
        raise InvalidInput("Some roles do not exist.", problems)
    membership = session.scalar(select(Membership).where(Membership.tenant_id == tenant_id,
                                                         Membership.user_id == user_id))
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of this organization.")
    before = list(membership.roles or [])
    membership.roles = list(dict.fromkeys(roles))
    audit.record(session, tenant_id, who, "permissions_changed", f"user {user_id}",
                 {"before": before, "after": membership.roles})
    session.flush()
    return member_roles(session, tenant_id, user_id)


def _unknown(name: str, defined: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, sorted(defined), n=3)
    hint = f"did you mean {', '.join(map(repr, close))}?" if close else "define it under /metadata/roles first."
    return f"There is no role '{name}'; {hint}"
