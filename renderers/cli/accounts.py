"""``trellis users`` and ``trellis tokens``: people and their API tokens."""

from __future__ import annotations

import click

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_user
from trellis.platform.core import Platform

from .common import reported, tenant_or_exit


@click.group()
def users() -> None:
    """Create users."""


@users.command("create")
@click.argument("email")
@click.option("--tenant", "slug", required=True, help="Tenant the user joins.")
@click.option("--name", default="")
@click.option("--role", default="admin", show_default=True)
@click.option("--locale", default="en", show_default=True, help="en or zh-CN")
@click.password_option()
@click.pass_obj
def users_create(platform: Platform, email: str, slug: str, name: str, role: str, locale: str, password: str) -> None:
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        user = create_user(session, email=email, password=password, name=name, locale=locale)
        add_membership(session, tenant, user, role=role)
    click.echo(f"Created {email} in {slug} as {role}.")


@click.group()
def tokens() -> None:
    """Create API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--tenant", "slug", required=True)
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.pass_obj
def tokens_create(platform: Platform, email: str, slug: str, name: str) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        user = find_user(session, email)
        if user is None:
            raise click.ClickException(f"No user {email}; create one with 'trellis users create'.")
        token, _ = create_token(session, tenant=tenant, user=user, name=name)
    click.echo(token)
