"""Permissions through the record service: the role × operation matrix on both backends, field-level
security, stage moves, owner reassignment, role definitions and sharing settings validated with paths."""

from __future__ import annotations

import pytest
from permission_org import DEALS, EXPECTED, build_org

from trellis.platform.core import Platform
from trellis.platform.errors import Forbidden, InvalidInput, NotFound
from trellis.platform.records.query import Filter, ListQuery, where_condition

CASES: list[str] = []


@pytest.fixture
def org(platform: Platform, tenant: str):
    return build_org(platform, tenant)


def _outcome(action) -> str:
    try:
        action()
    except NotFound:
        return "not_found"
    except Forbidden:
        return "forbidden"
    return "ok"


def test_matrix_read_list_search_lookup(org) -> None:
    for who in EXPECTED:
        _check_reads(org, who)


def _check_reads(org, who: str) -> None:
    reads, _, _, _ = EXPECTED[who]
    service = org.service(who)
    ids = {org.deals[name]: name for name in DEALS}
    for name, record_id in org.deals.items():
        expected = "ok" if name in reads else "not_found"
        assert _outcome(lambda: service.get("deal", record_id)) == expected, (who, name)  # noqa: B023
    if who == "outsider":
        assert _outcome(lambda: service.list("deal")) == "forbidden"
        assert service.titles("deal", set(ids)) == {}
        return
    listed = {ids[r["id"]] for r in service.list("deal", ListQuery(limit=100, with_total=True)).records}
    assert listed == reads
    assert service.list("deal", ListQuery(with_total=True)).total == len(reads)
    searched = {ids[r["id"]] for r in service.list("deal", ListQuery(search="d_rep")).records}
    assert searched == {name for name in reads if name.startswith("d_rep")}
    assert set(service.titles("deal", set(ids))) == {org.deals[name] for name in reads}  # lookups show titles
    CASES.extend([f"{who}:read:{n}" for n in DEALS] + [f"{who}:list", f"{who}:search", f"{who}:lookup"])


@pytest.mark.parametrize("who", list(EXPECTED))
def test_matrix_edit_delete_create(org, who: str) -> None:
    reads, edits, creates, deletes = EXPECTED[who]
    service = org.service(who)
    for name, record_id in org.deals.items():
        expected = "ok" if name in edits else ("forbidden" if name in reads or who == "outsider" else "not_found")
        assert _outcome(lambda: service.update("deal", record_id, {"region": "NA"})) == expected, (who, name)  # noqa: B023
    for name, record_id in org.deals.items():
        if name in deletes:
            expected = "ok"
        elif who in ("mgr", "outsider") or name in reads:
            expected = "forbidden"
        else:
            expected = "not_found"
        assert _outcome(lambda: service.delete("deal", record_id)) == expected, (who, name)  # noqa: B023
    assert _outcome(lambda: service.create("deal", {"name": "new one"})) == ("ok" if creates else "forbidden")
    CASES.extend([f"{who}:{op}:{n}" for n in DEALS for op in ("edit", "delete")] + [f"{who}:create"])


def test_hidden_fields_are_absent_and_cannot_be_written_or_probed(org) -> None:
    before = org.snapshot()
    rep = org.service("rep1")
    record = rep.get("deal", org.deals["d_rep1"])
    assert "margin" not in record and record["amount"] is not None
    assert all("margin" not in r for r in rep.list("deal").records)
    assert "margin" not in rep.readable_fields("deal")
    for data in ({"margin": "99"}, {"amount": "5"}):
        with pytest.raises(InvalidInput) as refused:
            rep.update("deal", org.deals["d_rep1"], data)
        assert [p.field for p in refused.value.problems] == list(data)
    with pytest.raises(InvalidInput):
        rep.create("deal", {"name": "x", "margin": "1"})
    with pytest.raises(InvalidInput):
        rep.list("deal", ListQuery(filters=[Filter("margin", "gt", "0")]))
    with pytest.raises(InvalidInput):
        rep.list("deal", ListQuery(sort=[("margin", False)]))
    runtime = org.platform.runtime(org.slug)
    where = where_condition("margin > 0", runtime.object("deal"), runtime.objects, org.users["rep1"])
    with pytest.raises(InvalidInput) as probe:
        rep.list("deal", ListQuery(where=where))
    assert probe.value.problems[0].field == "where"
    assert org.snapshot() == before
    manager = org.service("mgr")
    assert manager.get("deal", org.deals["d_mgr"])["margin"] is not None  # read-only for managers, not hidden
    with pytest.raises(InvalidInput):
        manager.update("deal", org.deals["d_mgr"], {"margin": "1"})


