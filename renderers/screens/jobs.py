"""The jobs screen for a tenant's admins: queued, running with progress, failed with the error, succeeded.

A failed job has a Retry button (a POST with the CSRF token) that queues it
again with a fresh set of attempts; the list itself comes from the job layer,
as the API's does.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from trellis.platform.core import Platform
from trellis.platform.errors import TrellisError
from trellis.platform.jobs import JobInfo
from trellis.platform.runtime import TenantRef

from .admin_only import AdminOnly

#: The order of the sections on the page: what needs attention first.
SECTIONS = (("running", lazy_gettext("Running")), ("queued", lazy_gettext("Queued")),
            ("failed", lazy_gettext("Failed")), ("succeeded", lazy_gettext("Succeeded")))


class JobsView(AdminOnly, BaseView):
    """``/jobs/``: the tenant's background jobs; admins only."""

    def __init__(self, platform: Platform, tenant: TenantRef) -> None:
        super().__init__(name=lazy_gettext("Jobs"), endpoint="jobs", url="/jobs")
        self.platform = platform
        self.tenant = tenant

    @expose("/")
    def index(self) -> str:
        found = self.platform.jobs.list(self.tenant.id, limit=200)
        sections = [(status, title, [job for job in found if job.status == status]) for status, title in SECTIONS]
        return self.render("trellis/jobs.html", sections=sections, describe=_describe)

    @expose("/<int:job_id>/retry", methods=("POST",))
    def retry(self, job_id: int) -> Response:
        try:
            self.platform.jobs.retry(job_id, self.tenant.id)
            flash(gettext("Job %(id)s is queued again.", id=job_id), "success")
        except TrellisError as error:
            flash(error.detail, "error")
        return redirect(url_for(".index", status=request.args.get("status")))


def _describe(job: JobInfo) -> str:
    """What the job is doing or did, in one line."""
    if job.status == "failed":
        return job.error or ""
    return job.message or ""
