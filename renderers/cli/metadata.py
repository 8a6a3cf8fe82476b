"""``trellis metadata``: a tenant's revision log, diffs between revisions, and rollback."""

from __future__ import annotations

import json

import click

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.platform.storage.plan import Migration

from .common import reported


@click.group()
def metadata() -> None:
    """Read a tenant's revision log, compare revisions and roll back."""


@metadata.command("revisions")
@click.argument("slug")
@click.pass_obj
def revisions(platform: Platform, slug: str) -> None:
    """List tenant SLUG's revisions, newest first."""
    with reported():
        history = _editor(platform, slug).history()
    for revision in history:
        when = revision.created_at.isoformat(timespec="seconds") if revision.created_at else ""
        click.echo(f"{revision.number}\t{when}\t{revision.summary}")


@metadata.command("diff")
@click.argument("slug")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.pass_obj
def diff(platform: Platform, slug: str, first: int, second: int) -> None:
    """Print the changes from revision FIRST to SECOND, one JSON object per line."""
    with reported():
        changes = _editor(platform, slug).diff(first, second)
    for change in changes:
        click.echo(json.dumps(change))


@metadata.command("rollback")
@click.argument("slug")
@click.argument("number", type=int)
@click.option("--dry-run", is_flag=True, help="Print the plan and its impact; change nothing.")
@click.option("--keep-unconvertible", is_flag=True, help="Convert anyway; values that do not convert stay only "
                                                         "in the archive.")
@click.pass_obj
def rollback(platform: Platform, slug: str, number: int, dry_run: bool, keep_unconvertible: bool) -> None:
    """Make revision NUMBER's configuration current again (a new revision; fields added since are archived)."""
    with reported():
        editor = _editor(platform, slug, Migration(keep_unconvertible=keep_unconvertible), dry_run)
        new = editor.rollback(number)
    for line in editor.last_plan.lines() if editor.last_plan else ["Nothing to change."]:
        click.echo(line)
    click.echo("Dry run: nothing was changed." if dry_run else f"Rolled back to revision {number} as revision {new}.")


@metadata.command("change-field")
@click.argument("slug")
@click.argument("object_name")
@click.argument("field")
@click.argument("settings")
@click.option("--migration", "migration_json", default=None, help='What makes it safe, e.g. \'{"fill": 0}\'.')
@click.option("--dry-run", is_flag=True, help="Print the plan and its impact; change nothing.")
@click.pass_obj
def change_field(platform: Platform, slug: str, object_name: str, field: str, settings: str,
                 migration_json: str | None, dry_run: bool) -> None:
    """Change FIELD of OBJECT_NAME with the JSON SETTINGS (e.g. '{"type": "integer"}'), planned first."""
    with reported():
        changes = _json("SETTINGS", settings)
        migration = Migration.from_request(_json("--migration", migration_json)) if migration_json else None
        editor = _editor(platform, slug, migration, dry_run)
        new = editor.update_field(object_name, field, changes)
    for line in editor.last_plan.lines() if editor.last_plan else ["Nothing to change."]:
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was changed.")
    elif editor.last_job is not None:
        click.echo(f"Running as job {editor.last_job}: see 'trellis jobs show {editor.last_job}'.")
    else:
        click.echo(f"Saved as revision {new}.")


def _json(name: str, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON ({error.msg} at character {error.pos}).", param_hint=name) from None


def _editor(platform: Platform, slug: str, migration: Migration | None = None, dry_run: bool = False):
    return platform.editor(platform.runtime(slug), Actor(user_id=None), migration=migration, dry_run=dry_run)
