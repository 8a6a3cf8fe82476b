"""Upgrade an installed template: three-way merge of installed version, new version and the tenant's own.

Objects and definitions are matched by the ids recorded at install, so a tenant
rename is still recognized. The merged set is validated as a whole and saved as one
revision; real conflicts (both sides changed one setting differently) stop a real
upgrade until the admin resolves each ("template" or "tenant" per conflict key) —
a dry run lists them beside the plan. See ``merge.py`` for the rules.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from trellis.metadata import definitions as kinds
from trellis.metadata.model import is_live, live_documents, with_ids
from trellis.metadata.validation import validate_object
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, FieldProblem
from trellis.platform.records.service import Actor

from . import state, versions
from .apply import Outcome, refuse, save
from .install import base_of, missing_bases
from .merge import MISSING, Merge
from .package import Package, PackageProblem
from .renames import follow, tenant_names
from .validate import validate_package


def upgrade(platform: Platform, slug: str, package: Package, actor: Actor, *, dry_run: bool = False,
            resolutions: Mapping[str, str] | None = None) -> Outcome:
    """Bring the tenant to ``package``'s version, keeping every change the tenant made."""
    runtime = platform.runtime(slug)
    row = state.installed_one(runtime.store, package.name)
    if versions.parse(package.version) < versions.parse(row["version"]):
        raise Conflict(f"Version {row['version']} of '{package.name}' is installed; {package.version} is older.")
    base, theirs, ids = row["base"], base_of(package), row["ids"]
    others = {d["api_name"]: d for d in live_documents(runtime.revision.documents)
              if d["id"] not in ids["objects"].values()}
    refuse("The template cannot be upgraded.", [*missing_bases(package, state.installed(runtime.store)),
                                                *validate_package(package, objects=others)])
    renamed = {fid: key.split(".", 1)[1] for key, fid in ids["fields"].items()}
    merge = Merge(renamed, dict(resolutions or {}))
    documents = _objects(merge, base["objects"], theirs["objects"], ids, copy.deepcopy(runtime.revision.documents))
    definitions = _definitions(merge, base["definitions"], theirs["definitions"], ids,
                               copy.deepcopy(dict(runtime.revision.definitions)))
    if merge.conflicts and not dry_run:
        raise Conflict(f"{len(merge.conflicts)} settings were changed both by the tenant and by the new version; "
                       "nothing was changed. Choose \"template\" or \"tenant\" for each and upgrade again.",
                       [FieldProblem(c["key"], f"tenant: {c['tenant']!r}; template: {c['template']!r}")
                        for c in merge.conflicts], extra={"conflicts": merge.conflicts})
    refuse("The upgraded configuration is not valid.", _problems(documents))
    summary = f"Upgraded template {package.name} {row['version']} → {package.version}"
    revision, plan = save(platform, runtime, actor, documents, definitions, summary, dry_run)
    outcome = Outcome("upgrade", package.name, package.version, dry_run, revision, plan, merge.conflicts,
                      merge.notes)
    if not dry_run:
        fresh = platform.runtime(slug)
        with fresh.store.engine.begin() as conn:
            state.record(conn, fresh.store, manifest=package.manifest, revision=revision, base=theirs,
                         ids=_new_ids(theirs, ids, documents, definitions))
    return outcome


def _objects(merge: Merge, base: dict, theirs: dict, ids: dict, documents: list[dict[str, Any]]) -> list[dict]:
    at = {doc["id"]: index for index, doc in enumerate(documents)}
    live_names = {doc["api_name"] for doc in live_documents(documents)}
    for name in [*base, *(n for n in theirs if n not in base)]:
        index = at.get(ids["objects"].get(name, ""))
        ours = documents[index] if index is not None else MISSING
        if ours is not MISSING and not is_live(ours):
            merge.notes.append(f"objects/{name}.json: the tenant archived this object; it is left archived.")
        elif name not in theirs:
            merge.notes.append(f"objects/{name}.json: the new version drops this object; it is kept with its data.")
        elif ours is MISSING and name in base:
            merge.notes.append(f"objects/{name}.json: the tenant removed this object; it is not added back.")
        elif ours is MISSING and name in live_names:
            merge.conflicts.append({"key": f"objects/{name}.json:$", "file": f"objects/{name}.json", "path": "$",
                                    "installed": None, "tenant": name, "template": name})
        elif ours is MISSING:
            documents.append(with_ids(theirs[name]))
        else:
            names = tenant_names(name, ours, ids["fields"])
            documents[index] = with_ids(merge.document(f"objects/{name}.json", follow(base.get(name, MISSING), names),
                                                       ours, follow(theirs[name], names)))
    return documents


def _definitions(merge: Merge, base: dict, theirs: dict, ids: dict, current: dict) -> dict:
    for kind in sorted({*base, *theirs}):
        docs = current.setdefault(kind, {})
        own_ids = ids["definitions"].get(kind, {})
        for name in sorted({*base.get(kind, {}), *theirs.get(kind, {})}):
            ours_name = next((n for n, d in docs.items() if d.get("id") == own_ids.get(name)), None)
            ours = docs.pop(ours_name) if ours_name else MISSING
            file = f"{kinds.KINDS[kind].plural}/{name}.json"
            merged = merge.document(file, base.get(kind, {}).get(name, MISSING), ours, theirs.get(kind, {}).get(
                name, MISSING))
            if ours is MISSING and name in base.get(kind, {}):
                merge.notes.append(f"{file}: the tenant deleted this {kind}; it is not added back.")
            elif merged is not MISSING:
                stored = kinds.stamped(kinds.KINDS[kind], merged, ours if ours is not MISSING else None)
                docs[stored["api_name"]] = stored
    return current


def _problems(documents: list[dict[str, Any]]) -> list[PackageProblem]:
    live = {doc["api_name"]: doc for doc in live_documents(documents)}
    return [PackageProblem(f"objects/{name}.json", p.path, p.message) for name, doc in live.items()
            for p in validate_object(doc, known_objects={k: v for k, v in live.items() if k != name})]


def _new_ids(theirs: dict, ids: dict, documents: list[dict], definitions: kinds.Definitions) -> dict[str, Any]:
    """The ids of the new version's documents: kept where they were known, found by name where they are new."""
    by_id = {doc["id"]: doc for doc in documents}
    by_name = {doc["api_name"]: doc for doc in live_documents(documents)}
    result: dict[str, Any] = {"objects": {}, "fields": {}, "definitions": {}}
    for name, template in theirs["objects"].items():
        doc = by_id.get(ids["objects"].get(name, "")) or by_name.get(name)
        if doc is None:
            continue
        result["objects"][name] = doc["id"]
        field_ids = {f["id"]: f for f in doc["fields"]}
        for field in template["fields"]:
            known = ids["fields"].get(f"{name}.{field['api_name']}")
            found = known if known in field_ids else next(
                (f["id"] for f in doc["fields"] if f["api_name"] == field["api_name"]), None)
            if found:
                result["fields"][f"{name}.{field['api_name']}"] = found
    for kind, docs in theirs["definitions"].items():
        known = ids["definitions"].get(kind, {})
        stored = definitions.get(kind, {})
        present = {d["id"] for d in stored.values()}
        result["definitions"][kind] = {
            name: known[name] if known.get(name) in present else stored[name]["id"]
            for name in docs if known.get(name) in present or name in stored}
    return result
