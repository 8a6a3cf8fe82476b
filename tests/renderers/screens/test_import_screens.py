"""The CSV import screens, walked as a user would: list screen → Import CSV → upload → mapping (suggested)
→ preview → run → progress and result with the rejected rows; on both backends."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from screen_helpers import csrf_token, text_of

from trellis.platform.core import Platform
from trellis.platform.imports.service import Imports
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import RecordService

CSV = ("Deal name;Account;Amount;Close date\n"
       "Screen import;Globex;1500;2025-04-01\n"
       "Broken;Nobody Inc;10;2025-04-02\n")


def test_import_from_the_list_screen_through_mapping_preview_and_result(
        signed_in: FlaskClient, base: str, platform: Platform, records: RecordService) -> None:
    listing = signed_in.get(f"{base}/records/deal/")
    link = re.search(r'href="([^"]+)"\s+data-testid="import-csv"', listing.text)
    assert link, "the deal list links to the import"
    upload_page = signed_in.get(link[1].replace("&amp;", "&"))
    assert 'value="deal" selected' in upload_page.text
    token = csrf_token(signed_in, link[1].replace("&amp;", "&"))
    response = signed_in.post(f"{base}/imports/upload", data={
        "csrf_token": token, "object": "deal", "file": (io.BytesIO(CSV.encode()), "deals.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    mapping_url = response.headers["Location"]
    mapping = signed_in.get(mapping_url)
    assert re.search(r'name="field_1".*?value="account" selected', mapping.text, re.S)
    assert re.search(r'name="field_3".*?value="close_date" selected', mapping.text, re.S)

    chosen = {"field_0": "name", "field_1": "account", "field_2": "amount", "field_3": "close_date", "upsert_by": ""}
    response = signed_in.post(mapping_url, data={**chosen, "csrf_token": csrf_token(signed_in, mapping_url)})
    assert response.status_code == 302, text_of(response)
    preview = signed_in.get(response.headers["Location"])
    shown = text_of(preview)
    assert "Screen import" in shown and "No Account has Account name 'Nobody Inc'" in shown
    assert not [r for r in records.list("deal", ListQuery(limit=200)).records if r["name"] == "Screen import"]

    run_url = re.search(r'action="([^"]+/run)"', preview.text)[1]
    response = signed_in.post(run_url, data={"csrf_token": csrf_token(signed_in, response.headers["Location"])})
    assert response.status_code == 302
    import_id = int(run_url.rsplit("/", 2)[-2])
    job_id = Imports(platform, records.runtime, records.actor).status(import_id)["job_id"]
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    platform.jobs.wait(job_id, timeout=60)
    result = signed_in.get(response.headers["Location"])
    assert 'data-status="succeeded"' in result.text
    assert "1 created, 0 updated, 1 rejected" in text_of(result)
    assert "Nobody Inc" in text_of(result)
    report = signed_in.get(f"{base}/imports/{import_id}/rejected.csv")
    assert report.text.splitlines()[1].startswith("3,Account,Nobody Inc,")
    assert [r for r in records.list("deal", ListQuery(limit=200)).records if r["name"] == "Screen import"]

