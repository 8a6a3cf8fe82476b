"""Exports: start one (a list view or a report), follow it, download its file.

``POST /records/<object>/exports?format=csv`` takes the list's own query string
(filters, ``q``, ``sort``, ``where``; paging is ignored: an export has every
row) and answers 202 with the job; ``POST /exports`` takes ``{"report": …,
"format": …}``. ``GET /exports/<job>`` is the job with a ``download`` link once
it has succeeded, ``GET /exports/<job>/file`` the file, for the user who asked
and for admins; others get the same 404 as for a job that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, send_file, url_for

from trellis.platform.errors import FieldProblem, InvalidInput, NotFound
from trellis.platform.exports import ExportSpec, export_file, start_export
from trellis.platform.exports.spec import KIND
from trellis.platform.jobs import JobInfo

from .auth import caller
from .listing import RESERVED, parse_filter, parse_sort
from .payload import json_object, json_response, refuse_nul

#: Query-string keys that steer an export rather than filter it.
_EXPORT_KEYS = (*RESERVED, "format")


def export_list(object_name: str) -> Response:
    args = request.args
    refuse_nul({key: [key, *values] for key, values in args.lists()})
    spec = ExportSpec(
        format=args.get("format", "csv"), object=object_name,
        filters=tuple((f.field, f.op, f.value) for key, values in args.lists() if key not in _EXPORT_KEYS
                      for f in (parse_filter(key, value) for value in values)),
        search=args.get("q") or None, sort=tuple(parse_sort(args.get("sort") or "")), where=args.get("where") or None)
    return _start(spec)


def export_report() -> Response:
    body = json_object()
    report, fmt = body.get("report"), body.get("format", "csv")
    if not isinstance(report, str) or not isinstance(fmt, str):
        raise InvalidInput("Name the report to export.", [FieldProblem("report", 'Send {"report": "<name>", '
                                                                        '"format": "csv" or "xlsx"}.')])
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("Bad report parameters.", [FieldProblem("params", "Send an object of parameters.")])
    return _start(ExportSpec(format=fmt, report=report, params=params))


def get_export(job_id: int) -> Response:
    return json_response({"data": _describe(_export_job(job_id))})


def download_export(job_id: int) -> Response:
    who = caller()
    found = export_file(who.platform, _export_job(job_id), who.actor.user_id, who.role == "admin")
    return send_file(found.path, mimetype=found.media_type, as_attachment=True, download_name=found.download_name,
                     max_age=0)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/records/<object_name>/exports", view_func=export_list, methods=["POST"])
    bp.add_url_rule("/exports", view_func=export_report, methods=["POST"])
    bp.add_url_rule("/exports/<int:job_id>", view_func=get_export, methods=["GET"])
    bp.add_url_rule("/exports/<int:job_id>/file", view_func=download_export, methods=["GET"])


def _start(spec: ExportSpec) -> Response:
    who = caller()
    job_id = start_export(who.platform, who.tenant.slug, who.actor, spec)
    info = who.platform.jobs.get(job_id, who.tenant.id)
    return json_response({"data": _describe(info)}, 202, {"Location": url_for(".get_export", job_id=job_id)})


def _export_job(job_id: int) -> JobInfo:
    """The export job if the caller may see it (their own, or any for admins)."""
    who = caller()
    info = who.platform.jobs.get(job_id, who.tenant.id)
    if info.kind != KIND or (who.role != "admin" and info.created_by != who.actor.user_id):
        raise NotFound(f"There is no export {job_id}.")
    return info


def _describe(info: JobInfo) -> dict[str, Any]:
    download = url_for(".download_export", job_id=info.id) if info.status == "succeeded" else None
    return {**info.as_dict(), "download": download}
