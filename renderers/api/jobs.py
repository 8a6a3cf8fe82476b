"""``/jobs``: a tenant's background jobs, and retrying a failed one.

Admins see every job of their tenant; other members see only the jobs they
started, and someone else's job answers 404 exactly as a missing one does.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from trellis.platform.controlplane.tables import JOB_STATUSES
from trellis.platform.errors import FieldProblem, InvalidInput, NotFound
from trellis.platform.jobs import JobInfo

from .auth import caller
from .payload import json_response

MAX_LIMIT = 200


def list_jobs() -> Response:
    who = caller()
    status = request.args.get("status")
    if status is not None and status not in JOB_STATUSES:
        raise InvalidInput("Unknown job status.", [FieldProblem(
            "status", f"'{status}' is not a job status; use one of: {', '.join(JOB_STATUSES)}.")])
    limit = _limit(request.args.get("limit"))
    mine = None if who.role == "admin" else who.actor.user_id
    found = who.platform.jobs.list(who.tenant.id, created_by=mine, status=status, limit=limit)
    return json_response({"data": [job.as_dict() for job in found]})


def get_job(job_id: int) -> Response:
    return json_response({"data": _visible(job_id).as_dict()})


def retry_job(job_id: int) -> Response:
    """Queue a failed job again with a fresh set of attempts; 409 if it has not failed."""
    _visible(job_id)
    who = caller()
    return json_response({"data": who.platform.jobs.retry(job_id, who.tenant.id).as_dict()}, 202)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/jobs", view_func=list_jobs, methods=["GET"])
    bp.add_url_rule("/jobs/<int:job_id>", view_func=get_job, methods=["GET"])
    bp.add_url_rule("/jobs/<int:job_id>/retry", view_func=retry_job, methods=["POST"])


def _visible(job_id: int) -> JobInfo:
    """The job if the caller may see it: any of the tenant's for admins, their own for members."""
    who = caller()
    info = who.platform.jobs.get(job_id, who.tenant.id)
    if who.role != "admin" and info.created_by != who.actor.user_id:
        raise NotFound(f"There is no job {job_id}.")
    return info


def _limit(text: str | None) -> int:
    if text is None:
        return 50
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInput("Bad limit.", [FieldProblem(
            "limit", f"'{text}' is not a whole number from 1 to {MAX_LIMIT}.")])
    return int(text)
