"""``trellis roles``: which roles each member of a tenant holds (the roles themselves are metadata)."""

from __future__ import annotations

import click

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.accounts import find_user
from trellis.platform.core import Platform
from trellis.platform.permissions import member_roles, members, set_roles

from .common import reported, tenant_or_exit


@click.group()
def roles() -> None:
    """Show and assign members' roles."""


@roles.command("list")
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def roles_list(platform: Platform, slug: str) -> None:
    """Every member with their membership role and their roles."""
    with reported(), platform.control() as session:
        tenant = tenant_or_exit(session, slug)
        for user_id, _ in members(session, tenant.id):
            found = member_roles(session, tenant.id, user_id)
            click.echo(f"{found['email']}\t{found['role']}\t{', '.join(found['roles']) or '-'}")


@roles.command("assign")
@click.argument("email")
@click.argument("names", nargs=-1)
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def roles_assign(platform: Platform, email: str, names: tuple[str, ...], slug: str) -> None:
    """Give EMAIL exactly the roles NAMES in the tenant (none: take every role away); audited."""
    defined = platform.runtime(slug).definitions("role")
    with reported(), platform.control() as session:
        tenant, user = tenant_or_exit(session, slug), find_user(session, email)
        if user is None:
            raise click.ClickException(f"No user {email!r}.")
        found = set_roles(session, tenant.id, user.id, list(names), defined, audit.Who(None, "cli"))
    click.echo(f"{email} now holds: {', '.join(found['roles']) or 'no role'}.")
