"""``/members`` and ``/members/<user_id>/roles``: which roles each member holds, for the tenant's admins.

Roles themselves are metadata (``/metadata/roles``); assigning them is a permission change in the
control plane, recorded in the audit log. Each member sees their own roles.
"""

from __future__ import annotations

from flask import Blueprint, Response

from trellis.platform.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from trellis.platform.permissions import member_roles, members, set_roles

from .audit import who_is_calling
from .auth import caller
from .payload import json_object, json_response


def list_members() -> Response:
    who = caller()
    _admin_only(who.role)
    with who.platform.control() as session:
        found = [member_roles(session, who.tenant.id, user_id) for user_id, _ in members(session, who.tenant.id)]
    return json_response({"data": sorted(found, key=lambda member: member["user_id"])})


def get_roles(user_id: int) -> Response:
    who = caller()
    if user_id != who.actor.user_id:
        _admin_only(who.role)
    _known_id(user_id)
    with who.platform.control() as session:
        return json_response(member_roles(session, who.tenant.id, user_id))


def put_roles(user_id: int) -> Response:
    """Replace a member's roles with ``{"roles": [...]}``; unknown role names are refused by index."""
    who = caller()
    _admin_only(who.role)
    _known_id(user_id)
    body = json_object()
    if set(body) != {"roles"}:
        raise InvalidInput("Send {\"roles\": [role names]}.", [FieldProblem("roles", "Send only roles.")])
    defined = who.runtime().definitions("role")
    with who.platform.control() as session:
        return json_response(set_roles(session, who.tenant.id, user_id, body["roles"], defined,
                                       who_is_calling(session)))


def _admin_only(role: str) -> None:
    if role != "admin":
        raise Forbidden("Only an admin of this CRM can see or change who holds which role.")


#: users.id is an INTEGER column: PostgreSQL refuses to compare it with a larger number.
_MAX_USER_ID = 2**31 - 1


def _known_id(user_id: int) -> None:
    """An id the users table cannot hold names no member."""
    if user_id > _MAX_USER_ID:
        raise NotFound(f"User {user_id} is not a member of this organization.")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/members", view_func=list_members, methods=["GET"])
    bp.add_url_rule("/members/<int:user_id>/roles", view_func=get_roles, methods=["GET"])
    bp.add_url_rule("/members/<int:user_id>/roles", view_func=put_roles, methods=["PUT"])
