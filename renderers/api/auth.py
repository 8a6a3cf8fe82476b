"""Who is calling: a Bearer API token, valid only for the tenant named in the URL.

Every answer to a bad or missing token is the same 401, whether the tenant
exists or not, so the API never tells a stranger which tenants exist. The
resolved tenant runtime and actor are kept on ``flask.g`` for the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, request

from trellis.platform.controlplane.accounts import resolve_token
from trellis.platform.core import Platform
from trellis.platform.errors import Unauthorized
from trellis.platform.permissions import MemberRoles
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRef, TenantRuntime


@dataclass(frozen=True)
class Caller:
    """The authenticated side of a request: which tenant, as whom."""

    platform: Platform
    tenant: TenantRef
    actor: Actor
    #: The caller's role in the tenant (``admin`` may change the configuration).
    role: str

    def runtime(self) -> TenantRuntime:
        """The tenant's newest compiled runtime; asked afresh so a metadata change is seen at once."""
        return self.platform.runtime(self.tenant)


def caller() -> Caller:
    return g.trellis_caller


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive, RFC 6750)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate() -> None:
    """Resolve the caller before any view runs; refuse with 401 when there is no valid token."""
    if request.method == "OPTIONS":
        return
    slug = g.trellis_tenant
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise Unauthorized("Send an API token in the header Authorization: Bearer <token>.")
    platform: Platform = current_app.extensions["trellis"]
    with platform.control() as session:
        found = resolve_token(session, token, tenant_slug=slug, ip=request.remote_addr)
        if found is None:
            raise Unauthorized("The API token is not valid for this address: it may be mistyped, revoked, "
                               "or issued for another tenant.")
        user, tenant, role = found
        ref, user_id, locale = TenantRef.of(tenant), user.id, user.locale or "en"
        access = None if role == "admin" else MemberRoles.read(session, tenant.id, user_id)  # admins bypass roles
    g.trellis_caller = Caller(platform, ref, Actor(user_id, locale, access=access), role)


def register(bp: Blueprint) -> None:
    """Take the tenant out of the URL (views need not repeat it) and authenticate every request."""

    @bp.url_value_preprocessor
    def _pop_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.trellis_tenant = (values or {}).pop("tenant", None)

    @bp.url_defaults
    def _add_tenant(endpoint: str, values: dict[str, Any]) -> None:
        if "tenant" not in values and "trellis_tenant" in g:
            values["tenant"] = g.trellis_tenant

    bp.before_request(authenticate)
