"""``/audit``: the tenant's audit log for its admins, and the audit of metadata changes made through the API.

Metadata changes are recorded here, after the metadata API has answered a
successful change, rather than in the editor: the revision is written in the
tenant's own store and the log lives in the control plane (two databases on
the embedded default), so the entry follows the committed revision.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from trellis.platform.controlplane import audit
from trellis.platform.errors import FieldProblem, Forbidden, InvalidInput

from .auth import caller
from .payload import json_response

_METADATA_PATH = re.compile(r"/api/v1/(metadata/.*)$")
DEFAULT_LIMIT = 50
MAX_OFFSET = 10**9


def who_is_calling(session: Session) -> audit.Who:
    """The caller as the audit log names them: id, address and IP."""
    return audit.who_is(session, caller().actor.user_id, request.remote_addr)


def list_audit() -> Response:
    who = caller()
    if who.role != "admin":
        raise Forbidden("Only an admin of this CRM can read its audit log.")
    action = request.args.get("action")
    if action is not None and action not in audit.ACTIONS:
        raise InvalidInput("Unknown audit action.", [FieldProblem(
            "action", f"'{action}' is not an audit action; use one of: {', '.join(audit.ACTIONS)}.")])
    limit = _whole("limit", request.args.get("limit"), DEFAULT_LIMIT, 1, audit.MAX_PAGE)
    offset = _whole("offset", request.args.get("offset"), 0, 0, MAX_OFFSET)
    with who.platform.control() as session:
        page = audit.entries(session, who.tenant.id, action=action, limit=limit, offset=offset)
    return json_response({"data": page.entries, "total": page.total, "limit": limit, "offset": offset})


def audit_metadata_change(response: Response) -> Response:
    """Record a metadata change the API has just made (not dry runs, not refusals, not reads)."""
    match = _METADATA_PATH.search(request.path)
    if (match is None or request.method in ("GET", "HEAD", "OPTIONS") or response.status_code not in (200, 201, 202)
            or request.args.get("dry_run") == "true"):
        return response
    body = response.get_json(silent=True) or {}
    details = {"method": request.method, "revision": body.get("revision"), "job": body.get("job")}
    with caller().platform.control() as session:
        audit.record(session, caller().tenant.id, who_is_calling(session), "metadata_changed", match[1],
                     {key: value for key, value in details.items() if value is not None})
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/audit", view_func=list_audit, methods=["GET"])
    bp.after_request(audit_metadata_change)


def _whole(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", text) or not low <= int(text) <= high:
        raise InvalidInput(f"Bad {name}.", [FieldProblem(
            name, f"'{text}' is not a whole number from {low} to {high}.")])
    return int(text)
