"""Signing in to the screens: the failed-attempt limit, audit entries, cookie flags, password change and reset."""

from __future__ import annotations

import re
import time
import uuid
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy import select

from trellis.platform.controlplane import accounts, audit
from trellis.platform.controlplane.accounts import add_membership, create_user, find_tenant
from trellis.platform.controlplane.tables import OutboxMessage
from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.renderers.screens import auth

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "first-password-1"


@pytest.fixture(scope="module")
def web_app(platform: Platform) -> Flask:
    return create_app(platform=platform)


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


def add_user(platform: Platform, slug: str, role: str = "admin") -> str:
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    with platform.control() as session:
        user = create_user(session, email=email, password=PASSWORD)
        add_membership(session, find_tenant(session, slug), user, role=role)
    return email


def post(client: FlaskClient, url: str, data: dict[str, str], **kwargs: object):
    """Submit a form with the CSRF token of the page at ``url``, as a browser would."""
    page = client.get(url, **kwargs)
    token = unescape(_CSRF.search(page.text)[1])
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def sign_in(client: FlaskClient, slug: str, email: str, password: str, **kwargs: object):
    return post(client, f"/t/{slug}/login", {"email": email, "password": password}, **kwargs)


def actions(platform: Platform, slug: str) -> list[tuple[str, str]]:
    with platform.control() as session:
        tenant_id = find_tenant(session, slug).id
        return [(e["action"], e["actor"]) for e in audit.entries(session, tenant_id).entries]


def test_sign_in_limit_blocks_after_failures_and_recovers(client, platform, tenant, monkeypatch):
    monkeypatch.setattr(auth, "ACCOUNT_LIMIT", parse("3 per 3 seconds"))
    email = add_user(platform, tenant)
    for _ in range(3):
        assert sign_in(client, tenant, email, "wrong-password").status_code == 200
    blocked = sign_in(client, tenant, email, PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many sign-in attempts; try again in 1 minutes" in blocked.text
    assert "Traceback" not in blocked.text and client.get(f"/t/{tenant}/").status_code == 302
    other = add_user(platform, tenant)  # the limit is per address: others still sign in
    assert sign_in(client.application.test_client(), tenant, other, PASSWORD).status_code == 302
    time.sleep(3.2)  # waiting out the window, not measuring anything
    assert sign_in(client, tenant, email, PASSWORD).status_code == 302


def test_sign_in_limit_per_ip_address(client, platform, tenant, monkeypatch):
    monkeypatch.setattr(auth, "ADDRESS_LIMIT", parse("2 per 10 seconds"))
    email = add_user(platform, tenant)
    env = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}
    for _ in range(2):
        sign_in(client, tenant, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "x", environ_base=env)
    assert sign_in(client, tenant, email, PASSWORD, environ_base=env).status_code == 429
    other_ip = client.application.test_client()  # another IP is not held back
    assert sign_in(other_ip, tenant, email, PASSWORD).status_code == 302


def test_sign_in_failure_and_sign_out_are_audited(client, platform, tenant):
    email = add_user(platform, tenant)
    sign_in(client, tenant, email, "wrong-password")
    assert sign_in(client, tenant, email, PASSWORD).status_code == 302
    page = client.get(f"/t/{tenant}/")
    client.post(f"/t/{tenant}/logout", data={"csrf_token": unescape(_CSRF.search(page.text)[1])})
    assert actions(platform, tenant) == [("sign_out", email), ("sign_in", email), ("sign_in_failed", email)]


