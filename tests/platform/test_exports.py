"""Exports of list views to CSV and XLSX, run as jobs (in process on SQLite, rq on PostgreSQL + Redis)."""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from crm_kit import Crm
from openpyxl import load_workbook
from sqlalchemy import insert
from workers import running, start_worker, stop, wait_for, worker_settings

from trellis.platform.controlplane.accounts import add_membership, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.errors import InvalidInput, NotFound
from trellis.platform.exports import ExportSpec, export_file, start_export, sweep_expired
from trellis.platform.jobs import JobInfo, store
from trellis.platform.records.service import Actor, RecordService
from trellis.tenants.registry import create_tenant


@pytest.fixture
def deals(platform: Platform, tenant: str) -> Crm:
    """Deals and accounts, made by a real user (jobs name who started them)."""
    with platform.control() as session:
        user = create_user(session, email=f"exporter-{uuid.uuid4().hex[:10]}@example.com", password=None)
        add_membership(session, find_tenant(session, tenant), user, role="member")
        session.flush()
        sales = Crm(platform, tenant, Actor(user_id=user.id))
    sales.sales()
    records = sales.records
    acme = records.create("account", {"name": "Acme"})["id"]
    globex = records.create("account", {"name": "=Globex"})["id"]
    rows = [("Big", acme, "won", "900.50", ["vip", "renewal"]), ("Small", globex, "won", "10", []),
            ("Lost one", acme, "lost", "5", None), ("Nameless partner", acme, "won", None, ["vip"])]
    for name, account, stage, amount, tags in rows:
        records.create("deal", {"name": name, "account": account, "stage": stage, "amount": amount, "tags": tags,
                                "closed_at": "2026-01-02T03:04:05Z", "hot": stage == "won"})
    return sales


def run(crm: Crm, spec: ExportSpec) -> JobInfo:
    job_id = start_export(crm.platform, crm.slug, crm.actor, spec)
    if crm.platform.settings.redis_url:
        crm.platform.jobs.work(burst=True)
    info = crm.platform.jobs.wait(job_id, timeout=60)
    assert info.status == "succeeded", info.error
    return info


def csv_rows(crm: Crm, info: JobInfo) -> list[list[str]]:
    found = export_file(crm.platform, info, crm.actor.user_id, is_admin=False)
    return list(csv.reader(io.StringIO(found.path.read_text(encoding="utf-8-sig"))))


def test_a_csv_export_shows_the_filtered_sorted_list_in_words(deals: Crm) -> None:
    info = run(deals, ExportSpec("csv", "deal", filters=(("stage", "eq", "won"),), sort=(("amount", True),)))
    header, *rows = csv_rows(deals, info)
    assert header[:6] == ["ID", "Deal number", "Deal name", "Account", "Partner", "Stage"]
    by_name = {row[2]: dict(zip(header, row, strict=True)) for row in rows}
    assert [row[2] for row in rows] == ["Big", "Small", "Nameless partner"]  # amount descending, blanks last
    big = by_name["Big"]
    assert (big["Account"], big["Stage"], big["Tags"], big["Amount"]) == ("Acme", "Won", "VIP; Renewal", "900.50")
    assert (big["Hot"], big["Closed at"], big["Partner"]) == ("true", "2026-01-02 03:04:05", "")
    assert by_name["Small"]["Account"] == "'=Globex"  # a spreadsheet will not run it as a formula
    assert info.percent == 100 and info.progress_done == 3


def test_where_and_search_narrow_the_export_like_the_list(deals: Crm) -> None:
    info = run(deals, ExportSpec("csv", "deal", where='stage = "won" AND amount < 100', search="small"))
    assert [row[2] for row in csv_rows(deals, info)[1:]] == ["Small"]


def test_hidden_fields_and_unreadable_rows_are_not_exported(deals: Crm, monkeypatch: pytest.MonkeyPatch) -> None:
    original = RecordService.read_source

    def only_cheap(self: RecordService, name: str):  # a record predicate, as permissions will give
        obj, source, _ = original(self, name)
        return obj, source, source.column("amount") < 100

    monkeypatch.setattr(RecordService, "readable_fields",
                        lambda self, name: [f.api_name for f in self.runtime.object(name).fields
                                            if f.api_name != "amount"])
    monkeypatch.setattr(RecordService, "read_source", only_cheap)
    info = run(deals, ExportSpec("csv", "deal", sort=(("name", False),)))
    header, *rows = csv_rows(deals, info)
    assert "Amount" not in header
    assert [row[2] for row in rows] == ["Lost one", "Small"]


def test_an_xlsx_export_opens_in_openpyxl_with_typed_cells(deals: Crm) -> None:
    info = run(deals, ExportSpec("xlsx", "deal", filters=(("stage", "eq", "won"),), sort=(("amount", True),)))
    found = export_file(deals.platform, info, deals.actor.user_id, is_admin=False)
    assert found.download_name == f"deal-{info.id}.xlsx"
    sheet = load_workbook(found.path).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    big = dict(zip(header, rows[0], strict=True))
    assert (big["Deal name"], big["Account"], big["Hot"]) == ("Big", "Acme", True)
    assert Decimal(str(big["Amount"])) == Decimal("900.5")
    assert big["Closed at"] == datetime(2026, 1, 2, 3, 4, 5)
    assert dict(zip(header, rows[1], strict=True))["Account"] == "=Globex"  # kept as text, not a formula


