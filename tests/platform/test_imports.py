"""CSV import: suggested mapping, per-row type errors with reasons, upsert, lookup matching, new objects,
and a large deal import run as a job with progress (issue 9, must-show 4, at test scale). Both backends."""

from __future__ import annotations

import copy

import pytest
from crm_kit import ACCOUNT, DEAL, Crm

from trellis.platform.core import Platform
from trellis.platform.errors import InvalidInput
from trellis.platform.imports import run as import_run
from trellis.platform.imports.csvfile import CsvTable, parse
from trellis.platform.imports.infer import propose_object
from trellis.platform.imports.service import Imports
from trellis.platform.jobs import JobContext, JobInfo
from trellis.platform.records.service import Actor

LEAD = {"api_name": "lead", "label": "Lead", "name_field": "company", "fields": [
    {"api_name": "company", "label": {"en": "Company", "fr": "Société"}, "type": "text", "required": True},
    {"api_name": "head_count", "label": "Employees", "type": "integer"},
]}


@pytest.fixture
def shop(platform: Platform, tenant: str) -> Crm:
    """Accounts Acme and Globex (and two named Twin) and the deal object; jobs run as no particular user."""
    crm = Crm(platform, tenant, Actor(user_id=None))
    crm.sales()
    for name in ("Acme", "Globex"):
        crm.records.create("account", {"name": name, "website": f"https://{name.lower()}.example.com"})
    return crm


def imports(crm: Crm) -> Imports:
    return Imports(crm.platform, crm.runtime, crm.actor)


def run_import(crm: Crm, text: str, **choices) -> dict:
    """Start an import of ``text`` into deals, run its job to the end and return the import's status."""
    importer = imports(crm)
    table = importer.read(text.encode())
    import_id = importer.start(importer.spec(choices.pop("object", "deal"), table, **choices), table, text, "f.csv")
    job_id = importer.status(import_id)["job_id"]
    finished = run_jobs(crm.platform, job_id)
    assert finished.status == "succeeded", finished.error
    return importer.status(import_id)


def run_jobs(platform: Platform, job_id: int) -> JobInfo:
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    return platform.jobs.wait(job_id, timeout=120)


def test_mapping_is_suggested_by_api_name_label_in_any_locale_and_near_spellings(shop: Crm) -> None:
    shop.create(LEAD)
    importer = imports(shop)
    headers = ["Deal Name", "ACCOUNT", "close-date", "Contact e-mail", "Amout", "Whatever"]
    assert importer.inspect("deal", CsvTable(headers, [], ","))["mapping"] == {
        "Deal Name": "name", "ACCOUNT": "account", "close-date": "close_date", "Contact e-mail": "contact_email",
        "Amout": "amount"}
    assert importer.inspect("lead", CsvTable(["société", "EMPLOYEES"], [], ","))["mapping"] == {
        "société": "company", "EMPLOYEES": "head_count"}


def test_files_with_a_bom_semicolons_or_tabs_are_read_alike(shop: Crm) -> None:
    for text in ("\ufeffName;Amount\nA;1,5\n", "Name\tAmount\nA\t1,5\n", 'Name,Amount\nA,"1,5"\n'):
        table = Imports.read(text.encode())
        assert (table.headers, table.rows) == (["Name", "Amount"], [["A", "1,5"]])
    with pytest.raises(InvalidInput) as refused:
        Imports.read("Name\nA\n".encode("utf-16"))
    assert refused.value.problems[0].field == "file"


def test_preview_shows_rows_as_stored_and_each_bad_cell_with_its_reason_without_writing(shop: Crm) -> None:
    text = ("Deal name,Account,Amount,Seats,Close date,Stage,Tags\n"
            "Good,Acme,\"$1,250.50\",3,2025-01-02,,vip;renewal\n"
            "Bad types,Acme,lots,2.5,2025-02-30,maybe,\n"
            ",Globex,10,,,,\n")
    importer = imports(shop)
    table = importer.read(text.encode())
    rows = importer.preview(importer.spec("deal", table), table)
    assert rows[0]["action"] == "created" and rows[0]["problems"] == []
    assert {k: rows[0]["values"][k] for k in ("name", "account", "amount", "seats", "close_date", "stage", "tags")} == {
        "name": "Good", "account": 1, "amount": 1250.5, "seats": 3, "close_date": "2025-01-02", "stage": "new",
        "tags": ["vip", "renewal"]}
    bad = {(p["row"], p["column"], p["value"]) for p in rows[1]["problems"]}
    assert bad == {(3, "Amount", "lots"), (3, "Seats", "2.5"), (3, "Close date", "2025-02-30"), (3, "Stage", "maybe")}
    assert all(p["reason"] for p in rows[1]["problems"])
    assert [(p["column"], p["reason"]) for p in rows[2]["problems"]] == [("Deal name", "Deal name is required.")]
    assert shop.records.list("deal").records == []


