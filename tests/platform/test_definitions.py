"""Definitions (roles, reports, dashboards…) live in the revision beside the objects, on both backends.

The kind used here is made up for the test, so the seam is checked apart from any real kind.
"""

from __future__ import annotations

import pytest
from crm_kit import Crm

from trellis.metadata import definitions
from trellis.platform.errors import InvalidInput, NotFound


def _no_cross_checks(doc, *, objects, definitions):
    return [("$.object", f"There is no object '{doc['object']}'.")] if doc.get("object") not in objects else []


@pytest.fixture
def memo_kind(monkeypatch: pytest.MonkeyPatch) -> definitions.Kind:
    kind = definitions.Kind("memo", "memos", "mem", f"{__name__}:_no_cross_checks")
    monkeypatch.setitem(definitions.KINDS, "memo", kind)
    monkeypatch.setattr(definitions, "schema_problems", lambda doc, schema: ([], []))
    return kind


def test_a_definition_is_a_revision_of_its_own_and_objects_are_untouched(sales: Crm, memo_kind) -> None:
    before = sales.runtime.revision
    number = sales.editor().put_definition("memos", {"api_name": "weekly", "label": "Weekly", "object": "deal"})
    after = sales.runtime.revision
    assert number == before.number + 1 == after.number
    assert after.documents == before.documents
    stored = sales.runtime.definitions("memo")["weekly"]
    assert stored["kind"] == "memo" and stored["id"].startswith("mem_")
    assert after.changes == [{"op": "put_definition", "kind": "memo", "id": stored["id"], "name": "weekly"}]

    # Renaming keeps the id; a later object change keeps the definition.
    sales.editor().put_definition("memo", {"api_name": "monthly", "label": "Monthly", "object": "deal"}, "weekly")
    sales.editor().add_field("deal", {"api_name": "region", "label": "Region", "type": "text"})
    assert list(sales.runtime.definitions("memo")) == ["monthly"]
    assert sales.runtime.definitions("memo")["monthly"]["id"] == stored["id"]


def test_bad_definitions_are_refused_whole_with_their_path(sales: Crm, memo_kind) -> None:
    number = sales.runtime.revision.number
    with pytest.raises(InvalidInput) as refused:
        sales.editor().put_definition("memo", {"api_name": "weekly", "label": "W", "object": "nothing"})
    assert [p.field for p in refused.value.problems] == ["$.object"]
    sales.editor().put_definition("memo", {"api_name": "weekly", "label": "W", "object": "deal"})
    with pytest.raises(InvalidInput) as clash:
        sales.editor().put_definition("memo", {"api_name": "weekly", "label": "W2", "object": "deal"})
    assert "already called 'weekly'" in clash.value.problems[0].message
    with pytest.raises(NotFound):
        sales.editor().delete_definition("memo", "nothing")
    with pytest.raises(NotFound, match="no kind of configuration"):
        sales.editor().definitions("spells")
    assert sales.runtime.revision.number == number + 1


def test_rollback_brings_back_the_definitions_of_that_revision(sales: Crm, memo_kind) -> None:
    sales.editor().put_definition("memo", {"api_name": "weekly", "label": "W", "object": "deal"})
    kept = sales.runtime.revision.number
    sales.editor().delete_definition("memo", "weekly")
    assert sales.runtime.definitions("memo") == {}
    sales.editor().rollback(kept)
    assert list(sales.runtime.definitions("memo")) == ["weekly"]
