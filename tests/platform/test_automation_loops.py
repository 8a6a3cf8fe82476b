"""A rule that updates the record that fires it stops at the depth limit, with the reason on its run log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from automation_kit import TICKET, admin, automation_platform, drain, with_rules

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant

BUMP = {"name": "bump", "trigger": {"on": "updated"},
        "actions": [{"type": "update_fields", "values": {"hits": "hits + 1"}}]}


@pytest.fixture(scope="module")
def auto(settings: Settings) -> Iterator[Platform]:
    yield from automation_platform(settings)


@pytest.fixture
def actor(auto: Platform) -> Actor:
    return admin(auto)


@pytest.fixture
def slug(auto: Platform, actor: Actor) -> str:
    slug = f"a-{uuid.uuid4().hex[:12]}"
    create_tenant(auto, slug, "Automation loops")
    auto.editor(auto.runtime(slug), actor).create_object(with_rules(TICKET, BUMP))
    return slug


def test_a_rule_updating_its_own_record_stops_at_the_depth_limit(auto: Platform, slug: str, actor: Actor) -> None:
    records = auto.records(auto.runtime(slug), actor)
    ticket = records.create("ticket", {"subject": "Printer on fire"})
    assert auto.automation.runs(auto.runtime(slug)) == []  # created: the rule fires on updates only
    records.update("ticket", ticket["id"], {"subject": "Printer on fire!"}, expected_version=1)
    drain(auto, slug)

    runs = sorted(auto.automation.runs(auto.runtime(slug), "ticket", "bump"), key=lambda run: run["depth"])
    limit = auto.settings.automation_max_depth
    assert [(run["depth"], run["status"]) for run in runs] == [
        *((depth, "succeeded") for depth in range(limit)), (limit, "stopped")]
    assert "depth limit" in runs[-1]["error"] and "TRELLIS_AUTOMATION_MAX_DEPTH" in runs[-1]["error"]
    assert all(run["record_id"] == ticket["id"] for run in runs)

    # The record holds exactly the five updates the runs made, each one version, none lost or doubled.
    final = records.get("ticket", ticket["id"])
    assert (final["hits"], final["version"], final["subject"]) == (limit, 2 + limit, "Printer on fire!")
    assert final["updated_by"] == actor.user_id  # the rule acts as the user whose change fired it
