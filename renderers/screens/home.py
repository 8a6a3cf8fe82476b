"""The tenant's home page (its objects), sign-in and sign-out.

They live on flask-admin's index view so that they share its look, its
``admin.static`` assets and its place at the root of the tenant's address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, request, session, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import EmailField, Form, PasswordField
from wtforms.validators import InputRequired, Length

from .auth import ScreenUser, safe_next
from .i18n import LazyLabel


class SignInForm(Form):
    email = EmailField(lazy_gettext("Email"), [InputRequired(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"), [InputRequired(), Length(max=1024)])


@dataclass(frozen=True)
class ObjectLink:
    """One entry of the home page: an object's plural label, description and list endpoint."""

    title: LazyLabel
    description: str
    endpoint: str
    object_name: str


class HomeView(AdminIndexView):
    """``/`` lists the tenant's objects; ``/login`` and ``/logout`` sign users in and out."""

    def __init__(self, objects: list[ObjectLink], sign_in: Callable[[str, str], ScreenUser | None],
                 readable: Callable[[str], bool]) -> None:
        super().__init__(name=lazy_gettext("Home"), url="/", template="trellis/home.html")
        self.objects = objects
        self.sign_in = sign_in
        #: Whether the signed-in user's roles read an object: the home page lists only those.
        self.readable = readable

    def is_visible(self) -> bool:
        """No menu before sign-in: the sign-in page shows the form only."""
        return bool(current_user.is_authenticated)

    @expose()
    def index(self) -> str:
        return self.render(self._template, objects=[o for o in self.objects if self.readable(o.object_name)])

    @expose("/login", methods=("GET", "POST"))
    def login(self) -> str | Response:
        form = SignInForm(request.form if request.method == "POST" else None)
        target = safe_next(request.args.get("next"), request) or url_for(".index")
        if current_user.is_authenticated and request.method == "GET":
            return redirect(target)
        if request.method == "POST" and form.validate():
            user = self.sign_in(form.email.data or "", form.password.data or "")
            if user is not None:
                session.clear()
                login_user(user)
                return redirect(target)
            flash(gettext("The email or password is wrong, or this account has no access to this CRM."), "error")
        return self.render("trellis/login.html", form=form)

    @expose("/logout", methods=("POST",))
    def logout(self) -> Response:
        logout_user()
        session.clear()
        flash(gettext("You are signed out."), "info")
        return redirect(url_for(".login"))
