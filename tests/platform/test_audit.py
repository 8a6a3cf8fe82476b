"""The audit log and the account rules it records: token use once a minute, reset links, password change."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from trellis.platform.controlplane import accounts, audit
from trellis.platform.controlplane.accounts import AccountError
from trellis.platform.controlplane.tables import ApiToken, OutboxMessage, Tenant, User
from trellis.platform.core import Platform


def member(platform: Platform, slug: str, role: str = "admin") -> tuple[int, int]:
    """(tenant id, user id) of a new member of ``slug``."""
    with platform.control() as session:
        tenant = accounts.find_tenant(session, slug)
        user = accounts.create_user(session, email=f"a-{uuid.uuid4().hex[:8]}@example.com", password="password-one")
        accounts.add_membership(session, tenant, user, role=role)
        return tenant.id, user.id


def test_entries_are_filtered_paged_and_newest_first(platform: Platform, tenant: str) -> None:
    tenant_id, user_id = member(platform, tenant)
    with platform.control() as session:
        for index in range(5):
            audit.record(session, tenant_id, audit.Who(user_id, "a@example.com", "10.0.0.1"),
                         "sign_in" if index % 2 == 0 else "sign_out", details={"n": index})
        with pytest.raises(ValueError, match="Unknown audit action"):
            audit.record(session, tenant_id, audit.Who(user_id), "dance")
    with platform.control() as session:
        everything = audit.entries(session, tenant_id)
        sign_ins = audit.entries(session, tenant_id, action="sign_in", limit=2, offset=1)
    assert [e["details"]["n"] for e in everything.entries] == [4, 3, 2, 1, 0]
    assert sign_ins.total == 3 and [e["details"]["n"] for e in sign_ins.entries] == [2, 0]
    assert everything.entries[0]["ip"] == "10.0.0.1" and everything.entries[0]["at"].endswith("+00:00")


def test_token_use_is_audited_once_a_minute(platform: Platform, tenant: str) -> None:
    tenant_id, user_id = member(platform, tenant)
    with platform.control() as session:
        plaintext, token = accounts.create_token(session, tenant=session.get(Tenant, tenant_id),
                                                 user=session.get(User, user_id), name="ci")
    for _ in range(3):
        with platform.control() as session:
            assert accounts.resolve_token(session, plaintext, tenant_slug=tenant, ip="10.1.1.1") is not None
    with platform.control() as session:
        row = session.get(ApiToken, token.id)
        row.last_used_at -= timedelta(minutes=2)
    with platform.control() as session:
        accounts.resolve_token(session, plaintext, tenant_slug=tenant)
        used = audit.entries(session, tenant_id, action="token_used")
    assert used.total == 2 and used.entries[1]["ip"] == "10.1.1.1"


def test_reset_link_is_single_use_and_expires(platform: Platform, tenant: str, monkeypatch) -> None:
    tenant_id, user_id = member(platform, tenant, role="member")
    with platform.control() as session:
        user = session.get(User, user_id)
        sent = accounts.request_reset(session, session.get(Tenant, tenant_id), user.email.upper(), "k",
                                      lambda token: f"https://crm/reset/{token}")
        nobody = accounts.request_reset(session, session.get(Tenant, tenant_id), "no@example.com", "k",
                                        lambda token: token)
        message = session.scalars(select(OutboxMessage).where(OutboxMessage.to == user.email)).one()
    assert sent and not nobody and message.sent_at is None and "https://crm/reset/" in message.body
    token = message.body.split("https://crm/reset/")[1].split()[0]
    with platform.control() as session, pytest.raises(AccountError, match="not valid"):
        accounts.reset_password(session, token, "another-secret", "password-two")
    monkeypatch.setattr(accounts, "RESET_LINK_SECONDS", -1)
    with platform.control() as session, pytest.raises(AccountError, match="expired"):
        accounts.reset_password(session, token, "k", "password-two")
    monkeypatch.undo()
    with platform.control() as session:
        accounts.reset_password(session, token, "k", "password-two")
    with platform.control() as session:
        assert accounts.authenticate(session, session.get(User, user_id).email, "password-two") is not None
        with pytest.raises(AccountError, match="already used"):
            accounts.reset_password(session, token, "k", "password-three")


def test_password_change_needs_the_current_password(platform: Platform, tenant: str) -> None:
    _, user_id = member(platform, tenant)
    with platform.control() as session:
        user = session.get(User, user_id)
        with pytest.raises(AccountError) as wrong:
            accounts.change_password(session, user, "not-it", "password-two")
        with pytest.raises(AccountError) as short:
            accounts.change_password(session, user, "password-one", "short")
        accounts.change_password(session, user, "password-one", "password-two")
        assert accounts.authenticate(session, user.email, "password-two") is user
    assert wrong.value.field == "current_password" and short.value.field == "new_password"
