"""The ``trellis`` command: run the demo, serve, and administer tenants, users and tokens."""

from __future__ import annotations

import sys

import click

from trellis.platform.controlplane.accounts import (
    AccountError,
    add_membership,
    create_token,
    create_user,
    find_tenant,
    find_user,
)
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.core import Platform
from trellis.platform.errors import TrellisError
from trellis.tenants.backup import backup_tenant, restore_tenant
from trellis.tenants.demo import install_demo
from trellis.tenants.registry import create_tenant, list_tenants


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Trellis, the metadata-driven CRM platform.

    Configuration comes from the environment: TRELLIS_DATABASE_URL (PostgreSQL),
    TRELLIS_REDIS_URL and TRELLIS_DATA_DIR; with none set, Trellis runs on SQLite
    files in ./data.
    """
    platform = Platform()
    platform.migrate()
    ctx.obj = platform
    ctx.call_on_close(platform.dispose)


def _serve(platform: Platform, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from .app import create_app

    click.echo(f"Serving Trellis on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, create_app(platform=platform), threaded=True, use_reloader=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Create the demo and print the login, but do not serve.")
@click.pass_obj
def demo(platform: Platform, host: str, port: int, no_serve: bool) -> None:
    """Create tenant 'demo' with sample accounts, contacts and deals, then serve it."""
    login = install_demo(platform)
    base = f"http://{host}:{port}/t/{login.tenant}"
    click.echo(f"Screens:  {base}/   (log in as {login.email} / {login.password})")
    click.echo(f"API:      {base}/api/v1/records/deal")
    click.echo(f"OpenAPI:  {base}/api/v1/openapi.json")
    click.echo(f"Token:    {login.token}")
    click.echo(f'Try:      curl -H "Authorization: Bearer {login.token}" {base}/api/v1/records/deal')
    if not no_serve:
        _serve(platform, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_obj
def serve(platform: Platform, host: str, port: int) -> None:
    """Serve the screens and the API (use gunicorn 'wsgi:app' in production)."""
    _serve(platform, host, port)


@main.group()
def tenants() -> None:
    """Create, list, back up and restore tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", default="", help="Display name (defaults to the slug).")
@click.pass_obj
def tenants_create(platform: Platform, slug: str, name: str) -> None:
    with _reported():
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
    with _reported():
        manifest = backup_tenant(platform, slug, file)
    click.echo(f"Backed up {slug} at revision {manifest['revision']} to {file}.")


@tenants.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("new_slug")
@click.option("--name", default="", help="Display name (defaults to the backed-up tenant's).")
@click.pass_obj
def tenants_restore(platform: Platform, file: str, new_slug: str, name: str) -> None:
    """Create the new tenant NEW_SLUG from a backup FILE; nothing is left behind if it fails."""
    with _reported():
        tenant = restore_tenant(platform, file, new_slug, name)
    click.echo(f"Restored {file} as tenant {tenant.slug} (store {tenant.store_name}).")


@main.group()
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
    with _reported(), platform.control() as session:
        tenant = _tenant(session, slug)
        user = create_user(session, email=email, password=password, name=name, locale=locale)
        add_membership(session, tenant, user, role=role)
    click.echo(f"Created {email} in {slug} as {role}.")


@main.group()
def tokens() -> None:
    """Create API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--tenant", "slug", required=True)
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.pass_obj
def tokens_create(platform: Platform, email: str, slug: str, name: str) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    with _reported(), platform.control() as session:
        tenant = _tenant(session, slug)
        user = find_user(session, email)
        if user is None:
            raise click.ClickException(f"No user {email}; create one with 'trellis users create'.")
        token, _ = create_token(session, tenant=tenant, user=user, name=name)
    click.echo(token)


def _tenant(session, slug: str) -> Tenant:
    tenant = find_tenant(session, slug)
    if tenant is None:
        raise click.ClickException(f"No tenant {slug!r}; see 'trellis tenants list'.")
    return tenant


class _reported:
    """Turn the platform's and accounts' errors into one clear line and exit status 1."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, TrellisError):
            details = "; ".join(f"{p.field}: {p.message}" for p in error.problems)
            click.echo(f"Error: {error.detail} {details}".strip(), err=True)
            sys.exit(1)
        if isinstance(error, AccountError):
            click.echo(f"Error: {error.field}: {error.message}", err=True)
            sys.exit(1)
        return False
