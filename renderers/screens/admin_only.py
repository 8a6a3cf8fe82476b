"""A screen only the tenant's admins may open; everyone else gets a plain 403."""

from __future__ import annotations

from typing import NoReturn

from flask import abort
from flask_login import current_user


class AdminOnly:
    """Mixed into a flask-admin view before ``BaseView``."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.role == "admin")

    def inaccessible_callback(self, name: str, **kwargs: object) -> NoReturn:
        abort(403)
