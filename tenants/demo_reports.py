"""The demo's reports and its "pipeline" dashboard: a funnel of open deals by stage and a forecast by month."""

from __future__ import annotations

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor

_OPEN = {"field": "stage", "op": "in", "value": ["prospecting", "qualification", "proposal", "negotiation"]}

REPORTS = [
    {"api_name": "open_pipeline", "label": "Open pipeline by stage", "object": "deal",
     "columns": [{"field": "name"}, {"field": "account.name", "label": "Account"}, {"field": "amount"},
                 {"field": "close_date"}],
     "filters": [_OPEN], "group_by": [{"field": "stage", "label": "Stage"}],
     "aggregates": [{"op": "sum", "column": "amount", "label": "Amount"}, {"op": "count", "label": "Deals"}],
     "sort": [{"by": "amount", "desc": True}], "limit": 50,
     "chart": {"type": "funnel", "aggregate": "sum_amount", "title": "Open deals by stage"}},
    {"api_name": "forecast", "label": "Forecast by close month", "object": "deal",
     "columns": [{"field": "name"}, {"field": "amount"}, {"field": "close_date"}],
     "filters": [_OPEN], "group_by": [{"field": "close_date", "bucket": "month", "label": "Close month"}],
     "aggregates": [{"op": "sum", "column": "amount", "label": "Amount"}],
     "sort": [{"by": "close_date"}], "limit": 50,
     "chart": {"type": "bar", "title": "Amount by close month"}},
]

DASHBOARD = {"api_name": "pipeline", "label": "Pipeline",
             "filters": [{"field": "owner", "label": "Owner"}, {"field": "close_date", "label": "Close date"}],
             "widgets": [{"report": "open_pipeline", "type": "number", "aggregate": "sum_amount",
                          "title": "Open pipeline", "width": 4},
                         {"report": "open_pipeline", "type": "number", "aggregate": "count",
                          "title": "Open deals", "width": 4},
                         {"report": "open_pipeline", "title": "Open deals by stage", "width": 6},
                         {"report": "forecast", "title": "Forecast", "width": 6}]}


def install_reports(platform: Platform, slug: str, actor: Actor) -> None:
    """Save the demo's reports, then the dashboard that shows them."""
    for doc in REPORTS:
        platform.editor(platform.runtime(slug), actor).put_definition("report", doc)
    platform.editor(platform.runtime(slug), actor).put_definition("dashboard", DASHBOARD)
