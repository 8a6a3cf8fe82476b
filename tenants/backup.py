"""Backup and restore of one tenant as a single zip archive.

The archive is plain JSON so it can be read, diffed and restored on either
backend (SQLite files or PostgreSQL schemas):

- ``manifest.json``: format and version, source slug and name, newest revision, created_at;
- ``revisions.json``: every metadata revision (number, created_at, author_id, summary, documents, changes);
- ``sequences.json``: the autonumber counters;
- ``records/<object>.jsonl``: every row of every record table, one JSON object a line, in id order,
  with the system columns and archived columns as the database has them.

A restore always makes a *new* tenant and is all-or-nothing: if anything fails the
new tenant is deleted again, so a half-restored CRM is never left behind.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trellis.platform.core import Platform
from trellis.platform.errors import FieldProblem, InvalidInput
from trellis.platform.runtime import TenantRef
from trellis.platform.storage import transfer

from .registry import create_tenant, delete_tenant

FORMAT = "trellis-tenant-backup"
VERSION = 1
RECORDS = "records/"


def backup_tenant(platform: Platform, slug: str, path: str | Path) -> dict[str, Any]:
    """Write tenant ``slug`` to the archive ``path``; returns the manifest."""
    ref = platform.tenant(slug)
    store = platform.stores.tenant(ref.store_name)
    with transfer.snapshot(store) as conn, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        revisions = transfer.read_revisions(conn, store)
        manifest = {"format": FORMAT, "version": VERSION, "slug": ref.slug, "name": ref.name,
                    "revision": revisions[-1]["number"] if revisions else 0,
                    "created_at": datetime.now(UTC).isoformat()}
        archive.writestr("manifest.json", _dumps(manifest))
        archive.writestr("revisions.json", _dumps(revisions))
        archive.writestr("sequences.json", _dumps(transfer.read_sequences(conn, store)))
        for name in transfer.record_tables(conn, store):
            with archive.open(f"{RECORDS}{name}.jsonl", "w") as member:
                for batch in transfer.stream_rows(conn, store, name):
                    member.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch).encode())
    return manifest


def restore_tenant(platform: Platform, path: str | Path, slug: str, name: str = "") -> TenantRef:
    """Create tenant ``slug`` from the archive ``path`` (its name defaults to the source's)."""
    with zipfile.ZipFile(path) as archive:
        manifest = read_manifest(archive)
        revisions = json.loads(archive.read("revisions.json"))
        sequences = json.loads(archive.read("sequences.json"))
        tables = _record_members(archive)
        ref = create_tenant(platform, slug, name or manifest.get("name", ""))
        try:
            store = platform.stores.tenant(ref.store_name)
            with store.engine.begin() as conn:
                transfer.restore(conn, store, revisions, sequences,
                                 lambda table: _jsonl(archive, tables[table]), tables)
        except BaseException:
            delete_tenant(platform, slug)
            raise
    platform.forget(slug)
    return ref


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, refused with a clear message if the file is not a backup this version reads."""
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("Not a Trellis tenant backup.", [FieldProblem("file", "manifest.json is missing.")])
    if manifest.get("version") != VERSION:
        raise InvalidInput("Unsupported backup version.", [FieldProblem(
            "file", f"Backup format version {manifest.get('version')!r}; this Trellis reads version {VERSION}.")])
    return manifest


def archive_contents(path: str | Path) -> dict[str, Any]:
    """Everything an archive holds, parsed, minus when it was made: two backups of the same data compare equal."""
    with zipfile.ZipFile(path) as archive:
        manifest = {k: v for k, v in read_manifest(archive).items() if k != "created_at"}
        records = {table: list(_jsonl(archive, member)) for table, member in _record_members(archive).items()}
        return {"manifest": manifest, "revisions": json.loads(archive.read("revisions.json")),
                "sequences": json.loads(archive.read("sequences.json")), "records": records}


def _record_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Table name → archive member for every ``records/<table>.jsonl``."""
    return {member[len(RECORDS):-len(".jsonl")]: member for member in archive.namelist()
            if member.startswith(RECORDS) and member.endswith(".jsonl")}


def _jsonl(archive: zipfile.ZipFile, member: str) -> Iterator[dict[str, Any]]:
    """The rows of one records file, read line by line so a big table is never held whole."""
    with archive.open(member) as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)
