"""A member's own account pages: change password, forgotten password and reset links, API tokens; the audit log.

These are a plain blueprint of the tenant app (registered by ``init_auth``)
rendered through flask-admin's index view, so they share the screens' look.
Forgotten-password and reset pages are public; the answer to "forgot" is the
same whether or not the address has an account here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import EmailField, Form, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    change_password,
    create_token,
    request_reset,
    reset_password,
    revoke_member_token,
    tokens_of,
    user_for_reset,
)
from trellis.platform.controlplane.tables import Tenant, User
from trellis.platform.core import Platform
from trellis.platform.mail import send_later

PAGE_SIZE = 50


class ResetForm(Form):
    new_password = PasswordField(lazy_gettext("New password"),
                                 [InputRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)])
    confirm = PasswordField(lazy_gettext("Repeat the new password"),
                            [InputRequired(), EqualTo("new_password", message=lazy_gettext("The passwords differ."))])


class PasswordForm(ResetForm):
    current_password = PasswordField(lazy_gettext("Current password"), [InputRequired(), Length(max=1024)])


class ForgotForm(Form):
    email = EmailField(lazy_gettext("Email"), [InputRequired(), Length(max=254)])


class TokenForm(Form):
    name = StringField(lazy_gettext("Name"), [InputRequired(), Length(max=100)])


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A page in the screens' frame (flask-admin's index view supplies the menu and assets)."""
    page = current_app.extensions["admin"][0].index_view.render(template, **context)
    return Response(page, status=status, mimetype="text/html")


def _who() -> audit.Who:
    return audit.Who(current_user.id, current_user.email, request.remote_addr)


class AccountPages:
    """The views, holding the platform and the tenant they serve."""

    def __init__(self, platform: Platform, tenant_id: int) -> None:
        self.platform = platform
        self.tenant_id = tenant_id

    def password(self) -> Response:
        form = PasswordForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                with self.platform.control() as db:
                    change_password(db, db.get(User, current_user.id), form.current_password.data or "",
                                    form.new_password.data or "")
                    audit.record(db, self.tenant_id, _who(), "password_changed", current_user.email)
            except AccountError as error:
                getattr(form, error.field).errors = [error.message]
            else:
                flash(gettext("Your password is changed."), "success")
                return redirect(url_for("admin.index"))
        return render("trellis/account_password.html", form=form)

    def forgot(self) -> Response:
        form = ForgotForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            email = form.email.data or ""
            with self.platform.control() as db:
                tenant = db.get(Tenant, self.tenant_id)
                link = lambda token: url_for("account.reset", token=token, _external=True)  # noqa: E731
                message = request_reset(db, tenant, email, current_app.config["SECRET_KEY"], link)
                if message is not None:
                    audit.record(db, self.tenant_id, audit.Who(None, email, request.remote_addr),
                                 "password_reset_requested", email)
                queued = (tenant.slug, message.id) if message is not None else None
            if queued is not None:
                send_later(self.platform, *queued)
            flash(gettext("If %(email)s has an account here, a reset link is on its way. It works for an hour.",
                          email=email), "info")
            return redirect(url_for("admin.login"))
        return render("trellis/account_forgot.html", form=form)

    def reset(self, token: str) -> Response:
        form = ResetForm(request.form if request.method == "POST" else None)
        secret = current_app.config["SECRET_KEY"]
        try:
            with self.platform.control() as db:
                if request.method == "POST" and form.validate():
                    user = reset_password(db, token, secret, form.new_password.data or "")
                    audit.record(db, self.tenant_id, audit.Who(user.id, user.email, request.remote_addr),
                                 "password_reset", user.email)
                    flash(gettext("Your password is changed; sign in with it."), "success")
                    return redirect(url_for("admin.login"))
                user_for_reset(db, token, secret)
        except AccountError as error:
            if error.field != "token":
                form.new_password.errors = [error.message]
                return render("trellis/account_reset.html", form=form)
            flash(error.message, "error")
            return render("trellis/account_reset.html", status=400, form=None)
        return render("trellis/account_reset.html", form=form)

    def tokens(self) -> Response:
        """Own tokens; a POST creates one, shown on this answer only."""
        form = TokenForm(request.form if request.method == "POST" else None)
        created = None
        with self.platform.control() as db:
            if request.method == "POST" and form.validate():
                try:
                    created, row = create_token(db, tenant=db.get(Tenant, self.tenant_id),
                                                user=db.get(User, current_user.id), name=form.name.data or "")
                    audit.record(db, self.tenant_id, _who(), "token_created", f"token {row.id}",
                                 {"name": row.name, "prefix": row.prefix})
                    form = TokenForm()
                except AccountError as error:
                    form.name.errors = [error.message]
            found = tokens_of(db, self.tenant_id, current_user.id)
        return render("trellis/account_tokens.html", form=form, tokens=found, created=created)

    def revoke(self, token_id: int) -> Response:
        try:
            with self.platform.control() as db:
                token = revoke_member_token(db, token_id, tenant_id=self.tenant_id, user_id=current_user.id,
                                            is_admin=False)
                audit.record(db, self.tenant_id, _who(), "token_revoked", f"token {token.id}",
                             {"name": token.name, "prefix": token.prefix, "owner_id": token.user_id})
            flash(gettext("Token %(name)s is revoked; it stops working at once.", name=token.name), "success")
        except AccountError as error:
            flash(error.message, "error")
        return redirect(url_for("account.tokens"))

    def audit_log(self) -> Response:
        """Admins only: the newest entries first, filtered by action, a page at a time."""
        if current_user.role != "admin":
            abort(403)
        action = request.args.get("action") or None
        if action is not None and action not in audit.ACTIONS:
            action = None
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        with self.platform.control() as db:
            found = audit.entries(db, self.tenant_id, action=action, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return render("trellis/account_audit.html", entries=found.entries, total=found.total, page=page,
                      pages=max(1, -(-found.total // PAGE_SIZE)), action=action, actions=audit.ACTIONS)


def account_blueprint(platform: Platform, tenant_id: int) -> Blueprint:
    """``/account/...`` pages of one tenant app."""
    pages = AccountPages(platform, tenant_id)
    bp = Blueprint("account", __name__, url_prefix="/account")
    bp.add_url_rule("/password", "password", pages.password, methods=["GET", "POST"])
    bp.add_url_rule("/forgot", "forgot", pages.forgot, methods=["GET", "POST"])
    bp.add_url_rule("/reset/<token>", "reset", pages.reset, methods=["GET", "POST"])
    bp.add_url_rule("/tokens/", "tokens", pages.tokens, methods=["GET", "POST"])
    bp.add_url_rule("/tokens/<int:token_id>/revoke", "revoke", pages.revoke, methods=["POST"])
    bp.add_url_rule("/audit/", "audit", pages.audit_log)
    return bp
