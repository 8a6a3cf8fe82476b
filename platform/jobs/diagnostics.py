"""``trellis.count``: a diagnostic job that checks workers end to end.

It counts to ``to`` (at most 100,000), one step every ``delay`` seconds,
reporting progress and checkpointing each step, so an operator can see that
workers take jobs, that progress reaches the screens, and that a job survives
its worker being killed (it resumes from its checkpoint on the next attempt).
With ``fail_times: n`` its first n runs fail on purpose (counted in the
checkpoint, so across attempts and retries), to check retries, backoff and
how failures are shown.
"""

from __future__ import annotations

import time

from .context import JobContext, JobFailed
from .registry import job_handler

MAX_STEPS = 100_000


@job_handler("trellis.count")
def count(ctx: JobContext) -> None:
    to, delay, fail_times = ctx.args.get("to", 10), ctx.args.get("delay", 0.1), ctx.args.get("fail_times", 0)
    if not isinstance(to, int) or not 0 <= to <= MAX_STEPS:
        raise JobFailed(f"args.to must be a whole number from 0 to {MAX_STEPS}.")
    if not isinstance(delay, int | float) or not 0 <= delay <= 60:
        raise JobFailed("args.delay must be a number of seconds from 0 to 60.")
    if not isinstance(fail_times, int) or fail_times < 0:
        raise JobFailed("args.fail_times must be a whole number, 0 or more.")
    checkpoint = ctx.checkpoint or {}
    done, failures = checkpoint.get("done", 0), checkpoint.get("failures", 0)
    if failures < fail_times:
        ctx.progress(done, to, checkpoint={"done": done, "failures": failures + 1})
        raise JobFailed(f"Planned failure {failures + 1} of {fail_times}.")
    resumed = f" (resumed at {done} on attempt {ctx.attempt})" if done else ""
    while done < to:
        time.sleep(delay)
        done += 1
        ctx.progress(done, to, f"Counted to {done}{resumed}.", checkpoint={"done": done, "failures": failures})
    ctx.progress(to, to, f"Counted to {to}{resumed}.")
