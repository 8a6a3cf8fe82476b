"""``Imports``: what the API, the screens and the CLI call to import a CSV.

``inspect`` reads a file and suggests a mapping, ``preview`` shows the first rows as they
would be stored (writing nothing), ``start`` stores the file and queues the job, ``status``
and ``rejected_csv`` report on it. ``propose`` and ``create_object`` make a new object
from a file first. All writes to records go through the record service, as the actor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, FieldProblem, InvalidInput, NotFound
from ..records.service import Actor
from ..runtime import TenantRuntime
from . import store
from .csvfile import CsvTable, decode, parse
from .infer import column_names, propose_object
from .mapping import ImportSpec, check_spec, suggest_mapping
from .run import KIND, preview

if TYPE_CHECKING:
    from ..core import Platform

PREVIEW_ROWS = 20
#: Problems listed in an import's status; the CSV download holds all of them.
STATUS_PROBLEMS = 100


class Imports:
    """CSV imports of one tenant, as one actor."""

    def __init__(self, platform: Platform, runtime: TenantRuntime, actor: Actor) -> None:
        self.platform = platform
        self.runtime = runtime
        self.actor = actor

    @staticmethod
    def read(data: bytes) -> CsvTable:
        """The uploaded bytes as a table (UTF-8 with or without BOM; delimiter , ; or tab)."""
        return parse(decode(data))

    def inspect(self, object_name: str, table: CsvTable) -> dict[str, Any]:
        """The file's columns, a few sample rows, and the suggested column → field mapping."""
        obj = self.runtime.object(object_name)
        return {"object": object_name, "columns": table.headers, "delimiter": table.delimiter,
                "rows": len(table.rows), "sample": table.records(0, 5), "mapping": suggest_mapping(obj, table.headers)}

    def spec(self, object_name: str, table: CsvTable, mapping: Mapping[str, str] | None = None,
             upsert_by: str | None = None, match_by: Mapping[str, str] | None = None) -> ImportSpec:
        """The admin's choices, checked against the file and the object (no mapping: the suggested one)."""
        obj = self.runtime.object(object_name)
        chosen = dict(mapping) if mapping is not None else suggest_mapping(obj, table.headers)
        spec = ImportSpec(object_name, chosen, upsert_by or None, dict(match_by or {}))
        check_spec(obj, table.headers, spec, self.runtime.objects)
        if upsert_by and upsert_by not in chosen.values():
            raise InvalidInput("Rows cannot be matched by a field the file does not fill.", [FieldProblem(
                "upsert_by", f"Map a column to '{upsert_by}', or import without upsert.")])
        return spec

    def preview(self, spec: ImportSpec, table: CsvTable, limit: int = PREVIEW_ROWS) -> list[dict[str, Any]]:
        """The first rows: what each would do (created, updated, rejected), its stored values, its problems."""
        return preview(self._service(), spec, table, limit)

    def start(self, spec: ImportSpec, table: CsvTable, content: str, file_name: str | None = None) -> int:
        """Store the file with the choices and queue the import job; returns the import's id."""
        import_id = self.draft(spec.object, table, content, file_name)
        self.run(import_id, spec)
        return import_id

    def draft(self, object_name: str, table: CsvTable, content: str, file_name: str | None = None) -> int:
        """Keep an uploaded file while the admin maps and previews it (the screens' steps); nothing runs yet."""
        self.runtime.object(object_name)
        spec = ImportSpec(object_name, suggest_mapping(self.runtime.object(object_name), table.headers))
        return store.create(self.runtime.store, {
            "object": object_name, "file_name": (file_name or "")[:255] or None, "spec": spec.as_dict(),
            "content": content, "total": len(table.rows), "created_by": self.actor.user_id, "status": "draft"})

    def stored(self, import_id: int) -> tuple[ImportSpec, CsvTable]:
        """A stored import's choices and file."""
        found = self._get(import_id)
        return ImportSpec(**found["spec"]), parse(found["content"])

    def save_spec(self, import_id: int, spec: ImportSpec) -> None:
        """Keep the admin's (checked) choices on a draft."""
        if self._get(import_id)["status"] != "draft":
            raise Conflict(f"Import {import_id} has started; its choices can no longer change.")
        store.set_fields(self.runtime.store, import_id, spec=spec.as_dict())

    def run(self, import_id: int, spec: ImportSpec | None = None) -> None:
        """Queue the job of a draft (with ``spec``, or the choices saved on it)."""
        if spec is not None:
            self.save_spec(import_id, spec)
        elif self._get(import_id)["status"] != "draft":
            raise Conflict(f"Import {import_id} has started already.")
        store.set_fields(self.runtime.store, import_id, status="queued")  # before the job can start and say more
        # The job rebuilds the actor from its user id: tell it whether the user's roles limit what it may write.
        args = {"import_id": import_id, "restricted": self.actor.access is not None}
        job_id = self.platform.jobs.enqueue(self.runtime.tenant.slug, KIND, args, self.actor.user_id)
        store.set_fields(self.runtime.store, import_id, job_id=job_id)

    def status(self, import_id: int) -> dict[str, Any]:
        """Where the import is: status, rows done of total, counts, the first rejected rows."""
        found = self._get(import_id)
        job = self.platform.jobs.get(found["job_id"]) if found["job_id"] else None
        status = found["status"]
        if job is not None and job.status == "failed":
            status = "failed"
        return {"id": found["id"], "object": found["object"], "file_name": found["file_name"], "status": status,
                "created_by": found["created_by"],
                "job_id": found["job_id"], "total": found["total"], "done": found["done"],
                "percent": 100 if status == "succeeded" else int(100 * found["done"] / max(found["total"], 1)),
                "created": found["created"], "updated": found["updated"], "rejected": found["rejected"],
                "error": found["error"] or (job.error if job is not None else None), "spec": found["spec"],
                "created_at": found["created_at"], "finished_at": found["finished_at"],
                "problems": store.problems(self.runtime.store, import_id, STATUS_PROBLEMS)}

    def rejected_csv(self, import_id: int) -> str:
        """Every problem of the rejected rows as CSV: row, column, value, reason."""
        self._get(import_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "value", "reason"])
        for problem in store.problems(self.runtime.store, import_id):
            writer.writerow([problem["row"], problem["column"] or "", problem["value"] or "", problem["reason"]])
        return out.getvalue()

    @staticmethod
    def propose(table: CsvTable, name: str, label: str | None = None) -> dict[str, Any]:
        """A new object's document inferred from the file, for the admin to adjust."""
        return propose_object(table, name, label)

    def create_object(self, doc: Mapping[str, Any], table: CsvTable,
                      mapping: Mapping[str, str] | None = None) -> tuple[TenantRuntime, ImportSpec]:
        """Create the (adjusted) object through the metadata editor; the runtime that has it and the spec
        mapping each column to the field proposed for it (or ``mapping``)."""
        chosen = dict(mapping) if mapping is not None else column_names(table, dict(doc))
        names = {f.get("api_name") for f in doc.get("fields", []) if isinstance(f, Mapping)}
        problems = [FieldProblem(f"mapping.{column}", f"The file has no column '{column}'.")
                    for column in chosen if column not in table.headers]
        problems += [FieldProblem(f"mapping.{column}", f"The object has no field '{name}'.")
                     for column, name in chosen.items() if name not in names]
        if problems or not chosen:  # refused before the object exists: nothing half done
            raise InvalidInput("The columns do not fit the object.", problems or [FieldProblem(
                "mapping", "No column goes to a field of the object; keep the proposed labels or send a mapping.")])
        self.platform.editor(self.runtime, self.actor).create_object(dict(doc))
        self.runtime = self.platform.runtime(self.runtime.tenant)
        return self.runtime, self.spec(doc["api_name"], table, chosen)

    def _service(self) -> Any:
        return self.platform.records(self.runtime, self.actor)

    def _get(self, import_id: int) -> dict[str, Any]:
        found = store.get(self.runtime.store, import_id) if 0 < import_id < 2**63 else None
        if found is None:
            raise NotFound(f"There is no import {import_id}.")
        return found
