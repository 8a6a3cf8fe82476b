"""The ``trellis`` command: the group, ``demo`` and ``serve``; other command groups have their own modules."""

from __future__ import annotations

import click

from trellis.platform.core import Platform
from trellis.tenants.demo import install_demo

from .accounts import tokens, users
from .automations import automations
from .jobs import jobs, worker
from .metadata import metadata
from .roles import roles
from .templates import templates
from .tenants import tenants


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

    from ..app import create_app, settle_heap

    click.echo(f"Serving Trellis on http://{host}:{port}/  (Ctrl+C to stop)")
    app = create_app(platform=platform)
    if platform.settings.redis_url is None:  # embedded: this process runs the jobs, so it scans for due rules too
        platform.automation.ticker.start()
    settle_heap()
    run_simple(host, port, app, threaded=True, use_reloader=False)


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


for group in (tenants, users, tokens, metadata, jobs, worker, automations, templates, roles):
    main.add_command(group)
