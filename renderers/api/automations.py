"""``/automations/<object>/<rule>/runs`` and ``/webhooks/deliveries``: the automation logs, for admins.

The run log says for each run of a rule what fired it (record, trigger, depth),
how it went (queued, running, retrying, succeeded, failed, stopped, skipped) and
the error or the reason it stopped; the delivery log lists every attempt of every
webhook with the receiver's status code and how long it took.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from trellis.platform.automation import webhooks
from trellis.platform.errors import FieldProblem, Forbidden, InvalidInput, NotFound

from .auth import Caller, caller
from .payload import json_response

MAX_LIMIT = 500
#: Every status a run can have, in the order a run goes through them.
RUN_STATUSES = ("queued", "running", "retrying", "succeeded", "failed", "stopped", "skipped")


def list_runs(object_name: str, rule: str) -> Response:
    who = _admin()
    runtime = who.runtime()
    document = runtime.documents.get(object_name)
    if document is None:
        raise NotFound(f"There is no object '{object_name}' in this CRM.")
    if rule not in {spec.get("name") for spec in document.get("automations") or []}:
        raise NotFound(f"{object_name} has no automation rule '{rule}'.")
    status = request.args.get("status")
    if status is not None and status not in RUN_STATUSES:
        raise InvalidInput("Unknown run status.", [FieldProblem(
            "status", f"'{status}' is not a run status; use one of: {', '.join(RUN_STATUSES)}.")])
    record_id = _whole("record_id", request.args.get("record_id"), None, 1, 2**63 - 1)
    limit = _whole("limit", request.args.get("limit"), 50, 1, MAX_LIMIT)
    runs = who.platform.automation.runs(runtime, object_name, rule, record_id=record_id, status=status, limit=limit)
    return json_response({"data": runs})


def list_deliveries() -> Response:
    who = _admin()
    delivery_id = request.args.get("delivery_id")
    if delivery_id is not None and not re.fullmatch(r"[0-9a-f]{1,64}", delivery_id):
        raise InvalidInput("Bad delivery id.", [FieldProblem(
            "delivery_id", "A delivery id is the hexadecimal X-Trellis-Delivery header of the request.")])
    limit = _whole("limit", request.args.get("limit"), 50, 1, MAX_LIMIT)
    found = webhooks.list_deliveries(who.runtime().store, delivery_id=delivery_id, limit=limit)
    return json_response({"data": found})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/automations/<object_name>/<rule>/runs", view_func=list_runs, methods=["GET"])
    bp.add_url_rule("/webhooks/deliveries", view_func=list_deliveries, methods=["GET"])


def _admin() -> Caller:
    who = caller()
    if who.role != "admin":
        raise Forbidden("Only an admin of this CRM can read its automation logs.")
    return who


def _whole(name: str, text: str | None, default: int | None, low: int, high: int) -> int | None:
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,19}", text) or not low <= int(text) <= high:
        raise InvalidInput(f"Bad {name}.", [FieldProblem(name, f"'{text}' is not a whole number from {low} to "
                                                               f"{high}.")])
    return int(text)
