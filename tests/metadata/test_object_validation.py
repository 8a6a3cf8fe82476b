"""Validating object and field documents: what a business admin reads when a document is wrong.

Every problem is reported at once (not one per save), at the JSON path a designer screen
can point at, in one sentence that says what is wrong and how to mend it.
"""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import Draft202012Validator

from trellis.metadata import names
from trellis.metadata.fieldtypes import CATALOG
from trellis.metadata.validation import FIELD_TYPES, Problem, load_schema, validate_field, validate_object

ACCOUNT = {"api_name": "account", "label": "Account", "fields": [{"api_name": "name", "label": "Name", "type": "text"}]}
#: Line items of a deal, which the deal's rollup adds up.
LINE = {"api_name": "line", "label": "Line", "fields": [
    {"api_name": "deal", "label": "Deal", "type": "lookup", "target": "deal"},
    {"api_name": "price", "label": "Price", "type": "currency"}]}
KNOWN = {"account": ACCOUNT, "line": LINE}

#: One field of every type in the catalog, each with settings an admin would really use.
EVERY_TYPE = [
    {"api_name": "name", "label": "Name", "type": "text", "required": True, "max_length": 200},
    {"api_name": "notes", "label": "Notes", "type": "long_text", "help_text": "Anything worth keeping."},
    {"api_name": "seats", "label": "Seats", "type": "integer", "min": 0, "max": 10000, "default": 1},
    {"api_name": "ratio", "label": "Ratio", "type": "decimal", "precision": 10, "scale": 4},
    {"api_name": "amount", "label": "Amount", "type": "currency", "currency": "EUR", "min": 0},
    {"api_name": "probability", "label": "Probability", "type": "percent", "max": 100, "default": 10},
    {"api_name": "hot", "label": "Hot", "type": "boolean", "default": False},
    {"api_name": "close_date", "label": "Close date", "type": "date", "indexed": True, "default": "2024-12-31"},
    {"api_name": "closed_at", "label": "Closed at", "type": "datetime"},
    {"api_name": "email", "label": "Email", "type": "email", "unique": True},
    {"api_name": "phone", "label": "Phone", "type": "phone", "default": "+44 20 7946 0958"},
    {"api_name": "website", "label": "Website", "type": "url", "default": "https://example.com"},
    {"api_name": "stage", "label": "Stage", "type": "picklist", "default": "open",
     "values": [{"value": "open", "label": "Open", "color": "#1F77B4"}, {"value": "won", "label": "Won"}]},
    {"api_name": "tags", "label": "Tags", "type": "multi_picklist", "default": ["vip"],
     "values": [{"value": "vip", "label": {"en": "VIP", "fr": "VIP"}}]},
    {"api_name": "account", "label": "Account", "type": "lookup", "target": "account", "on_delete": "restrict"},
    {"api_name": "number", "label": "Number", "type": "autonumber", "format": "DEAL-{0000}", "start": 100},
    {"api_name": "age", "label": "Age", "type": "formula", "expression": "DAYS_BETWEEN(created_at, TODAY())"},
    {"api_name": "total", "label": "Total", "type": "rollup", "child_object": "line", "via": "deal", "function": "sum",
     "field": "price", "filter": "price > 0"},
]


def deal(*fields: dict, **settings) -> dict:
    return {"api_name": "deal", "label": "Deal", "fields": list(fields), **settings}


def paths(problems: list[Problem]) -> dict[str, str]:
    return {p.path: p.message for p in problems}


def assert_sentences(problems: list[Problem]) -> None:
    """Every message is one human sentence, never raw jsonschema wording."""
    for problem in problems:
        assert problem.message.endswith((".", ")")), problem
        assert not re.search(r"is not valid under|does not match|Additional properties|is a required property",
                             problem.message), problem


def test_the_catalog_and_the_schema_agree_on_eighteen_types() -> None:
    assert len(CATALOG) == 18
    assert set(FIELD_TYPES) == set(CATALOG) == {field["type"] for field in EVERY_TYPE}


def test_an_object_using_every_field_type_is_valid() -> None:
    assert validate_object(deal(*EVERY_TYPE, name_field="name"), known_objects=KNOWN) == []


@pytest.mark.parametrize("field", EVERY_TYPE, ids=lambda f: f["type"])
def test_every_field_type_is_valid_on_its_own(field: dict) -> None:
    assert validate_field(field, object_doc=deal(), known_objects=KNOWN) == []


def test_the_schemas_are_valid_draft_2020_12_and_carry_the_naming_rule() -> None:
    for name in ("object", "field"):
        Draft202012Validator.check_schema(load_schema(name))
    assert load_schema("field")["$defs"]["api_name"]["pattern"] == names.API_NAME_PATTERN


