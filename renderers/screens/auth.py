"""Who is using a tenant's screens: sign-in, the signed-in user, and the gate in front of every page.

A user signs in per tenant and must be a member of it. The membership is
checked again on every request (not only at sign-in), so removing someone
from a tenant, or deactivating them, locks them out at once; and a session
cookie carried over to another tenant's address opens nothing there.

Failed sign-ins are counted per tenant and address and per client IP (in
Redis when ``TRELLIS_REDIS_URL`` is set, so every app server shares the
count; in memory otherwise); past the limit the form answers 429 without
checking the password. Sign-ins, failures and sign-outs go to the audit log.
The counting uses ``limits``, the rate-limit library under Flask-Limiter,
directly: Flask-Limiter's decorators count requests of a view, while here
only failures count, and the count must outlive the per-revision apps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, flash, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext, lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, user_logged_in, user_logged_out
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.wrappers import Response

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import authenticate, find_member, normalize_email
from trellis.platform.core import Platform

from .account import account_blueprint

#: Endpoints reachable without signing in: sign-in, forgotten password, reset links and the CSS/JS they need.
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static", "account.forgot", "account.reset"})
#: Failed sign-ins allowed per tenant and address, and per client IP (read at each check).
ACCOUNT_LIMIT: RateLimitItem = parse("5 per 15 minutes")
ADDRESS_LIMIT: RateLimitItem = parse("50 per 15 minutes")
#: How long a screens session lasts without signing in again.
SESSION_LIFETIME = timedelta(hours=12)


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

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured (TLS ended by a proxy) or when this request itself came over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


class LoginThrottle:
    """Counts failed sign-ins; ``retry_minutes`` says how long a blocked client must wait."""

    def __init__(self, storage_uri: str, key_prefix: str) -> None:
        options = {"key_prefix": key_prefix} if storage_uri.startswith("redis") else {}
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))

    def _keys(self, tenant_id: int, email: str, ip: str | None) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [(ACCOUNT_LIMIT, ("account", str(tenant_id), normalize_email(email)[:254])),
                (ADDRESS_LIMIT, ("ip", ip or "unknown"))]

    def retry_minutes(self, tenant_id: int, email: str, ip: str | None) -> int | None:
        """None while sign-in may be tried; else the whole minutes until the oldest failure ages out."""
        waits = [self.limiter.get_window_stats(item, *key).reset_time - time.time()
                 for item, key in self._keys(tenant_id, email, ip) if not self.limiter.test(item, *key)]
        return max(1, math.ceil(max(waits) / 60)) if waits else None

    def failed(self, tenant_id: int, email: str, ip: str | None) -> None:
        for item, key in self._keys(tenant_id, email, ip):
            self.limiter.hit(item, *key)

    def succeeded(self, tenant_id: int, email: str) -> None:
        """A right password forgives the account's earlier failures (not the IP's)."""
        item, key = self._keys(tenant_id, email, None)[0]
        self.limiter.clear(item, *key)


@cache
def login_throttle(redis_url: str | None, namespace: str) -> LoginThrottle:
    """One throttle per process and Redis: every tenant app and revision shares the count."""
    return LoginThrottle(redis_url or "memory://", f"trellis:{namespace}:sign-in")


def throttle_of(platform: Platform) -> LoginThrottle:
    return login_throttle(platform.settings.redis_url, platform.settings.job_queue)


def init_auth(app: Flask, platform: Platform, tenant_id: int) -> None:
    """Wire Flask-Login into a tenant app and refuse anonymous requests to every page but sign-in."""
    app.session_interface = TenantSessionInterface()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=platform.settings.secure_cookies,
                      PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)
    manager = LoginManager(app)
    manager.login_view = "admin.login"
    manager.login_message = lazy_gettext("Please sign in to continue.")
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(user_id: str) -> ScreenUser | None:
        return load_member(platform, tenant_id, user_id)

    @app.before_request
    def require_sign_in() -> Response | None:
        if request.endpoint == "admin.login" and request.method == "POST":
            return _refuse_if_throttled(platform, tenant_id)
        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        return manager.unauthorized()

    _audit_session_events(app, platform, tenant_id)
    app.register_blueprint(account_blueprint(platform, tenant_id))


def _refuse_if_throttled(platform: Platform, tenant_id: int) -> Response | None:
    """The sign-in form again with 429 and the wait, without checking the password, once the limit is hit."""
    minutes = throttle_of(platform).retry_minutes(tenant_id, request.form.get("email", ""), request.remote_addr)
    if minutes is None:
        return None
    from .home import SignInForm

    flash(gettext("Too many sign-in attempts; try again in %(minutes)s minutes.", minutes=minutes), "error")
    page = current_app.extensions["admin"][0].index_view.render("trellis/login.html", form=SignInForm(request.form))
    return Response(page, status=429, headers={"Retry-After": str(minutes * 60)}, mimetype="text/html")


def _audit_session_events(app: Flask, platform: Platform, tenant_id: int) -> None:
    """Sessions last SESSION_LIFETIME from sign-in; signing out is audited."""

    def signed_in(_sender: Flask, **_extra: object) -> None:
        session.permanent = True

    def signed_out(_sender: Flask, user: ScreenUser, **_extra: object) -> None:
        with platform.control() as db:
            audit.record(db, tenant_id, audit.Who(user.id, user.email, request.remote_addr), "sign_out")

    # Weak receivers kept alive by the app itself: a strong connection would keep every
    # replaced per-revision app in memory for good.
    app.extensions["trellis_session_events"] = (signed_in, signed_out)
    user_logged_in.connect(signed_in, app)
    user_logged_out.connect(signed_out, app)


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
    """The member with this email and password, or None (wrong password and non-member look alike).

    Either way the attempt is audited, and a failure counts toward the sign-in limit.
    """
    with platform.control() as db:
        user = authenticate(db, email, password)
        user_id = user.id if user is not None else None
    member = load_member(platform, tenant_id, user_id) if user_id is not None else None
    ip = request.remote_addr
    throttle = throttle_of(platform)
    if member is None:
        throttle.failed(tenant_id, email, ip)
    else:
        throttle.succeeded(tenant_id, email)
    with platform.control() as db:
        who = audit.Who(member.id if member else None, normalize_email(email), ip)
        audit.record(db, tenant_id, who, "sign_in" if member else "sign_in_failed")
    return member


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
