"""The built-in demo: tenant ``demo`` with accounts, contacts and deals.

The sample's metadata is plain JSON (``samples/demo.json``) installed through
the metadata editor, and its records are written through the record service,
exactly as an admin and an integration would do it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant, find_user
from trellis.platform.core import Platform
from trellis.platform.errors import NotFound
from trellis.platform.records.service import Actor
from trellis.tenants.demo_reports import install_reports

from .registry import create_tenant

SAMPLE = Path(__file__).parent / "samples" / "demo.json"
DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "trellis-demo"

_COMPANIES = ["Acme Retail", "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Enterprises",
              "Hooli", "Soylent", "Vandelay Imports", "Cyberdyne"]
_PEOPLE = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Torvalds", "Margaret Hamilton",
           "Dennis Ritchie", "Barbara Liskov", "Ken Thompson", "Frances Allen", "Edsger Dijkstra", "Radia Perlman"]


@dataclass(frozen=True)
class DemoLogin:
    tenant: str
    email: str
    password: str
    token: str


def install_demo(platform: Platform, slug: str = "demo", seed: int = 7) -> DemoLogin:
    """Create the demo tenant with its sample (once) and return a login and a fresh API token."""
    try:
        platform.tenant(slug)
    except NotFound:
        create_tenant(platform, slug, "Demo Company")
        user_id = _admin(platform, slug)
        _install_sample(platform, slug, user_id, random.Random(seed))
    with platform.control() as session:
        tenant, user = find_tenant(session, slug), find_user(session, DEMO_EMAIL)
        token, _ = create_token(session, tenant=tenant, user=user, name="demo")
    return DemoLogin(slug, DEMO_EMAIL, DEMO_PASSWORD, token)


def _admin(platform: Platform, slug: str) -> int:
    with platform.control() as session:
        user = find_user(session, DEMO_EMAIL)
        if user is None:
            user = create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo Admin")
        add_membership(session, find_tenant(session, slug), user, role="admin")
        return user.id


def _install_sample(platform: Platform, slug: str, user_id: int, rng: random.Random) -> None:
    actor = Actor(user_id)
    documents = json.loads(SAMPLE.read_text(encoding="utf-8"))["objects"]
    for doc in documents:  # rollups are added once the objects they read exist
        fields = [field for field in doc["fields"] if field["type"] != "rollup"]
        platform.editor(platform.runtime(slug), actor).create_object({**doc, "fields": fields})
    for doc in documents:
        for field in (field for field in doc["fields"] if field["type"] == "rollup"):
            platform.editor(platform.runtime(slug), actor).add_field(doc["api_name"], field)
    records = platform.records(platform.runtime(slug), actor)
    industries = ["retail", "manufacturing", "technology", "healthcare"]
    accounts = [records.create("account", {
        "name": name, "industry": rng.choice(industries), "employees": rng.randint(5, 5000),
        "website": f"https://{name.split()[0].lower()}.example.com", "annual_revenue": rng.randint(1, 900) * 10000,
    })["id"] for name in _COMPANIES]
    for index, person in enumerate(_PEOPLE):
        records.create("contact", {"full_name": person, "account": rng.choice(accounts),
                                   "email": f"{person.split()[0].lower()}{index}@example.com",
                                   "phone": f"+1 555 01{index:02d}"})
    stages = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
    for index in range(24):
        deal = {
            "name": f"{rng.choice(['Platform', 'Renewal', 'Expansion', 'Pilot'])} {index + 1}",
            "account": rng.choice(accounts), "stage": rng.choice(stages),
            "amount": rng.randint(5, 500) * 1000, "probability": rng.choice([10, 25, 50, 75, 90]),
            "close_date": (date.today() + timedelta(days=rng.randint(-60, 120))).isoformat(),
            "tags": rng.sample(["strategic", "renewal", "upsell"], rng.randint(0, 2)),
        }
        # The deal layout requires a reason once a deal is lost (not drawn from rng: the sample stays the same).
        records.create("deal", {**deal, **({"lost_reason": "price"} if deal["stage"] == "lost" else {})})
    install_reports(platform, slug, actor)
