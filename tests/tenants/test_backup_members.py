"""A backup carries the tenant's people: a restored tenant can be signed into, by the same passwords.

Both backends. A person whose email already has an account here keeps it (and gets
the membership); a person unknown here is created with the backed-up password hash.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from trellis.platform.controlplane.accounts import (
    add_membership,
    authenticate,
    create_user,
    find_member,
    find_tenant,
    find_user,
)
from trellis.platform.controlplane.tables import User
from trellis.platform.core import Platform
from trellis.tenants.backup import archive_contents, backup_tenant, restore_tenant
from trellis.tenants.registry import create_tenant

PASSWORD = "members-travel-1"


def test_members_travel_with_their_roles_and_passwords(platform: Platform, tmp_path: Path) -> None:
    source = create_tenant(platform, f"m-{uuid.uuid4().hex[:8]}")
    emails = [f"{who}-{uuid.uuid4().hex[:6]}@members.example" for who in ("ann", "bob")]
    with platform.control() as session:
        tenant = find_tenant(session, source.slug)
        for email, role in zip(emails, ("admin", "member"), strict=True):
            user = create_user(session, email=email, password=PASSWORD, name=email[:3], locale="zh-CN")
            add_membership(session, tenant, user, role=role)
    first = tmp_path / "first.zip"
    backup_tenant(platform, source.slug, first)
    with platform.control() as session:  # bob leaves this installation; ann stays
        session.delete(find_user(session, emails[1]))

    copy = restore_tenant(platform, first, f"m-{uuid.uuid4().hex[:8]}")
    with platform.control() as session:
        ann = find_user(session, emails[0])
        bob = authenticate(session, emails[1], PASSWORD)
        assert bob is not None and (bob.name, bob.locale) == ("bob", "zh-CN")
        assert find_member(session, copy.id, ann.id)[1] == "admin"
        assert find_member(session, copy.id, bob.id)[1] == "member"
        assert len(session.scalars(select(User).where(User.email == emails[0])).all()) == 1  # reused, not doubled

    second = tmp_path / "second.zip"
    backup_tenant(platform, copy.slug, second)
    assert archive_contents(first)["members"] == archive_contents(second)["members"]
