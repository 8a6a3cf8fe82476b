"""Backup and restore of one tenant as a single zip archive.

The archive is plain JSON so it can be read, diffed and restored on either
backend (SQLite files or PostgreSQL schemas):

- ``manifest.json``: format and version, source slug and name, newest revision, created_at;
- ``revisions.json``: every metadata revision (number, created_at, author_id, summary, documents, changes);
- ``sequences.json``: the autonumber counters;
- ``members.json``: the tenant's people (email, name, locale, role, password hash), so a restored
  tenant can be signed into; a restore reuses an existing user with the same email;
- ``stage_history.json``: every stage change of every record (``trellis_stage_history``), ids kept;
- ``field_history.json``: every change of a tracked field (``trellis_field_history``), ids kept;
- ``templates.json``: the template packages installed (``trellis_templates``: version and merge base), so a
  restored tenant can still be upgraded;
- ``automation.json``: the automation run log and webhook delivery log (``runs``, ``deliveries``), ids kept;
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

from sqlalchemy import Connection, select

from trellis.platform.automation import transfer as automation_logs
from trellis.platform.controlplane.accounts import add_membership, find_user
from trellis.platform.controlplane.tables import Membership, Tenant, User
from trellis.platform.core import Platform
from trellis.platform.errors import FieldProblem, InvalidInput
from trellis.platform.records import history, stages
from trellis.platform.runtime import TenantRef
from trellis.platform.storage import transfer
from trellis.platform.storage.installed import template_table
from trellis.platform.storage.stores import TenantStore

from .registry import create_tenant, delete_tenant, find_tenant

FORMAT = "trellis-tenant-backup"
VERSION = 1
RECORDS = "records/"
MEMBERS = "members.json"
STAGE_HISTORY = "stage_history.json"
AUTOMATION = "automation.json"
FIELD_HISTORY = "field_history.json"
TEMPLATES = "templates.json"


def backup_tenant(platform: Platform, slug: str, path: str | Path, *, block_writes: bool = False) -> dict[str, Any]:
    """Write tenant ``slug`` (whatever its status) to the archive ``path``; returns the manifest.

    ``block_writes`` holds writers off until the archive is written (a move needs a copy
    that no write can miss; see ``transfer.snapshot``).
    """
    info = find_tenant(platform, slug)
    store = platform.stores.tenant(info.store, info.database)
    with (transfer.snapshot(store, block_writes=block_writes) as conn,
          zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive):
        revisions = transfer.read_revisions(conn, store)
        manifest = {"format": FORMAT, "version": VERSION, "slug": info.slug, "name": info.name,
                    "revision": revisions[-1]["number"] if revisions else 0,
                    "created_at": datetime.now(UTC).isoformat()}
        archive.writestr("manifest.json", _dumps(manifest))
        archive.writestr("revisions.json", _dumps(revisions))
        archive.writestr("sequences.json", _dumps(transfer.read_sequences(conn, store)))
        archive.writestr(MEMBERS, _dumps(read_members(platform, slug)))
        archive.writestr(STAGE_HISTORY, _dumps(stages.read_history(conn, store)))
        archive.writestr(AUTOMATION, _dumps(automation_logs.read_logs(conn, store)))
        archive.writestr(FIELD_HISTORY, _dumps(history.read_history(conn, store)))
        archive.writestr(TEMPLATES, _dumps(transfer.read_table(conn, template_table(store.schema))))
        for name in transfer.record_tables(conn, store):
            with archive.open(f"{RECORDS}{name}.jsonl", "w") as member:
                for batch in transfer.stream_rows(conn, store, name):
                    member.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch).encode())
    return manifest


def restore_tenant(platform: Platform, path: str | Path, slug: str, name: str = "",
                   database: str | None = None) -> TenantRef:
    """Create tenant ``slug`` from the archive ``path`` (its name defaults to the source's).

    The new tenant goes to ``database`` (or the least-loaded one); its members are restored
    with their roles, reusing the account of anyone whose email already has one.
    """
    with zipfile.ZipFile(path) as archive:
        manifest = read_manifest(archive)
        members = _members(archive)
        ref = create_tenant(platform, slug, name or manifest.get("name", ""), database)
        try:
            store = platform.stores.tenant(ref.store_name)
            with store.engine.begin() as conn:
                restore_store(archive, conn, store)
            restore_members(platform, ref, members)
        except BaseException:
            delete_tenant(platform, slug)
            raise
    platform.forget(slug)
    return ref


def restore_store(archive: zipfile.ZipFile, conn: Connection, store: TenantStore) -> None:
    """Fill the empty ``store`` from ``archive`` inside the caller's transaction (restore and move share it)."""
    tables = _record_members(archive)
    transfer.restore(conn, store, json.loads(archive.read("revisions.json")),
                     json.loads(archive.read("sequences.json")),
                     lambda table: _jsonl(archive, tables[table]), tables)
    stages.restore_history(conn, store, _stage_history(archive))
    automation_logs.restore_logs(conn, store, _automation(archive))
    history.restore_history(conn, store, _optional(archive, FIELD_HISTORY))
    transfer.restore_table(conn, store, template_table(store.schema), _optional(archive, TEMPLATES))


def read_members(platform: Platform, slug: str) -> list[dict[str, Any]]:
    """The tenant's members as a backup keeps them, by email (ids differ between installations)."""
    with platform.control() as session:
        rows = session.execute(select(User, Membership.role, Membership.roles)
                               .join(Membership, Membership.user_id == User.id)
                               .join(Tenant, Tenant.id == Membership.tenant_id)
                               .where(Tenant.slug == slug).order_by(User.email)).all()
        return [{"email": user.email, "name": user.name, "locale": user.locale, "role": role,
                 "roles": list(roles or []), "password_hash": user.password_hash, "is_active": user.is_active}
                for user, role, roles in rows]


def restore_members(platform: Platform, ref: TenantRef, members: list[dict[str, Any]]) -> None:
    """Give the restored tenant its people back, in one transaction.

    An email that already has an account here keeps that account (its password and
    name are not overwritten: the person may use it for other tenants already).
    """
    with platform.control() as session:
        tenant = session.get_one(Tenant, ref.id)
        for entry in members:
            user = find_user(session, entry["email"])
            if user is None:
                user = User(email=entry["email"], name=entry.get("name") or "", locale=entry.get("locale") or "en",
                            password_hash=entry.get("password_hash"), is_active=bool(entry.get("is_active", True)))
                session.add(user)
            membership = add_membership(session, tenant, user, role=entry.get("role") or "member")
            membership.roles = [name for name in entry.get("roles") or [] if isinstance(name, str)]


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
                "sequences": json.loads(archive.read("sequences.json")), "members": _members(archive),
                "records": records, "stage_history": _stage_history(archive), "automation": _automation(archive),
                "field_history": _optional(archive, FIELD_HISTORY)}


def _members(archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    """``members.json``, or nobody for a backup made before members travelled."""
    return json.loads(archive.read(MEMBERS)) if MEMBERS in archive.namelist() else []


def _stage_history(archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    """``stage_history.json``, or no moves for a backup made before stages were recorded."""
    return json.loads(archive.read(STAGE_HISTORY)) if STAGE_HISTORY in archive.namelist() else []


def _optional(archive: zipfile.ZipFile, member: str) -> list[dict[str, Any]]:
    """A member added to backups later: none in an older backup."""
    return json.loads(archive.read(member)) if member in archive.namelist() else []


def _automation(archive: zipfile.ZipFile) -> dict[str, list[dict[str, Any]]]:
    """``automation.json``, or empty logs for a backup made before automations."""
    return json.loads(archive.read(AUTOMATION)) if AUTOMATION in archive.namelist() else {}


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
