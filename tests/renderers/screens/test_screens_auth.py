"""Signing in and out of a tenant's screens, and the gate in front of every page."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from screen_helpers import csrf_token, sign_in, text_of

from trellis.platform.controlplane.accounts import create_user
from trellis.platform.core import Platform
from trellis.tenants.demo import DemoLogin
from trellis.tenants.registry import create_tenant


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """The tests here only read, so they share one demo tenant."""
    return shared_demo


@pytest.mark.parametrize("page", ["/", "/records/deal/", "/records/deal/new/", "/records/deal/details/?id=1",
                                  "/records/deal/ajax/lookup/?name=account&query=a"])
def test_pages_redirect_to_sign_in_when_not_signed_in(client: FlaskClient, base: str, page: str) -> None:
    response = client.get(base + page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{base}/login?next=")


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient, demo: DemoLogin, base: str) -> None:
    target = client.get(f"{base}/records/deal/").headers["Location"]
    token = csrf_token(client, target)
    response = client.post(target, data={"email": demo.email, "password": demo.password, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{base}/records/deal/"
    page = client.get(f"{base}/records/deal/")
    assert page.status_code == 200
    assert "Demo Admin" in text_of(page)


def test_sign_in_ignores_a_next_address_outside_the_tenant(web_app: Flask, demo: DemoLogin, base: str) -> None:
    for outside in ("https://evil.example/", "//evil.example/", "/t/other-tenant/", "javascript:alert(1)"):
        client = web_app.test_client()
        token = csrf_token(client, f"{base}/login")
        response = client.post(f"{base}/login", query_string={"next": outside},
                               data={"email": demo.email, "password": demo.password, "csrf_token": token})
        assert response.headers["Location"] == f"{base}/", outside


def test_a_wrong_password_is_refused_with_a_message(client: FlaskClient, demo: DemoLogin, base: str) -> None:
    response = sign_in(client, base, demo.email, "not-the-password")
    assert response.status_code == 200
    assert "email or password is wrong" in text_of(response)
    assert client.get(f"{base}/").status_code == 302


def test_a_user_who_is_not_a_member_cannot_sign_in(client: FlaskClient, platform: Platform, base: str) -> None:
    with platform.control() as session:
        create_user(session, email="outsider@example.com", password="outsider-password")
    response = sign_in(client, base, "outsider@example.com", "outsider-password")
    assert response.status_code == 200
    assert client.get(f"{base}/").status_code == 302


def test_sign_out_needs_the_form_and_ends_the_session(signed_in: FlaskClient, base: str) -> None:
    assert signed_in.get(f"{base}/logout").status_code == 405
    token = csrf_token(signed_in, f"{base}/")
    response = signed_in.post(f"{base}/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert signed_in.get(f"{base}/").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(signed_in: FlaskClient, base: str) -> None:
    response = signed_in.post(f"{base}/records/deal/new/", data={"name": "No token"})
    assert response.status_code == 400


def test_a_session_carried_to_another_tenant_opens_nothing(
        signed_in: FlaskClient, platform: Platform, base: str) -> None:
    create_tenant(platform, "other-crm-" + base.rsplit("-", 1)[1], "Other")
    other = "/t/other-crm-" + base.rsplit("-", 1)[1]
    cookie = signed_in.get_cookie("trellis_session", path=f"{base}/")
    assert cookie is not None
    signed_in.set_cookie("trellis_session", cookie.value, path=f"{other}/")
    response = signed_in.get(f"{other}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{other}/login")
