"""Backup and restore of one tenant: lossless round trips on each backend and across them.

"Lossless" is checked on the parsed archive content (manifest minus its time,
every revision with its documents and changes, the counters, every row of every
table with its system columns): backing up the restored copy must give exactly
what backing up the original gave.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.errors import InvalidInput, NotFound
from trellis.platform.records.service import Actor
from trellis.renderers.cli import main as trellis_cli
from trellis.renderers.cli import root as cli_root
from trellis.tenants.backup import archive_contents, backup_tenant, restore_tenant
from trellis.tenants.demo import DemoLogin
from trellis.tenants.registry import list_tenants

ACTOR = Actor(user_id=3)

#: Exact values, times with offsets and a lookup to its own object: what a lossy format would break.
TASK: dict[str, Any] = {
    "api_name": "task",
    "label": "Task",
    "name_field": "title",
    "fields": [
        {"api_name": "title", "label": "Title", "type": "text", "required": True},
        {"api_name": "number", "label": "Number", "type": "autonumber", "format": "T-{000}"},
        {"api_name": "parent", "label": "Parent", "type": "lookup", "target": "task"},
        {"api_name": "deal", "label": "Deal", "type": "lookup", "target": "deal"},
        {"api_name": "ratio", "label": "Ratio", "type": "decimal", "precision": 12, "scale": 6},
        {"api_name": "due_at", "label": "Due at", "type": "datetime"},
        {"api_name": "note", "label": "Note", "type": "long_text"},
    ],
}


def _slug() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


def _enrich(platform: Platform, slug: str) -> None:
    """Add an object, a later field and tricky rows, including a child whose parent has a higher id."""
    platform.editor(platform.runtime(slug), ACTOR).create_object(TASK)
    platform.editor(platform.runtime(slug), ACTOR).add_field("task", {"api_name": "done", "label": "Done",
                                                                      "type": "boolean", "default": False})
    records = platform.records(platform.runtime(slug), ACTOR)
    child = records.create("task", {"title": "Child 雪", "ratio": "0.000001", "note": "line\nbreak \"quoted\""})
    parent = records.create("task", {"title": "Parent", "ratio": "123456.5", "due_at": "2026-03-01T23:30:00+05:30"})
    records.update("task", child["id"], {"parent": parent["id"], "deal": 1}, child["version"])
    records.delete("deal", 2)  # a gap in the ids must survive


def _contents(path: Path) -> dict[str, Any]:
    """The archive without the parts that name the tenant (the copy has its own slug and name)."""
    contents = archive_contents(path)
    contents["manifest"] = {k: v for k, v in contents["manifest"].items() if k not in ("slug", "name")}
    return contents


def _round_trip(source: Platform, target: Platform, slug: str, tmp_path: Path) -> str:
    """Back up ``slug`` from ``source``, restore it into ``target``, back the copy up; both archives must match."""
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    backup_tenant(source, slug, first)
    copy = _slug()
    restore_tenant(target, first, copy)
    backup_tenant(target, copy, second)
    assert _contents(second) == _contents(first)
    return copy


def test_archive_holds_manifest_revisions_sequences_and_records(platform: Platform, demo: DemoLogin,
                                                                tmp_path: Path) -> None:
    installed = platform.runtime(demo.tenant).revision.number  # the demo's own revisions
    _enrich(platform, demo.tenant)
    path = tmp_path / "demo.zip"
    manifest = backup_tenant(platform, demo.tenant, path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "revisions.json", "sequences.json", "records/account.jsonl", "records/task.jsonl"} <= names
    contents = archive_contents(path)
    assert manifest["revision"] == contents["revisions"][-1]["number"] == installed + 2
    assert [r["number"] for r in contents["revisions"]] == list(range(1, installed + 3))
    assert contents["revisions"][0]["created_at"].endswith("+00:00")
    tasks = contents["records"]["task"]
    assert [t["id"] for t in tasks] == [1, 2] and tasks[0]["parent"] == 2
    assert tasks[0]["ratio"] == "0.000001" and tasks[1]["ratio"] == "123456.500000"
    assert tasks[1]["due_at"] == "2026-03-01T18:00:00+00:00"
    assert {"id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version"} <= set(tasks[0])
    assert 2 not in [d["id"] for d in contents["records"]["deal"]]
    task = next(d for d in contents["revisions"][-1]["documents"] if d.get("api_name") == "task" and "kind" not in d)
    assert {s["name"]: s["last_value"] for s in contents["sequences"]}.get(f"task.{task['fields'][1]['id']}") == 2


def test_round_trip_is_lossless_and_the_copy_works(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    installed = platform.runtime(demo.tenant).revision.number  # the demo's own revisions
    _enrich(platform, demo.tenant)
    copy = _round_trip(platform, platform, demo.tenant, tmp_path)
    runtime = platform.runtime(copy)
    assert runtime.revision.number == installed + 2
    assert [r.number for r in platform.editor(runtime, ACTOR).history()] == list(range(installed + 2, 0, -1))
    records = platform.records(runtime, ACTOR)
    task = records.create("task", {"title": "After restore"})
    assert task["id"] == 3 and task["number"] == "T-003"  # ids and autonumbers continue, never collide
    assert records.create("deal", {"name": "New", "account": 1, "stage": "won"})["id"] == 25
    assert records.get("task", 1)["parent"] == 2
    assert platform.tenant(copy).name == "Demo Company"


def test_archived_and_unknown_columns_are_carried(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    """Columns are exported from the table as the database has it, not only the fields the metadata names."""
    path = tmp_path / "demo.zip"
    backup_tenant(platform, demo.tenant, path)
    store = platform.stores.tenant(platform.tenant(demo.tenant).store_name)
    columns = {c["name"] for c in inspect(store.engine).get_columns("contact", schema=store.schema)}
    rows = archive_contents(path)["records"]["contact"]
    assert set(rows[0]) == columns


def test_restore_into_the_other_backend(platform: Platform, settings: Settings, postgres_url: str,
                                        redis_url: str, demo: DemoLogin, tmp_path: Path) -> None:
    _enrich(platform, demo.tenant)
    with _other_platform(settings, postgres_url, redis_url, tmp_path) as other:
        copy = _round_trip(platform, other, demo.tenant, tmp_path)
        back = tmp_path / "back"
        back.mkdir()
        _round_trip(other, platform, copy, back)


def test_failed_restore_leaves_no_tenant(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    backup_tenant(platform, demo.tenant, good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            if item == "records/deal.jsonl":
                data += json.dumps({"id": 999, "name": "Orphan", "account": 424242, "stage": "won"}).encode() + b"\n"
            target.writestr(item, data)
    copy = _slug()
    with pytest.raises(Exception):  # noqa: B017 - the database's own foreign key error
        restore_tenant(platform, bad, copy)
    assert copy not in {t.slug for t in list_tenants(platform)}
    with pytest.raises(NotFound):
        platform.tenant(copy)
    restore_tenant(platform, good, copy)  # the slug is free again and nothing half-made is in the way


def test_not_a_backup_is_refused(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "trellis-tenant-backup", "version": 99}))
    slug = _slug()
    with pytest.raises(InvalidInput):
        restore_tenant(platform, path, slug)
    assert slug not in {t.slug for t in list_tenants(platform)}


def test_cli_backup_and_restore(platform: Platform, settings: Settings, demo: DemoLogin, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_root, "Platform", lambda: Platform(settings))
    runner = CliRunner()
    path = tmp_path / "cli.zip"
    result = runner.invoke(trellis_cli, ["tenants", "backup", demo.tenant, str(path)])
    assert result.exit_code == 0, result.output
    assert f"at revision {platform.runtime(demo.tenant).revision.number}" in result.output
    copy = _slug()
    result = runner.invoke(trellis_cli, ["tenants", "restore", str(path), copy, "--name", "Copy Co"])
    assert result.exit_code == 0, result.output
    assert platform.tenant(copy).name == "Copy Co"
    result = runner.invoke(trellis_cli, ["tenants", "restore", str(path), copy])
    assert result.exit_code == 1 and "already exists" in result.output
    assert platform.tenant(copy).name == "Copy Co"  # a refused restore never touches the existing tenant


def test_empty_tenant_round_trip(platform: Platform, tenant: str, tmp_path: Path) -> None:
    copy = _round_trip(platform, platform, tenant, tmp_path)
    assert platform.runtime(copy).revision.number == 0
    assert archive_contents(tmp_path / "second.zip")["records"] == {}


def test_unknown_tables_and_columns_are_refused(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    backup_tenant(platform, demo.tenant, good)
    for extra in ({"records/ghost.jsonl": b'{"id": 1}\n'}, {"records/account.jsonl": b'{"id": 99, "ghost": 1}\n'}):
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
            for item in source.namelist():
                target.writestr(item, source.read(item) + extra.get(item, b""))
            for item, data in extra.items():
                if item not in source.namelist():
                    target.writestr(item, data)
        copy = _slug()
        with pytest.raises(InvalidInput):
            restore_tenant(platform, bad, copy)
        assert copy not in {t.slug for t in list_tenants(platform)}


class _other_platform:
    """A migrated Platform on the backend the ``platform`` fixture is not using."""

    def __init__(self, settings: Settings, postgres_url: str, redis_url: str, tmp_path: Path) -> None:
        data_dir = tmp_path / "other-data"
        if settings.embedded:
            self.settings = Settings(database_url=postgres_url, redis_url=redis_url, data_dir=data_dir,
                                     secret_key="test-secret")
        else:
            self.settings = Settings(data_dir=data_dir, secret_key="test-secret")

    def __enter__(self) -> Platform:
        self.platform = Platform(self.settings)
        self.platform.migrate()
        return self.platform

    def __exit__(self, *_: object) -> None:
        self.platform.dispose()


def test_restored_tables_match_the_original(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    """Columns, types, nullability, indexes and foreign keys come out as the metadata editor made them.

    Column order is not compared: an archived column keeps its place in the original and comes last in the copy.
    """
    _enrich(platform, demo.tenant)
    for rollup in ("open_pipeline", "deal_count"):  # they read deals through deal.account, so they go first
        platform.editor(platform.runtime(demo.tenant), ACTOR).archive_field("account", rollup)
    platform.editor(platform.runtime(demo.tenant), ACTOR).archive_field("deal", "account")
    path = tmp_path / "demo.zip"
    backup_tenant(platform, demo.tenant, path)
    copy = _slug()
    restore_tenant(platform, path, copy)
    assert _structure(platform, copy) == _structure(platform, demo.tenant)


def _structure(platform: Platform, slug: str) -> dict[str, Any]:
    store = platform.stores.tenant(platform.tenant(slug).store_name)
    inspector = inspect(store.engine)
    tables = {}
    for table in inspector.get_table_names(schema=store.schema):
        columns = sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table, store.schema))
        indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                         for i in inspector.get_indexes(table, store.schema))
        keys = sorted((tuple(k["constrained_columns"]), k["referred_table"], k["options"].get("ondelete"))
                      for k in inspector.get_foreign_keys(table, store.schema))
        tables[table] = (columns, indexes, keys)
    return tables


def test_archived_field_values_travel(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    """An archived field's column (renamed, hidden from the metadata) is backed up and restored with its values."""
    _enrich(platform, demo.tenant)
    editor = platform.editor(platform.runtime(demo.tenant), ACTOR)
    editor.archive_field("task", "note")
    for rollup in ("open_pipeline", "deal_count"):  # they read deals through deal.account, so they go first
        platform.editor(platform.runtime(demo.tenant), ACTOR).archive_field("account", rollup)
    platform.editor(platform.runtime(demo.tenant), ACTOR).archive_field("deal", "account")
    copy = _round_trip(platform, platform, demo.tenant, tmp_path)
    [entry] = platform.editor(platform.runtime(copy), ACTOR).archived_fields("task")
    assert archive_contents(tmp_path / "second.zip")["records"]["task"][0][entry["column"]] == 'line\nbreak "quoted"'
    platform.editor(platform.runtime(copy), ACTOR).restore_field("task", entry["field"]["id"])
    assert platform.records(platform.runtime(copy), ACTOR).get("task", 1)["note"] == 'line\nbreak "quoted"'


def test_archived_objects_travel_in_a_backup(platform: Platform, demo: DemoLogin, tmp_path: Path) -> None:
    for rollup in ("open_pipeline", "deal_count"):  # they read deals, so they go first
        platform.editor(platform.runtime(demo.tenant), ACTOR).archive_field("account", rollup)
    editor = platform.editor(platform.runtime(demo.tenant), ACTOR)
    editor.archive_object("deal")
    path = tmp_path / "archived.zip"
    backup_tenant(platform, demo.tenant, path)
    copy = _slug()
    restore_tenant(platform, path, copy)
    restored = platform.editor(platform.runtime(copy), ACTOR)
    deal_id = restored.archived_objects()[0]["id"]
    restored.restore_object(deal_id)
    original = platform.editor(platform.runtime(demo.tenant), ACTOR)
    original.restore_object(deal_id)
    assert platform.records(platform.runtime(copy), ACTOR).list("deal").records == platform.records(
        platform.runtime(demo.tenant), ACTOR).list("deal").records
