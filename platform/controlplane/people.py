"""People named for display: a user's name (or, if they gave none, their email) by id, in one query."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import User


def names_of(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """``{id: name}`` for the known users among ``user_ids``; unknown ids are simply absent."""
    ids = {user_id for user_id in user_ids if user_id is not None and 0 < user_id < 2**63}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {user_id: name or email for user_id, name, email in rows}
