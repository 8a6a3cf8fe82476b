"""Rules on every save (both backends): validation rules, default expressions, and the default layout's
required / required_if / visible_if / readonly_if, enforced by the record service for every door."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from crm_kit import ACCOUNT, Crm

from trellis.platform.errors import InvalidInput

OPP = {
    "api_name": "opp",
    "label": "Opportunity",
    "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "default": "open",
         "values": [{"value": "open", "label": "Open"}, {"value": "won", "label": "Won"},
                    {"value": "lost", "label": "Lost"}]},
        {"api_name": "lost_reason", "label": "Lost reason", "type": "text"},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
        {"api_name": "discount", "label": "Discount", "type": "percent"},
        {"api_name": "close_date", "label": "Close date", "type": "date",
         "default_expression": "ADD_DAYS(TODAY(), 30)"},
        {"api_name": "seats", "label": "Seats", "type": "integer", "default_expression": "LEN(name) * 2"},
        {"api_name": "code", "label": "Code", "type": "text", "default_expression": 'UPPER(LEFT(name, 3)) & "-1"'},
        {"api_name": "teams", "label": "Teams", "type": "integer",
         "default_expression": "IF(LEN(name) > 20, LEN(name) / 8, 1)"},
    ],
    "layouts": [
        {"name": "main", "label": "Main", "sections": [
            {"label": "Deal", "columns": 2, "fields": [
                {"field": "name"}, {"field": "stage"},
                {"field": "lost_reason", "visible_if": 'stage = "lost"', "required_if": 'stage = "lost"'},
                {"field": "amount", "readonly_if": 'stage = "won"'},
                {"field": "discount", "visible_if": "amount > 1000", "required": True},
            ]}]},
        {"name": "short", "sections": [{"fields": [{"field": "name"}, {"field": "seats", "required": True}]}]},
    ],
    "validation_rules": [
        {"name": "positive_amount", "error_if": "amount <= 0", "message": "The amount must be positive.",
         "field": "amount"},
        {"name": "no_reopen", "error_if": 'ISCHANGED(stage) AND PRIORVALUE(stage) = "won"',
         "message": "A won deal cannot change stage.", "field": "stage"},
        {"name": "account_named", "error_if": 'account.name = "Blocked"', "message": "That account is blocked."},
        {"name": "off", "error_if": "TRUE", "message": "never", "active": False},
    ],
}


@pytest.fixture
def opps(crm: Crm) -> Crm:
    crm.create(ACCOUNT, OPP)
    return crm


def problems(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in error.value.problems}


def test_default_expressions_fill_empty_fields_on_create(opps: Crm) -> None:
    saved = opps.records.create("opp", {"name": "Globex"})
    today = datetime.now(UTC).date()
    assert date.fromisoformat(saved["close_date"]) in (today + timedelta(days=30), today + timedelta(days=31))
    assert (saved["seats"], saved["code"], saved["stage"]) == (12, "GLO-1", "open")
    given = opps.records.create("opp", {"name": "Initech", "close_date": "2030-01-02", "seats": 3})
    assert (given["close_date"], given["seats"]) == ("2030-01-02", 3)


def test_a_default_the_field_does_not_take_is_refused_naming_the_field(opps: Crm) -> None:
    assert opps.records.create("opp", {"name": "Short"})["teams"] == 1
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "A rather long deal name"})
    assert list(problems(error)) == ["teams"] and "default expression gave '2.875'" in problems(error)["teams"]
    assert opps.records.create("opp", {"name": "A rather long deal name", "teams": 3})["teams"] == 3


def test_a_validation_rule_refuses_with_its_field_and_message(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "Zero", "amount": 0})
    assert problems(error) == {"amount": "The amount must be positive."}
    saved = opps.records.create("opp", {"name": "Ten", "amount": 10})
    with pytest.raises(InvalidInput) as error:
        opps.records.update("opp", saved["id"], {"amount": -5})
    assert problems(error) == {"amount": "The amount must be positive."}
    assert opps.records.get("opp", saved["id"])["amount"] == 10


def test_a_rule_may_follow_a_lookup_and_without_field_names_the_record(opps: Crm) -> None:
    blocked = opps.records.create("account", {"name": "Blocked"})["id"]
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "X", "account": blocked})
    assert problems(error) == {"$": "That account is blocked."}


def test_ischanged_and_priorvalue_compare_with_the_saved_record(opps: Crm) -> None:
    deal = opps.records.create("opp", {"name": "Won one", "stage": "won", "amount": 5})
    renamed = opps.records.update("opp", deal["id"], {"name": "Still won", "stage": "won"})
    assert renamed["version"] == 2
    with pytest.raises(InvalidInput) as error:
        opps.records.update("opp", deal["id"], {"stage": "open"})
    assert problems(error) == {"stage": "A won deal cannot change stage."}


def test_required_if_holds_only_while_its_condition_is_true(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "Lost", "stage": "lost"})
    assert problems(error) == {"lost_reason": "Lost reason is required here; fill it in."}
    saved = opps.records.create("opp", {"name": "Lost", "stage": "lost", "lost_reason": "price"})
    with pytest.raises(InvalidInput) as error:
        opps.records.update("opp", saved["id"], {"lost_reason": None})
    assert set(problems(error)) == {"lost_reason"}
    assert opps.records.update("opp", saved["id"], {"stage": "open", "lost_reason": None})["lost_reason"] is None


def test_a_field_hidden_by_visible_if_is_not_required(opps: Crm) -> None:
    small = opps.records.create("opp", {"name": "Small", "amount": 500})
    assert small["discount"] is None
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "Big", "amount": 5000})
    assert problems(error) == {"discount": "Discount is required here; fill it in."}
    assert opps.records.create("opp", {"name": "Big", "amount": 5000, "discount": 5})["discount"] == 5


def test_readonly_if_refuses_a_changed_value_naming_the_field(opps: Crm) -> None:
    deal = opps.records.create("opp", {"name": "Won", "stage": "won", "amount": 100})
    with pytest.raises(InvalidInput) as error:
        opps.records.update("opp", deal["id"], {"amount": 200})
    assert problems(error) == {"amount": "Amount is read-only while stage = \"won\"; keep its saved value."}
    assert opps.records.update("opp", deal["id"], {"amount": 100, "name": "Same amount"})["name"] == "Same amount"


def test_all_problems_come_in_one_answer(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.records.create("opp", {"name": "Bad", "stage": "lost", "amount": -1})
    assert set(problems(error)) == {"lost_reason", "amount"}


def test_only_the_default_layout_is_enforced_and_rules_change_without_ddl(opps: Crm) -> None:
    assert opps.records.create("opp", {"name": "No seats needed"})["seats"] == 30
    layouts = opps.editor().object("opp")["layouts"]
    opps.editor().update_object("opp", {"layouts": [layouts[1], layouts[0]], "validation_rules": []})
    assert opps.records.create("opp", {"name": "Lost", "stage": "lost", "amount": 0})["amount"] == 0
    assert [change["op"] for change in opps.editor().diff(opps.revision() - 1, opps.revision())] == ["update_object"]


@pytest.mark.parametrize(("change", "path", "words"), [
    ({"validation_rules": [{"error_if": "TRUE", "message": "m"}]}, "$.validation_rules[0].name", "name is missing"),
    ({"validation_rules": [{"name": "r", "error_if": "amount", "message": "m"}]},
     "$.validation_rules[0].error_if", "a boolean is needed"),
    ({"validation_rules": [{"name": "r", "error_if": "amount > 1", "message": "m", "field": "nope"}]},
     "$.validation_rules[0].field", "'nope' is not a field"),
    ({"layouts": [{"name": "m", "sections": [{"fields": [{"field": "amount", "visible_if": "ISCHANGED(stage)"}]}]}]},
     "$.layouts[0].sections[0].fields[0].visible_if", "only be used in validation rules"),
    ({"layouts": [{"name": "m", "sections": [{"fields": [{"field": "amount", "visible_if": "USER() = 1"}]}]}]},
     "$.layouts[0].sections[0].fields[0].visible_if", "USER cannot be used in a form rule"),
    ({"layouts": [{"name": "m", "sections": [{"fields": [{"field": "amount",
                                                          "required_if": 'account.name = "x"'}]}]}]},
     "$.layouts[0].sections[0].fields[0].required_if", "cannot follow the lookup 'account'"),
    ({"layouts": [{"name": "m", "sections": [{"columns": 4, "fields": []}]}]},
     "$.layouts[0].sections[0].columns", "from 1 to 3"),
    ({"layouts": [{"name": "m", "sections": [{"fields": []}], "related_lists": [{"object": "account",
                                                                                   "via": "name"}]}]},
     "$.layouts[0].related_lists[0].via", "not a lookup of account pointing at opp"),
])
def test_metadata_refuses_rules_that_do_not_check(opps: Crm, change: dict, path: str, words: str) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.editor().update_object("opp", change)
    found = problems(error)
    assert path in found and words in found[path], found


def test_a_default_expression_must_give_the_fields_type(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.editor().add_field("opp", {"api_name": "due", "label": "Due", "type": "date",
                                        "default_expression": "TEXT(TODAY())"})
    assert any(f.endswith("default_expression") and "a date is needed" in m for f, m in problems(error).items())


def test_archiving_takes_a_field_off_the_layouts_but_not_from_under_a_rule(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as error:
        opps.editor().archive_field("opp", "stage")
    message = " ".join(p.message for p in error.value.problems)
    assert ".visible_if" in message and "'stage' is not a field" in message
    opps.editor().archive_field("opp", "lost_reason")  # on the layout, read by no rule: taken off the layout
    assert "lost_reason" not in [f["field"] for f in opps.editor().object("opp")["layouts"][0]["sections"][0]["fields"]]
    assert opps.records.create("opp", {"name": "Lost", "stage": "lost"})["stage"] == "lost"
