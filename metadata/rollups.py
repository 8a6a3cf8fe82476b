"""Rollup fields: count, sum, min, max or average of the child records that point at a record.

A rollup names its children by a lookup on them (``child_object`` and ``via``, any lookup, not only a
master-detail), the aggregate (``function``), the child field it reads (``field``; count reads none) and
an optional boolean expression on the child (``filter``). The platform computes it on read as a
correlated subquery, so it is right whatever happened to the children; this module says whether a
rollup's settings make sense and what type its value has, so where=, filters, formulas and the API's
document type it before any SQL exists. Its ``field`` and ``filter`` read the child's stored fields (and
lookup paths from it), not the child's own formulas or rollups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .expressions import Checked, ExpressionError, ExprType, FieldRef, Node, Scope, check, children, parse
from .memo import MetadataMemo
from .model import FieldDef, ObjectDef, is_live, live_documents, with_ids

FUNCTIONS = ("count", "sum", "min", "max", "avg")
NUMBER_FIELDS = ("integer", "decimal", "currency", "percent")
#: Child field types each function can read.
READS = {"sum": NUMBER_FIELDS, "avg": NUMBER_FIELDS, "min": (*NUMBER_FIELDS, "date", "datetime"),
         "max": (*NUMBER_FIELDS, "date", "datetime")}
_TYPES = {"date": ExprType.DATE, "datetime": ExprType.DATETIME}
#: The catalog type a rollup reads as inside an expression on its own object (as formulas stand in).
_STAND_INS = {ExprType.NUMBER: "decimal", ExprType.DATE: "date", ExprType.DATETIME: "datetime"}


@dataclass(frozen=True)
class Rollup:
    """One rollup whose settings check: what the platform compiles into the SELECT."""

    name: str
    child: ObjectDef
    via: str
    function: str
    #: The child field aggregated (None for count).
    field: FieldDef | None
    #: The checked filter on the child, if any.
    filter: Checked | None
    result: ExprType


def check_rollup(field: FieldDef, owner: str, objects: Mapping[str, ObjectDef]) -> tuple[Rollup | None,
                                                                                          list[tuple[str, str]]]:
    """The rollup ``field`` of object ``owner``, or the (setting, how to fix it) problems that stop it."""
    options = field.options
    child = objects.get(options.get("child_object", ""))
    if child is None:
        names = ", ".join(sorted(objects)) or "none yet"
        return None, [("child_object", f"'{options.get('child_object')}' is not an object of this CRM; name the "
                       f"object whose records are rolled up (objects: {names}).")]
    problems = []
    if (via_problem := _via_problem(child, options.get("via"), owner)) is not None:
        problems.append(("via", via_problem))
    function = options.get("function")
    source, field_problem = _source_field(child, function, options.get("field"))
    if field_problem is not None:
        problems.append(("field", field_problem))
    checked, filter_problem = _filter(child, options.get("filter"), objects)
    if filter_problem is not None:
        problems.append(("filter", filter_problem))
    if problems:
        return None, problems
    keeps_type = source is not None and function in ("min", "max")  # min/max of dates are dates
    result = _TYPES.get(source.type, ExprType.NUMBER) if keeps_type else ExprType.NUMBER  # type: ignore[union-attr]
    return Rollup(field.api_name, child, options["via"], function, source, checked, result), []


def _via_problem(child: ObjectDef, via: Any, owner: str) -> str | None:
    lookups = [f.api_name for f in child.fields if f.type == "lookup" and f.target == owner]
    hint = (f"use one of: {', '.join(lookups)}" if lookups
            else f"add a lookup to {owner} on {child.api_name} first")
    if not child.has_field(via):
        return f"'{via}' is not a field of {child.api_name}; {hint}."
    found = child.field(via)
    if found.type != "lookup" or found.target != owner:
        return f"'{via}' is not a lookup from {child.api_name} to {owner}; {hint}."
    return None


def _source_field(child: ObjectDef, function: Any, name: Any) -> tuple[FieldDef | None, str | None]:
    """The child field a function reads, or why it cannot read it."""
    if function == "count":
        return None, (None if name is None else "count counts the child records and reads no field; remove field.")
    allowed = READS[function]
    fitting = [f.api_name for f in child.fields if f.type in allowed]
    hint = f"such as {', '.join(fitting[:5])}" if fitting else f"add a {allowed[0]} field to {child.api_name} first"
    if name is None:
        return None, f"{function} needs the child field it reads; name a {' or '.join(allowed)} field, {hint}."
    if not child.has_field(name):
        return None, f"'{name}' is not a field of {child.api_name}; name one {hint}."
    found = child.field(name)
    if found.type not in allowed:
        return None, (f"'{name}' is a {found.type} field, and {function} reads a {' or '.join(allowed)} field; "
                      f"name one {hint}.")
    return found, None


def _filter(child: ObjectDef, text: Any, objects: Mapping[str, ObjectDef]) -> tuple[Checked | None, str | None]:
    if text is None:
        return None, None
    try:
        return check(parse(text), Scope(child, objects), expect=ExprType.BOOLEAN), None
    except ExpressionError as error:
        return None, f"The filter on {child.api_name} cannot be used: {error}"


def rollup_problems(doc: Mapping[str, Any], objects: Mapping[str, ObjectDef]) -> list[tuple[str, str]]:
    """(JSON path, message) for every rollup of a schema-valid object document whose settings do not fit;
    ``objects`` holds the tenant's objects with this one among them."""
    problems = []
    for index, field in enumerate(doc.get("fields") or []):
        if isinstance(field, Mapping) and field.get("type") == "rollup":
            definition = FieldDef.from_document({"id": "", **field})
            for option, message in check_rollup(definition, doc["api_name"], objects)[1]:
                problems.append((f"$.fields[{index}].{option}", message))
    return problems


