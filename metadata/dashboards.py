"""Dashboard definitions: the rules a JSON Schema cannot say (widgets name reports that exist and have what
the widget draws; filter fields exist on at least one widget's object)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .reports import aggregate_name


def check_dashboard(doc: Mapping[str, Any], *, objects: Mapping[str, Any],
                    definitions: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Problems of a dashboard beyond its schema, each at its JSON path with how to mend it."""
    reports = definitions.get("report", {})
    problems: list[tuple[str, str]] = []
    used: list[Mapping[str, Any]] = []
    for index, widget in enumerate(doc["widgets"]):
        path, report = f"$.widgets[{index}]", reports.get(widget["report"])
        if report is None:
            close = difflib.get_close_matches(widget["report"], list(reports), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else " Create the report first."
            problems.append((f"{path}.report", f"There is no report '{widget['report']}'.{hint}"))
            continue
        used.append(report)
        names = [aggregate_name(a) for a in report.get("aggregates", [])] or ["count"]
        if widget.get("aggregate") and widget["aggregate"] not in names:
            problems.append((f"{path}.aggregate", f"Report '{report['api_name']}' has no aggregate "
                                                  f"'{widget['aggregate']}'; use one of: {', '.join(names)}."))
        if widget.get("type", "chart") == "chart" and not report.get("group_by"):
            problems.append((f"{path}.type", f"Report '{report['api_name']}' has no groups to chart; "
                                             "use type \"number\"."))
    for index, flt in enumerate(doc.get("filters", [])):
        if used and not any(_has_field(objects.get(r["object"]), flt["field"]) for r in used):
            problems.append((f"$.filters[{index}].field", f"No widget's object has a field '{flt['field']}'."))
    return problems


def _has_field(doc: Mapping[str, Any] | None, name: str) -> bool:
    if doc is None:
        return False
    return name in ("owner", "created_at", "updated_at") or any(f["api_name"] == name for f in doc.get("fields", []))
