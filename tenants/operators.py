"""Platform operators: people who run the installation (create, suspend, move and delete tenants).

Being an operator is a flag on the user, not a role inside a tenant. Operators
call the operator API with their own bearer tokens, which belong to no tenant;
like tenant API tokens they are shown once and only their sha256 is stored.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from trellis.platform.controlplane.accounts import AccountError, _digest, find_user
from trellis.platform.controlplane.tables import OperatorToken, User

#: Distinct from tenant tokens (``trl_``), so neither kind is ever mistaken for the other.
OPERATOR_TOKEN_PREFIX = "trlop_"


def make_operator(session: Session, email: str, operator: bool = True) -> User:
    """Set (or clear) the operator flag of an existing user."""
    user = find_user(session, email)
    if user is None:
        raise AccountError("email", f"No user {email}; create one with 'trellis users create --operator'.")
    user.is_operator = operator
    session.flush()
    return user


def create_operator_token(session: Session, user: User, name: str = "operator") -> str:
    """A new operator token for ``user`` (who must be an operator); the plaintext is returned this once."""
    if not user.is_operator:
        raise AccountError("email", f"{user.email} is not an operator; run 'trellis users operator {user.email}'.")
    plaintext = OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(OperatorToken(user=user, name=name.strip()[:100] or "operator", token_hash=_digest(plaintext),
                              prefix=plaintext[:12]))
    session.flush()
    return plaintext


def resolve_operator_token(session: Session, plaintext: str) -> User | None:
    """The active operator an unrevoked operator token speaks for, or None."""
    if not plaintext.startswith(OPERATOR_TOKEN_PREFIX):
        return None
    return session.scalar(select(User).join(OperatorToken, OperatorToken.user_id == User.id).where(
        OperatorToken.token_hash == _digest(plaintext), OperatorToken.revoked_at.is_(None),
        User.is_active.is_(True), User.is_operator.is_(True)))
