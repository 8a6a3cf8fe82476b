"""Permissions: roles as metadata compiled into object grants, field-level security and record predicates.

``access_for`` gives the ``Access`` a door puts on the ``Actor`` it hands the record service:
``None`` (no restriction) for tenant admins and for tenants that define no roles yet (so a tenant
keeps today's behaviour until its admin writes roles), otherwise the union of the member's roles.
See docs/permissions.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..runtime import TenantRuntime
from .access import UNRESTRICTED, Access, Unrestricted, owners_under
from .members import member_roles, members, set_roles
from .plan import RolePlan, plan_of

if TYPE_CHECKING:
    from ..core import Platform

__all__ = ["UNRESTRICTED", "Access", "MemberRoles", "RolePlan", "Unrestricted", "access_for", "access_of",
           "member_roles", "members", "set_roles"]


def access_for(platform: Platform, runtime: TenantRuntime, user_id: int, membership_role: str) -> Access | None:
    """The access of a member (``membership_role`` is the membership's ``admin`` or other role word);
    one control-plane query reads every member's roles, enough to resolve the user's subordinates."""
    if membership_role == "admin" or not runtime.definitions("role"):
        return None
    with platform.control() as session:
        everyone = members(session, runtime.tenant.id)
    return access_of(runtime, user_id, everyone)


def access_of(runtime: TenantRuntime, user_id: int, everyone: list[tuple[int, list[str]]]) -> Access | None:
    """The access of ``user_id`` (not a tenant admin) given every member's roles (as ``members`` reads them,
    perhaps in the door's own control-plane transaction); None while the tenant defines no roles."""
    if not runtime.definitions("role"):
        return None
    mine = next((roles for member, roles in everyone if member == user_id), [])
    plan = plan_of(runtime, tuple(sorted(mine)))
    read, edit = owners_under(plan, user_id, everyone)
    return Access(user_id, plan, read, edit)


@dataclass(frozen=True)
class MemberRoles(Unrestricted):
    """A member's roles as a door read them with the caller's identity (one control-plane transaction),
    compiled into an ``Access`` only when the record service has the runtime: the door need not fetch it."""

    user_id: int
    everyone: tuple[tuple[int, tuple[str, ...]], ...]

    @classmethod
    def read(cls, session: object, tenant_id: int, user_id: int) -> MemberRoles:
        return cls(user_id, tuple((member, tuple(roles)) for member, roles in members(session, tenant_id)))

    def resolve(self, runtime: TenantRuntime) -> Access | None:
        return access_of(runtime, self.user_id, [(member, list(roles)) for member, roles in self.everyone])
