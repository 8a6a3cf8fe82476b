"""What a handler gets: the job's tenant, arguments, actor, attempt, checkpoint and a way to report progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..records.service import Actor
from ..runtime import TenantRef
from . import store

if TYPE_CHECKING:
    from ..core import Platform


class JobFailed(Exception):
    """Raise from a handler to fail the attempt with a message meant for people (it is shown as the error)."""


class JobLost(Exception):
    """This process no longer owns the job: it was judged dead and handed to another worker."""


class JobTimedOut(Exception):
    """The job ran longer than its ``timeout_s``."""


@dataclass
class JobContext:
    """One attempt at one job. ``attempt`` starts at 1; a crash or a failure makes the next one higher."""

    platform: Platform
    job_id: int
    kind: str
    tenant: TenantRef
    args: dict[str, Any]
    actor: Actor
    attempt: int
    #: What the last ``progress(..., checkpoint=...)`` saved, from this attempt or an earlier one.
    checkpoint: dict[str, Any] | None
    timeout_s: float
    _started: float = field(default_factory=time.monotonic)

    def progress(self, done: int, total: int | None = None, message: str | None = None, *,
                 checkpoint: dict[str, Any] | None = None) -> None:
        """Record how far the job got (and, optionally, where to resume) in one update of its row.

        Also where a job notices that it must stop: when it has run past its
        timeout (the in-process runner cannot interrupt a thread) or when
        another worker has taken it over after this process looked dead.
        """
        if time.monotonic() - self._started > self.timeout_s:
            raise JobTimedOut(f"The job ran longer than its time limit of {self.timeout_s:g} s.")
        if checkpoint is not None:
            self.checkpoint = checkpoint
        if not store.save_progress(self.platform, self.job_id, self.attempt, done, total, message, checkpoint):
            raise JobLost(f"Job {self.job_id} was taken over by another worker; this attempt stops.")