def test_good_rows_are_imported_and_bad_ones_rejected_with_row_column_value_and_reason(shop: Crm) -> None:
    text = ("Deal name,Account,Amount,Contact email\n"
            "One,Acme,10,one@example.com\n"
            "Two,Nobody Ltd,20,two@example.com\n"
            "Three,Globex,x,three@example.com\n"
            "Four,Globex,40,one@example.com\n"
            "Five,acme,50,\n")
    status = run_import(shop, text)
    assert (status["status"], status["done"], status["total"]) == ("succeeded", 5, 5)
    assert (status["created"], status["rejected"]) == (1, 4)
    assert [(p["row"], p["column"], p["value"]) for p in status["problems"]] == [
        (3, "Account", "Nobody Ltd"), (4, "Amount", "x"), (5, "Contact email", "one@example.com"),
        (6, "Account", "acme")]
    assert "No Account has Account name 'Nobody Ltd'" in status["problems"][0]["reason"]
    assert "must be unique" in status["problems"][2]["reason"]
    deals = shop.records.list("deal").records
    assert [(d["name"], d["number"], d["account"]) for d in deals] == [("One", "DEAL-0001", 1)]
    report = imports(shop).rejected_csv(status["id"]).splitlines()
    assert report[0] == "row,column,value,reason" and report[1].startswith("3,Account,Nobody Ltd,")


def test_upsert_by_a_unique_field_updates_matches_and_creates_the_rest(shop: Crm) -> None:
    shop.records.create("deal", {"name": "Old", "account": 1, "contact_email": "kept@example.com", "seats": 4})
    text = "Name,Account,Contact email,Seats\nRenamed,Acme,kept@example.com,9\nBrand new,Globex,new@example.com,\n"
    status = run_import(shop, text, upsert_by="contact_email")
    assert (status["created"], status["updated"], status["rejected"]) == (1, 1, 0)
    deals = {d["contact_email"]: d for d in shop.records.list("deal").records}
    assert (deals["kept@example.com"]["name"], deals["kept@example.com"]["seats"]) == ("Renamed", 9)
    assert deals["kept@example.com"]["version"] == 2
    assert deals["new@example.com"]["name"] == "Brand new"
    with pytest.raises(InvalidInput) as refused:
        run_import(shop, text, upsert_by="name")
    assert refused.value.problems[0].field == "upsert_by"


def test_lookups_match_by_name_or_a_chosen_unique_field_and_ambiguity_is_reported(shop: Crm) -> None:
    text = "Name,Account,Partner\nA,https://globex.example.com,https://acme.example.com\nB,https://nowhere.example,\n"
    status = run_import(shop, text, match_by={"Account": "website", "Partner": "website"})
    assert (status["created"], status["rejected"]) == (1, 1)
    deal = shop.records.list("deal").records[0]
    assert (deal["account"], deal["partner"]) == (2, 1)
    assert status["problems"][0]["reason"] == "No Account has Website 'https://nowhere.example'."
    shop.create({"api_name": "person", "label": "Person", "name_field": "name",
                 "fields": [{"api_name": "name", "label": "Name", "type": "text"}]})
    shop.create({"api_name": "call", "label": "Call", "name_field": "subject", "fields": [
        {"api_name": "subject", "label": "Subject", "type": "text"},
        {"api_name": "who", "label": "Who", "type": "lookup", "target": "person"}]})
    for _ in range(2):
        shop.records.create("person", {"name": "Twin"})
    status = run_import(shop, "Subject,Who\nHello,Twin\n", object="call")
    assert status["rejected"] == 1
    assert status["problems"][0]["reason"] == ("2 Person records have Name 'Twin'; "
                                               "match this column by a unique field instead.")


