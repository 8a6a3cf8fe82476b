"""``trellis tenants``: create, list, rename, suspend, resume, archive, delete, move, back up and restore tenants."""

from __future__ import annotations

import click

from trellis.platform.core import Platform
from trellis.tenants import lifecycle
from trellis.tenants.backup import backup_tenant, restore_tenant
from trellis.tenants.placement import move_tenant
from trellis.tenants.registry import create_tenant, list_tenants

from .common import reported


@click.group()
def tenants() -> None:
    """Create, list, rename, suspend, resume, archive, delete, move, back up and restore tenants."""


_DATABASE = click.option("--database", default=None, help="Configured database to hold it (default: least loaded).")


@tenants.command("create")
@click.argument("slug")
@click.option("--name", default="", help="Display name (defaults to the slug).")
@_DATABASE
@click.pass_obj
def tenants_create(platform: Platform, slug: str, name: str, database: str | None) -> None:
    with reported():
        tenant = create_tenant(platform, slug, name, database)
    click.echo(f"Created tenant {tenant.slug} (store {tenant.store_name}).")


@tenants.command("list")
@click.pass_obj
def tenants_list(platform: Platform) -> None:
    """One line a tenant: slug, status, database, display name."""
    for tenant in list_tenants(platform):
        status = f"{tenant.status} (moving to {tenant.moving_to})" if tenant.moving_to else tenant.status
        click.echo(f"{tenant.slug}\t{status}\t{tenant.database}\t{tenant.name}")


@tenants.command("rename")
@click.argument("slug")
@click.argument("name")
@click.pass_obj
def tenants_rename(platform: Platform, slug: str, name: str) -> None:
    """Give tenant SLUG the display NAME (its addresses stay)."""
    with reported():
        lifecycle.rename(platform, slug, name)
    click.echo(f"Renamed {slug} to {name!r}.")


def _status_command(name: str, status: str, doc: str) -> None:
    @tenants.command(name, help=doc)
    @click.argument("slug")
    @click.pass_obj
    def command(platform: Platform, slug: str) -> None:
        with reported():
            lifecycle.set_status(platform, slug, status)
        click.echo(f"Tenant {slug} {lifecycle.VERBS[status]}.")


_status_command("suspend", "suspended", "Stop serving SLUG: its users see 'this organization is suspended'.")
_status_command("resume", "active", "Serve SLUG again after a suspension or archiving.")
_status_command("archive", "archived", "Stop serving SLUG as if it did not exist; its data is kept.")


@tenants.command("delete")
@click.argument("slug")
@click.option("--no-backup", is_flag=True, help="Do not write a final backup first.")
@click.confirmation_option(prompt="Delete the tenant and all its records?")
@click.pass_obj
def tenants_delete(platform: Platform, slug: str, no_backup: bool) -> None:
    """Delete SLUG and its store; a final backup goes to the data folder unless --no-backup."""
    with reported():
        path = lifecycle.delete(platform, slug, backup=not no_backup)
    click.echo(f"Deleted tenant {slug}." + (f" Final backup: {path}" if path else ""))


@tenants.command("move")
@click.argument("slug")
@click.argument("database")
@click.pass_obj
def tenants_move(platform: Platform, slug: str, database: str) -> None:
    """Move SLUG to the configured DATABASE (its writes pause meanwhile; reads continue)."""
    with reported():
        info = move_tenant(platform, slug, database)
    click.echo(f"Moved {slug} to {info.database}.")


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
@_DATABASE
@click.pass_obj
def tenants_restore(platform: Platform, file: str, new_slug: str, name: str, database: str | None) -> None:
    """Create the new tenant NEW_SLUG from a backup FILE; nothing is left behind if it fails."""
    with reported():
        tenant = restore_tenant(platform, file, new_slug, name, database)
    click.echo(f"Restored {file} as tenant {tenant.slug} (store {tenant.store_name}).")
