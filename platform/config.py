"""Settings, read from the environment (twelve-factor).

With nothing set Trellis runs embedded: SQLite files under ``TRELLIS_DATA_DIR``
and jobs in process. ``TRELLIS_DATABASE_URL`` (PostgreSQL) and
``TRELLIS_REDIS_URL`` switch the same code to the production services.
``TRELLIS_DATABASES`` (``main=postgresql://…,eu=postgresql://…``) spreads tenants
over several PostgreSQL databases, the first holding the control plane;
``TRELLIS_BASE_DOMAIN`` serves each tenant on its own subdomain as well.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the runtime needs to know about where things live."""

    #: PostgreSQL URL for the control plane and tenant schemas; ``None`` = embedded SQLite.
    database_url: str | None = None
    #: Redis URL for queues and cross-process signals; ``None`` = in process.
    redis_url: str | None = None
    #: Folder for the embedded default's SQLite files.
    data_dir: Path = field(default_factory=lambda: Path("data"))
    #: Signs sessions, CSRF tokens and reset links.
    secret_key: str = ""
    #: Named PostgreSQL databases that hold tenants (``TRELLIS_DATABASES``); the first is ``database_url``'s.
    databases: dict[str, str] = field(default_factory=dict)
    #: With a base domain ``crm.example.com``, ``acme.crm.example.com`` serves tenant acme.
    base_domain: str | None = None
    #: The rq queue jobs go to (``TRELLIS_JOB_QUEUE``); deployments sharing one Redis need different names.
    job_queue: str = "trellis"
    #: Modules whose ``@job_handler``s a worker imports besides the built-in ones (``TRELLIS_JOB_MODULES``).
    job_modules: tuple[str, ...] = ()
    #: Session cookies only over HTTPS (``TRELLIS_SECURE_COOKIES=1``; behind TLS-terminating proxies too).
    secure_cookies: bool = False
    #: Type conversions of tables with more records than this run as resumable jobs (``TRELLIS_CONVERT_JOB_ROWS``).
    convert_job_rows: int = 100_000
    #: Records converted and committed per batch by such a job (``TRELLIS_CONVERT_BATCH_ROWS``).
    convert_batch_rows: int = 20_000
    #: Seconds between a running job's heartbeats; three missed ones mean its process died.
    job_heartbeat_s: float = 10.0
    #: Seconds a failed job waits before attempt 2, 3, …; the last value repeats (``TRELLIS_JOB_BACKOFF_S``).
    job_backoff_s: tuple[float, ...] = (5.0, 30.0, 120.0)
    #: Rule runs caused by rule runs this many levels deep stop, with a reason (``TRELLIS_AUTOMATION_MAX_DEPTH``).
    automation_max_depth: int = 5
    #: Runs one rule may start per minute; more are recorded as skipped (``TRELLIS_AUTOMATION_RATE``).
    automation_rate_per_minute: int = 120
    #: Seconds between scans for time-based and scheduled rules in workers; 0 turns the scans off.
    automation_scan_s: float = 60.0
    #: Folder for finished exports (``TRELLIS_EXPORTS_DIR``); None = ``exports`` in the data folder.
    exports_dir: Path | None = None
    #: Seconds an export file stays downloadable before it is deleted (``TRELLIS_EXPORT_TTL_S``).
    export_ttl_s: float = 86400.0
    #: The mail server the outbox is sent through (``TRELLIS_SMTP_URL``); ``None``: messages are stored, not sent.
    smtp_url: str | None = None
    #: The sender address of outgoing mail (``TRELLIS_MAIL_FROM``).
    mail_from: str = "trellis@localhost"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("TRELLIS_DATA_DIR", "data")).resolve()
        databases = parse_databases(env.get("TRELLIS_DATABASES", ""))
        return cls(
            database_url=next(iter(databases.values()), None) or env.get("TRELLIS_DATABASE_URL") or None,
            databases=databases,
            base_domain=(env.get("TRELLIS_BASE_DOMAIN") or "").strip().strip(".").lower() or None,
            redis_url=env.get("TRELLIS_REDIS_URL") or None,
            data_dir=data_dir,
            secret_key=env.get("TRELLIS_SECRET_KEY") or _local_secret(data_dir),
            job_queue=env.get("TRELLIS_JOB_QUEUE") or "trellis",
            job_modules=tuple(m.strip() for m in env.get("TRELLIS_JOB_MODULES", "").split(",") if m.strip()),
            job_heartbeat_s=_seconds("TRELLIS_JOB_HEARTBEAT_S", env.get("TRELLIS_JOB_HEARTBEAT_S") or "10")[0],
            secure_cookies=(env.get("TRELLIS_SECURE_COOKIES") or "").lower() in ("1", "true"),
            convert_job_rows=int(env.get("TRELLIS_CONVERT_JOB_ROWS") or 100_000),
            convert_batch_rows=int(env.get("TRELLIS_CONVERT_BATCH_ROWS") or 20_000),
            job_backoff_s=_seconds("TRELLIS_JOB_BACKOFF_S", env.get("TRELLIS_JOB_BACKOFF_S") or "5,30,120"),
            automation_max_depth=int(env.get("TRELLIS_AUTOMATION_MAX_DEPTH") or 5),
            automation_rate_per_minute=int(env.get("TRELLIS_AUTOMATION_RATE") or 120),
            automation_scan_s=float(env.get("TRELLIS_AUTOMATION_SCAN_S") or 60),
            exports_dir=Path(env["TRELLIS_EXPORTS_DIR"]).resolve() if env.get("TRELLIS_EXPORTS_DIR") else None,
            export_ttl_s=float(env.get("TRELLIS_EXPORT_TTL_S") or 86400),
            smtp_url=env.get("TRELLIS_SMTP_URL") or None,
            mail_from=env.get("TRELLIS_MAIL_FROM") or "trellis@localhost",
        )

    @property
    def embedded(self) -> bool:
        """True when running on SQLite files rather than PostgreSQL."""
        return self.database_url is None

    @property
    def database_names(self) -> list[str]:
        """The names tenants can be placed on; the control plane's database is the first ("main" if unnamed)."""
        return list(self.databases) or [DEFAULT_DATABASE]

    def database_url_of(self, name: str | None) -> str | None:
        """The URL of database ``name`` (None or the first name: the control plane's)."""
        if name is None or name == self.database_names[0]:
            return self.database_url
        if name not in self.databases:
            raise ValueError(f"No database named {name!r}; TRELLIS_DATABASES names {', '.join(self.database_names)}.")
        return self.databases[name]

    @property
    def control_plane_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'control.db'}"


#: The name of the only database when ``TRELLIS_DATABASES`` is not set.
DEFAULT_DATABASE = "main"


def parse_databases(text: str) -> dict[str, str]:
    """``main=postgresql://…,eu=postgresql://…`` as an ordered mapping; bad entries are refused by name."""
    found: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name.isidentifier() or not url.startswith("postgresql"):
            raise ValueError(f"TRELLIS_DATABASES entry {entry!r} must look like name=postgresql://host/db.")
        if name in found:
            raise ValueError(f"TRELLIS_DATABASES names {name!r} twice.")
        found[name] = url
    return found


def _seconds(name: str, text: str) -> tuple[float, ...]:
    """``5,30,120`` as seconds; anything else is refused by the variable's name."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or any(not 0 <= value < 86400 for value in values):
        raise ValueError(f"{name}={text!r} must be seconds (0 to 86399) separated by commas, such as 5,30,120.")
    return values


def _local_secret(data_dir: Path) -> str:
    """A secret kept in the data folder, so sessions survive restarts.

    Production sets ``TRELLIS_SECRET_KEY``; the embedded default must still
    never run with a guessable key.
    """
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
