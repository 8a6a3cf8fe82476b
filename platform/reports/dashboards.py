"""Dashboard data: each widget's report run as the viewer, with the dashboard's filters applied to every
widget whose object has the filtered field (a filter on a field a widget's object lacks leaves it alone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trellis.metadata.reports import aggregate_name

from ..errors import NotFound, TrellisError
from ..records.query import Filter
from ..records.service import RecordService
from .runner import run_report


def dashboard_data(service: RecordService, doc: Mapping[str, Any], filters: Sequence[Filter] = ()) -> dict:
    """The dashboard's widgets in order, each with its report's result (or the problem that stopped it)."""
    reports = service.runtime.definitions("report")
    allowed = {f["field"] for f in doc.get("filters", [])}
    widgets = []
    for widget in doc["widgets"]:
        entry: dict[str, Any] = {**widget, "type": widget.get("type", "chart"), "width": widget.get("width", 6)}
        report = reports.get(widget["report"])
        try:
            if report is None:
                raise NotFound(f"There is no report '{widget['report']}'.")
            obj = service.runtime.object(report["object"])
            names = {"owner", "created_at", "updated_at", *(f.api_name for f in obj.fields)}
            mine = [f for f in filters if f.field in allowed and f.field in names]
            result = run_report(service, report, mine, service.actor.locale)
            entry["aggregate"] = widget.get("aggregate") or aggregate_name((report.get("aggregates") or
                                                                            [{"op": "count"}])[0])
            entry["result"] = result
        except TrellisError as error:  # one widget the viewer cannot run does not blank the dashboard
            entry["problem"] = error.detail
        widgets.append(entry)
    return {"dashboard": doc["api_name"], "label": doc["label"], "filters": doc.get("filters", []),
            "widgets": widgets}
