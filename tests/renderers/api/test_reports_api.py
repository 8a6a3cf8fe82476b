"""Reports and dashboards over the API: the demo's pipeline report and dashboard, a previewed definition."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_run_a_saved_report_and_the_pipeline_dashboard(client: FlaskClient, shared_api: str,
                                                         shared_auth: dict[str, str]) -> None:
    answer = client.get(f"{shared_api}/reports/open_pipeline/run", headers=shared_auth)
    assert answer.status_code == 200, answer.json
    body = answer.json
    stages = [g["key"] for g in body["groups"]]
    order = ["prospecting", "qualification", "proposal", "negotiation"]
    assert stages == [s for s in order if s in stages]
    assert body["total"]["values"]["count"] == sum(g["values"]["count"] for g in body["groups"])
    assert len(body["rows"]) == body["total"]["values"]["count"]

    dashboard = client.get(f"{shared_api}/dashboards/pipeline/data", headers=shared_auth).json
    assert [w["report"] for w in dashboard["widgets"]] == ["open_pipeline", "open_pipeline", "open_pipeline",
                                                           "forecast"]
    nobody = client.get(f"{shared_api}/dashboards/pipeline/data?owner=999999", headers=shared_auth).json
    assert nobody["widgets"][0]["result"]["total"]["values"]["count"] == 0


def test_preview_a_definition_and_see_problems_at_their_path(client: FlaskClient, shared_api: str,
                                                              shared_auth: dict[str, str]) -> None:
    report = {"object": "deal", "group_by": [{"field": "close_date", "bucket": "quarter"}],
              "aggregates": [{"op": "max", "column": "amount"}], "columns": [{"field": "amount"}], "limit": 0}
    answer = client.post(f"{shared_api}/reports/run", json=report, headers=shared_auth)
    assert answer.status_code == 200, answer.json
    assert answer.json["rows"] == [] and answer.json["groups"]
    bad = client.post(f"{shared_api}/reports/run", json={**report, "group_by": [{"field": "stag"}]},
                      headers=shared_auth)
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "$.group_by[0].field"
    assert client.get(f"{shared_api}/reports/nothing/run", headers=shared_auth).status_code == 404
