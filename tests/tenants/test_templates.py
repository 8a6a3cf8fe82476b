"""Template packages as an admin and a partner notice them: validate, install, upgrade, uninstall, export.

Both backends. Install makes real tables and seed records in one revision;
upgrading keeps the tenant's own changes and applies the template's, listing a
setting both changed instead of overwriting it; uninstall archives and loses
nothing; export → install into an empty tenant → export is byte-identical.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from template_kit import on_disk, version_1, version_2

from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, InvalidInput
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.packages import catalog
from trellis.tenants.packages.export import export_package
from trellis.tenants.packages.install import install
from trellis.tenants.packages.package import package_files, read_package, write_package, zip_bytes
from trellis.tenants.packages.uninstall import uninstall
from trellis.tenants.packages.upgrade import upgrade
from trellis.tenants.packages.validate import validate_package
from trellis.tenants.registry import create_tenant


def _fields(platform: Platform, slug: str, name: str) -> dict[str, dict]:
    return {f["api_name"]: f for f in platform.runtime(slug).documents[name]["fields"]}


def test_validate_reports_every_problem_with_file_and_path(tmp_path: Path) -> None:
    package = version_1()
    package.manifest["version"] = "one"
    package.objects["deal"]["fields"][1]["target"] = "acount"
    package.objects["account"]["fields"].append({"api_name": "Bad Name", "label": "x", "type": "text"})
    package.definitions["report"]["deals_by_account"]["object"] = "nothing"
    package.data["deal"] = "name,colour\nx,red\n"
    package.translations["zh-CN"]["deal.nope"] = "?"
    folder = tmp_path / "broken"
    write_package(package, folder)
    (folder / "objects" / "contact.json").write_text("{not json", encoding="utf-8")
    problems = {(p.file, p.path) for p in validate_package(read_package(folder))}
    assert {("manifest.json", "$.version"), ("objects/deal.json", "$.fields[1].target"),
            ("objects/account.json", "$.fields[3].api_name"), ("objects/contact.json", "$"),
            ("data/deal.csv", "$[0][1]"), ("translations/zh-CN.json", "$['deal.nope']")} <= problems
    assert any(file == "reports/deals_by_account.json" for file, _ in problems)


def test_validate_finds_seed_lookups_that_match_no_record() -> None:
    package = version_1()
    package.data["deal"] = "name,account,amount\nBig one,Acme,5\nTypo,Acmee,7\n"
    assert [(p.file, p.path) for p in validate_package(package)] == [("data/deal.csv", "$[2].account")]


def test_shipped_templates_validate() -> None:
    shipped = catalog.available()
    assert {p.name for p in shipped} >= {"sales", "real_estate"}
    for package in shipped:
        objects, definitions = catalog.context(package)
        assert validate_package(package, objects=objects, definitions=definitions) == [], package.name


def test_install_creates_tables_records_and_one_revision(platform: Platform, tenant: str, actor: Actor,
                                                         tmp_path: Path) -> None:
    package = on_disk(version_1(), tmp_path / "mini")
    before = platform.runtime(tenant).revision.number
    plan = install(platform, tenant, package, actor, dry_run=True)
    assert any("deal" in line for line in plan.plan) and platform.runtime(tenant).revision.number == before
    outcome = install(platform, tenant, package, actor)
    runtime = platform.runtime(tenant)
    assert runtime.revision.number == before + 1 == outcome.revision
    assert outcome.records == {"account": 2, "deal": 2}
    assert runtime.documents["account"]["label"] == {"en": "Account", "zh-CN": "客户"}
    assert set(runtime.definitions("report")) == {"deals_by_account"}
    records = platform.records(runtime, actor)
    deals = records.list("deal").records
    acme = next(a for a in records.list("account").records if a["name"] == "Acme")
    assert {d["name"]: d["account"] for d in deals}["Big one"] == acme["id"]
    with pytest.raises(Conflict):
        install(platform, tenant, package, actor)


def test_upgrade_keeps_tenant_changes_applies_template_changes_and_lists_conflicts(
        platform: Platform, tenant: str, actor: Actor, tmp_path: Path) -> None:
    install(platform, tenant, on_disk(version_1(), tmp_path / "v1"), actor)
    editor = platform.editor(platform.runtime(tenant), actor)
    editor.update_field("account", "industry", {"label": "Sector"})            # tenant renames a label
    editor = platform.editor(platform.runtime(tenant), actor)
    editor.add_field("account", {"api_name": "region", "label": "Region", "type": "text"})  # adds a field
    editor = platform.editor(platform.runtime(tenant), actor)
    values = editor.object("account")["fields"][1]["values"] + [{"value": "health", "label": "Health"}]
    editor.update_field("account", "industry", {"values": values})            # changes a picklist
    editor = platform.editor(platform.runtime(tenant), actor)
    editor.update_field("account", "website", {"api_name": "homepage"})      # renames a field
    editor = platform.editor(platform.runtime(tenant), actor)
    editor.update_object("deal", {"label": "Opportunity"})                   # the template relabels it too
    v2 = on_disk(version_2(), tmp_path / "v2")
    revision = platform.runtime(tenant).revision.number

    preview = upgrade(platform, tenant, v2, actor, dry_run=True)
    assert [c["key"] for c in preview.conflicts] == ["objects/deal.json:$.label"]
    assert preview.conflicts[0]["tenant"] == "Opportunity" and preview.conflicts[0]["template"] == "Sale"
    assert any("close_date" in line for line in preview.plan)
    with pytest.raises(Conflict) as refused:
        upgrade(platform, tenant, v2, actor)
    assert refused.value.problems[0].field == "objects/deal.json:$.label"
    assert platform.runtime(tenant).revision.number == revision                # nothing was overwritten

    upgrade(platform, tenant, v2, actor, resolutions={"objects/deal.json:$.label": "tenant"})
    account, deal = _fields(platform, tenant, "account"), _fields(platform, tenant, "deal")
    assert account["industry"]["label"] == "Sector" and "region" in account
    assert [v["value"] for v in account["industry"]["values"]] == ["retail", "tech", "health"]
    assert "website" not in account and account["homepage"]["help_text"] == "The company's home page."
    account_form = platform.runtime(tenant).documents["account"]["layouts"][0]["sections"][0]["fields"]
    assert account_form == [{"field": "name"}, {"field": "homepage"}]  # the template's form follows the rename
    assert "close_date" in deal
    runtime = platform.runtime(tenant)
    assert runtime.documents["deal"]["label"] == "Opportunity"
    form = runtime.documents["deal"]["layouts"][0]["sections"][0]["fields"]
    assert {"field": "close_date"} in form
    assert {"field": "close_date"} in runtime.definitions("report")["deals_by_account"]["columns"]
    assert len(platform.records(runtime, actor).list("deal").records) == 2


def test_upgrade_resolution_can_take_the_template_value(platform: Platform, tenant: str, actor: Actor,
                                                        tmp_path: Path) -> None:
    install(platform, tenant, version_1(), actor)
    platform.editor(platform.runtime(tenant), actor).update_object("deal", {"label": "Opportunity"})
    upgrade(platform, tenant, version_2(), actor, resolutions={"objects/deal.json:$.label": "template"})
    assert platform.runtime(tenant).documents["deal"]["label"] == "Sale"


def test_uninstall_archives_and_loses_nothing(platform: Platform, tenant: str, actor: Actor) -> None:
    install(platform, tenant, version_1(), actor)
    preview = uninstall(platform, tenant, "mini", actor, dry_run=True)
    assert preview.plan and "deal" in platform.runtime(tenant).documents
    uninstall(platform, tenant, "mini", actor)
    runtime = platform.runtime(tenant)
    assert "deal" not in runtime.documents and not runtime.definitions("report")
    editor = platform.editor(runtime, actor)
    editor.restore_object("account")
    platform.editor(platform.runtime(tenant), actor).restore_object("deal")
    records = platform.records(platform.runtime(tenant), actor)
    assert sorted(d["name"] for d in records.list("deal").records) == ["Big one", "Small one"]


def test_export_install_export_is_byte_identical(platform: Platform, actor: Actor, tmp_path: Path) -> None:
    first, second = (f"t-{uuid.uuid4().hex[:12]}" for _ in range(2))
    for slug in (first, second):
        create_tenant(platform, slug, "Export test")
    install(platform, first, read_package(Path(__file__).parents[2] / "tenants" / "templates" / "sales"), actor)
    exported = export_package(platform, first, actor, name="acme", with_data=True)
    write_package(exported, tmp_path / "acme.zip")
    install(platform, second, read_package(tmp_path / "acme.zip"), actor)
    again = export_package(platform, second, actor, name="acme", with_data=True)
    assert zip_bytes(package_files(again)) == (tmp_path / "acme.zip").read_bytes()
    files = package_files(again)
    assert files["objects/deal.json"].endswith(b"}\n") and b'"id"' not in files["objects/deal.json"]
    assert json.loads(files["manifest.json"])["name"] == "acme"


def test_industry_template_builds_on_sales(platform: Platform, tenant: str, actor: Actor) -> None:
    real_estate = read_package(catalog.locate("real_estate"))
    with pytest.raises(InvalidInput) as refused:
        install(platform, tenant, real_estate, actor)
    assert any(p.field == "manifest.json $.builds_on[0]" for p in refused.value.problems)
    install(platform, tenant, read_package(catalog.locate("sales")), actor)
    outcome = install(platform, tenant, real_estate, actor)
    assert outcome.records == {"property": 4, "viewing": 2, "offer": 2}
    runtime = platform.runtime(tenant)
    assert {"account", "deal", "lead", "property", "viewing", "offer"} <= set(runtime.documents)
    assert {"sales_rep", "listing_agent"} <= set(runtime.definitions("role"))
    with pytest.raises(Conflict):  # real_estate still builds on it
        uninstall(platform, tenant, "sales", actor)


def test_sales_reports_and_dashboard_run_on_its_sample_data(platform: Platform, tenant: str, actor: Actor) -> None:
    from trellis.platform.reports.dashboards import dashboard_data
    from trellis.platform.reports.runner import run_report

    install(platform, tenant, read_package(catalog.locate("sales")), actor)
    runtime = platform.runtime(tenant)
    records = platform.records(runtime, actor)
    results = {name: run_report(records, doc) for name, doc in runtime.definitions("report").items()}
    assert set(results) >= {"pipeline_by_stage", "forecast_by_month", "deals_won_by_owner", "cases_breaching_sla",
                            "top_accounts_by_value", "campaign_roi"}
    assert dashboard_data(records, runtime.definitions("dashboard")["sales_overview"])
    deals = {d["name"]: d for d in records.list("deal", ListQuery(limit=100)).records}
    assert deals["Renewal 1"]["products_total"] == 17000


def test_install_refuses_a_missing_extension(platform: Platform, tenant: str, actor: Actor) -> None:
    package = version_1()
    package.manifest["extensions"] = ["no_such_extension"]
    with pytest.raises(InvalidInput) as refused:
        install(platform, tenant, package, actor)
    assert [p.field for p in refused.value.problems] == ["manifest.json $.extensions[0]"]
    assert "deal" not in platform.runtime(tenant).documents


def test_a_restored_backup_keeps_its_installed_templates_and_can_be_upgraded(platform: Platform, tenant: str,
                                                                              actor: Actor, tmp_path: Path) -> None:
    from trellis.tenants.backup import backup_tenant, restore_tenant
    from trellis.tenants.packages import state

    install(platform, tenant, on_disk(version_1(), tmp_path / "v1"), actor)
    backup_tenant(platform, tenant, tmp_path / "backup.zip")
    copy = f"t-{uuid.uuid4().hex[:12]}"
    restore_tenant(platform, tmp_path / "backup.zip", copy)
    original, restored = (state.installed(platform.runtime(slug).store) for slug in (tenant, copy))
    assert restored.keys() == original.keys() and restored[next(iter(original))]["base"] == \
        original[next(iter(original))]["base"]
    upgrade(platform, copy, on_disk(version_2(), tmp_path / "v2"), actor)
    assert "close_date" in _fields(platform, copy, "deal") and "close_date" not in _fields(platform, tenant, "deal")
