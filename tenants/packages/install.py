"""Install a template into a tenant: check, one revision through the planner, remember it, seed its data."""

from __future__ import annotations

import copy
from typing import Any

from trellis.metadata import definitions as kinds
from trellis.metadata.model import live_documents, with_ids
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict
from trellis.platform.extensions import registry as extensions
from trellis.platform.records.service import Actor

from . import state, versions
from .apply import Outcome, ids_of, refuse, save
from .package import Package, PackageProblem
from .seed import seed
from .translations import translate
from .validate import validate_package


def install(platform: Platform, slug: str, package: Package, actor: Actor, *, dry_run: bool = False,
            with_data: bool = True) -> Outcome:
    """Add the template's objects and definitions as one new revision, then its seed records."""
    runtime = platform.runtime(slug)
    rows = state.installed(runtime.store)
    if rows.get(package.name, {}).get("status") == "installed":
        raise Conflict(f"The template '{package.name}' is installed already (version "
                       f"{rows[package.name]['version']}); upgrade it instead.")
    live = {doc["api_name"]: doc for doc in live_documents(runtime.revision.documents)}
    current = runtime.revision.definitions
    refuse("The template cannot be installed.", [
        *missing_bases(package, rows), *_clashes(package, live, current),
        *validate_package(package, objects=live, definitions=current)])
    objects = {name: with_ids(doc) for name, doc in translate(package.objects, package.translations).items()}
    definitions = copy.deepcopy(dict(current))
    added = {kind: {name: kinds.stamped(kinds.KINDS[kind], doc, None) for name, doc in docs.items()}
             for kind, docs in package.definitions.items()}
    for kind, docs in added.items():
        definitions.setdefault(kind, {}).update(docs)
    summary = f"Installed template {package.name} {package.version}"
    revision, plan = save(platform, runtime, actor, [*copy.deepcopy(runtime.revision.documents),
                                                     *objects.values()], definitions, summary, dry_run)
    outcome = Outcome("install", package.name, package.version, dry_run, revision, plan)
    if dry_run:
        return outcome
    fresh = platform.runtime(slug)
    with fresh.store.engine.begin() as conn:
        state.record(conn, fresh.store, manifest=package.manifest, revision=revision, base=base_of(package),
                     ids=ids_of(objects, added))
    if with_data and package.data:
        outcome.records = seed(platform.records(fresh, actor), package.data)
    return outcome


def base_of(package: Package) -> dict[str, Any]:
    """The documents as this version ships them (labels translated): the next upgrade's merge base."""
    return {"objects": translate(package.objects, package.translations), "definitions": package.definitions}


def missing_bases(package: Package, rows: dict[str, dict[str, Any]]) -> list[PackageProblem]:
    """What the manifest needs and the tenant lacks: templates it builds on, extensions it uses."""
    problems = []
    for index, need in enumerate(package.manifest.get("builds_on", [])):
        row = rows.get(need.get("name"))
        wanted = need.get("version", "")
        if row is None or row["status"] != "installed" or not versions.satisfies(row["version"], wanted):
            have = f"version {row['version']} is installed" if row and row["status"] == "installed" else "it is not "\
                                                                                                       "installed"
            problems.append(PackageProblem("manifest.json", f"$.builds_on[{index}]", (
                f"This template builds on {need.get('name')} {wanted}".rstrip() + f", and {have}; install that "
                "first.")))
    available = extensions.installed()
    problems += [PackageProblem("manifest.json", f"$.extensions[{index}]", (
        f"The template needs the extension '{name}', which is not installed on this Trellis; install its Python "
        "package first.")) for index, name in enumerate(package.manifest.get("extensions", []))
        if name not in available]
    return problems


def _clashes(package: Package, live: dict[str, Any], current: kinds.Definitions) -> list[PackageProblem]:
    problems = [PackageProblem(f"objects/{name}.json", "$.api_name", f"The tenant already has an object called "
                               f"'{name}'; rename one of them before installing.") for name in package.objects
                if name in live]
    for kind, docs in package.definitions.items():
        problems += [PackageProblem(f"{kinds.KINDS[kind].plural}/{name}.json", "$.api_name", (
            f"The tenant already has a {kind} called '{name}'; rename one of them before installing."))
            for name in docs if name in current.get(kind, {})]
    return problems
