"""The templates screen for a tenant's admins: shipped templates, what is installed, and previews before acting.

Every action is previewed first (a dry run showing the plan, notes and, for an
upgrade, the conflicts with a choice per conflict); install, upgrade and
uninstall are POSTs with the CSRF token, going through the same package code
as the CLI and the API.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from trellis.platform.core import Platform
from trellis.platform.errors import TrellisError
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRef
from trellis.tenants.packages import catalog, state
from trellis.tenants.packages.apply import Outcome
from trellis.tenants.packages.install import install
from trellis.tenants.packages.package import read_package
from trellis.tenants.packages.uninstall import uninstall
from trellis.tenants.packages.upgrade import upgrade

from .admin_only import AdminOnly


class TemplatesView(AdminOnly, BaseView):
    """``/templates/``: list, preview and apply templates; admins only."""

    def __init__(self, platform: Platform, tenant: TenantRef) -> None:
        super().__init__(name=lazy_gettext("Templates"), endpoint="templates", url="/templates")
        self.platform = platform
        self.tenant = tenant

    @expose("/")
    def index(self) -> str:
        installed = state.installed(self.platform.runtime(self.tenant).store)
        preview, error = None, None
        action, name = request.args.get("preview"), request.args.get("name", "")
        if action in ("install", "upgrade", "uninstall"):
            try:
                preview = self._run(action, name, dry_run=True)
            except TrellisError as problem:
                error = problem
        return self.render("trellis/template_packages.html", shipped=catalog.available(), installed=installed,
                           preview=preview, error=error)

    @expose("/<action>/<template>", methods=("POST",))
    def act(self, action: str, template: str) -> Response:
        if action not in ("install", "upgrade", "uninstall"):
            abort(404)
        resolutions = {key.removeprefix("resolve:"): value for key, value in request.form.items()
                       if key.startswith("resolve:")}
        try:
            outcome = self._run(action, template, dry_run=False, resolutions=resolutions)
            flash(gettext("%(action)s of %(name)s %(version)s done (revision %(revision)s).",
                          action=action.capitalize(), name=template, version=outcome.version,
                          revision=outcome.revision), "success")
        except TrellisError as error:
            details = "; ".join(f"{p.field}: {p.message}" for p in error.problems)
            flash(f"{error.detail} {details}".strip(), "error")
        return redirect(url_for(".index"))

    def _run(self, action: str, name: str, *, dry_run: bool, resolutions: dict[str, str] | None = None) -> Outcome:
        actor = Actor(current_user.id)
        slug = self.tenant.slug
        if action == "uninstall":
            return uninstall(self.platform, slug, name, actor, dry_run=dry_run)
        package = read_package(catalog.locate_shipped(name))
        if action == "install":
            return install(self.platform, slug, package, actor, dry_run=dry_run)
        return upgrade(self.platform, slug, package, actor, dry_run=dry_run, resolutions=resolutions)
