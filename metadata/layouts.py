"""Form layouts: sections of fields with live rules, and related lists, as typed views and checks.

An object may carry several ``layouts``; the first is the default (roles will choose among
them later). A form field's ``visible_if``, ``required_if`` and ``readonly_if`` are boolean
expressions that the screens run in the browser as the user types (a small evaluator in
``renderers/screens/static``) and the platform enforces again on save. Because the browser
runs them, they may use only the functions that evaluator implements and fields of the
object itself (no lookup paths): anything else is refused here, by name, when saved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .expressions import Call, Checked, ExpressionError, ExprType, FieldRef, Node, Scope, check, children, parse
from .model import ObjectDef, with_ids
from .rules import rule_problems

#: The functions the browser's evaluator implements (renderers/screens/static/trellis-rules.js).
BROWSER_FUNCTIONS = frozenset({
    "IF", "CASE", "ISBLANK", "BLANKVALUE", "TODAY", "NOW", "DATE", "YEAR", "MONTH", "DAYS_BETWEEN", "ADD_DAYS",
    "TEXT", "VALUE", "CONCAT", "LEFT", "RIGHT", "LEN", "UPPER", "LOWER", "CONTAINS", "ROUND", "ABS", "MIN", "MAX",
})
RULE_KEYS = ("visible_if", "required_if", "readonly_if")


@dataclass(frozen=True)
class FormField:
    field: str
    readonly: bool = False
    required: bool = False
    help_text: Any = None
    visible_if: str | None = None
    required_if: str | None = None
    readonly_if: str | None = None

    def rule(self, key: str) -> str | None:
        return getattr(self, key)


@dataclass(frozen=True)
class Section:
    label: Any
    columns: int
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class RelatedList:
    """Child records of ``object`` whose lookup ``via`` points at the record shown."""

    object: str
    via: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    name: str
    label: Any
    sections: tuple[Section, ...]
    related_lists: tuple[RelatedList, ...]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Layout:
        sections = tuple(Section(s.get("label"), int(s.get("columns", 1)),
                                 tuple(FormField(**f) for f in s.get("fields", [])))
                         for s in doc.get("sections", []))
        related = tuple(RelatedList(r["object"], r["via"], tuple(r.get("fields", [])))
                        for r in doc.get("related_lists", []))
        return cls(doc["name"], doc.get("label"), sections, related)

    def form_fields(self) -> Iterator[FormField]:
        for section in self.sections:
            yield from section.fields


def default_layout(doc: Mapping[str, Any]) -> Layout | None:
    """The layout the forms use today: the first one; None means the plain form of every field."""
    layouts = doc.get("layouts") or []
    return Layout.from_document(layouts[0]) if layouts else None


def check_form_rule(text: str, obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> Checked:
    """A form rule checked as a boolean on ``obj``, limited to what the browser can evaluate."""
    expression = parse(text)
    checked = check(expression, Scope(obj, objects), expect=ExprType.BOOLEAN)
    for node in _nodes(expression.root):
        if isinstance(node, Call) and node.name not in BROWSER_FUNCTIONS:
            raise expression.error(f"{node.name} cannot be used in a form rule: form rules run in the browser, "
                                   f"which does not evaluate {node.name}. Use a validation rule instead.", node)
        if isinstance(node, FieldRef) and len(node.path) > 1:
            raise expression.error(f"Form rules run in the browser, which cannot follow the lookup "
                                   f"'{node.path[0]}'; use a field of {obj.api_name} itself.", node)
    return checked


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from _nodes(child)


def object_rule_problems(doc: Mapping[str, Any], known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(JSON path, message) for the layouts, validation rules and default expressions of a schema-valid object."""
    if not (doc.get("layouts") or doc.get("validation_rules")
            or any("default_expression" in f for f in doc.get("fields", []))):
        return []
    obj = ObjectDef.from_document(with_ids(doc))
    objects = {name: ObjectDef.from_document(with_ids(other)) for name, other in known_objects.items()}
    objects[obj.api_name] = obj
    problems = list(rule_problems(doc, obj, objects))
    names: set[str] = set()
    for index, layout in enumerate(doc.get("layouts") or []):
        path = f"$.layouts[{index}]"
        if layout["name"] in names:
            problems.append((f"{path}.name", f"Another layout is already named '{layout['name']}'; rename this one."))
        names.add(layout["name"])
        problems += _layout_problems(path, Layout.from_document(layout), obj, objects)
    return problems


