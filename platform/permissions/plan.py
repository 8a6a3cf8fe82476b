"""A set of roles compiled once per revision: the union of their grants, their reach in the hierarchy
and the sharing rules that apply to their holders.

What depends only on the revision and on which roles a user holds is computed here and remembered
(a user's subordinates' ids are not: they are read per request in ``access``). The union is the most
generous answer of the roles: a permission any role grants, a field editable if any role reading the
object leaves it editable, a stage move any role allows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from threading import Lock
from typing import Any

from trellis.metadata.expressions import Checked, ExpressionError
from trellis.metadata.model import ObjectDef
from trellis.metadata.roles import FIELD_LEVELS, PERMISSIONS, hierarchy
from trellis.metadata.sharing import checked_rule, rules_of

from ..runtime import TenantRuntime


@dataclass(frozen=True)
class ObjectGrant:
    """What a set of roles may do with one object."""

    allowed: frozenset[str] = frozenset()
    #: Fields that are not editable: ``hidden`` or ``read_only``.
    levels: Mapping[str, str] = field(default_factory=dict)
    #: Per pipeline field: from stage → the stages a move may go to; a field left out is unrestricted.
    stage_moves: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    layout: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.allowed


@dataclass(frozen=True)
class SharingRule:
    name: str
    checked: Checked
    access: str


@dataclass(frozen=True)
class RolePlan:
    roles: tuple[str, ...]
    grants: Mapping[str, ObjectGrant]
    #: Roles below the user's roles whose holders' records the user reads, and may edit (manager_access).
    below_read: frozenset[str]
    below_edit: frozenset[str]
    #: Per object: its sharing default and the rules that reach the user (their role or one below theirs).
    defaults: Mapping[str, str]
    rules: Mapping[str, tuple[SharingRule, ...]]
    #: Objects as these roles see them (hidden fields left out; unreadable objects absent): filters,
    #: sort, search and ``where=`` are checked against these, so hidden fields cannot be probed.
    visible: Mapping[str, ObjectDef]

    def grant(self, object_name: str) -> ObjectGrant:
        return self.grants.get(object_name, _NOTHING)


_NOTHING = ObjectGrant()


def compile_plan(runtime: TenantRuntime, roles: tuple[str, ...]) -> RolePlan:
    """The plan of ``roles`` (unknown names are ignored: a role deleted since it was assigned grants nothing)."""
    defined = runtime.definitions("role")
    mine = tuple(name for name in roles if name in defined)
    below = hierarchy(defined)
    below_read = frozenset().union(*(below[name] for name in mine))
    below_edit = frozenset().union(*(below[name] for name in mine if defined[name].get("manager_access") == "edit"))
    grants = {name: _grant(name, [defined[r] for r in mine]) for name in runtime.objects}
    reach = set(mine) | below_read
    rules = {name: _rules(runtime, name, reach) for name in runtime.objects}
    defaults = {name: (doc.get("sharing") or {}).get("default", "public_read_write")
                for name, doc in runtime.documents.items()}
    visible = {name: _without_hidden(obj, grants[name]) for name, obj in runtime.objects.items()
               if grants[name].can("read")}
    return RolePlan(mine, grants, below_read, below_edit, defaults, rules, visible)


def _without_hidden(obj: ObjectDef, grant: ObjectGrant) -> ObjectDef:
    return replace(obj, fields=tuple(f for f in obj.fields if grant.levels.get(f.api_name) != "hidden"))


def _grant(object_name: str, roles: list[Mapping[str, Any]]) -> ObjectGrant:
    entries = [role["objects"][object_name] for role in roles if object_name in (role.get("objects") or {})]
    allowed = frozenset(p for p in PERMISSIONS if any(entry.get(p) for entry in entries))
    if "modify_all" in allowed:
        allowed |= {"view_all", "read", "edit"}
    if "view_all" in allowed or "edit" in allowed:
        allowed |= {"read"}
    readers = [entry for entry in entries if entry.get("read") or entry.get("view_all") or entry.get("modify_all")]
    names = {name for entry in readers for name in (entry.get("fields") or {})}
    levels = {}
    for name in names:
        best = max(FIELD_LEVELS.index((entry.get("fields") or {}).get(name, "editable")) for entry in readers)
        if FIELD_LEVELS[best] != "editable":
            levels[name] = FIELD_LEVELS[best]
    editors = [entry for entry in entries if entry.get("edit") or entry.get("modify_all")]
    moves: dict[str, dict[str, frozenset[str]]] = {}
    for name in {name for entry in editors for name in (entry.get("stage_moves") or {})}:
        if all(name in (entry.get("stage_moves") or {}) for entry in editors):  # one unrestricted role wins
            merged: dict[str, frozenset[str]] = {}
            for entry in editors:
                for source, targets in entry["stage_moves"][name].items():
                    merged[source] = merged.get(source, frozenset()) | frozenset(targets)
            moves[name] = merged
    layout = next((entry["layout"] for entry in entries if entry.get("layout")), None)
    return ObjectGrant(allowed, levels, moves, layout)


def _rules(runtime: TenantRuntime, object_name: str, reach: set[str]) -> tuple[SharingRule, ...]:
    """The rules of an object that reach these roles, checked; a rule a later change broke shares nothing."""
    found = []
    for rule in rules_of(runtime.documents[object_name]):
        if rule["role"] not in reach:
            continue
        try:
            checked = checked_rule(runtime.object(object_name), runtime.objects, rule["when"])
        except ExpressionError:
            continue
        found.append(SharingRule(rule["name"], checked, rule["access"]))
    return tuple(found)


class PlanMemo:
    """Plans of the most recently used (revision, roles), keyed by the runtime object that holds the revision."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, tuple[str, ...]], tuple[TenantRuntime, RolePlan]] = OrderedDict()
        self._lock = Lock()

    def __call__(self, runtime: TenantRuntime, roles: tuple[str, ...]) -> RolePlan:
        key = (id(runtime), roles)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is runtime:
                self._entries.move_to_end(key)
                return hit[1]
        plan = compile_plan(runtime, roles)
        with self._lock:
            self._entries[key] = (runtime, plan)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return plan


plan_of = PlanMemo()