def test_session_cookie_flags(client, platform, tenant):
    email = add_user(platform, tenant)
    plain = sign_in(client, tenant, email, PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain and "Expires=" in plain
    # Over HTTPS Flask-WTF also wants a same-origin Referer, as browsers send.
    secure = sign_in(client.application.test_client(), tenant, email, PASSWORD, base_url="https://localhost",
                     headers={"Referer": f"https://localhost/t/{tenant}/login"})
    assert "Secure" in secure.headers["Set-Cookie"]


def reset_link(platform: Platform, email: str) -> str:
    with platform.control() as session:
        body = session.scalars(select(OutboxMessage.body).where(OutboxMessage.to == email)
                               .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"http://localhost(/t/\S+)", body)[1]


def test_reset_link_works_once(client, platform, tenant):
    email = add_user(platform, tenant, role="member")
    unknown = post(client, f"/t/{tenant}/account/forgot", {"email": "nobody@example.com"}, follow_redirects=True)
    known = post(client, f"/t/{tenant}/account/forgot", {"email": email}, follow_redirects=True)
    assert "a reset link is on its way" in known.text and "a reset link is on its way" in unknown.text
    link = reset_link(platform, email)
    new = {"new_password": "second-password-2", "confirm": "second-password-2"}
    assert post(client, link, new).status_code == 302
    assert sign_in(client, tenant, email, "second-password-2").status_code == 302
    reused = client.application.test_client().get(link)
    assert reused.status_code == 400 and "already used" in reused.text
    with platform.control() as session:
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.to == "nobody@example.com")) is None
    assert ("password_reset", email) in actions(platform, tenant)


def test_reset_link_expires(client, platform, tenant, monkeypatch):
    email = add_user(platform, tenant)
    post(client, f"/t/{tenant}/account/forgot", {"email": email})
    monkeypatch.setattr(accounts, "RESET_LINK_SECONDS", -1)
    expired = client.get(reset_link(platform, email))
    assert expired.status_code == 400 and "expired" in expired.text
    assert sign_in(client, tenant, email, PASSWORD).status_code == 302


def test_password_change_asks_for_the_current_one(client, platform, tenant):
    email = add_user(platform, tenant)
    sign_in(client, tenant, email, PASSWORD)
    url = f"/t/{tenant}/account/password"
    wrong = post(client, url, {"current_password": "nope", "new_password": "third-pass-3", "confirm": "third-pass-3"})
    assert wrong.status_code == 200 and "The current password is wrong." in wrong.text
    right = post(client, url, {"current_password": PASSWORD, "new_password": "third-pass-3",
                               "confirm": "third-pass-3"})
    assert right.status_code == 302
    assert sign_in(client.application.test_client(), tenant, email, "third-pass-3").status_code == 302


def test_my_tokens_page_shows_a_new_token_once_and_revokes_it(client, platform, tenant):
    sign_in(client, tenant, add_user(platform, tenant, role="member"), PASSWORD)
    url = f"/t/{tenant}/account/tokens/"
    created = post(client, url, {"name": "laptop"})
    token = re.search(r"<code>(trl_[^<]+)</code>", created.text)[1]
    api = f"/t/{tenant}/api/v1/tokens"
    listed = client.get(api, headers={"Authorization": f"Bearer {token}"}).get_json()["data"]
    assert [t["name"] for t in listed] == ["laptop"] and token not in client.get(url).text
    page = client.get(url)
    revoke = unescape(_CSRF.search(page.text)[1])
    client.post(f"{url}{listed[0]['id']}/revoke", data={"csrf_token": revoke})
    assert client.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_audit_screen_is_for_admins_only(client, platform, tenant):
    admin = add_user(platform, tenant)
    sign_in(client, tenant, admin, PASSWORD)
    page = client.get(f"/t/{tenant}/account/audit/?action=sign_in")
    assert page.status_code == 200 and admin in page.text and 'data-action="sign_in"' in page.text
    member = client.application.test_client()
    sign_in(member, tenant, add_user(platform, tenant, role="member"), PASSWORD)
    assert member.get(f"/t/{tenant}/account/audit/").status_code == 403


def test_account_pages_speak_chinese(client, tenant):
    page = client.get(f"/t/{tenant}/account/forgot", headers={"Accept-Language": "zh-CN"})
    assert "忘记密码？" in page.text and "发送重置链接" in page.text


def test_the_account_pages_are_linked_from_every_screen(client, platform, tenant):
    login = client.get(f"/t/{tenant}/login")
    assert f'href="/t/{tenant}/account/forgot"' in login.text
    sign_in(client, tenant, add_user(platform, tenant), PASSWORD)
    home = client.get(f"/t/{tenant}/")
    assert f'href="/t/{tenant}/account/tokens/"' in home.text and f'href="/t/{tenant}/account/audit/"' in home.text
    member = client.application.test_client()
    sign_in(member, tenant, add_user(platform, tenant, role="member"), PASSWORD)
    page = member.get(f"/t/{tenant}/").text
    assert f'href="/t/{tenant}/account/password"' in page and "/account/audit/" not in page