def _layout_problems(path: str, layout: Layout, obj: ObjectDef,
                     objects: Mapping[str, ObjectDef]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for s, section in enumerate(layout.sections):
        for f, item in enumerate(section.fields):
            where = f"{path}.sections[{s}].fields[{f}]"
            if not obj.has_field(item.field):
                yield f"{where}.field", f"'{item.field}' is not a field of {obj.api_name}; name one of its fields."
                continue
            if item.field in seen:
                yield f"{where}.field", f"'{item.field}' is already on this layout; a field appears once per layout."
            seen.add(item.field)
            for key in RULE_KEYS:
                text = item.rule(key)
                if text is None:
                    continue
                try:
                    check_form_rule(text, obj, objects)
                except ExpressionError as error:
                    yield f"{where}.{key}", str(error)
    for r, related in enumerate(layout.related_lists):
        yield from _related_problems(f"{path}.related_lists[{r}]", related, obj, objects)


def _related_problems(path: str, related: RelatedList, obj: ObjectDef,
                      objects: Mapping[str, ObjectDef]) -> Iterator[tuple[str, str]]:
    child = objects.get(related.object)
    if child is None:
        yield f"{path}.object", f"'{related.object}' is not an object in this CRM; name the child records' object."
        return
    via = child.field(related.via) if child.has_field(related.via) else None
    if via is None or via.type != "lookup" or via.target != obj.api_name:
        yield f"{path}.via", (f"'{related.via}' is not a lookup of {child.api_name} pointing at {obj.api_name}; "
                              "name the lookup field that links each child record to this one.")
    for index, name in enumerate(related.fields):
        if not child.has_field(name):
            yield f"{path}.fields[{index}]", f"'{name}' is not a field of {child.api_name}."


def field_rule_problems(doc: Mapping[str, Any], object_doc: Mapping[str, Any],
                        known_objects: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """The rule problems of ``object_doc`` once field ``doc`` is added to it or replaces its namesake (by id):
    the field's own on its paths (``$.default_expression``), the others as a rule this change breaks."""
    siblings = [f for f in object_doc.get("fields") or []
                if not (f.get("api_name") == doc["api_name"] or (doc.get("id") and f.get("id") == doc.get("id")))]
    merged = {**object_doc, "fields": [doc, *siblings]}
    problems = []
    for path, message in object_rule_problems(merged, known_objects):
        if path.startswith("$.fields[0]."):
            problems.append(("$" + path.removeprefix("$.fields[0]"), message))
        else:
            problems.append(("$", f"This change breaks {path.removeprefix('$.')}: {message}"))
    return problems


def without_field(doc: dict[str, Any], name: str,
                  documents: list[Mapping[str, Any]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``doc`` (already without field ``name``, which is being archived) with the field taken off its layouts,
    as archiving takes it off the forms, and what would still break: rules and related lists that read it."""
    if not doc.get("layouts"):
        return doc, archive_rule_problems(doc, documents)
    layouts = [{**layout, "sections": [{**section, "fields": [f for f in section["fields"] if f["field"] != name]}
                                       for section in layout["sections"]]} for layout in doc["layouts"]]
    result = {**doc, "layouts": layouts}
    return result, archive_rule_problems(result, documents)


def archive_rule_problems(doc: Mapping[str, Any], documents: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """What would break if ``doc`` (an object without the field being archived) replaced its namesake among
    the tenant's ``documents``: its own layouts and rules, and other objects' related lists through it."""
    merged = [doc if other.get("id") == doc.get("id") else other for other in documents if "archived" not in other]
    problems = []
    for current in merged:
        known = {other["api_name"]: other for other in merged if other is not current}
        for path, message in object_rule_problems(current, known):
            where = "$" if current is doc else f"$ ({current['api_name']})"
            problems.append((where, f"A form layout or validation rule uses this field: {path.removeprefix('$.')}: "
                                    f"{message} Change it first."))
    return problems
