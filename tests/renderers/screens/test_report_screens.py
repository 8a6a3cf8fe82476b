"""The report screens: the list, a report with its chart, table and rows, the pipeline dashboard and its
filters, and drill-down links from each group to the deal list filtered to it."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient


def test_reports_are_listed_and_linked_from_the_navigation(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/reports/")
    assert page.status_code == 200
    assert 'href="/t/' in page.text and "/reports/dashboards/pipeline/" in page.text
    assert "Open pipeline by stage" in page.text
    home = signed_in.get(f"{base}/")
    assert f"{base}/reports/" in home.text


def test_a_report_shows_its_funnel_table_and_rows_with_drill_down(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/reports/open_pipeline/")
    assert page.status_code == 200
    assert 'data-chart="funnel"' in page.text and 'role="img"' in page.text
    assert 'data-testid="report-groups"' in page.text and 'data-testid="report-rows"' in page.text
    links = [unescape(h) for h in re.findall(r'<a href="([^"]*where=[^"]*)"', page.text)]
    assert links, "each stage links to its records"
    listed = signed_in.get(links[0])
    assert listed.status_code == 200


def test_the_pipeline_dashboard_and_its_owner_filter(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/reports/dashboards/pipeline/")
    assert page.status_code == 200
    assert 'data-chart="funnel"' in page.text and 'data-chart="bar"' in page.text
    assert page.text.count('data-testid="number-tile"') == 2
    nobody = signed_in.get(f"{base}/reports/dashboards/pipeline/?owner=999999")
    assert 'data-chart="funnel"' not in nobody.text  # no open deal of that owner: nothing to draw
    assert signed_in.get(f"{base}/reports/nothing/").status_code == 404


def test_every_chart_type_is_svg_with_titles_and_links() -> None:
    from trellis.renderers.screens.charts import chart_svg

    data = [("New", 3.0, "/deals?where=1"), ("Won", 5.0, None)]
    for kind in ("bar", "line", "pie", "donut", "funnel"):
        svg = chart_svg(kind, "Deals", data)
        assert svg.startswith("<svg") and 'aria-label="Deals"' in svg and "<title>New: 3</title>" in svg
        assert '<a href="/deals?where=1"' in svg
    stacked = chart_svg("stacked_bar", "Deals", data, {"Acme": data, "Globex": [("New", 1.0, None), ("Won", 0, None)]})
    assert "<title>New · Globex: 1</title>" in stacked
