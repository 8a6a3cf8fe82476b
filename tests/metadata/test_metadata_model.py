"""Typed metadata, labels in several languages, and diffs between revisions."""

from __future__ import annotations

import copy

import pytest

from trellis.metadata.diff import diff_objects
from trellis.metadata.labels import localize
from trellis.metadata.model import ObjectDef, with_ids

DEAL = {
    "id": "obj_deal00000001",
    "api_name": "deal",
    "label": {"en": "Deal", "zh-CN": "商机", "pt-BR": "Negócio"},
    "plural_label": {"en": "Deals", "zh-CN": "商机"},
    "fields": [
        {"id": "fld_number000001", "api_name": "number", "label": "Number", "type": "autonumber",
         "format": "DEAL-{0000}"},
        {"id": "fld_amount000001", "api_name": "amount", "label": {"en": "Amount", "fr": "Montant"},
         "type": "currency", "currency": "EUR"},
        {"id": "fld_stage0000001", "api_name": "stage", "label": "Stage", "type": "picklist", "required": True,
         "values": [{"value": "open", "label": "Open"}]},
        {"id": "fld_title0000001", "api_name": "title", "label": "Title", "type": "text"},
    ],
}


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh-CN", "商机"), ("zh_CN", "商机"),  # exact, also with the underscore Babel uses
    ("zh-TW", "商机"), ("zh", "商机"),  # same language
    ("pt-PT", "Negócio"),  # another region of the language
    ("fr", "Deal"), ("de-AT", "Deal"),  # no such language: English
])
def test_labels_are_localized_with_sensible_fallbacks(locale: str, expected: str) -> None:
    assert localize(DEAL["label"], locale) == expected


def test_label_fallbacks_when_there_is_no_english() -> None:
    assert localize({"fr": "Affaire"}, "de") == "Affaire"
    assert localize("Deal", "zh-CN") == "Deal"
    assert localize(None, "en", fallback="deal") == "deal"


def test_typed_metadata_reads_titles_and_defaults() -> None:
    obj = ObjectDef.from_document(DEAL)
    assert obj.title("zh-CN") == "商机" and obj.plural_title("zh-CN") == "商机"
    assert obj.plural_title("pt-BR") == "Deals", "a missing plural falls back to the English plural"
    assert obj.field("amount").title("fr") == "Montant"
    assert obj.field("amount").options == {"currency": "EUR"}
    assert obj.field("stage").required and not obj.field("title").required
    assert obj.field("number").unique, "an autonumber is always unique"
    assert obj.name_field == "number", "the first text-like field titles records when none is named"
    assert ObjectDef.from_document({**DEAL, "name_field": "title"}).name_field == "title"
    assert obj.field("stage").choices == [{"value": "open", "label": "Open"}]
    with pytest.raises(KeyError):
        obj.field("nope")


def test_with_ids_gives_every_object_and_field_a_stable_id_once() -> None:
    doc = with_ids({"api_name": "lead", "label": "Lead",
                    "fields": [{"api_name": "name", "label": "N", "type": "text"}]})
    assert doc["id"].startswith("obj_") and doc["fields"][0]["id"].startswith("fld_")
    again = with_ids(doc)
    assert again["id"] == doc["id"] and again["fields"][0]["id"] == doc["fields"][0]["id"]
    other = with_ids({"api_name": "lead", "label": "Lead", "fields": []})
    assert other["id"] != doc["id"]


def edited(**changes) -> dict:
    doc = copy.deepcopy(DEAL)
    doc.update(changes)
    return doc


def test_a_renamed_field_is_a_rename_not_a_drop_and_an_add() -> None:
    new = edited()
    new["fields"][1] = {**new["fields"][1], "api_name": "total", "label": "Total"}
    assert diff_objects([DEAL], [new]) == [
        {"op": "rename_field", "object": "deal", "field": "total", "from": "amount"},
        {"op": "update_field", "object": "deal", "field": "total", "keys": ["label"]},
    ]


def test_a_renamed_object_is_a_rename() -> None:
    assert diff_objects([DEAL], [edited(api_name="opportunity")]) == [
        {"op": "rename_object", "object": "opportunity", "from": "deal"},
    ]


def test_reordering_fields_is_no_change() -> None:
    new = edited()
    new["fields"].reverse()
    assert diff_objects([DEAL], [new]) == []


def test_added_removed_and_changed_fields_and_objects() -> None:
    new = edited(label="Opportunity", description="Sales")
    del new["fields"][3]
    new["fields"][2]["required"] = False
    new["fields"][2]["values"].append({"value": "won", "label": "Won"})
    new["fields"].append({"id": "fld_region000001", "api_name": "region", "label": "Region", "type": "text"})
    lead = {"id": "obj_lead00000001", "api_name": "lead", "label": "Lead", "fields": []}
    changes = diff_objects([DEAL], [new, lead])
    assert changes == [
        {"op": "update_object", "object": "deal", "keys": ["description", "label"]},
        {"op": "update_field", "object": "deal", "field": "stage", "keys": ["required", "values"]},
        {"op": "add_field", "object": "deal", "field": "region"},
        {"op": "remove_field", "object": "deal", "field": "title"},
        {"op": "create_object", "object": "lead"},
    ]
    assert diff_objects([new, lead], [new]) == [{"op": "remove_object", "object": "lead"}]


def test_a_field_replaced_under_the_same_name_is_a_new_field() -> None:
    """Same api_name, new id: the old column's data is not silently reused for a different field."""
    new = edited()
    new["fields"][3] = {**new["fields"][3], "id": "fld_title0000002"}
    assert diff_objects([DEAL], [new]) == [
        {"op": "add_field", "object": "deal", "field": "title"},
        {"op": "remove_field", "object": "deal", "field": "title"},
    ]
