"""Lists (both backends): filters, search, sort and paging as an end user or an integration sees them.

One deterministic dataset of 24 items full of ties and blanks (one tenant per backend, shared by
this module's read-only tests); the expected answers are computed in Python from the records
themselves, so each assertion says what a user would expect to see.
"""

from __future__ import annotations

import uuid
from functools import cmp_to_key
from typing import Any

import pytest
from crm_kit import Crm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.platform.core import Platform
from trellis.platform.errors import InvalidInput
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant

ITEM = {"api_name": "item", "label": "Item", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "stage", "label": "Stage", "type": "picklist",
     "values": [{"value": v, "label": v.upper()} for v in ("a", "b", "c")]},
    {"api_name": "amount", "label": "Amount", "type": "decimal"},
    {"api_name": "score", "label": "Score", "type": "integer"},
    {"api_name": "due", "label": "Due", "type": "date"},
    {"api_name": "seen_at", "label": "Seen at", "type": "datetime"},
    {"api_name": "hot", "label": "Hot", "type": "boolean"},
    {"api_name": "email", "label": "Email", "type": "email"},
    {"api_name": "notes", "label": "Notes", "type": "long_text"},
    {"api_name": "tags", "label": "Tags", "type": "multi_picklist", "values": [{"value": "x", "label": "X"}]},
]}
NAMES = ["Alpha", "bravo", "Charlie", "delta", "50% off", "snake_case", None]
SORTABLE = ["name", "stage", "amount", "score", "due", "seen_at", "hot", "id"]


def pick(options: list, i: int, step: int) -> Any:
    return options[(i * step) % len(options)]


def rows() -> list[dict[str, Any]]:
    return [{
        "name": pick(NAMES, i, 3),
        "stage": pick([None, "a", "b", "c", "a"], i, 2),
        "amount": pick([None, "10.50", "-3", "0.1", "10.5", "1000"], i, 5),
        "score": pick([None, 1, 2, 2, 3], i, 1),
        "due": pick(["2024-01-31", None, "2023-12-01", "2024-02-29"], i, 3),
        "seen_at": pick(["2024-05-31T14:30:00+02:00", "2024-05-31T12:00:00Z", None, "2024-05-31T12:30:00Z"], i, 1),
        "hot": pick([True, False, None], i, 1),
        "email": f"user{i}@Example.com" if i % 3 else None,
        "notes": "Call about the RENEWAL" if i % 4 == 1 else None,
        "tags": ["x"] if i % 2 else None,
    } for i in range(24)]


@pytest.fixture(scope="module")
def shop(platform: Platform) -> tuple[Crm, list[dict[str, Any]]]:
    """One tenant with the 24 items per backend, shared by the read-only tests of this module."""
    crm = Crm(platform, f"q-{uuid.uuid4().hex[:12]}", Actor(user_id=7))
    create_tenant(platform, crm.slug)
    crm.create(ITEM)
    return crm, [crm.records.create("item", row) for row in rows()]


@pytest.fixture
def crm(shop: tuple[Crm, list]) -> Crm:
    return shop[0]


@pytest.fixture
def items(shop: tuple[Crm, list]) -> list[dict[str, Any]]:
    return shop[1]


def listed(crm: Crm, **query) -> list[int]:
    return [r["id"] for r in crm.records.list("item", ListQuery(limit=500, **query)).records]


def where(items: list[dict], test) -> set[int]:
    return {r["id"] for r in items if test(r)}


def number(value: Any) -> float | None:
    return None if value is None else float(value)


