"""``permissions``: a page of records for a user under a role hierarchy and two sharing rules, versus the
admin's unrestricted page, both through the API, and versus the restricted query written in Core.

The user manages team a (three reps below them); deals are owned by twenty users, and two sharing
rules (``region = "EMEA"`` → team a's reps, read; ``hot`` → team a's manager, edit) open more: the
user sees about half of the rows. The figure to quote is
``list_shared_vs_admin_ratio``: what the record-level predicate (and building the user's access, one
control-plane query per request) costs on top of the same list without it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import insert, or_, select

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.permissions import set_roles
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app
from trellis.tenants.registry import create_tenant, delete_tenant

from .list_records import BATCH, _interleaved

REGIONS = ["EMEA", "APAC", "AMER", "LATAM"]
OBJECT = {
    "api_name": "bench_deal", "label": "Bench deal",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "region", "label": "Region", "type": "text"},
        {"api_name": "hot", "label": "Hot", "type": "boolean"},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
    ],
}
SHARING = {"default": "private", "rules": [
    {"name": "emea", "when": 'region = "EMEA"', "role": "rep_a", "access": "read"},
    {"name": "hot", "when": "hot", "role": "manager_a", "access": "edit"}]}
DEAL_RIGHTS = {"create": True, "read": True, "edit": True}
ROLES = [{"api_name": "director", "label": "Director", "objects": {"bench_deal": {**DEAL_RIGHTS, "view_all": True}}},
         *({"api_name": f"manager_{team}", "label": f"Manager {team}", "reports_to": "director",
            "objects": {"bench_deal": DEAL_RIGHTS}} for team in "ab"),
         *({"api_name": f"rep_{team}", "label": f"Rep {team}", "reports_to": f"manager_{team}",
            "objects": {"bench_deal": DEAL_RIGHTS}} for team in "ab")]
URL = "/t/{slug}/api/v1/records/bench_deal?limit=50"


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    tokens, users = _setup(platform, slug, rows)
    runtime = platform.runtime(slug)
    table = runtime.tables["bench_deal"]
    client = create_app(platform=platform).test_client()
    url = URL.format(slug=slug)

    def listing(who: str) -> None:
        response = client.get(url, headers={"Authorization": f"Bearer {tokens[who]}"})
        assert response.status_code == 200 and len(response.get_json()["data"]) == 50, response.data[:300]

    mine = [users["manager"], *users["team"]]  # the manager and the three reps of team a

    def through_core() -> None:
        visible = or_(table.c.owner.in_(mine), table.c.region == "EMEA", table.c.hot.is_(True))
        with runtime.store.engine.connect() as conn:
            records = [dict(row) for row in conn.execute(select(table).where(visible).order_by(table.c.id)
                                                         .limit(51)).mappings()]
        assert len(records) == 51

    shared_ms, admin_ms = _interleaved(lambda: listing("manager"), lambda: listing("admin"), repeat)
    _, core_ms = _interleaved(lambda: listing("manager"), through_core, repeat)
    yield "permissions_rows", rows, ""
    yield "list_shared_ms", shared_ms, "ms"
    yield "list_admin_ms", admin_ms, "ms"
    yield "list_shared_core_ms", core_ms, "ms"
    yield "list_shared_vs_admin_ratio", shared_ms / admin_ms, ""
    yield "list_shared_vs_core_ratio", shared_ms / core_ms, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _setup(platform: Platform, slug: str, rows: int) -> tuple[dict[str, str], dict]:
    """An admin, a manager of team a with three reps, sixteen reps of team b; roles, sharing rules, rows."""
    create_tenant(platform, slug, "Benchmark")
    tokens, owners = {}, []
    with platform.control() as session:
        tenant = find_tenant(session, slug)
        for index in range(21):
            user = create_user(session, email=f"u{index}-{slug}@bench.example", password="bench-password")
            add_membership(session, tenant, user, role="admin" if index == 0 else "member")
            owners.append(user.id)
            if index < 2:
                tokens["admin" if index == 0 else "manager"], _ = create_token(session, tenant=tenant, user=user,
                                                                               name="bench")
    admin = Actor(owners[0])
    platform.editor(platform.runtime(slug), admin).create_object(OBJECT)
    for role in ROLES:
        platform.editor(platform.runtime(slug), admin).put_definition("role", role)
    platform.editor(platform.runtime(slug), admin).update_object("bench_deal", {"sharing": SHARING})
    defined = platform.runtime(slug).definitions("role")
    with platform.control() as session:
        tenant_id, who = find_tenant(session, slug).id, audit.Who(owners[0], "bench")
        set_roles(session, tenant_id, owners[1], ["manager_a"], defined, who)
        for index, user_id in enumerate(owners[2:]):
            set_roles(session, tenant_id, user_id, ["rep_a" if index < 3 else "rep_b"], defined, who)
    runtime = platform.runtime(slug)
    _fill(runtime.store.engine, runtime.tables["bench_deal"], rows, owners[1:])
    return tokens, {"manager": owners[1], "team": owners[2:5]}


def _fill(engine, table, rows: int, owners: list[int]) -> None:
    rng = random.Random(42)
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "owner": rng.choice(owners), "region": rng.choice(REGIONS),
                  "hot": rng.random() < 0.1, "amount": Decimal(rng.randint(100, 10_000_000)) / 100}
                 for i in range(offset, min(rows, offset + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
