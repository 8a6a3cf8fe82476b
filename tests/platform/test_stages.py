"""Pipelines on both backends: what entering a stage takes, which moves are allowed, and the stage history."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from crm_kit import ACCOUNT, DEAL, Crm

from trellis.metadata.pipelines import pipelines_of
from trellis.metadata.validation import validate_object
from trellis.platform.errors import InvalidInput
from trellis.platform.records.service import Actor
from trellis.platform.records.stages import stage_history
from trellis.tenants.backup import archive_contents, backup_tenant, restore_tenant

STAGES = [
    {"value": "new", "label": "New", "probability": 10},
    {"value": "proposal", "label": "Proposal", "probability": 50, "required_fields": ["amount", "close_date"],
     "guidance": {"en": "Send the price.", "zh-CN": "发送报价。"}},
    {"value": "won", "label": "Won", "probability": 100, "category": "won", "next": ["proposal"]},
    {"value": "lost", "label": "Lost", "probability": 0, "category": "lost", "next": ["new"]},
]


def pipeline_deal() -> dict[str, Any]:
    deal = copy.deepcopy(DEAL)
    stage = next(f for f in deal["fields"] if f["api_name"] == "stage")
    stage.update(pipeline={"label": "Sales"}, values=copy.deepcopy(STAGES))
    return deal


@pytest.fixture
def pipes(crm: Crm) -> Crm:
    crm.create(ACCOUNT, pipeline_deal())
    return crm


def _deal(crm: Crm, **values: Any) -> dict[str, Any]:
    account = crm.records.create("account", {"name": f"Acme {len(crm.records.list('account').records)}"})
    return crm.records.create("deal", {"name": "Big one", "account": account["id"], **values})


def _refusal(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.value.problems}


def test_the_typed_view_reads_stages_in_order(pipes: Crm) -> None:
    (pipeline,) = pipelines_of(pipes.runtime.object("deal"))
    assert pipeline.title("en") == "Sales"
    assert [s.value for s in pipeline.stages] == ["new", "proposal", "won", "lost"]
    assert pipeline.stage("proposal").required_fields == ("amount", "close_date")
    assert pipeline.stage("won").category == "won" and pipeline.stage("new").category == "open"
    assert pipeline.stage("proposal").guidance_text("zh-CN") == "发送报价。"
    assert pipeline.stage("won").allows("proposal") and not pipeline.stage("won").allows("lost")


def test_entering_a_stage_needs_its_required_fields(pipes: Crm) -> None:
    deal = _deal(pipes)
    with pytest.raises(InvalidInput) as refused:
        pipes.records.update("deal", deal["id"], {"stage": "proposal"})
    assert _refusal(refused) == {"amount": "Amount is required to enter Proposal.",
                                 "close_date": "Close date is required to enter Proposal."}
    assert refused.value.detail == "Amount and Close date are required to enter Proposal."
    assert pipes.records.get("deal", deal["id"])["stage"] == "new"  # nothing written
    assert [e["to"] for e in stage_history(pipes.records, "deal", deal["id"])] == ["new"]

    with pytest.raises(InvalidInput) as refused:  # one of the two is not enough
        pipes.records.update("deal", deal["id"], {"stage": "proposal", "amount": "1000"})
    assert set(_refusal(refused)) == {"close_date"}

    moved = pipes.records.update("deal", deal["id"], {"stage": "proposal", "amount": "1000",
                                                      "close_date": "2027-01-31"})
    assert moved["stage"] == "proposal"


def test_creating_a_record_in_a_stage_obeys_the_same_rule(pipes: Crm) -> None:
    with pytest.raises(InvalidInput) as refused:
        _deal(pipes, stage="proposal", amount="50")
    assert _refusal(refused) == {"close_date": "Close date is required to enter Proposal."}
    assert pipes.records.list("deal").records == []
    assert _deal(pipes, stage="proposal", amount="50", close_date="2027-03-01")["stage"] == "proposal"


def test_a_move_the_pipeline_does_not_allow_names_the_allowed_ones(pipes: Crm) -> None:
    deal = _deal(pipes, stage="won", amount="10", close_date="2027-01-01")
    with pytest.raises(InvalidInput) as refused:
        pipes.records.update("deal", deal["id"], {"stage": "lost"})
    assert _refusal(refused) == {"stage": "A Deal in Won can move only to Proposal, not to Lost; move it through "
                                          "one of those first."}
    assert pipes.records.update("deal", deal["id"], {"stage": "proposal"})["stage"] == "proposal"
    # Other fields change freely while the stage stays.
    assert pipes.records.update("deal", deal["id"], {"amount": None, "name": "Renamed"})["name"] == "Renamed"


def test_history_records_every_move_with_who_and_when(pipes: Crm) -> None:
    deal = _deal(pipes)
    other = Crm(pipes.platform, pipes.slug, Actor(user_id=42))
    other.records.update("deal", deal["id"], {"stage": "proposal", "amount": "5", "close_date": "2027-01-01"})
    pipes.records.update("deal", deal["id"], {"stage": "won"})
    pipes.records.update("deal", deal["id"], {"name": "No move"})
    history = stage_history(pipes.records, "deal", deal["id"])
    assert [(e["field"], e["from"], e["to"], e["changed_by"]) for e in history] == [
        ("stage", None, "new", 7), ("stage", "new", "proposal", 42), ("stage", "proposal", "won", 7)]
    assert history[0]["left_at"] == history[1]["changed_at"] and history[-1]["left_at"] is None
    assert history[0]["changed_at"] <= history[1]["changed_at"] <= history[2]["changed_at"]
    assert history[0]["changed_at"].tzinfo is not None
    # A plain table a BI tool can read, keyed by stable ids.
    rows = pipes.sql("SELECT from_value, to_value FROM {t}trellis_stage_history WHERE record_id = :id ORDER BY id",
                     id=deal["id"])
    assert [tuple(r) for r in rows] == [(None, "new"), ("new", "proposal"), ("proposal", "won")]


def test_a_deleted_record_takes_its_history_along(pipes: Crm) -> None:
    deal, kept = _deal(pipes), _deal(pipes)
    pipes.records.delete("deal", deal["id"])
    rows = pipes.sql("SELECT record_id FROM {t}trellis_stage_history")
    assert [r[0] for r in rows] == [kept["id"]]


def test_history_survives_renames_and_archive_but_not_purge(pipes: Crm) -> None:
    deal = _deal(pipes)
    pipes.editor().update_field("deal", "stage", {"api_name": "phase"})
    assert [e["field"] for e in stage_history(pipes.records, "deal", deal["id"])] == ["phase"]
    pipes.editor().archive_object("deal")
    pipes.editor().restore_object("deal")
    assert len(stage_history(pipes.records, "deal", deal["id"])) == 1
    pipes.editor().archive_object("deal")
    pipes.editor().purge_object("deal")
    assert pipes.sql("SELECT count(*) FROM {t}trellis_stage_history")[0][0] == 0


def test_renaming_a_required_field_keeps_the_stage_rule(pipes: Crm) -> None:
    pipes.editor().update_field("deal", "amount", {"api_name": "deal_value"})
    (pipeline,) = pipelines_of(pipes.runtime.object("deal"))
    assert pipeline.stage("proposal").required_fields == ("deal_value", "close_date")
    deal = _deal(pipes, close_date="2027-01-01")
    with pytest.raises(InvalidInput) as refused:
        pipes.records.update("deal", deal["id"], {"stage": "proposal"})
    assert set(_refusal(refused)) == {"deal_value"}


def test_archiving_a_field_a_stage_requires_is_refused(pipes: Crm) -> None:
    with pytest.raises(InvalidInput) as refused:
        pipes.editor().archive_field("deal", "amount")
    assert _refusal(refused) == {"$.fields[4].values[1].required_fields": "The stage 'proposal' of stage requires "
                                 "amount; remove it from that stage's required_fields first."}
    assert pipes.runtime.object("deal").has_field("amount")


def test_an_existing_picklist_becomes_a_pipeline_without_touching_records(sales: Crm) -> None:
    account = sales.records.create("account", {"name": "Initech"})
    deal = sales.records.create("deal", {"name": "Old", "account": account["id"]})
    stage = next(f for f in sales.editor().object("deal")["fields"] if f["api_name"] == "stage")
    values = [{**v, "required_fields": ["amount"]} if v["value"] == "won" else v for v in stage["values"]]
    sales.editor().update_field("deal", "stage", {"pipeline": {}, "values": values})
    with pytest.raises(InvalidInput) as refused:
        sales.records.update("deal", deal["id"], {"stage": "won"})
    assert _refusal(refused) == {"amount": "Amount is required to enter Won."}


def test_pipeline_metadata_mistakes_are_explained() -> None:
    deal = pipeline_deal()
    stage = next(f for f in deal["fields"] if f["api_name"] == "stage")
    stage["values"][1]["required_fields"] = ["amount", "budget"]
    stage["values"][2]["next"] = ["proposal", "closed"]
    stage["values"][3]["category"] = "abandoned"
    problems = {p.path: p.message for p in validate_object(deal, known_objects={"account": ACCOUNT})}
    assert problems["$.fields[4].values[3].category"].startswith("'abandoned' is not a choice for category")
    del stage["values"][3]["category"]
    problems = {p.path: p.message for p in validate_object(deal, known_objects={"account": ACCOUNT})}
    assert problems["$.fields[4].values[1].required_fields"].startswith(
        "'budget' is not a field of this object; name one of: number, name")
    assert problems["$.fields[4].values[2].next"] == ("'closed' is not a stage of this pipeline; name one of: new, "
                                                       "proposal, won, lost.")
    del stage["pipeline"]
    problems = {p.path: p.message for p in validate_object(deal, known_objects={"account": ACCOUNT})}
    assert problems["$.fields[4].values[0].probability"].startswith("probability is a stage setting, but this "
                                                                     "field is not a pipeline")


def test_a_field_edit_is_checked_against_its_object(pipes: Crm) -> None:
    stage = next(f for f in pipes.editor().object("deal")["fields"] if f["api_name"] == "stage")
    values = copy.deepcopy(stage["values"])
    values[0]["required_fields"] = ["stage"]
    with pytest.raises(InvalidInput) as refused:
        pipes.editor().update_field("deal", "stage", {"values": values})
    assert _refusal(refused) == {"$.values[0].required_fields": "'stage' is the stage field itself; list the other "
                                 "fields a record needs in this stage."}


def test_a_backup_carries_the_history_and_a_restore_continues_it(pipes: Crm, tmp_path: Path) -> None:
    first, second = _deal(pipes), _deal(pipes)
    pipes.records.update("deal", second["id"], {"stage": "proposal", "amount": "1", "close_date": "2027-01-01"})
    pipes.records.delete("deal", first["id"])  # a gap in the history's ids
    backup_tenant(pipes.platform, pipes.slug, tmp_path / "one.zip")
    copy = Crm(pipes.platform, f"{pipes.slug}-copy", pipes.actor)
    restore_tenant(pipes.platform, tmp_path / "one.zip", copy.slug)
    backup_tenant(pipes.platform, copy.slug, tmp_path / "two.zip")
    original = archive_contents(tmp_path / "one.zip")["stage_history"]
    assert [(r["from_value"], r["to_value"]) for r in original] == [(None, "new"), ("new", "proposal")]
    assert archive_contents(tmp_path / "two.zip")["stage_history"] == original
    copy.records.update("deal", second["id"], {"stage": "won"})
    assert [e["to"] for e in stage_history(copy.records, "deal", second["id"])] == ["new", "proposal", "won"]