def test_mistakes_are_refused_before_anything_is_queued(deals: Crm) -> None:
    before = len(deals.platform.jobs.list(deals.runtime.tenant.id))
    for spec, field in [(ExportSpec("pdf", "deal"), "format"), (ExportSpec("csv", "deal", where="amount >"), "where"),
                        (ExportSpec("csv", "deal", filters=(("nope", "eq", "1"),)), "nope"),
                        (ExportSpec("csv", "deal", sort=(("notes", False),)), "sort")]:
        with pytest.raises(InvalidInput) as caught:
            start_export(deals.platform, deals.slug, deals.actor, spec)
        assert field in [p.field for p in caught.value.problems]
    assert len(deals.platform.jobs.list(deals.runtime.tenant.id)) == before


def test_only_the_requester_or_an_admin_downloads_and_files_expire(deals: Crm, platform: Platform) -> None:
    info = run(deals, ExportSpec("csv", "account"))
    with pytest.raises(NotFound):
        export_file(platform, info, user_id=99, is_admin=False)
    path = export_file(platform, info, user_id=99, is_admin=True).path
    old = time.time() - platform.settings.export_ttl_s - 60
    os.utime(path, (old, old))
    with pytest.raises(NotFound, match="expired"):
        export_file(platform, info, deals.actor.user_id, is_admin=False)
    assert sweep_expired(replace(platform.settings, export_ttl_s=0), info.tenant_id) >= 1
    assert not path.exists()
    assert info.finished_at is not None and info.finished_at <= datetime.now(UTC)


ROWS_FOR_WORKER = 60_000


def test_a_separate_rq_worker_exports_with_progress_seen_mid_run(postgres_url: str, redis_url: str,
                                                                  tmp_path: Path) -> None:
    """The must-show at test scale (the bench runs 1,000,000 rows): real Redis, a ``trellis worker``
    process, progress observed while the export runs, and the worker's peak memory measured."""
    settings = worker_settings(postgres_url, redis_url, tmp_path)
    with running(settings) as platform:
        slug = f"x-{uuid.uuid4().hex[:12]}"
        create_tenant(platform, slug, "Exports")
        crm = Crm(platform, slug, Actor(None))
        crm.sales()
        runtime = crm.runtime
        accounts, deals = runtime.tables["account"], runtime.tables["deal"]
        with runtime.store.engine.begin() as conn:
            acme = conn.execute(insert(accounts).values(name="Acme").returning(accounts.c.id)).scalar_one()
            conn.execute(insert(deals), [{"name": f"Deal {n}", "account": acme, "stage": "won", "amount": n,
                                          "number": f"D-{n}"} for n in range(ROWS_FOR_WORKER)])
        job_id = start_export(platform, slug, Actor(None), ExportSpec("csv", "deal", sort=(("amount", True),)))
        worker = start_worker(settings, tmp_path / "worker.log")
        try:
            seen: set[int] = set()

            def finished() -> bool:
                info = platform.jobs.get(job_id)
                if info.status == "running" and 0 < info.progress_done < ROWS_FOR_WORKER:
                    seen.add(info.progress_done)
                return info.status in ("succeeded", "failed")

            wait_for(finished, "the export to finish", timeout=120)
        finally:
            stop(worker)
        info = platform.jobs.get(job_id)
        assert info.status == "succeeded", (info.error, (tmp_path / "worker.log").read_text()[-2000:])
        assert seen, "progress should be visible while the export runs"
        path = export_file(platform, info, None, is_admin=True).path
        with path.open(encoding="utf-8-sig") as lines:
            assert sum(1 for _ in lines) == ROWS_FOR_WORKER + 1
        peak = store.get(platform, job_id).checkpoint["peak_mb"]
        assert 0 < peak < 200, (tmp_path / "worker.log").read_text()[-3000:]


def test_a_report_exports_its_rows_with_its_column_labels(deals: Crm) -> None:
    deals.editor().put_definition("report", {
        "api_name": "big_deals", "label": "Big deals", "object": "deal",
        "columns": [{"field": "name"}, {"field": "amount"}, {"field": "account.name", "label": "Account"}],
        "sort": [{"by": "amount", "desc": True}]})
    info = run(deals, ExportSpec("csv", report="big_deals"))
    header, *rows = csv_rows(deals, info)
    assert header[2] == "Account" and len(header) == 3
    assert [row[0] for row in rows][:2] == ["Big", "Small"]
    assert rows[0][2] == "Acme"
    with pytest.raises(InvalidInput) as caught:
        start_export(deals.platform, deals.slug, deals.actor, ExportSpec("csv", report="nope"))
    assert [p.field for p in caught.value.problems] == ["report"]