def _checked_rollups(obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> dict[str, Rollup]:
    found = {}
    for field in obj.fields:
        if field.type == "rollup" and (rollup := check_rollup(field, obj.api_name, objects)[0]) is not None:
            found[field.api_name] = rollup
    return found


#: The rollups of an object that check, remembered per revision; one that does not check is left out
#: (the query engine reads it as blank rather than failing the list).
rollups_of: MetadataMemo[dict[str, Rollup]] = MetadataMemo(_checked_rollups)


def with_stand_ins(obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> ObjectDef:
    """``obj`` with each rollup that checks standing in as a field of its result type, so formulas, where=
    and filters of the same object can read it like a column."""
    rollups = rollups_of(obj, objects) if any(f.type == "rollup" for f in obj.fields) else {}
    if not rollups:
        return obj
    fields = tuple(replace(f, type=_STAND_INS[rollups[f.api_name].result]) if f.api_name in rollups else f
                   for f in obj.fields)
    return replace(obj, fields=fields)


def result_names(obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> dict[str, str]:
    """The result type's name (number, date, datetime) of each rollup of ``obj`` that checks, for the API's
    document (the catalog alone cannot tell what min or max of a child field gives)."""
    return {name: rollup.result.value for name, rollup in rollups_of(obj, objects).items()}


def object_rollup_problems(doc: Mapping[str, Any], known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(JSON path, message) for the rollups of a schema-valid object document, against the tenant's others."""
    if not any(isinstance(f, Mapping) and f.get("type") == "rollup" for f in doc.get("fields") or []):
        return []
    obj = ObjectDef.from_document(with_ids(doc))
    objects = {name: ObjectDef.from_document(with_ids(other)) for name, other in known_objects.items()}
    objects[obj.api_name] = obj
    return rollup_problems(doc, objects)


def field_rollup_problems(field: Mapping[str, Any], object_doc: Mapping[str, Any],
                          known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(JSON path in the field, message) for a rollup field added to, or replacing one in, ``object_doc``."""
    if field.get("type") != "rollup":
        return []
    others = [f for f in object_doc.get("fields") or [] if f.get("api_name") != field.get("api_name")
              and not (field.get("id") and f.get("id") == field.get("id"))]
    merged = {**object_doc, "fields": [field, *others]}
    return [(f"${path.removeprefix('$.fields[0]')}", message)
            for path, message in object_rollup_problems(merged, known_objects) if path.startswith("$.fields[0].")]


def follow_renames(old_documents: list[Mapping[str, Any]], documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``documents`` with every rollup following a rename of its child object or of the child's fields since
    ``old_documents`` (matched by stable ids): ``child_object``, ``via``, ``field`` and the names the filter
    reads on the child, as lookups follow a renamed object."""
    before = {d["api_name"]: d for d in live_documents(old_documents)}
    after = {d["id"]: d for d in live_documents(documents)}
    result = []
    for doc in documents:
        if is_live(doc) and any(f.get("type") == "rollup" for f in doc["fields"]):
            doc = {**doc, "fields": [_follow(f, before, after) if f.get("type") == "rollup" else f
                                     for f in doc["fields"]]}
        result.append(doc)
    return result


def _follow(field: dict[str, Any], before: Mapping[str, Mapping], after: Mapping[str, Mapping]) -> dict[str, Any]:
    old_child = before.get(field["child_object"])
    new_child = after.get(old_child["id"]) if old_child is not None else None
    if new_child is None:  # a child created in this change, or one archived (the rollup then reads blank)
        return field
    names = {f["id"]: f["api_name"] for f in new_child["fields"]}
    renamed = {f["api_name"]: names[f["id"]] for f in old_child["fields"]
               if f["id"] in names and names[f["id"]] != f["api_name"]}
    if new_child["api_name"] == field["child_object"] and not renamed:
        return field
    followed = {**field, "child_object": new_child["api_name"]}
    for key in ("via", "field"):
        if key in field:
            followed[key] = renamed.get(field[key], field[key])
    if "filter" in field and renamed:
        followed["filter"] = _renamed_refs(field["filter"], renamed)
    return followed


def _renamed_refs(text: str, renamed: Mapping[str, str]) -> str:
    """``text`` with each reference to a renamed child field (the first name of a path) spelled anew."""
    try:
        root = parse(text).root
    except ExpressionError:
        return text
    spots = sorted(((ref.pos, ref.path[0]) for ref in _refs(root) if ref.path[0] in renamed), reverse=True)
    for pos, name in spots:  # from the end, so earlier positions stay right
        if text[pos:pos + len(name)] == name:
            text = text[:pos] + renamed[name] + text[pos + len(name):]
    return text


def _refs(node: Node) -> Iterator[FieldRef]:
    if isinstance(node, FieldRef):
        yield node
    for child in children(node):
        yield from _refs(child)


def broken_rollups(old_documents: list[Mapping[str, Any]], documents: list[Mapping[str, Any]],
                   ) -> list[tuple[str, str]]:
    """(path, message) for each rollup that worked before this change and would not after it, while its child
    object stays in use: a change to the child (a field archived or converted) must not blank it unnoticed.
    Archiving the child object itself is allowed; its rollups then read blank."""
    new = {d["api_name"]: ObjectDef.from_document(d) for d in live_documents(documents)}
    if not any(f.type == "rollup" for obj in new.values() for f in obj.fields):
        return []
    old = {d["api_name"]: ObjectDef.from_document(d) for d in live_documents(old_documents)}
    problems = []
    for obj in new.values():
        for field in obj.fields:
            if field.type != "rollup" or field.options.get("child_object") not in new or not _worked(field, obj, old):
                continue
            for option, message in check_rollup(field, obj.api_name, new)[1][:1]:
                problems.append((f"{obj.api_name}.{field.api_name}.{option}", f"This change breaks the rollup "
                                 f"{obj.api_name}.{field.api_name}: {message} Change or archive the rollup first."))
    return problems


def _worked(field: FieldDef, obj: ObjectDef, old: Mapping[str, ObjectDef]) -> bool:
    """Whether the rollup (by its id) checked in the revision before."""
    before = old.get(obj.api_name)
    same = next((f for f in before.fields if f.id == field.id), None) if before is not None else None
    return same is not None and same.api_name in rollups_of(before, old)
