"""Report and dashboard screens: the list of reports and dashboards, a report viewer (chart, the table of its
groups — the chart's accessible view — and its rows), and dashboards with their filters.

Each group of a chart or table links to the object's list screen filtered to that group (its ``where=``), so
a click on a funnel stage lands on those deals. Every number is the record service's, as the signed-in user
may see it; a report the user cannot run shows why instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import abort, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext
from flask_login import current_user

from trellis.metadata.reports import aggregate_name
from trellis.platform.errors import TrellisError
from trellis.platform.records.query import Filter
from trellis.platform.records.service import RecordService
from trellis.platform.reports import run_report
from trellis.platform.reports.dashboards import dashboard_data
from trellis.platform.runtime import TenantRuntime

from .charts import Point, chart_svg, number, points
from .i18n import language_tag


class ReportsView(BaseView):
    """``/reports/``: reports and dashboards of the tenant, run as the signed-in user."""

    def __init__(self, runtime: TenantRuntime, service: Callable[[], RecordService],
                 details_endpoint: Callable[[str], str]) -> None:
        super().__init__(name=lazy_gettext("Reports"), endpoint="reports", url="/reports")
        self.reports = runtime.definitions("report")
        self.dashboards = runtime.definitions("dashboard")
        self.service = service
        self.details_endpoint = details_endpoint

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    @expose("/")
    def index(self) -> str:
        return self.render("trellis/reports.html", reports=sorted(self.reports.values(), key=lambda r: r["label"]),
                           dashboards=sorted(self.dashboards.values(), key=lambda d: d["label"]))

    @expose("/<report_name>/")
    def report(self, report_name: str) -> str:
        doc = self.reports.get(report_name) or abort(404)
        widget = self._widget(doc, {"report": report_name, "title": doc["label"]})
        return self.render("trellis/report.html", doc=doc, widget=widget)

    @expose("/dashboards/<dashboard_name>/")
    def dashboard(self, dashboard_name: str) -> str:
        doc = self.dashboards.get(dashboard_name) or abort(404)
        filters = _dashboard_filters(doc, request.args)
        data = dashboard_data(self.service(), doc, filters)
        widgets = [self._shown(self.reports.get(w["report"], {}), w) for w in data["widgets"]]
        return self.render("trellis/dashboard.html", doc=doc, widgets=widgets, args=request.args)

    def _widget(self, doc: Mapping[str, Any], widget: dict[str, Any]) -> dict[str, Any]:
        try:
            result = run_report(self.service(), doc, (), language_tag())
        except TrellisError as error:
            return {**widget, "problem": error.detail}
        return self._shown(doc, {**widget, "result": result})

    def _shown(self, doc: Mapping[str, Any], widget: dict[str, Any]) -> dict[str, Any]:
        """The widget with its chart drawn and a drill-down link on every group."""
        result = widget.get("result")
        if result is None:
            return widget
        default = aggregate_name((doc.get("aggregates") or [{"op": "count"}])[0])
        chart = doc.get("chart") or {}
        aggregate = widget.get("aggregate") or chart.get("aggregate") or default
        link = self._drill(doc["object"])
        for group in result["groups"]:
            group["url"] = link(group)
        shown = {**widget, "aggregate": aggregate, "link": link}
        if widget.get("type", "chart") == "chart" and result["groups"]:
            title = widget.get("title") or chart.get("title") or doc["label"]
            shown["svg"] = chart_svg(chart.get("type", "bar"), title, points(result["groups"], aggregate, link),
                                     _series(result, aggregate))
        return shown

    def _drill(self, object_name: str) -> Callable[[dict], str | None]:
        endpoint = f"{self.details_endpoint(object_name)}.index_view"

        def link(group: dict) -> str | None:
            return url_for(endpoint, where=group["where"]) if group.get("where") else None
        return link


def _series(result: Mapping[str, Any], aggregate: str) -> dict[str, list[Point]] | None:
    """For stacked bars: one series per column group (a matrix report), each with a point per row group."""
    if not result.get("column_keys"):
        return None
    return {key["label"]: [(g["label"], number((g["across"].get(key["key"]) or {}).get(aggregate)), g.get("url"))
                           for g in result["groups"]] for key in result["column_keys"]}


def _dashboard_filters(doc: Mapping[str, Any], args: Mapping[str, str]) -> list[Filter]:
    """``owner=7``, ``close_date__gte=…`` and ``close_date__lte=…`` for the dashboard's filter fields."""
    filters = []
    for spec in doc.get("filters", []):
        for op in ("eq", "gte", "lte"):
            key = spec["field"] if op == "eq" else f"{spec['field']}__{op}"
            if args.get(key, "").strip():
                filters.append(Filter(spec["field"], op, args[key].strip()))
    return filters
