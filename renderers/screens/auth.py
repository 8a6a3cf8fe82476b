"""Who is using a tenant's screens: sign-in, the signed-in user, and the gate in front of every page.

A user signs in per tenant and must be a member of it. The membership is
checked again on every request (not only at sign-in), so removing someone
from a tenant, or deactivating them, locks them out at once; and a session
cookie carried over to another tenant's address opens nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user
from werkzeug.wrappers import Response

from trellis.platform.controlplane.accounts import authenticate, find_member
from trellis.platform.core import Platform

#: Endpoints reachable without signing in: the sign-in page and the CSS/JS it needs.
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})


@dataclass(frozen=True)
class ScreenUser(UserMixin):
    """The signed-in member, as the screens need them (no password hash kept around)."""

    id: int
    email: str
    name: str
    locale: str
    role: str

    @property
    def display_name(self) -> str:
        return self.name or self.email


class TenantSessionInterface(SecureCookieSessionInterface):
    """Scope the session cookie to the tenant's address, so each tenant has its own sign-in."""

    def get_cookie_path(self, app: Flask) -> str:
        return (request.script_root or "") + "/"


def init_auth(app: Flask, platform: Platform, tenant_id: int) -> None:
    """Wire Flask-Login into a tenant app and refuse anonymous requests to every page but sign-in."""
    app.session_interface = TenantSessionInterface()
    manager = LoginManager(app)
    manager.login_view = "admin.login"
    manager.login_message = lazy_gettext("Please sign in to continue.")
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(user_id: str) -> ScreenUser | None:
        return load_member(platform, tenant_id, user_id)

    @app.before_request
    def require_sign_in() -> Response | None:
        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        return manager.unauthorized()


def load_member(platform: Platform, tenant_id: int, user_id: str | int) -> ScreenUser | None:
    """The active user ``user_id`` if they are a member of the tenant, else None."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    with platform.control() as session:
        found = find_member(session, tenant_id, user_id)
        if found is None:
            return None
        user, role = found
        return ScreenUser(user.id, user.email, user.name, user.locale, role)


def sign_in(platform: Platform, tenant_id: int, email: str, password: str) -> ScreenUser | None:
    """The member with this email and password, or None (wrong password and non-member look alike)."""
    with platform.control() as session:
        user = authenticate(session, email, password)
        if user is None:
            return None
        user_id = user.id
    return load_member(platform, tenant_id, user_id)


def safe_next(target: str | None, req: Request) -> str | None:
    """``target`` if it is a path inside this tenant's screens, so sign-in cannot redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        if parts.netloc != req.host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    root = req.script_root + "/"
    return target if target.startswith(root) and not target.startswith("//") else None
