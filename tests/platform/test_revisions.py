"""The revision log: who changed what and when, append-only, rebuildable, noticed everywhere (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from crm_kit import ACCOUNT, Crm

from trellis.metadata.diff import diff_objects
from trellis.platform import revisions
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, TrellisError
from trellis.platform.records.service import Actor

LEAD = {"api_name": "lead", "label": "Lead", "fields": [{"api_name": "name", "label": "Name", "type": "text"}]}


def test_a_new_tenant_starts_at_an_empty_revision_zero(crm: Crm) -> None:
    assert crm.revision() == 0
    empty = crm.load_revision()
    assert (empty.number, empty.summary, empty.documents, empty.changes) == (0, "Empty configuration", [], [])
    assert crm.history() == []
    assert crm.runtime.objects == {}


def test_every_change_appends_a_revision_with_author_summary_and_changes(crm: Crm) -> None:
    started = datetime.now(UTC) - timedelta(minutes=5)
    crm.create(LEAD)
    crm.editor(Actor(user_id=42)).add_field("lead", {"api_name": "city", "label": "City", "type": "text"})
    crm.editor(Actor(user_id=None)).update_object("lead", {"label": "Prospect"})
    crm.editor().update_field("lead", "city", {"indexed": True})
    history = crm.history()
    assert [(r.number, r.author_id, r.summary) for r in history] == [
        (4, 7, "Changed field lead.city"),
        (3, None, "Changed object lead"),
        (2, 42, "Added field lead.city"),
        (1, 7, "Created object lead"),
    ]
    assert [r.changes for r in history] == [
        [{"op": "update_field", "object": "lead", "field": "city", "keys": ["indexed"]}],
        [{"op": "update_object", "object": "lead", "keys": ["label"]}],
        [{"op": "add_field", "object": "lead", "field": "city"}],
        [{"op": "create_object", "object": "lead"}],
    ]
    for revision in history:
        stamp = revision.created_at if revision.created_at.tzinfo else revision.created_at.replace(tzinfo=UTC)
        assert started < stamp < datetime.now(UTC) + timedelta(minutes=5)


def test_refused_changes_leave_no_revision(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada"})  # not a number, so the type change is refused
    for bad in ({"type": "integer"}, {"label": ""}):
        with pytest.raises(TrellisError):
            crm.editor().update_field("lead", "name", bad)
    assert [r.number for r in crm.history()] == [1]


def test_each_revision_holds_the_whole_configuration_of_its_time(crm: Crm) -> None:
    crm.create(ACCOUNT)
    crm.create(LEAD)
    crm.editor().add_field("lead", {"api_name": "city", "label": "City", "type": "text"})
    first, second, third = (crm.load_revision(n) for n in (1, 2, 3))
    assert [d["api_name"] for d in first.documents] == ["account"]
    assert [d["api_name"] for d in second.documents] == ["account", "lead"]
    assert [f["api_name"] for f in second.documents[1]["fields"]] == ["name"]
    assert [f["api_name"] for f in third.documents[1]["fields"]] == ["name", "city"]
    assert diff_objects(second.documents, third.documents) == third.changes


def test_ids_stay_stable_across_revisions(crm: Crm) -> None:
    crm.create(LEAD)
    crm.editor().update_field("lead", "name", {"label": "Full name"})
    crm.editor().add_field("lead", {"api_name": "city", "label": "City", "type": "text"})
    docs = [crm.load_revision(n).documents[0] for n in (1, 2, 3)]
    assert docs[0]["id"] == docs[1]["id"] == docs[2]["id"]
    assert docs[0]["fields"][0]["id"] == docs[2]["fields"][0]["id"]
    assert len({f["id"] for f in docs[2]["fields"]}) == 2


def test_revisions_are_appended_never_rewritten(crm: Crm) -> None:
    crm.create(LEAD)
    store = crm.runtime.store
    with store.engine.begin() as conn:
        with pytest.raises(Conflict, match="at the same time"):
            revisions.append(conn, store, after=0, documents=[], definitions={}, changes=[], author_id=None,
                                 summary="again")
        assert revisions.load(conn, store, 1).summary == "Created object lead"


def test_the_runtime_follows_the_newest_revision(crm: Crm) -> None:
    before = crm.runtime
    assert crm.runtime is before, "compiled once and cached while nothing changes"
    crm.create(LEAD)
    after = crm.runtime
    assert (before.revision.number, after.revision.number) == (0, 1)
    assert "lead" in after.objects and "lead" in after.tables and "lead" not in before.objects


def test_another_process_notices_a_change_on_its_next_request(crm: Crm) -> None:
    other = Platform(crm.platform.settings)
    try:
        assert other.runtime(crm.slug).revision.number == 0
        crm.create(LEAD)
        assert other.runtime(crm.slug).revision.number == 1
        record = crm.records.create("lead", {"name": "Ada"})
        assert other.records(other.runtime(crm.slug), Actor(None)).get("lead", record["id"])["name"] == "Ada"
    finally:
        other.dispose()
