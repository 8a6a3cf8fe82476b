"""Export a tenant's configuration (or a chosen part) as a template package, deterministically.

Ids are stripped (a template's documents are matched by name; the tenant that
installs them gives them its own ids), archived fields and objects are left out,
labels stay inline in the documents, and records are written in id order with
lookups as the target's name. Together with the package writer's sorted keys and
fixed formatting, export → install into an empty tenant → export gives the same bytes.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from trellis.metadata.model import ObjectDef, live_documents
from trellis.platform.core import Platform
from trellis.platform.errors import NotFound
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor, RecordService

from .package import Package

_COMPUTED = {"autonumber", "formula", "rollup"}
_PAGE = 200


def export_package(platform: Platform, slug: str, actor: Actor, *, name: str, version: str = "1.0.0",
                   title: str | None = None, objects: Iterable[str] | None = None,
                   definitions: Iterable[str] | None = None, with_data: bool = False) -> Package:
    """The tenant's live objects (or those named) and definitions (or those named ``kind/name`` or ``kind``;
    when only some objects are chosen, no definitions unless named, as they may read other objects)."""
    runtime = platform.runtime(slug)
    live = {doc["api_name"]: doc for doc in live_documents(runtime.revision.documents)}
    chosen = sorted(live) if objects is None else list(objects)
    missing = [n for n in chosen if n not in live]
    if missing:
        raise NotFound(f"There is no object {', '.join(missing)} to export.")
    package = Package(manifest={"name": name, "version": version, "title": title or name})
    package.objects = {n: strip_ids(live[n]) for n in chosen}
    wanted = definitions if definitions is not None or objects is None else ()
    package.definitions = _definitions(runtime.revision.definitions, wanted)
    if with_data:
        records = platform.records(runtime, actor)
        package.data = {n: records_csv(records, n) for n in chosen}
    return package


def strip_ids(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An object document as a template ships it: no ids, no archive."""
    result = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("id", "archived_fields", "archived")}
    result["fields"] = [{k: v for k, v in f.items() if k != "id"} for f in result.get("fields", [])]
    return result


def _definitions(current: Mapping[str, Mapping[str, Any]], wanted: Iterable[str] | None) -> dict[str, dict]:
    picks = None if wanted is None else set(wanted)
    result: dict[str, dict[str, Any]] = {}
    for kind in sorted(current):
        for doc_name, doc in sorted(current[kind].items()):
            if picks is None or kind in picks or f"{kind}/{doc_name}" in picks:
                result.setdefault(kind, {})[doc_name] = {k: v for k, v in doc.items() if k not in ("id", "kind")}
    return result


def records_csv(records: RecordService, name: str) -> str:
    """Every record of ``name`` the actor may read, in id order, as CSV (lookups by the target's name)."""
    obj = records.runtime.object(name)
    columns = [f.api_name for f in obj.fields if f.type not in _COMPUTED]
    rows, cursor = [], None
    while True:
        page = records.list(name, ListQuery(sort=[("id", False)], limit=_PAGE, cursor=cursor))
        rows += page.records
        cursor = page.next_cursor
        if cursor is None:
            break
    titles = _titles(records, obj, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(obj, column, row.get(column), titles) for column in columns] for row in rows)
    return out.getvalue()


def _titles(records: RecordService, obj: ObjectDef, rows: list[dict[str, Any]]) -> dict[str, dict[int, str]]:
    lookups = [f for f in obj.fields if f.type == "lookup"]
    return {f.api_name: records.titles(str(f.target), {r[f.api_name] for r in rows if r.get(f.api_name)})
            for f in lookups}


def _cell(obj: ObjectDef, column: str, value: Any, titles: Mapping[str, Mapping[int, str]]) -> str:
    if value is None:
        return ""
    if column in titles:
        return titles[column].get(value, "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)
