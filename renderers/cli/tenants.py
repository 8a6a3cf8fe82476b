"""``trellis tenants``: create, list, back up and restore tenants."""

from __future__ import annotations

import click

from trellis.platform.core import Platform
from trellis.tenants.backup import backup_tenant, restore_tenant
from trellis.tenants.registry import create_tenant, list_tenants

from .common import reported


@click.group()
def tenants() -> None:
    """Create, list, back up and restore tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", default="", help="Display name (defaults to the slug).")
@click.pass_obj
def tenants_create(platform: Platform, slug: str, name: str) -> None:
    with reported():
        tenant = create_tenant(platform, slug, name)
    click.echo(f"Created tenant {tenant.slug} (store {tenant.store_name}).")


@tenants.command("list")
@click.pass_obj
def tenants_list(platform: Platform) -> None:
    for tenant in list_tenants(platform):
        click.echo(f"{tenant.slug}\t{tenant.status}\t{tenant.name}")


@tenants.command("backup")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.pass_obj
def tenants_backup(platform: Platform, slug: str, file: str) -> None:
    """Write tenant SLUG (metadata history, counters and every record) to the zip FILE."""
    with reported():
        manifest = backup_tenant(platform, slug, file)
    click.echo(f"Backed up {slug} at revision {manifest['revision']} to {file}.")


@tenants.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("new_slug")
@click.option("--name", default="", help="Display name (defaults to the backed-up tenant's).")
@click.pass_obj
def tenants_restore(platform: Platform, file: str, new_slug: str, name: str) -> None:
    """Create the new tenant NEW_SLUG from a backup FILE; nothing is left behind if it fails."""
    with reported():
        tenant = restore_tenant(platform, file, new_slug, name)
    click.echo(f"Restored {file} as tenant {tenant.slug} (store {tenant.store_name}).")