def test_a_wrong_document_reports_every_problem_at_its_path() -> None:
    doc = deal(
        {"api_name": "Deal Name", "label": "Deal name", "type": "text"},
        {"api_name": "select", "label": "Select", "type": "text"},
        {"api_name": "created_at", "label": "Created", "type": "datetime"},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
        {"api_name": "amount", "label": "Amount again", "type": "currency"},
        {"api_name": "kind", "label": "Kind", "type": "strng"},
        {"api_name": "stage", "label": "Stage", "type": "picklist"},
        {"api_name": "tags", "label": "Tags", "type": "multi_picklist",
         "values": [{"value": "a", "label": "A"}, {"value": "a", "label": "A again"}]},
        {"api_name": "partner", "label": "Partner", "type": "lookup", "target": "acount"},
        {"api_name": "number", "label": "Number", "type": "autonumber", "format": "DEAL-"},
        {"api_name": "ratio", "label": "Ratio", "type": "decimal", "precision": 4, "scale": 6},
        {"api_name": "region", "label": {"en": "Region", "english": "Region"}, "type": "text"},
        label={"en": "Deal", "EN_us": "Deal"},
    )
    problems = validate_object(doc, known_objects=KNOWN)
    found = paths(problems)
    assert set(found) == {
        "$.label",
        "$.fields[0].api_name", "$.fields[1].api_name", "$.fields[2].api_name", "$.fields[4].api_name",
        "$.fields[5].type", "$.fields[6].values", "$.fields[7].values[1].value", "$.fields[8].target",
        "$.fields[9].format", "$.fields[10].scale", "$.fields[11].label",
    }
    assert [p.path for p in problems][:3] == ["$.fields[0].api_name", "$.fields[1].api_name", "$.fields[2].api_name"]
    assert_sentences(problems)
    assert "deal_name" in found["$.fields[0].api_name"]
    assert "reserved SQL word" in found["$.fields[1].api_name"]
    assert "built-in field" in found["$.fields[2].api_name"]
    assert "amount_2" in found["$.fields[4].api_name"]
    assert "'strng' is not a field type" in found["$.fields[5].type"]
    assert "text" in found["$.fields[5].type"]
    assert "values is missing" in found["$.fields[6].values"]
    assert "'a' is already a value" in found["$.fields[7].values[1].value"]
    assert "'acount'" in found["$.fields[8].target"]
    assert "pick one of: account" in found["$.fields[8].target"]
    assert "{0000}" in found["$.fields[9].format"]
    assert "scale 6 is more than precision 4" in found["$.fields[10].scale"]
    assert "'english' is not a language code" in found["$.fields[11].label"]
    assert "'EN_us' is not a language code" in found["$.label"]


@pytest.mark.parametrize(("name", "fragment"), [
    ("Deal Name", "lower-case letters"),
    ("1st_contact", "starting with a letter"),
    ("order", "try order_number or sort_order"),
    ("select", "reserved SQL word"),
    ("created_at", "try opened_at or received_at"),
    ("version", "built-in field"),
    ("rowid", "hidden column"),
    ("xmin", "hidden column"),
    ("trellis_score", "kept for the platform"),
    ("_score", "kept for the platform"),
    ("deal__name", "double underscore"),
    ("deal_", "ends with an underscore"),
    ("a" * 64, "at most 63"),
])
def test_bad_field_names_are_explained(name: str, fragment: str) -> None:
    problems = validate_field({"api_name": name, "label": "X", "type": "text"}, object_doc=deal())
    assert [p.path for p in problems] == ["$.api_name"]
    assert fragment in problems[0].message
    assert_sentences(problems)


@pytest.mark.parametrize(("name", "fragment"), [
    ("sqlite_master", "SQLite keeps"), ("account", "Another object already has"), ("table", "reserved SQL word"),
])
def test_bad_object_names_are_explained(name: str, fragment: str) -> None:
    problems = validate_object({**deal(), "api_name": name}, known_objects=KNOWN)
    assert paths(problems).keys() == {"$.api_name"}
    assert fragment in problems[0].message


def test_system_column_names_are_fine_for_objects_but_not_fields() -> None:
    assert validate_object({**deal(), "api_name": "version"}) == []


def test_an_edit_may_keep_its_own_name_and_fields_may_name_their_object() -> None:
    saved = {**ACCOUNT, "id": "obj_0123456789ab"}
    assert validate_object(copy.deepcopy(saved), known_objects={"account": saved}) == []
    parent = {"api_name": "parent", "label": "Parent", "type": "lookup", "target": "deal"}
    assert validate_object(deal(parent)) == [], "a lookup may point at its own object (a hierarchy)"


