"""Every problem of a template package, each with its file and JSON path.

Reuses the metadata validation an admin's edit goes through (``validate_object``,
``validate_definition``) so a package that validates installs, and adds what only a
package has: the manifest, file names matching api_names, seed-data columns and
translation keys.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from trellis.metadata import definitions as kinds
from trellis.metadata.model import with_ids
from trellis.metadata.validation import schema_problems, validate_object

from . import versions
from .package import Package, PackageProblem
from .translations import translate, unknown_keys

_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def trellis_version() -> str:
    try:
        return version("trellis-crm")
    except PackageNotFoundError:  # a checkout run without installing
        return "0.0.0"


def validate_package(package: Package, *, objects: Mapping[str, Mapping[str, Any]] | None = None,
                     definitions: kinds.Definitions | None = None) -> list[PackageProblem]:
    """Every problem of ``package``, given the objects and definitions it will join (a tenant's, or the
    templates it builds on); an empty list when it is ready to install."""
    objects = dict(objects or {})
    problems = [*package.problems, *_manifest_problems(package.manifest)]
    own = translate(package.objects, package.translations)
    known = {**objects, **own}
    # What definitions may refer to: documents that validate, with ids as stored ones have.
    sound = {n: with_ids(d) for n, d in objects.items()}
    for name, doc in own.items():
        found = _object_problems(name, doc, {k: v for k, v in known.items() if k != name})
        problems += found
        if not found:
            sound[name] = with_ids(doc)
    merged = {kind: {**(definitions or {}).get(kind, {}), **docs} for kind, docs in package.definitions.items()}
    for kind_name, docs in sorted(package.definitions.items()):
        kind = kinds.KINDS[kind_name]
        for name, doc in sorted(docs.items()):
            file = f"{kind.plural}/{name}.json"
            problems += _named(file, name, doc)
            problems += [PackageProblem(file, p.path, p.message) for p in kinds.validate_definition(
                kind, doc, objects=sound, definitions=merged)]
    for name, text in sorted(package.data.items()):
        problems += _data_problems(f"data/{name}.csv", known.get(name), text)
        problems += _unmatched_lookups(name, own, package.data)
    for locale, labels in sorted(package.translations.items()):
        problems += _translation_problems(locale, labels, own)
    return problems


def _manifest_problems(manifest: Any) -> list[PackageProblem]:
    if not isinstance(manifest, dict):
        return [PackageProblem("manifest.json", "$", "The manifest must be a set of settings in braces { }.")]
    problems = [PackageProblem("manifest.json", p.path, p.message)
                for p in schema_problems(manifest, "template_manifest")[0]]
    wanted = manifest.get("requires_trellis")
    if isinstance(wanted, str) and not problems and not versions.satisfies(trellis_version(), wanted):
        problems.append(PackageProblem("manifest.json", "$.requires_trellis", (
            f"The template needs Trellis {wanted}, and this is Trellis {trellis_version()}; upgrade Trellis "
            "or use a version of the template made for it.")))
    return problems


def _named(file: str, name: str, doc: Any) -> list[PackageProblem]:
    if isinstance(doc, dict) and "api_name" in doc and doc["api_name"] != name:
        return [PackageProblem(file, "$.api_name", f"The file is called {name} but the document's api_name is "
                                                    f"{doc['api_name']!r}; make them the same.")]
    return []


def _object_problems(name: str, doc: Any, others: Mapping[str, Any]) -> list[PackageProblem]:
    file = f"objects/{name}.json"
    problems = _named(file, name, doc)
    problems += [PackageProblem(file, p.path, p.message) for p in validate_object(doc, known_objects=others)]
    return problems


def _data_problems(file: str, doc: Mapping[str, Any] | None, text: str) -> list[PackageProblem]:
    if doc is None:
        return [PackageProblem(file, "$", "There is no object of this name in the template or what it builds on; "
                                          "rename the file to data/<object api_name>.csv.")]
    header = next(csv.reader(io.StringIO(text)), [])
    fields = {f.get("api_name") for f in doc.get("fields", []) if isinstance(f, dict)}
    return [PackageProblem(file, f"$[0][{index}]", f"'{column}' is not a field of {doc.get('api_name')}; use one "
                                                    f"of: {', '.join(sorted(map(str, fields)))}.")
            for index, column in enumerate(header) if column not in fields]


def _unmatched_lookups(name: str, own: Mapping[str, Any], data: Mapping[str, str]) -> list[PackageProblem]:
    """Lookup cells naming a record that the package's own data for the target does not have."""
    doc = own.get(name)
    if not isinstance(doc, dict) or not isinstance(doc.get("fields"), list):
        return []
    targets = {f["api_name"]: f["target"] for f in doc["fields"]
               if isinstance(f, dict) and f.get("type") == "lookup" and f.get("target") in data and f["target"] in own}
    rows = list(csv.DictReader(io.StringIO(data[name])))
    problems = []
    for column, target in targets.items():
        title = own[target].get("name_field")
        names = {row.get(title) for row in csv.DictReader(io.StringIO(data[target]))}
        if title is None or names == {None}:  # the target's CSV does not name its records: nothing to check
            continue
        problems += [PackageProblem(f"data/{name}.csv", f"$[{line}].{column}", (
            f"No {target} in data/{target}.csv is called '{row[column]}'; use the exact name of one."))
            for line, row in enumerate(rows, start=1) if row.get(column) and row[column] not in names]
    return problems


def _translation_problems(locale: str, labels: Any, objects: Mapping[str, Any]) -> list[PackageProblem]:
    file = f"translations/{locale}.json"
    if not _LOCALE.fullmatch(locale):
        return [PackageProblem(file, "$", f"'{locale}' is not a locale; name the file like zh-CN.json or de.json.")]
    if not isinstance(labels, dict) or not all(isinstance(v, str) and v for v in labels.values()):
        return [PackageProblem(file, "$", "A translation file maps names to labels: {\"account.industry\": \"…\"}.")]
    return [PackageProblem(file, f"$['{key}']", "This names no object, field or picklist value of the template; "
                                                "use object, object.plural, object.field or object.field.value.")
            for key in unknown_keys(objects, labels)]
