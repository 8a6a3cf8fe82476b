"""The export API: start an export of a list with its own query string, follow the job, download the file."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform


def _finish(client, platform: Platform, location: str, auth: dict[str, str]) -> dict:
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    job_id = int(location.rsplit("/", 1)[1])
    platform.jobs.wait(job_id, timeout=60)
    body = client.get(location, headers=auth).get_json()["data"]
    assert body["status"] == "succeeded", body
    return body


def test_a_list_exports_as_csv_with_its_filters_and_sort(client, platform, api, auth) -> None:
    won = client.get(f"{api}/records/deal?stage=won&limit=500", headers=auth).get_json()["data"]
    started = client.post(f"{api}/records/deal/exports?format=csv&stage=won&sort=-amount,name", headers=auth)
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["data"]["download"] is None
    job = _finish(client, platform, started.headers["Location"], auth)
    assert job["percent"] == 100 and job["progress_done"] == len(won)
    download = client.get(job["download"], headers=auth)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert header[:4] == ["ID", "Deal number", "Deal name", "Account"]
    assert sorted(int(row[0]) for row in rows) == sorted(deal["id"] for deal in won)
    amounts = [float(row[header.index("Amount")]) for row in rows if row[header.index("Amount")]]
    assert amounts == sorted(amounts, reverse=True)
    assert {row[header.index("Stage")] for row in rows} == {"Closed won"}


def test_an_xlsx_export_downloads_as_a_workbook(client, platform, api, auth) -> None:
    started = client.post(f"{api}/records/account/exports?format=xlsx&q=a", headers=auth)
    job = _finish(client, platform, started.headers["Location"], auth)
    download = client.get(job["download"], headers=auth)
    sheet = load_workbook(io.BytesIO(download.get_data())).active
    header = [cell.value for cell in next(sheet.iter_rows())]
    assert header[:3] == ["ID", "Account name", "Industry"]
    assert sheet.max_row == job["progress_done"] + 1


def test_bad_exports_are_problems_naming_the_part(client, shared_api, shared_auth, problem_fields) -> None:
    for query, field in [("format=pdf", "format"), ("where=amount%20%3E", "where"), ("nope=1", "nope"),
                         ("sort=description", "sort")]:
        response = client.post(f"{shared_api}/records/deal/exports?{query}", headers=shared_auth)
        assert response.status_code == 422, query
        assert field in problem_fields(response)
    assert client.post(f"{shared_api}/records/planet/exports", headers=shared_auth).status_code == 404


def test_another_member_cannot_see_or_download_an_export(client, platform, demo, api, auth) -> None:
    started = client.post(f"{api}/records/contact/exports", headers=auth)
    job = _finish(client, platform, started.headers["Location"], auth)
    with platform.control() as session:
        tenant = find_tenant(session, demo.tenant)
        user = create_user(session, email=f"rep@{demo.tenant}.example", password="sales-rep-password")
        add_membership(session, tenant, user, role="member")
        token, _ = create_token(session, tenant=tenant, user=user, name="rep")
    member = {"Authorization": f"Bearer {token}"}
    assert client.get(started.headers["Location"], headers=member).status_code == 404
    assert client.get(job["download"], headers=member).status_code == 404
    assert client.get(f"{api}/exports/999999/file", headers=auth).status_code == 404
