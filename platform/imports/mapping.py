"""From CSV columns to field values: the suggested mapping, cell conversion and lookup matching.

Cells are only *shaped* here (a whole number becomes an int, a multi-picklist cell a list,
an empty cell is left out so defaults apply); judging them is the record service's job,
through the object's own input schema, so an import accepts exactly what the API does.
Lookup columns hold the target record's name (or another unique field the admin picks);
they are matched with one query per column and batch, and a value that matches no record,
or more than one, is reported for that row — never guessed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from trellis.metadata.labels import Label
from trellis.metadata.model import FieldDef, ObjectDef

from ..errors import FieldProblem, InvalidInput
from ..records.service import RecordService

#: How close a header must be to a field's name or label for a fuzzy suggestion (difflib ratio).
FUZZY_CUTOFF = 0.8
_WHOLE = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_CURRENCY = re.compile(r"^[$€£¥]\s*|\s*[$€£¥]$")


@dataclass(frozen=True)
class ImportSpec:
    """What the admin chose: the target object, column → field, how rows and lookups are matched."""

    object: str
    #: CSV header → field api_name; columns left out are not imported.
    mapping: dict[str, str]
    #: A unique field: rows whose value is already stored update that record instead of creating one.
    upsert_by: str | None = None
    #: Lookup column → the target's field its values are matched by (default: the target's name field).
    match_by: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"object": self.object, "mapping": self.mapping, "upsert_by": self.upsert_by, "match_by": self.match_by}


def normalized(text: str) -> str:
    """Case, spacing and punctuation do not matter: ``Close date``, ``close_date`` and ``CLOSE-DATE`` are one."""
    return re.sub(r"[\W_]+", "", text.casefold())


def suggest_mapping(obj: ObjectDef, headers: list[str]) -> dict[str, str]:
    """A field for each header that names one: by api_name or a label in any locale, exactly or nearly."""
    names: dict[str, str] = {}
    for definition in _writable(obj):
        for spelling in (definition.api_name, *_labels(definition.label)):
            names.setdefault(normalized(spelling), definition.api_name)
    mapping: dict[str, str] = {}
    for header in headers:
        key = normalized(header)
        found = names.get(key) or next(iter(difflib.get_close_matches(key, list(names), 1, FUZZY_CUTOFF)), None)
        if found is not None and found not in mapping.values():
            mapping[header] = names.get(key) or names[found]
    return mapping


def check_spec(obj: ObjectDef, headers: list[str], spec: ImportSpec, objects: Mapping[str, ObjectDef]) -> None:
    """Refuse a mapping that names a column the file lacks, a field the object lacks, or one field twice."""
    writable = {f.api_name: f for f in _writable(obj)}
    problems = [FieldProblem(f"mapping.{column}", f"The file has no column '{column}'.")
                for column in spec.mapping if column not in headers]
    problems += [FieldProblem(f"mapping.{column}", f"'{name}' is not a field of {obj.title('en')} that can be "
                              "written; choose another field or leave the column out.")
                 for column, name in spec.mapping.items() if name not in writable]
    targets = list(spec.mapping.values())
    problems += [FieldProblem("mapping", f"Two columns go to '{name}'; map only one of them.")
                 for name in sorted({n for n in targets if targets.count(n) > 1})]
    for column, match in spec.match_by.items():
        definition = writable.get(spec.mapping.get(column, ""))
        if definition is None or definition.type != "lookup":
            problems.append(FieldProblem(f"match_by.{column}", f"'{column}' is not mapped to a lookup field."))
        elif match != "id" and match not in {f.api_name for f in objects[definition.target].fields}:
            problems.append(FieldProblem(f"match_by.{column}", f"'{match}' is not a field of "
                                         f"{objects[definition.target].title('en')}."))
    if spec.upsert_by is not None and not getattr(writable.get(spec.upsert_by), "unique", False):
        problems.append(FieldProblem("upsert_by", f"'{spec.upsert_by}' is not a unique field of "
                                     f"{obj.title('en')}; choose one marked unique."))
    if not spec.mapping:
        problems.append(FieldProblem("mapping", "Map at least one column to a field."))
    if problems:
        raise InvalidInput("The column mapping cannot be used.", problems)


def shape_cell(definition: FieldDef, text: str) -> Any:
    """A cell as the input schema expects it; what cannot be shaped stays text, for the schema to explain."""
    text = text.strip()
    storage = definition.kind.storage
    if storage == "integer":
        plain = text.replace(",", "") if _GROUPED.fullmatch(text) else text
        return int(plain) if _WHOLE.fullmatch(plain) else text
    if storage == "numeric":
        plain = _CURRENCY.sub("", text)
        return plain.replace(",", "") if _GROUPED.fullmatch(plain) else plain
    if storage == "boolean":
        return text.lower()
    if storage == "json":
        separator = next((s for s in (";", "|") if s in text), ",")
        return [part.strip() for part in text.split(separator) if part.strip()]
    return text


class LookupMatcher:
    """Turns the text in lookup columns into record ids, one query per column and batch."""

    def __init__(self, service: RecordService, obj: ObjectDef, spec: ImportSpec) -> None:
        self.service = service
        self.columns = {column: obj.field(name) for column, name in spec.mapping.items()
                        if obj.field(name).type == "lookup"}
        self.match_by = {column: spec.match_by.get(column) or _name_field(service, f.target)
                         for column, f in self.columns.items()}

    def resolve(self, cells: list[dict[str, str]]) -> dict[str, dict[str, list[int]]]:
        """For each lookup column: text value → the ids of the records it matches."""
        found: dict[str, dict[str, list[int]]] = {}
        for column, definition in self.columns.items():
            wanted = {row[column].strip() for row in cells if row[column].strip()}
            found[column] = self._match(definition.target, self.match_by[column], wanted) if wanted else {}
        return found

    def problem(self, column: str, value: str, ids: list[int]) -> FieldProblem | None:
        definition = self.columns[column]
        if len(ids) == 1:
            return None
        target = self.service.runtime.object(definition.target)
        by = self.match_by[column]
        by_title = "id" if by == "id" else target.field(by).title("en")
        if not ids:
            return FieldProblem(definition.api_name, f"No {target.title('en')} has {by_title} {value!r}.")
        return FieldProblem(definition.api_name, f"{len(ids)} {target.title('en')} records have {by_title} "
                            f"{value!r}; match this column by a unique field instead.")

    def _match(self, target_name: str, by: str, wanted: set[str]) -> dict[str, list[int]]:
        _, source, predicate = self.service.read_source(target_name)
        column = source.table.c[by]
        keys: dict[Any, str] = {}
        for text in wanted:
            key = _match_key(text, by)
            if key is not None:
                keys[key] = text
        matches: dict[str, list[int]] = {text: [] for text in wanted}
        if keys:
            statement = select(column, source.table.c.id).where(column.in_(list(keys))).where(predicate)
            with self.service.runtime.store.engine.connect() as conn:
                for key, record_id in conn.execute(statement):
                    text = keys.get(key) if key in keys else keys.get(str(key))
                    if text is not None:
                        matches[text].append(record_id)
        return matches


def _match_key(text: str, by: str) -> Any:
    if by == "id":
        return int(text) if _WHOLE.fullmatch(text) and len(text) < 19 else None
    return text


def _name_field(service: RecordService, target: str) -> str:
    return service.runtime.object(target).name_field or "id"


def _writable(obj: ObjectDef) -> list[FieldDef]:
    return [f for f in obj.fields if not (f.kind.generated or f.kind.computed)]


def _labels(label: Label) -> list[str]:
    return list(label.values()) if isinstance(label, dict) else [label]
