"""The organization the permission tests share (platform, API and screens doors): three roles in a
hierarchy, two sharing rules, a private and a public object, hidden and read-only fields.

    director (modify_all on deals)          users: dir
      └─ manager (manager_access: read)      users: mgr          rule "hot": hot deals → manager, edit
           └─ rep                            users: rep1, rep2   rule "emea": EMEA deals → rep, read
    outsider: a member holding no role; admin: the tenant admin (bypasses everything).

``EXPECTED`` says, for each user, which deals they read and edit and whether they may create and delete.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.permissions import access_for, set_roles
from trellis.platform.records.service import Actor, RecordService

PASSWORD = "correct horse battery"

ACCOUNT = {"api_name": "account", "label": "Account", "name_field": "name",
           "sharing": {"default": "public_read"},
           "fields": [{"api_name": "name", "label": "Name", "type": "text", "required": True}]}

DEAL = {
    "api_name": "deal", "label": "Deal", "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "region", "label": "Region", "type": "text"},
        {"api_name": "hot", "label": "Hot", "type": "boolean", "default": False},
        {"api_name": "amount", "label": "Amount", "type": "decimal", "precision": 12, "scale": 2},
        {"api_name": "margin", "label": "Margin", "type": "decimal", "precision": 12, "scale": 2},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "default": "new", "pipeline": {},
         "values": [{"value": "new", "label": "New"}, {"value": "qualified", "label": "Qualified"},
                    {"value": "won", "label": "Won", "category": "won"}]},
    ],
    "layouts": [{"name": "full", "sections": [{"fields": [{"field": "name"}, {"field": "region"},
                                                          {"field": "amount"}, {"field": "margin"}]}]},
                {"name": "rep_form", "sections": [{"fields": [{"field": "name"}, {"field": "region"}]}]}],
}

SHARING = {"default": "private", "rules": [
    {"name": "emea", "when": 'region = "EMEA"', "role": "rep", "access": "read"},
    {"name": "hot", "when": "hot", "role": "manager", "access": "edit"},
]}

ALL = {"create": True, "read": True, "edit": True, "delete": True}
ROLES = [
    {"api_name": "director", "label": "Director", "manager_access": "edit",
     "objects": {"deal": {**ALL, "modify_all": True}, "account": {**ALL, "view_all": True}}},
    {"api_name": "manager", "label": "Manager", "reports_to": "director", "manager_access": "read",
     "objects": {"deal": {"create": True, "read": True, "edit": True, "fields": {"margin": "read_only"}},
                 "account": {"read": True, "edit": True}}},
    {"api_name": "rep", "label": "Sales rep", "reports_to": "manager",
     "objects": {"deal": {**ALL, "fields": {"margin": "hidden", "amount": "read_only"},
                          "stage_moves": {"stage": {"new": ["qualified"], "qualified": ["new"]}},
                          "layout": "rep_form"},
                 "account": {"read": True}}},
]

USERS = {"dir": ["director"], "mgr": ["manager"], "rep1": ["rep"], "rep2": ["rep"], "outsider": []}

#: (owner, region, hot) of each deal, by its name.
DEALS = {"d_rep1": ("rep1", "APAC", False), "d_rep2_emea": ("rep2", "EMEA", False), "d_rep2": ("rep2", "APAC", False),
         "d_mgr": ("mgr", "US", True), "d_dir": ("dir", "US", False), "d_dir_hot": ("dir", "US", True)}
EVERY = frozenset(DEALS)

#: user → (deals read, deals edited, may create, deals deleted)
EXPECTED: dict[str, tuple[frozenset[str], frozenset[str], bool, frozenset[str]]] = {
    "admin": (EVERY, EVERY, True, EVERY),
    "dir": (EVERY, EVERY, True, EVERY),
    "mgr": (frozenset({"d_rep1", "d_rep2_emea", "d_rep2", "d_mgr", "d_dir_hot"}), frozenset({"d_mgr", "d_dir_hot"}),
            True, frozenset()),
    "rep1": (frozenset({"d_rep1", "d_rep2_emea"}), frozenset({"d_rep1"}), True, frozenset({"d_rep1"})),
    "rep2": (frozenset({"d_rep2_emea", "d_rep2"}), frozenset({"d_rep2_emea", "d_rep2"}), True,
             frozenset({"d_rep2_emea", "d_rep2"})),
    "outsider": (frozenset(), frozenset(), False, frozenset()),
}


@dataclass
class Org:
    platform: Platform
    slug: str
    users: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    deals: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)

    def service(self, who: str) -> RecordService:
        runtime = self.platform.runtime(self.slug)
        role = "admin" if who == "admin" else "member"
        access = access_for(self.platform, runtime, self.users[who], role)
        return self.platform.records(runtime, Actor(self.users[who], access=access))

    def snapshot(self) -> dict[str, Any]:
        """Every deal and account as the admin sees it: an attack must leave this unchanged."""
        admin = self.service("admin")
        return {name: admin.list(name, _everything()).records for name in ("deal", "account")}


def _everything() -> Any:
    from trellis.platform.records.query import ListQuery
    return ListQuery(limit=500)


def build_org(platform: Platform, slug: str) -> Org:
    """The organization above, in tenant ``slug`` (already created), with users, tokens and records."""
    org = Org(platform, slug)
    tag = uuid.uuid4().hex[:8]
    with platform.control() as session:
        tenant = find_tenant(session, slug)
        for who in ["admin", *USERS]:
            email = f"{who}-{tag}@perm.example"
            user = create_user(session, email=email, password=PASSWORD, name=who)
            add_membership(session, tenant, user, role="admin" if who == "admin" else "member")
            org.users[who], org.emails[who] = user.id, email
            org.tokens[who], _ = create_token(session, tenant=tenant, user=user, name="perm")
    admin = Actor(org.users["admin"])
    editor = platform.editor(platform.runtime(slug), admin)
    editor.create_object(dict(ACCOUNT))
    platform.editor(platform.runtime(slug), admin).create_object(dict(DEAL))
    for role in ROLES:
        platform.editor(platform.runtime(slug), admin).put_definition("role", dict(role))
    platform.editor(platform.runtime(slug), admin).update_object("deal", {"sharing": SHARING})
    with platform.control() as session:
        defined = platform.runtime(slug).definitions("role")
        for who, roles in USERS.items():
            set_roles(session, find_tenant(session, slug).id, org.users[who], roles, defined,
                      audit.Who(org.users["admin"], org.emails["admin"]))
    records = platform.records(platform.runtime(slug), admin)
    org.accounts["acme"] = records.create("account", {"name": "Acme", "owner": org.users["dir"]})["id"]
    for name, (owner, region, hot) in DEALS.items():
        org.deals[name] = records.create("deal", {"name": name, "region": region, "hot": hot, "amount": "100",
                                                  "margin": "10", "account": org.accounts["acme"],
                                                  "owner": org.users[owner]})["id"]
    return org
