"""``/automation-log/``: what the tenant's automation rules did and what their webhooks answered; admins only.

The same logs as the API's ``/automations/<object>/<rule>/runs`` and ``/webhooks/deliveries``,
newest first, narrowed by status, so an admin sees a failing rule's error without a tool.
"""

from __future__ import annotations

from flask import request
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext

from trellis.platform.automation import runlog, webhooks
from trellis.platform.core import Platform
from trellis.platform.runtime import TenantRef

from .admin_only import AdminOnly

#: The statuses a run can have, for the filter links (empty: all).
STATUSES = ("", "queued", "running", "succeeded", "failed", "stopped", "skipped")
SHOWN = 100


class AutomationLogView(AdminOnly, BaseView):
    def __init__(self, platform: Platform, tenant: TenantRef) -> None:
        super().__init__(name=lazy_gettext("Automation log"), endpoint="automation_log", url="/automation-log")
        self.platform = platform
        self.tenant = tenant

    @expose("/")
    def index(self) -> str:
        status = request.args.get("status", "")
        store = self.platform.runtime(self.tenant).store
        runs = runlog.list_runs(store, status=status if status in STATUSES[1:] else None, limit=SHOWN)
        deliveries = webhooks.list_deliveries(store, limit=SHOWN)
        return self.render("trellis/automation_log.html", runs=runs, deliveries=deliveries, status=status,
                           statuses=STATUSES)
