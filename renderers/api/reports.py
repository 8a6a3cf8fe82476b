"""Report and dashboard routes: run a saved report (GET) or an unsaved definition (POST), and a
dashboard's data (every widget run with the dashboard's filters), as the calling user sees the records.

Runtime filters come in the query string as on record lists (``?owner=7``, ``?close_date__gte=2025-01-01``);
they narrow a report, never widen it. Numbers are JSON numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request

from trellis.metadata import definitions
from trellis.platform.errors import FieldProblem, InvalidInput, NotFound
from trellis.platform.records.query import Filter
from trellis.platform.records.service import RecordService
from trellis.platform.reports import run_report
from trellis.platform.reports.dashboards import dashboard_data

from .auth import caller
from .listing import parse_filter
from .payload import json_object, json_response


def get_report(name: str) -> Response:
    service = _service()
    return json_response(_numbers(run_report(service, _report(service, name), _filters(), service.actor.locale)))


def post_report() -> Response:
    """Run a definition sent in the body (checked like a saved one), e.g. from a report builder's preview."""
    service = _service()
    doc = json_object()
    kind = definitions.KINDS["report"]
    runtime = service.runtime
    problems = definitions.validate_definition(kind, {"api_name": "preview", "label": "Preview", **doc},
                                               objects=runtime.documents, definitions=runtime.revision.definitions)
    if problems:
        raise InvalidInput("The report is not valid.", [FieldProblem(p.path, p.message) for p in problems])
    return json_response(_numbers(run_report(service, doc, _filters(), service.actor.locale)))


def get_dashboard(name: str) -> Response:
    service = _service()
    doc = service.runtime.definitions("dashboard").get(name)
    if doc is None:
        raise NotFound(f"There is no dashboard '{name}'.")
    return json_response(_numbers(dashboard_data(service, doc, _filters())))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/reports/<name>/run", view_func=get_report, methods=["GET"])
    bp.add_url_rule("/reports/run", view_func=post_report, methods=["POST"])
    bp.add_url_rule("/dashboards/<name>/data", view_func=get_dashboard, methods=["GET"])


def _service() -> RecordService:
    who = caller()
    return who.platform.records(who.runtime(), who.actor)


def _report(service: RecordService, name: str) -> Mapping[str, Any]:
    doc = service.runtime.definitions("report").get(name)
    if doc is None:
        raise NotFound(f"There is no report '{name}'.")
    return doc


def _filters() -> Sequence[Filter]:
    return [parse_filter(key, value) for key, values in request.args.lists() for value in values]


def _numbers(value: Any) -> Any:
    """Decimals as JSON numbers (whole ones as integers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return value