def test_a_new_object_is_proposed_from_the_values_then_created_and_imported(shop: Crm) -> None:
    text = ("Company Name,Employees,Revenue,Founded,Last contact,Email,Website,Phone,Tier,Active,Notes\n"
            "Acme,120,\"$1,200.50\",2001-02-03,2024-05-06T07:08:09,a@acme.io,https://acme.io,+44 20 7946 0958,"
            "key,yes,short\n"
            "Globex,7,$99,1999-12-31,2024-01-01 10:00:00,b@globex.io,http://globex.io,555 123 4567,normal,no,x\n"
            "Initech,15,$5,2010-10-10,2024-02-02T00:00:00,c@initech.io,https://initech.io,555-123-4567,key,yes,y\n"
            "Hooli,3,$7.25,2015-01-01,2024-03-03T12:00:00,d@hooli.io,https://hooli.io,+1 650 253 0000,key,no,z\n")
    table = parse(text)
    doc = propose_object(table, "Companies")
    types = {f["api_name"]: f["type"] for f in doc["fields"]}
    assert types == {"company_name": "text", "employees": "integer", "revenue": "currency", "founded": "date",
                     "last_contact": "datetime", "email": "email", "website": "url", "phone": "phone",
                     "tier": "picklist", "active": "boolean", "notes": "text"}
    assert doc["api_name"] == "companies" and doc["name_field"] == "company_name"
    doc["label"] = "Company"
    runtime, spec = imports(shop).create_object(doc, table)
    assert "companies" in runtime.objects
    status = run_import(shop, text, object="companies")
    assert (status["created"], status["rejected"]) == (4, 0)
    first = shop.records.list("companies").records[0]
    assert (first["revenue"], first["tier"], first["active"]) == (1200.5, "key", True)


def test_a_large_deal_import_runs_as_a_job_with_progress_and_rejects_only_bad_rows(
        shop: Crm, monkeypatch: pytest.MonkeyPatch) -> None:
    rows, seen = 2500, []
    real_progress = JobContext.progress

    def watched(self: JobContext, done: int, total: int | None = None, *args, **kwargs) -> None:
        seen.append((done, total))
        real_progress(self, done, total, *args, **kwargs)

    monkeypatch.setattr(JobContext, "progress", watched)
    lines = ["Deal name,Account,Amount,Close date"]
    for i in range(rows):
        bad = i % 250 == 7
        lines.append(f"Deal {i},{'Nobody' if bad else 'Acme'},{i},2025-01-{1 + i % 28:02d}")
    status = run_import(shop, "\n".join(lines) + "\n")
    assert (status["created"], status["rejected"], status["done"], status["percent"]) == (rows - 10, 10, rows, 100)
    assert [done for done, _ in seen] == [0, *range(import_run.BATCH_ROWS, rows, import_run.BATCH_ROWS), rows]
    assert {total for _, total in seen} == {rows}
    assert [p["row"] for p in status["problems"]] == [i + 2 for i in range(rows) if i % 250 == 7]
    numbers = shop.sql("SELECT COUNT(*), COUNT(DISTINCT number) FROM {t}deal")[0]
    assert tuple(numbers) == (rows - 10, rows - 10)


def test_create_many_keeps_every_check_of_create_stage_rules_validation_rules_autonumbers_and_events(
        crm: Crm) -> None:
    deal = copy.deepcopy(DEAL)
    stage = next(f for f in deal["fields"] if f["api_name"] == "stage")
    stage.update(pipeline={"label": "Sales"}, values=[
        {"value": "new", "label": "New"}, {"value": "won", "label": "Won", "required_fields": ["amount"]}])
    deal["validation_rules"] = [{"name": "no_giant_seats", "error_if": "seats > 100", "field": "seats",
                                 "message": "Seats above 100 need a call with sales."}]
    crm.create(ACCOUNT, deal)
    account = crm.records.create("account", {"name": "Acme"})["id"]
    events: list[tuple[str, int]] = []
    service = crm.records
    service.events = lambda runtime, event: events.append((event.kind, event.record_id))
    results = service.create_many("deal", [
        {"name": "Plain", "account": account},
        {"name": "Won without amount", "account": account, "stage": "won"},
        {"name": "Giant", "account": account, "seats": 500},
        {"name": "Won", "account": account, "stage": "won", "amount": 10},
    ])
    assert [r.action for r in results] == ["created", "rejected", "rejected", "created"]
    assert results[1].problems[0].message == "Amount is required to enter Won."
    assert results[2].problems[0].message == "Seats above 100 need a call with sales."
    assert events == [("created", results[0].id), ("created", results[3].id)]
    created = {d["name"]: d for d in crm.records.list("deal").records}
    assert (created["Plain"]["number"], created["Won"]["number"]) == ("DEAL-0001", "DEAL-0002")
    assert crm.records.create("deal", {"name": "Next", "account": account})["number"] == "DEAL-0003"
    history = crm.sql("SELECT record_id, to_value FROM {t}trellis_stage_history ORDER BY id")
    assert [tuple(row) for row in history] == [(results[0].id, "new"), (results[3].id, "won"),
                                               (created["Won"]["id"] + 1, "new")]