def test_a_where_copying_a_sharing_rule_does_not_widen_access(org) -> None:
    runtime = org.platform.runtime(org.slug)
    rep = org.service("rep1")
    for text in ('region = "US"', "hot", 'hot OR region <> ""'):
        where = where_condition(text, runtime.object("deal"), runtime.objects, org.users["rep1"])
        ids = {r["id"] for r in rep.list("deal", ListQuery(where=where)).records}
        assert ids <= {org.deals["d_rep1"], org.deals["d_rep2_emea"]}


def test_lookup_paths_read_only_related_records_the_user_may_read(org) -> None:
    """A public note on a private deal: a where= or a formula through ``deal`` cannot probe a deal rep1 cannot
    read (d_rep2 is APAC like d_rep1, but rep2's)."""
    admin = org.service("admin").actor
    note = {"api_name": "note", "label": "Note", "sharing": {"default": "public_read"}, "fields": [
        {"api_name": "text", "label": "Text", "type": "text"},
        {"api_name": "deal", "label": "Deal", "type": "lookup", "target": "deal"},
        {"api_name": "deal_region", "label": "Deal region", "type": "formula", "expression": "deal.region"}]}
    org.platform.editor(org.platform.runtime(org.slug), admin).create_object(note)
    rep = org.platform.runtime(org.slug).definitions("role")["rep"]
    rep = {**rep, "objects": {**rep["objects"], "note": {"read": True}}}
    org.platform.editor(org.platform.runtime(org.slug), admin).put_definition("role", rep, "rep")
    records = org.platform.records(org.platform.runtime(org.slug), admin)
    mine = records.create("note", {"text": "mine", "deal": org.deals["d_rep1"]})["id"]
    theirs = records.create("note", {"text": "theirs", "deal": org.deals["d_rep2"]})["id"]

    runtime, service = org.platform.runtime(org.slug), org.service("rep1")
    where = where_condition('deal.region = "APAC"', runtime.object("note"), runtime.objects, org.users["rep1"])
    assert {r["id"] for r in service.list("note", ListQuery(where=where)).records} == {mine}
    regions = {r["id"]: r["deal_region"] for r in service.list("note").records}
    assert regions == {mine: "APAC", theirs: None}
    assert org.service("admin").get("note", theirs)["deal_region"] == "APAC"


def test_stage_moves_and_owner_reassignment(org) -> None:
    rep = org.service("rep1")
    rep.update("deal", org.deals["d_rep1"], {"stage": "qualified"})
    with pytest.raises(InvalidInput) as refused:
        rep.update("deal", org.deals["d_rep1"], {"stage": "won"})
    assert [p.field for p in refused.value.problems] == ["stage"]
    with pytest.raises(InvalidInput) as owner:
        rep.update("deal", org.deals["d_rep1"], {"owner": org.users["rep2"]})
    assert [p.field for p in owner.value.problems] == ["owner"]
    with pytest.raises(InvalidInput):
        rep.create("deal", {"name": "for someone", "owner": org.users["rep2"]})
    director = org.service("dir")
    director.update("deal", org.deals["d_rep1"], {"owner": org.users["rep2"], "stage": "won"})
    assert _outcome(lambda: rep.get("deal", org.deals["d_rep1"])) == "not_found"
    assert org.service("rep2").get("deal", org.deals["d_rep1"])["stage"] == "won"


