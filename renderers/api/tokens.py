"""``/tokens``: a member's API tokens - create (the token is shown in this answer only), list, revoke.

Members see and revoke their own tokens; admins see and revoke every token of
the tenant. Someone else's token answers 404 to a member, as a missing one does.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import (
    AccountError,
    create_token,
    revoke_member_token,
    token_as_dict,
    tokens_of,
)
from trellis.platform.controlplane.tables import ApiToken, Tenant, User
from trellis.platform.errors import FieldProblem, InvalidInput, NotFound
from trellis.platform.jobs.service import MAX_ID

from .audit import who_is_calling
from .auth import caller
from .payload import flag, json_object, json_response

#: The longest name, as sent (surrounding spaces count): what the column holds, and what the OpenAPI document says.
MAX_NAME = ApiToken.__table__.c.name.type.length
_FIELDS = ("name",)


def list_tokens() -> Response:
    """Admins get the tenant's tokens (``?mine=true`` for their own); members get theirs."""
    who = caller()
    mine = flag("mine", request.args.get("mine", "false")) or who.role != "admin"
    with who.platform.control() as session:
        found = tokens_of(session, who.tenant.id, who.actor.user_id if mine else None)
        return json_response({"data": [token_as_dict(token) for token in found]})


def create() -> Response:
    body = json_object()
    unknown = [FieldProblem(key, f"Unknown field; a token has only: {', '.join(_FIELDS)}.") for key in body
               if key not in _FIELDS]
    if unknown:
        raise InvalidInput("The token was not created.", unknown)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput("A token needs a name.", [FieldProblem(
            "name", f"Send a name of up to {MAX_NAME} characters saying what the token is for, "
                    "such as \"invoicing sync\".")])
    who = caller()
    with who.platform.control() as session:
        try:
            plaintext, token = create_token(session, tenant=session.get(Tenant, who.tenant.id),
                                            user=session.get(User, who.actor.user_id), name=name)
        except AccountError as error:
            raise InvalidInput("The token was not created.", [FieldProblem(error.field, error.message)]) from None
        audit.record(session, who.tenant.id, who_is_calling(session), "token_created", f"token {token.id}",
                     {"name": token.name, "prefix": token.prefix})
        data = token_as_dict(token) | {"token": plaintext}
    return json_response({"data": data}, 201, {"Location": url_for(".list_tokens")})


def revoke(token_id: int) -> Response:
    """Revoke at once: the next request with this token gets 401."""
    who = caller()
    if not 0 < token_id <= MAX_ID:  # beyond the id column: PostgreSQL would fail, and no such token exists
        raise NotFound(f"There is no API token with id {token_id} that you may revoke.")
    with who.platform.control() as session:
        try:
            token = revoke_member_token(session, token_id, tenant_id=who.tenant.id, user_id=who.actor.user_id,
                                        is_admin=who.role == "admin")
        except AccountError as error:
            raise NotFound(error.message) from None
        audit.record(session, who.tenant.id, who_is_calling(session), "token_revoked", f"token {token.id}",
                     {"name": token.name, "prefix": token.prefix, "owner_id": token.user_id})
        return json_response({"data": token_as_dict(token)})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tokens", endpoint="list_tokens", view_func=list_tokens, methods=["GET"])
    bp.add_url_rule("/tokens", endpoint="create_token", view_func=create, methods=["POST"])
    bp.add_url_rule("/tokens/<int:token_id>", endpoint="revoke_token", view_func=revoke, methods=["DELETE"])