@pytest.mark.parametrize(("flt", "expected"), [
    (Filter("stage", "eq", "a"), lambda r: r["stage"] == "a"),
    (Filter("stage", "ne", "a"), lambda r: r["stage"] != "a"),  # blanks are "not a" too
    (Filter("stage", "in", ["b", "c"]), lambda r: r["stage"] in ("b", "c")),
    (Filter("stage", "blank", True), lambda r: r["stage"] is None),
    (Filter("stage", "blank", False), lambda r: r["stage"] is not None),
    (Filter("score", "lt", 2), lambda r: r["score"] is not None and r["score"] < 2),
    (Filter("score", "lte", "2"), lambda r: r["score"] is not None and r["score"] <= 2),
    (Filter("score", "gt", 2), lambda r: r["score"] is not None and r["score"] > 2),
    (Filter("score", "gte", 2), lambda r: r["score"] is not None and r["score"] >= 2),
    (Filter("amount", "eq", "10.5"), lambda r: number(r["amount"]) == 10.5),
    (Filter("amount", "gt", 0.1), lambda r: r["amount"] is not None and r["amount"] > 0.1),
    (Filter("amount", "lte", "0.10"), lambda r: r["amount"] is not None and r["amount"] <= 0.1),
    (Filter("due", "gte", "2024-01-31"), lambda r: r["due"] is not None and r["due"] >= "2024-01-31"),
    (Filter("due", "lt", "2024-01-31"), lambda r: r["due"] is not None and r["due"] < "2024-01-31"),
    (Filter("seen_at", "eq", "2024-05-31T12:30:00Z"), lambda r: r["seen_at"] == "2024-05-31T12:30:00+00:00"),
    (Filter("seen_at", "gt", "2024-05-31T14:15:00+02:00"),  # 12:15 UTC
     lambda r: r["seen_at"] in ("2024-05-31T12:30:00+00:00",)),
    (Filter("hot", "eq", "false"), lambda r: r["hot"] is False),
    (Filter("hot", "ne", True), lambda r: r["hot"] is not True),
    (Filter("name", "eq", "bravo"), lambda r: r["name"] == "bravo"),
    (Filter("name", "contains", "AL"), lambda r: r["name"] is not None and "al" in r["name"].lower()),
    (Filter("name", "starts_with", "c"), lambda r: r["name"] is not None and r["name"].lower().startswith("c")),
    (Filter("name", "contains", "%"), lambda r: r["name"] == "50% off"),
    (Filter("name", "contains", "_"), lambda r: r["name"] == "snake_case"),
    (Filter("email", "contains", "example.COM"), lambda r: r["email"] is not None),
    (Filter("notes", "contains", "renewal"), lambda r: r["notes"] is not None),
    (Filter("tags", "blank", False), lambda r: r["tags"] != []),
    (Filter("tags", "blank", True), lambda r: r["tags"] == []),
    (Filter("id", "in", [1, 3, "5"]), lambda r: r["id"] in (1, 3, 5)),
    (Filter("created_at", "gt", "2000-01-01T00:00:00Z"), lambda r: True),
    (Filter("created_at", "lt", "2000-01-01T00:00:00Z"), lambda r: False),
], ids=lambda x: f"{x.field}-{x.op}-{x.value}" if isinstance(x, Filter) else "")
def test_every_filter_operator(crm: Crm, items: list[dict], flt: Filter, expected) -> None:
    assert set(listed(crm, filters=[flt])) == where(items, expected)


def test_filters_combine_with_and(crm: Crm, items: list[dict]) -> None:
    query = [Filter("stage", "eq", "a"), Filter("score", "gte", 2)]
    assert set(listed(crm, filters=query)) == where(items, lambda r: r["stage"] == "a" and (r["score"] or 0) >= 2)


def test_search_looks_through_every_text_like_field(crm: Crm, items: list[dict]) -> None:
    def text(r: dict) -> str:
        return " ".join(str(r[f] or "") for f in ("name", "email", "notes")).lower()

    for term in ("renewal", "USER1", "off", "_", "%", "al"):
        assert set(listed(crm, search=term)) == where(items, lambda r, t=term: t.lower() in text(r)), term
    assert listed(crm, search="nothing like this") == []
    assert set(listed(crm, search="a", filters=[Filter("stage", "eq", "b")])) == where(
        items, lambda r: r["stage"] == "b" and "a" in text(r))


def expected_order(records: list[dict], sort: list[tuple[str, bool]]) -> list[int]:
    """Nulls last in both directions; ties broken by id, in the first key's direction unless id is sorted on."""
    keys: list[tuple[str, bool]] = []
    for name, descending in sort:
        keys.append((name, descending))
        if name == "id":
            break
    else:
        keys.append(("id", keys[0][1] if keys else False))

    def compare(a: dict, b: dict) -> int:
        for name, descending in keys:
            x, y = a[name], b[name]
            if name == "amount":
                x, y = number(x), number(y)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            return (1 if x > y else -1) * (-1 if descending else 1)
        return 0

    return [r["id"] for r in sorted(records, key=cmp_to_key(compare))]


@pytest.mark.parametrize("sort", [
    [], [("name", False)], [("name", True)], [("amount", True)], [("due", False), ("score", True)],
    [("hot", False), ("seen_at", True)], [("id", True)], [("stage", False), ("id", True)],
])
def test_sorting_puts_blanks_last_and_breaks_ties_by_id(crm: Crm, items: list[dict], sort: list) -> None:
    assert listed(crm, sort=sort) == expected_order(items, sort)


def pages(crm: Crm, limit: int, **query) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = crm.records.list("item", ListQuery(limit=limit, cursor=cursor, **query))
        assert len(page.records) <= limit
        seen += [r["id"] for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging never ended")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sort=st.lists(st.tuples(st.sampled_from(SORTABLE), st.booleans()), max_size=3, unique_by=lambda k: k[0]),
       limit=st.integers(1, 7), stage=st.sampled_from([None, "a", "b"]))
