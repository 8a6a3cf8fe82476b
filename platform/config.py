"""Settings, read from the environment (twelve-factor).

With nothing set Trellis runs embedded: SQLite files under ``TRELLIS_DATA_DIR``
and jobs in process. ``TRELLIS_DATABASE_URL`` (PostgreSQL) and
``TRELLIS_REDIS_URL`` switch the same code to the production services.
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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("TRELLIS_DATA_DIR", "data")).resolve()
        return cls(
            database_url=env.get("TRELLIS_DATABASE_URL") or None,
            redis_url=env.get("TRELLIS_REDIS_URL") or None,
            data_dir=data_dir,
            secret_key=env.get("TRELLIS_SECRET_KEY") or _local_secret(data_dir),
        )

    @property
    def embedded(self) -> bool:
        """True when running on SQLite files rather than PostgreSQL."""
        return self.database_url is None

    @property
    def control_plane_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'control.db'}"


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
