"""The job layer: every background task (schema migrations, imports, exports, automations) runs through it.

Enqueue with ``platform.jobs.enqueue(tenant, kind, args, actor_user_id)``; the
work is done by the handler registered for ``kind`` with ``@job_handler``.
With ``TRELLIS_REDIS_URL`` set the job goes to an rq queue and ``trellis
worker`` runs it; without, a background thread of the same process does. The
job's row in the control plane is the truth about it either way.

The contract for handlers: **a handler may be called again after a crash;
commit progress and checkpoint together.** If the process running a job dies
(even by ``kill -9``), the job is run again — with ``ctx.attempt`` one higher —
once its heartbeat is stale and a worker is available. A handler that does a
long task in steps stays correct by saving, in the same transaction as each
step's work, where it got to, and by starting from there. ``ctx.progress(...,
checkpoint=...)`` stores a checkpoint on the job row for handlers whose work is
idempotent or lives in the control plane; work in a tenant's store keeps its
checkpoint in that store, next to the data it describes.
"""

from .context import JobContext, JobFailed
from .registry import job_handler
from .service import JobInfo, Jobs

__all__ = ["JobContext", "JobFailed", "JobInfo", "Jobs", "job_handler"]
