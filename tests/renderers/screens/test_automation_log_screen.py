"""The automation log screen shows admins each rule run (a failure with its error) and each webhook attempt."""

from __future__ import annotations

from flask import Flask
from screen_helpers import sign_in

from trellis.platform.automation import runlog
from trellis.platform.core import Platform
from trellis.platform.storage.system import automation_tables
from trellis.tenants.demo import DemoLogin


def test_admins_see_runs_with_their_errors_and_webhook_attempts(web_app: Flask, platform: Platform,
                                                                 demo: DemoLogin) -> None:
    store = platform.runtime(demo.tenant).store
    ok = runlog.open_run(store, {"object": "deal", "rule": "tell_finance", "record_id": 3, "trigger": "created",
                                 "event_key": "k1", "status": "succeeded", "depth": 0, "actions_done": 1})
    bad = runlog.open_run(store, {"object": "deal", "rule": "escalate", "record_id": 4, "trigger": "time",
                                  "event_key": "k2", "status": "queued", "depth": 0})
    runlog.update_run(store, bad, status="failed", error="The email's 'to' expression gave no address.")
    _, deliveries = automation_tables(store.schema)
    with store.engine.begin() as conn:
        conn.execute(deliveries.insert().values(delivery_id="d-1", run_id=ok, url="https://hooks.example/x",
                                                attempt=2, status_code=500, error=None, duration_ms=12,
                                                at=runlog.now()))
    client = web_app.test_client()
    base = f"/t/{demo.tenant}"
    assert sign_in(client, base, demo.email, demo.password).status_code == 302
    page = client.get(f"{base}/automation-log/")
    assert page.status_code == 200
    assert "deal.tell_finance" in page.text and "deal.escalate" in page.text
    assert "expression gave no address" in page.text
    assert "https://hooks.example/x" in page.text and ">500<" in page.text
    failed = client.get(f"{base}/automation-log/?status=failed").text
    assert "deal.escalate" in failed and "deal.tell_finance" not in failed
