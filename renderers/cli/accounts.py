"""``trellis users`` and ``trellis tokens``: people and their API tokens."""

from __future__ import annotations

from datetime import datetime

import click

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import (
    add_membership,
    create_token,
    create_user,
    find_member,
    find_user,
    reset_token,
    revoke_member_token,
    tokens_of,
)
from trellis.platform.core import Platform
from trellis.tenants.operators import create_operator_token, make_operator

from .common import reported, tenant_or_exit


@click.group()
def users() -> None:
    """Create users."""


@users.command("create")
@click.argument("email")
@click.option("--tenant", "slug", default=None, help="Tenant the user joins (required unless --operator).")
@click.option("--name", default="")
@click.option("--role", default="admin", show_default=True)
@click.option("--locale", default="en", show_default=True, help="en or zh-CN")
@click.option("--operator", is_flag=True, help="A platform operator (may use the operator API).")
@click.password_option()
@click.pass_obj
def users_create(platform: Platform, email: str, slug: str | None, name: str, role: str, locale: str,
                 operator: bool, password: str) -> None:
    if slug is None and not operator:
        raise click.UsageError("Give --tenant (the tenant the user joins), or --operator.")
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug) if slug else None
        user = create_user(session, email=email, password=password, name=name, locale=locale)
        user.is_operator = operator
        if tenant is not None:
            add_membership(session, tenant, user, role=role)
    click.echo(f"Created {email}" + (f" in {slug} as {role}" if slug else "") + (" (operator)." if operator else "."))


@users.command("operator")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the operator flag away instead.")
@click.pass_obj
def users_operator(platform: Platform, email: str, revoke: bool) -> None:
    """Make EMAIL a platform operator (or, with --revoke, no longer one)."""
    with reported(), platform.control() as session:
        make_operator(session, email, not revoke)
    click.echo(f"{email} is {'no longer' if revoke else 'now'} an operator.")


@users.command("reset-link")
@click.argument("email")
@click.option("--tenant", "slug", required=True, help="Tenant whose sign-in page the link opens.")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="Where the screens are served.")
@click.pass_obj
def users_reset_link(platform: Platform, email: str, slug: str, base_url: str) -> None:
    """Print a password-reset link for EMAIL (works once, for an hour) to hand over yourself."""
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        user = find_user(session, email)
        if user is None or find_member(session, tenant.id, user.id) is None:
            raise click.ClickException(f"{email} is not an active member of {slug}; see 'trellis users create'.")
        token = reset_token(user, platform.settings.secret_key)
    click.echo(f"{base_url.rstrip('/')}/t/{slug}/account/reset/{token}")


@click.group()
def tokens() -> None:
    """Create, list and revoke API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--tenant", "slug", default=None, help="Tenant the token works in (required unless --operator).")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--operator", is_flag=True, help="A token for the operator API instead of a tenant's API.")
@click.pass_obj
def tokens_create(platform: Platform, email: str, slug: str | None, name: str, operator: bool) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    if slug is None and not operator:
        raise click.UsageError("Give --tenant (the tenant the token works in), or --operator.")
    with reported(), platform.control() as session:
        user = find_user(session, email)
        if user is None:
            raise click.ClickException(f"No user {email}; create one with 'trellis users create'.")
        if operator:
            token = create_operator_token(session, user, name)
        else:
            tenant = tenant_or_exit(session, slug)
            token, row = create_token(session, tenant=tenant, user=user, name=name)
            audit.record(session, tenant.id, audit.Who(None, "cli"), "token_created", f"token {row.id}",
                         {"name": row.name, "prefix": row.prefix, "owner_id": user.id})
    click.echo(token)


@tokens.command("list")
@click.option("--tenant", "slug", required=True)
@click.option("--user", "email", default=None, help="Only this user's tokens.")
@click.pass_obj
def tokens_list(platform: Platform, slug: str, email: str | None) -> None:
    """The tenant's tokens: id, prefix, name, owner, created, last used, revoked (never the token itself)."""
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        user = find_user(session, email) if email else None
        if email and user is None:
            raise click.ClickException(f"No user {email}.")
        rows = [(t.id, f"{t.prefix}…", t.name, t.user.email, _when(t.created_at), _when(t.last_used_at),
                 _when(t.revoked_at)) for t in tokens_of(session, tenant.id, user.id if user else None)]
    click.echo("\t".join(("id", "prefix", "name", "user", "created", "last used", "revoked")))
    for row in rows:
        click.echo("\t".join(str(value) for value in row))


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def tokens_revoke(platform: Platform, token_id: int, slug: str) -> None:
    """Revoke token TOKEN_ID of the tenant; it stops working at once."""
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        token = revoke_member_token(session, token_id, tenant_id=tenant.id, user_id=0, is_admin=True)
        audit.record(session, tenant.id, audit.Who(None, "cli"), "token_revoked", f"token {token.id}",
                     {"name": token.name, "prefix": token.prefix, "owner_id": token.user_id})
    click.echo(f"Revoked token {token_id} ({token.name}).")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"
