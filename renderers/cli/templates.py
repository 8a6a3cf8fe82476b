"""``trellis templates``: list, validate, install, upgrade, uninstall and export template packages."""

from __future__ import annotations

import click

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.packages import catalog, state
from trellis.tenants.packages.apply import Outcome
from trellis.tenants.packages.export import export_package
from trellis.tenants.packages.install import install as install_package
from trellis.tenants.packages.package import read_package, write_package
from trellis.tenants.packages.uninstall import uninstall as uninstall_package
from trellis.tenants.packages.upgrade import upgrade as upgrade_package
from trellis.tenants.packages.validate import validate_package

from .common import reported

_DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the plan (and conflicts); change nothing.")
_CLI = Actor(user_id=None)


@click.group()
def templates() -> None:
    """Template packages: the shipped ones, a tenant's installed ones, and partners' own."""


@templates.command("list")
@click.option("--tenant", "slug", default=None, help="Also list what this tenant has installed.")
@click.pass_obj
def list_(platform: Platform, slug: str | None) -> None:
    """List the templates shipped with Trellis (and those installed in --tenant)."""
    for package in catalog.available():
        click.echo(f"{package.name}\t{package.version}\tshipped")
    if slug:
        with reported():
            rows = state.installed(platform.runtime(slug).store)
        for name, row in rows.items():
            click.echo(f"{name}\t{row['version']}\t{row['status']} in {slug}")


@templates.command()
@click.argument("path")
def validate(path: str) -> None:
    """Check the package at PATH (folder, .zip or shipped name); print every problem with file and JSON path."""
    with reported():
        location = catalog.locate(path)
        package = read_package(location)
        objects, definitions = catalog.context(package, location.parent)
        problems = validate_package(package, objects=objects, definitions=definitions)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.ClickException(f"{len(problems)} problems.")
    click.echo(f"{package.name} {package.version} is valid.")


@templates.command()
@click.argument("slug")
@click.argument("package")
@_DRY_RUN
@click.option("--no-data", is_flag=True, help="Do not create the template's sample records.")
@click.pass_obj
def install(platform: Platform, slug: str, package: str, dry_run: bool, no_data: bool) -> None:
    """Install PACKAGE (shipped name or path) into tenant SLUG as one new revision."""
    with reported():
        _show(install_package(platform, slug, read_package(catalog.locate(package)), _CLI, dry_run=dry_run,
                              with_data=not no_data))


@templates.command()
@click.argument("slug")
@click.argument("package")
@_DRY_RUN
@click.option("--resolve", multiple=True, metavar="KEY=template|tenant",
              help="Decide a conflict (its key as listed by --dry-run); repeat for each.")
@click.pass_obj
def upgrade(platform: Platform, slug: str, package: str, dry_run: bool, resolve: tuple[str, ...]) -> None:
    """Upgrade tenant SLUG to PACKAGE's version: the tenant's changes win, conflicts must be resolved."""
    resolutions = dict(item.rsplit("=", 1) for item in resolve)
    with reported():
        _show(upgrade_package(platform, slug, read_package(catalog.locate(package)), _CLI, dry_run=dry_run,
                              resolutions=resolutions))


@templates.command()
@click.argument("slug")
@click.argument("name")
@_DRY_RUN
@click.pass_obj
def uninstall(platform: Platform, slug: str, name: str, dry_run: bool) -> None:
    """Archive template NAME's objects (records kept, restorable) and remove its definitions from SLUG."""
    with reported():
        _show(uninstall_package(platform, slug, name, _CLI, dry_run=dry_run))


@templates.command()
@click.argument("slug")
@click.argument("target")
@click.option("--name", required=True, help="The template's api_name.")
@click.option("--version", "version_", default="1.0.0", show_default=True)
@click.option("--title", default=None)
@click.option("--object", "objects", multiple=True, help="Export only these objects (repeat).")
@click.option("--definition", "definitions", multiple=True, help="Only these definitions: kind or kind/name.")
@click.option("--data", is_flag=True, help="Include the records as data/<object>.csv.")
@click.pass_obj
def export(platform: Platform, slug: str, target: str, name: str, version_: str, title: str | None,
           objects: tuple[str, ...], definitions: tuple[str, ...], data: bool) -> None:
    """Export SLUG's configuration as a template folder, or a zip when TARGET ends in .zip."""
    with reported():
        package = export_package(platform, slug, _CLI, name=name, version=version_, title=title,
                                 objects=objects or None, definitions=definitions or None, with_data=data)
    click.echo(f"Wrote {write_package(package, target)}")


def _show(outcome: Outcome) -> None:
    for line in outcome.plan or ["Nothing to change."]:
        click.echo(line)
    for note in outcome.notes:
        click.echo(f"Note: {note}")
    for conflict in outcome.conflicts:
        click.echo(f"Conflict {conflict['key']}: tenant {conflict['tenant']!r}, template {conflict['template']!r}")
    for name, count in outcome.records.items():
        click.echo(f"Created {count} {name} records.")
    done = "Dry run: nothing was changed." if outcome.dry_run else f"Done: revision {outcome.revision}."
    click.echo(f"{outcome.action.capitalize()} {outcome.template} {outcome.version}. {done}")
