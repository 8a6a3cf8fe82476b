"""``trellis users`` and ``trellis tokens``: people and their API tokens."""

from __future__ import annotations

import click

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_user
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


@click.group()
def tokens() -> None:
    """Create API tokens."""


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
            token, _ = create_token(session, tenant=tenant_or_exit(session, slug), user=user, name=name)
    click.echo(token)
