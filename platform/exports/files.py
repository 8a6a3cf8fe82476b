"""Where export files live, who may download them, and their expiry.

A file is named by its job (``<exports dir>/<tenant id>/export-<job id>.<format>``),
so the job row is the index of exports and nothing else needs to be stored. A job
writes ``….part`` and renames it when complete: a file that exists is whole.
Expired files are swept whenever an export starts or finishes, and refused by the
download even if the sweep has not run yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import Conflict, NotFound

if TYPE_CHECKING:
    from ..core import Platform
    from ..jobs import JobInfo

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def exports_root(settings: Settings) -> Path:
    return settings.exports_dir or settings.data_dir / "exports"


def export_path(settings: Settings, tenant_id: int, job_id: int, fmt: str) -> Path:
    return exports_root(settings) / str(tenant_id) / f"export-{job_id}.{fmt}"


def sweep_expired(settings: Settings, tenant_id: int) -> int:
    """Delete the tenant's export files older than ``export_ttl_s`` (and abandoned partial files); how many."""
    folder = exports_root(settings) / str(tenant_id)
    if not folder.is_dir():
        return 0
    deadline = time.time() - settings.export_ttl_s
    removed = 0
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < deadline:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process swept it first
            continue
    return removed


@dataclass(frozen=True)
class ExportFile:
    path: Path
    download_name: str
    media_type: str


def export_file(platform: Platform, job: JobInfo, user_id: int | None, is_admin: bool) -> ExportFile:
    """The finished file of export ``job`` for its requester or an admin; others see no such export."""
    from .spec import KIND

    if job.kind != KIND or (not is_admin and job.created_by != user_id):
        raise NotFound(f"There is no export {job.id}.")
    if job.status != "succeeded":
        raise Conflict(f"Export {job.id} is {job.status}; the file can be downloaded once it has succeeded.")
    fmt = job.args["format"]
    path = export_path(platform.settings, job.tenant_id, job.id, fmt)
    expired = path.is_file() and path.stat().st_mtime < time.time() - platform.settings.export_ttl_s
    if expired or not path.is_file():
        raise NotFound(f"The file of export {job.id} has expired and was deleted; export again.")
    name = job.args.get("report") or job.args.get("object") or "export"
    return ExportFile(path, f"{name}-{job.id}.{fmt}", MEDIA_TYPES[fmt])
