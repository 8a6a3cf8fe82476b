"""Build one tenant's screens app from one revision of its metadata.

The app is a small Flask app with flask-admin's ``Admin`` at its root (the
dispatcher mounts it at ``/t/<slug>``): a home page, sign-in, and one
``RecordView`` per object. It is never changed after it is built; a new
metadata revision gets a new app (see ``appcache``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from threading import Lock

from flask import Flask, g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from jinja2.bccache import Bucket, BytecodeCache

from trellis.platform.core import Platform
from trellis.platform.permissions import access_for
from trellis.platform.records.service import Actor, RecordService
from trellis.platform.runtime import TenantRuntime

from .auth import init_auth, sign_in
from .automation_log import AutomationLogView
from .exports import ExportsView
from .home import HomeView, ObjectLink
from .i18n import LazyLabel, init_babel, language_tag
from .imports import ImportsView
from .jobs import JobsView
from .kanban import KanbanView
from .reports import ReportsView
from .routing import LazyBuildRule
from .template_packages import TemplatesView
from .views import RecordView, endpoint_for

TEMPLATES = Path(__file__).resolve().parent / "templates"


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by every tenant app of the process.

    Each metadata revision builds a new app with its own Jinja environment, which
    would otherwise parse and compile flask-admin's templates again (about two thirds
    of a second) on the first screen after every configuration change. Jinja checks
    each template's source checksum before using the cached code.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _SharedTemplates()


def build_tenant_app(platform: Platform, runtime: TenantRuntime) -> Flask:
    """A fresh Flask app serving the screens of ``runtime``'s tenant at its revision."""
    tenant = runtime.tenant
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=None)
    app.url_rule_class = LazyBuildRule
    app.jinja_options = {**app.jinja_options, "bytecode_cache": COMPILED_TEMPLATES}
    app.config.update(
        SECRET_KEY=platform.settings.secret_key,
        SESSION_COOKIE_NAME="trellis_session",
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; forms left open overnight still save
        TRELLIS_TENANT=tenant.slug,
        TRELLIS_REVISION=runtime.revision.number,
    )
    app.extensions["trellis"] = platform  # extension actions run through the platform, as in the API
    CSRFProtect(app)
    init_babel(app)
    init_auth(app, platform, tenant.id)
    admin = Admin(app, name=tenant.name, url="/", theme=Bootstrap4Theme(fluid=True, base_template="trellis/base.html"),
                  index_view=HomeView(_object_links(runtime),
                                      lambda email, password: sign_in(platform, tenant.id, email, password),
                                      lambda name: service().access.allows(runtime.objects[name], "read")))
    service = _service_factory(platform, runtime)
    for obj in runtime.objects.values():
        admin.add_view(RecordView(obj, runtime, service))
    admin.add_view(KanbanView(runtime, service, endpoint_for))
    admin.add_view(ReportsView(runtime, service, endpoint_for))
    admin.add_view(JobsView(platform, tenant))
    admin.add_view(AutomationLogView(platform, tenant))
    admin.add_view(ExportsView(platform, tenant, endpoint_for))
    admin.add_view(ImportsView(platform, runtime, service))
    admin.add_view(TemplatesView(platform, tenant))
    return app


def _object_links(runtime: TenantRuntime) -> list[ObjectLink]:
    return [ObjectLink(LazyLabel(lambda obj=obj: obj.plural_title(language_tag())), obj.description,
                       f"{endpoint_for(obj.api_name)}.index_view", obj.api_name) for obj in runtime.objects.values()]


def _service_factory(platform: Platform, runtime: TenantRuntime) -> Callable[[], RecordService]:
    """The record service acting as the signed-in user, made once per request."""

    def service() -> RecordService:
        if "trellis_records" not in g:
            access = access_for(platform, runtime, current_user.id, current_user.role)  # the user's roles
            g.trellis_records = platform.records(runtime, Actor(current_user.id, language_tag(), access=access))
        return g.trellis_records

    return service