def test_cursor_paging_visits_every_row_once_in_order(crm: Crm, items: list[dict], sort: list, limit: int,
                                                       stage: str | None) -> None:
    filters = [Filter("stage", "ne", stage)] if stage else []
    wanted = [r for r in items if stage is None or r["stage"] != stage]
    assert pages(crm, limit, sort=sort, filters=filters) == expected_order(wanted, sort)


def test_the_last_page_has_no_cursor(crm: Crm, items: list[dict]) -> None:
    first = crm.records.list("item", ListQuery(limit=24))
    assert len(first.records) == 24 and first.next_cursor is None
    assert crm.records.list("item", ListQuery(limit=23)).next_cursor is not None


def test_offset_pages_and_a_total(crm: Crm, items: list[dict]) -> None:
    sort = [("score", False)]
    order = expected_order(items, sort)
    seen = []
    for offset in range(0, 24, 5):
        page = crm.records.list("item", ListQuery(sort=sort, limit=5, offset=offset, with_total=True))
        assert page.total == 24
        seen += [r["id"] for r in page.records]
    assert seen == order
    filtered = crm.records.list("item", ListQuery(filters=[Filter("stage", "eq", "a")], limit=2, with_total=True))
    assert filtered.total == len(where(items, lambda r: r["stage"] == "a")) and len(filtered.records) == 2
    assert crm.records.list("item").total is None, "the count is only run when asked for"


def refusal(crm: Crm, **query) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        crm.records.list("item", ListQuery(**query))
    assert error.value.status == 422
    return {p.field: p.message for p in error.value.problems}


def test_unknown_fields_in_filters_and_sorts_are_named(crm: Crm, items: list[dict]) -> None:
    assert refusal(crm, filters=[Filter("colour", "eq", "red")]) == {"colour": "'colour' is not a field of item."}
    assert refusal(crm, sort=[("name", False), ("colour", True)]) == {"sort": "Lists cannot be sorted by 'colour'."}
    assert refusal(crm, sort=[("id", False), ("colour", True)]) == {"sort": "Lists cannot be sorted by 'colour'."}
    assert refusal(crm, sort=[("notes", False)]) == {"sort": "Lists cannot be sorted by 'notes'."}


def test_unsuitable_operators_and_values_are_explained(crm: Crm, items: list[dict]) -> None:
    assert refusal(crm, filters=[Filter("tags", "eq", "x")]) == {"tags": "'eq' cannot filter tags; use one of: blank."}
    assert "use one of: eq, ne, blank, lt" in refusal(crm, filters=[Filter("score", "contains", "1")])["score"]
    assert "whole number" in refusal(crm, filters=[Filter("score", "gt", "many")])["score"]
    assert "not one of the values" in refusal(crm, filters=[Filter("stage", "eq", "z")])["stage"]
    assert refusal(crm, filters=[Filter("stage", "in", "ab")]) == {"stage": "'in' needs a list of values for stage, "
                                                                           'such as ["a", "b"].'}
    assert refusal(crm, filters=[Filter("due", "gt", "soon")]).keys() == {"due"}
    assert refusal(crm, filters=[Filter("created_at", "gt", "soon")]).keys() == {"created_at"}
    assert refusal(crm, cursor="not-a-cursor").keys() == {"cursor"}
    assert refusal(crm, limit=0) == {"limit": "limit must be from 1 to 500."}
    assert refusal(crm, limit=501).keys() == {"limit"}


def test_a_cursor_from_another_sort_is_refused(crm: Crm, items: list[dict]) -> None:
    cursor = crm.records.list("item", ListQuery(limit=2, sort=[("name", False)])).next_cursor
    assert refusal(crm, cursor=cursor, sort=[("name", False), ("score", False)]).keys() == {"cursor"}


def test_lookup_filters_find_related_records(platform: Platform, tenant: str) -> None:
    crm = Crm(platform, tenant, Actor(user_id=7))
    crm.create({"api_name": "owner_team", "label": "Team", "fields": [{"api_name": "title", "label": "T",
                                                                       "type": "text"}]})
    crm.create({"api_name": "member", "label": "Member", "fields": [
        {"api_name": "team", "label": "Team", "type": "lookup", "target": "owner_team"}]})
    red, blue = (crm.records.create("owner_team", {"title": t})["id"] for t in ("red", "blue"))
    ids = [crm.records.create("member", {"team": team})["id"] for team in (red, blue, red, None)]
    found = crm.records.list("member", ListQuery(filters=[Filter("team", "eq", red)])).records
    assert [r["id"] for r in found] == [ids[0], ids[2]]
    blank = crm.records.list("member", ListQuery(filters=[Filter("team", "blank", True)])).records
    assert [r["id"] for r in blank] == [ids[3]]