@pytest.mark.parametrize(("field", "path", "fragment"), [
    ({"type": "picklist", "values": []}, "$.values", "values is empty"),
    ({"type": "picklist", "values": [{"value": "open"}]}, "$.values[0].label", "label is missing"),
    ({"type": "picklist", "values": [{"value": "a", "label": "A"}], "default": "b"}, "$.default",
     "not a value of this picklist"),
    ({"type": "text", "values": []}, "$.values", "'values' is not a setting of a text field"),
    ({"type": "lookup"}, "$.target", "target is missing"),
    ({"type": "lookup", "target": "account", "unique": True}, "$.unique", "cannot be unique"),
    ({"type": "lookup", "target": "account", "on_delete": "cascade"}, "$.on_delete", "set_null, restrict"),
    ({"type": "autonumber", "format": "{0000}-{00}"}, "$.format", "one run of zeros"),
    ({"type": "autonumber", "format": "N-{0}", "required": True}, "$.required", "always fills in"),
    ({"type": "autonumber", "format": "N-{0}", "default": "N-1"}, "$.default", "remove default"),
    ({"type": "boolean", "required": True}, "$.required", "always true or false"),
    ({"type": "integer", "default": "7"}, "$.default", "without quotes"),
    ({"type": "integer", "min": 10, "max": 1}, "$.min", "swap them"),
    ({"type": "percent", "scale": 6}, "$.scale", "scale 6 is more than precision 5"),
    ({"type": "decimal", "precision": 40}, "$.precision", "from 1 to 38"),
    ({"type": "currency", "currency": "usd"}, "$.currency", "three capital letters"),
    ({"type": "text", "max_length": 0}, "$.max_length", "from 1 to 10000"),
    ({"type": "text", "label": ""}, "$.label", "empty"),
    ({"type": "text", "label": {}}, "$.label", "no languages"),
])
def test_field_settings_are_checked(field: dict, path: str, fragment: str) -> None:
    doc = {"api_name": "thing", "label": "Thing", **field}
    problems = validate_field(doc, object_doc=deal(), known_objects=KNOWN)
    assert paths(problems).keys() == {path}, problems
    assert fragment in problems[0].message
    assert_sentences(problems)


def test_missing_keys_are_named_with_an_example() -> None:
    problems = validate_object({"fields": [{}]})
    found = paths(problems)
    assert {"$.api_name", "$.label", "$.fields[0].api_name", "$.fields[0].label", "$.fields[0].type"} <= set(found)
    assert found["$.api_name"] == 'api_name is missing; add it, for example "api_name": "order_date".'


def test_documents_that_are_not_objects_get_one_clear_problem() -> None:
    assert [p.path for p in validate_object(["deal"])] == ["$"]
    assert "set of settings in braces" in validate_field("text", object_doc=deal())[0].message


def test_unknown_object_settings_list_the_allowed_ones() -> None:
    problems = validate_object({**deal(), "color": "red"})
    assert paths(problems).keys() == {"$.color"}
    assert "name_field" in problems[0].message


def test_adding_a_field_whose_name_is_taken_is_refused_but_editing_it_is_not() -> None:
    existing = {"id": "fld_0123456789ab", "api_name": "amount", "label": "Amount", "type": "currency"}
    obj = deal(existing)
    problems = validate_field({"api_name": "amount", "label": "Amount", "type": "decimal"}, object_doc=obj)
    assert paths(problems) == {"$.api_name": "Another field of this object already has the API name 'amount'; "
                                             "give this one another, such as amount_2."}
    assert validate_field({**existing, "label": "Total"}, object_doc=obj) == []


@pytest.mark.parametrize(("name_field", "fragment"), [
    ("title", "has no such field"), ("seats", "integer field and cannot title records"),
])
def test_the_name_field_must_be_a_text_like_field_of_the_object(name_field: str, fragment: str) -> None:
    problems = validate_object(deal(*EVERY_TYPE, name_field=name_field), known_objects=KNOWN)
    assert paths(problems).keys() == {"$.name_field"}
    assert fragment in problems[0].message
    assert "such as name" in problems[0].message


def test_one_slip_reads_as_one_message() -> None:
    """A bad type does not also complain about the settings that type would have allowed."""
    problems = validate_object(deal({"api_name": "stage", "label": "Stage", "type": "pick list",
                                     "values": [{"value": "a", "label": "A"}]}))
    assert [p.path for p in problems] == ["$.fields[0].type"]


def test_a_wrong_value_of_a_nullable_setting_is_explained_not_crashed_on() -> None:
    doc = {"api_name": "deal", "label": "Deal", "fields": [],
           "archived": {"table": "zz_archived_abcdef123456", "archived_at": "2026-01-01T00:00:00Z", "archived_by": [1]}}
    [problem] = validate_object(doc)
    assert problem.path == "$.archived.archived_by" and "whole number" in problem.message
