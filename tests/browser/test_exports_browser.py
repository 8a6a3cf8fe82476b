"""In Chromium: Export CSV on a filtered list leads to the export's page, which follows the job until the
download link appears; the downloaded file holds the listed records only."""

from __future__ import annotations

import csv
import io

import pytest
from browsing import sign_in
from playwright.sync_api import Page, expect

from trellis.platform.core import Platform
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser


def test_export_csv_from_a_list_and_download_it(page: Page, live_server: str, demo: DemoLogin,
                                                platform: Platform) -> None:
    listing = f"{live_server}/t/{demo.tenant}/records/deal/?where=stage%20%3D%20%22won%22"
    sign_in(page, listing, demo)
    page.get_by_test_id("export-csv").get_by_role("button").click()
    expect(page.get_by_test_id("export")).to_be_visible()
    if platform.settings.redis_url:  # the live server queues to rq: be its worker
        platform.jobs.work(burst=True)
    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("export-progress")).to_have_text("100%")
    with page.expect_download() as download:
        link.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert rows and {row[header.index("Stage")] for row in rows} == {"Closed won"}
