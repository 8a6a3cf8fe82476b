"""Rolling the configuration back to an earlier revision without losing what came after.

A rollback is an ordinary new revision whose documents are the old ones,
reconciled with today's so nothing is lost: a field added since is archived
(not dropped), a field archived since comes back with its values, archives
made since stay archived, and a field whose type changed since is converted
back through a new column (the newer values archived). Objects created since
must be archived first (a rollback past their creation is refused with their
names); objects archived since stay archived, or come back if the target had them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from trellis.metadata.diff import STORAGE_KEYS
from trellis.metadata.model import is_live, new_id

from .errors import FieldProblem, InvalidInput
from .storage.evolve import archive_column

Document = dict[str, Any]


def rollback_documents(current: Sequence[Mapping[str, Any]], target: Sequence[Mapping[str, Any]], number: int,
                       actor_id: int | None) -> list[Document]:
    """The documents of revision ``number`` (``target``), reconciled with ``current`` so nothing is lost."""
    targets = {doc["id"]: doc for doc in target}
    newer = [doc["api_name"] for doc in current if doc["id"] not in targets and is_live(doc)]
    if newer:
        raise InvalidInput(f"Cannot roll back to revision {number}.", [FieldProblem(
            "$.revision", f"The objects {', '.join(newer)} were created after revision {number}; archive them "
                          "first, then roll back.")])
    now = datetime.now(UTC).isoformat()
    # Objects archived since and unknown to the target stay archived: a rollback never purges.
    return [_reconcile(doc, targets[doc["id"]], now, actor_id) if doc["id"] in targets else copy.deepcopy(doc)
            for doc in current]


def _reconcile(current: Mapping[str, Any], target: Mapping[str, Any], now: str, actor_id: int | None) -> Document:
    result = copy.deepcopy(dict(target))
    live = {f["id"] for f in result["fields"]}
    archived = result.setdefault("archived_fields", [])
    kept = {entry["field"]["id"] for entry in archived}

    def archive(field: Mapping[str, Any], **extra: Any) -> None:
        archived.append({"field": dict(field), "column": archive_column(field["id"]), "archived_at": now,
                         "archived_by": actor_id, **extra})

    for field in current["fields"]:
        if field["id"] not in live and field["id"] not in kept:
            archive(field)  # added since: archived, not dropped
        elif field["id"] in live:
            old = next(f for f in result["fields"] if f["id"] == field["id"])
            if any(old.get(key) != field.get(key) for key in STORAGE_KEYS):
                archive({**field, "id": new_id("fld")}, replaced_by=field["id"])
    for entry in current.get("archived_fields", []):
        if entry["field"]["id"] not in live and entry["field"]["id"] not in kept:
            archived.append(copy.deepcopy(entry))  # archived since: stays archived, never purged by a rollback
    if not archived:
        del result["archived_fields"]
    return result
