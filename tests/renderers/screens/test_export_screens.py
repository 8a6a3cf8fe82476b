"""Exports from the list screens: the buttons keep the list's condition and search, the export's page shows
progress and then the download, and field history shows on the record page."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

from flask.testing import FlaskClient
from screen_helpers import csrf_token

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery, where_condition
from trellis.platform.records.service import RecordService
from trellis.tenants.demo import DemoLogin


def test_the_list_exports_what_it_shows(signed_in: FlaskClient, base: str, platform: Platform,
                                        records: RecordService) -> None:
    condition = 'stage IN ("won", "lost")'
    listing = signed_in.get(f"{base}/records/deal/", query_string={"where": condition, "sort": "2"})
    forms = re.findall(r'data-testid="export-csv"\s+action="([^"]+)"', listing.text)
    assert forms, "the list screen should offer Export CSV"
    action = unquote(forms[0].replace("&amp;", "&"))
    assert "where=" in action and "format=csv" in action
    token = csrf_token(signed_in, f"{base}/records/deal/")
    started = signed_in.post(action, data={"csrf_token": token})
    assert started.status_code == 302, started.text
    page_url = started.headers["Location"]
    job_id = int(page_url.rstrip("/").rsplit("/", 1)[1])
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    assert platform.jobs.wait(job_id, timeout=60).status == "succeeded"
    status = signed_in.get(f"{base}/exports/{job_id}/status").get_json()
    assert status["status"] == "succeeded" and status["percent"] == 100 and status["download"]
    page = signed_in.get(f"{base}/exports/{job_id}")
    assert 'data-testid="export-download"' in page.text and "d-none" not in page.text.split("export-download")[1][:80]
    download = signed_in.get(status["download"])
    header, *rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    obj = records.runtime.object("deal")
    where = where_condition(condition, obj, records.runtime.objects, None)
    expected = records.list("deal", ListQuery(where=where, limit=500)).records
    assert sorted(int(row[0]) for row in rows) == sorted(r["id"] for r in expected)
    assert {row[header.index("Stage")] for row in rows} <= {"Closed won", "Closed lost"}


def test_someone_elses_export_is_not_found(signed_in: FlaskClient, base: str) -> None:
    assert signed_in.get(f"{base}/exports/999999").status_code == 404
    assert signed_in.get(f"{base}/exports/999999/file").status_code == 404


def test_the_record_page_shows_tracked_changes_with_names(signed_in: FlaskClient, base: str, demo: DemoLogin,
                                                          platform: Platform, records: RecordService) -> None:
    runtime = platform.runtime(demo.tenant)
    platform.editor(runtime, records.actor).update_field("deal", "amount", {"tracked": True})
    service = platform.records(platform.runtime(demo.tenant), records.actor)
    deal = service.list("deal", ListQuery(limit=1)).records[0]
    edit = signed_in.get(f"{base}/records/deal/details/?id={deal['id']}")
    assert 'data-testid="field-history"' not in edit.text
    from trellis.platform.controlplane.accounts import find_user

    with platform.control() as session:
        admin = find_user(session, demo.email)
        admin_id, admin_name = admin.id, admin.name or admin.email
    as_admin = platform.records(platform.runtime(demo.tenant), type(records.actor)(admin_id))
    as_admin.update("deal", deal["id"], {"amount": 12345})
    page = signed_in.get(f"{base}/records/deal/details/?id={deal['id']}").text
    panel = page.split('data-testid="field-history"')[1].split("</section>")[0]
    assert "12345" in panel and admin_name in panel