def test_read_source_carries_the_predicate(org) -> None:
    from sqlalchemy import select
    obj, source, predicate = org.service("rep1").read_source("deal")
    with org.platform.runtime(org.slug).store.engine.connect() as conn:
        names = set(conn.execute(select(source.table.c.name).where(predicate)).scalars())
    assert names == {"d_rep1", "d_rep2_emea"}


def test_roles_and_sharing_are_validated_with_paths(org) -> None:
    from trellis.platform.records.service import Actor
    editor = lambda: org.platform.editor(org.platform.runtime(org.slug), Actor(org.users["admin"]))  # noqa: E731
    bad = {"api_name": "intern", "label": "Intern", "reports_to": "rpe",
           "objects": {"dael": {"read": True}, "deal": {"fields": {"margn": "hidden"}, "layout": "nope",
                                                        "stage_moves": {"stage": {"new": ["wonn"]}}}}}
    with pytest.raises(InvalidInput) as refused:
        editor().put_definition("role", bad)
    paths = {p.field: p.message for p in refused.value.problems}
    assert set(paths) == {"$.reports_to", "$.objects.dael", "$.objects.deal.fields.margn", "$.objects.deal.layout",
                          "$.objects.deal.stage_moves.stage.new[0]"}
    assert "did you mean 'rep'" in paths["$.reports_to"] and "'deal'" in paths["$.objects.dael"]
    with pytest.raises(InvalidInput) as loop:
        editor().put_definition("role", {"api_name": "director", "label": "D", "reports_to": "rep"}, "director")
    assert "loop" in loop.value.problems[0].message
    sharing = {"default": "private", "rules": [{"name": "r", "when": "regio = 1", "role": "rpe", "access": "read"}]}
    with pytest.raises(InvalidInput) as rules:
        editor().update_object("deal", {"sharing": sharing})
    assert {p.field for p in rules.value.problems} == {"$.sharing.rules[0].when", "$.sharing.rules[0].role"}


def test_count_of_matrix_cases() -> None:
    """Runs last in this module: the size of the matrix, for the report (printed with -s)."""
    print(f"\npermission matrix cases (record service door): {len(CASES)}")


def test_roles_from_the_cli_and_through_a_backup(org, settings, monkeypatch, tmp_path) -> None:
    from click.testing import CliRunner

    from trellis.platform.core import Platform as RealPlatform
    from trellis.renderers.cli import main as trellis_cli
    from trellis.renderers.cli import root as cli_root
    from trellis.tenants.backup import backup_tenant, read_members, restore_tenant

    monkeypatch.setattr(cli_root, "Platform", lambda: RealPlatform(settings))
    run = CliRunner().invoke
    assigned = run(trellis_cli, ["roles", "assign", org.emails["outsider"], "rep", "--tenant", org.slug])
    assert assigned.exit_code == 0 and "now holds: rep" in assigned.output
    wrong = run(trellis_cli, ["roles", "assign", org.emails["outsider"], "rpe", "--tenant", org.slug])
    assert wrong.exit_code == 1 and "did you mean 'rep'" in wrong.output
    listed = run(trellis_cli, ["roles", "list", "--tenant", org.slug])
    assert f"{org.emails['mgr']}\tmember\tmanager" in listed.output
    assert {r["id"] for r in org.service("outsider").list("deal").records} == {org.deals["d_rep2_emea"]}

    backup_tenant(org.platform, org.slug, tmp_path / "b.zip")
    copy = f"{org.slug}-copy"
    restore_tenant(org.platform, tmp_path / "b.zip", copy)
    roles = {m["email"]: m["roles"] for m in read_members(org.platform, copy)}
    assert roles[org.emails["mgr"]] == ["manager"] and roles[org.emails["outsider"]] == ["rep"]
