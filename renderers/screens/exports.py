"""Exports in the screens: start one from a list screen, watch its progress, download the file.

The list screen's Export buttons post to ``/exports/start/<object>`` with the
list's own query string, so the export has exactly the list's filters, search,
condition and sort: the list view itself reads them, as it does to show the list.
The export's page polls ``/exports/<job>/status`` while the job runs and shows the
download link when it is done. Only the user who asked (and admins) see an export.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from trellis.platform.core import Platform
from trellis.platform.errors import NotFound, TrellisError
from trellis.platform.exports import ExportSpec, export_file, start_export
from trellis.platform.exports.spec import KIND
from trellis.platform.jobs import JobInfo
from trellis.platform.permissions import access_for
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRef

from .i18n import language_tag


class ExportsView(BaseView):
    """``/exports/``: not in the menu; reached from the list screens' Export buttons."""

    def __init__(self, platform: Platform, tenant: TenantRef, endpoint_for: Any) -> None:
        super().__init__(name=lazy_gettext("Exports"), endpoint="exports", url="/exports")
        self.platform = platform
        self.tenant = tenant
        self.endpoint_for = endpoint_for

    def is_visible(self) -> bool:
        return False

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def inaccessible_callback(self, name: str, **kwargs: object) -> Response:
        return redirect(url_for("admin.index"))

    @expose("/")
    def index(self) -> str:
        """The user's recent exports (an admin's: everyone's), newest first."""
        mine = None if current_user.role == "admin" else current_user.id
        found = [job for job in self.platform.jobs.list(self.tenant.id, created_by=mine, limit=200) if job.kind == KIND]
        return self.render("trellis/exports.html", jobs=found)

    @expose("/start/<object_name>", methods=("POST",))
    def start(self, object_name: str) -> Response:
        view = self._list_view(object_name)
        try:
            spec = _list_spec(view, object_name, request.args.get("format", "csv"))
            job_id = start_export(self.platform, self.tenant.slug, self._actor(), spec)
        except TrellisError as error:
            flash(error.detail + " " + "; ".join(f"{p.field}: {p.message}" for p in error.problems), "error")
            return redirect(url_for(f"{view.endpoint}.index_view", **_list_args()))
        return redirect(url_for(".show", job_id=job_id))

    @expose("/<int:job_id>")
    def show(self, job_id: int) -> str:
        return self.render("trellis/export.html", job=self._job(job_id))

    @expose("/<int:job_id>/status")
    def status(self, job_id: int) -> Response:
        job = self._job(job_id)
        download = url_for(".download", job_id=job.id) if job.status == "succeeded" else None
        return jsonify({"status": job.status, "percent": job.percent, "done": job.progress_done,
                        "total": job.progress_total, "message": job.message, "error": job.error,
                        "download": download})

    @expose("/<int:job_id>/file")
    def download(self, job_id: int) -> Response:
        try:
            found = export_file(self.platform, self._job(job_id), current_user.id, current_user.role == "admin")
        except TrellisError:
            abort(404)
        return send_file(found.path, mimetype=found.media_type, as_attachment=True,
                         download_name=found.download_name, max_age=0)

    def _job(self, job_id: int) -> JobInfo:
        """The export if it is the user's own (admins: any of the tenant's); otherwise a plain 404."""
        try:
            job = self.platform.jobs.get(job_id, self.tenant.id)
        except NotFound:
            abort(404)
        if job.kind != KIND or (current_user.role != "admin" and job.created_by != current_user.id):
            abort(404)
        return job

    def _actor(self) -> Actor:
        """The signed-in user as the record screens act for them (their roles' access, their language)."""
        runtime = self.platform.runtime(self.tenant)
        return Actor(current_user.id, language_tag(),
                     access=access_for(self.platform, runtime, current_user.id, current_user.role))

    def _list_view(self, object_name: str) -> Any:
        endpoint = self.endpoint_for(object_name)
        for view in self.admin._views:
            if view.endpoint == endpoint:
                return view
        abort(404)


def _list_spec(view: Any, object_name: str, fmt: str) -> ExportSpec:
    """The list screen's filters, search, condition and sort, read by the list view from this request."""
    args = view._get_list_extra_args()
    filters = []
    for index, _name, value in args.filters or []:
        flt = view._filters[index]
        filters.extend((f.field, f.op, f.value) for f in flt.apply([], flt.clean(value)))
    column = view._get_column_by_idx(args.sort)
    sort = [(column[0], bool(args.sort_desc))] if column is not None else (view._get_default_order() or [])
    return ExportSpec(format=fmt, object=object_name, filters=tuple(filters), search=args.search or None,
                      sort=tuple(sort), where=request.args.get("where", "").strip() or None)


def _list_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key != "format"}
