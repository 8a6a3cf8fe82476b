"""Outgoing webhooks: signed JSON payloads, delivered by jobs with retries, each attempt logged.

What a receiver gets (documented in docs/automations.md):

- a ``POST`` with a JSON body: ``{"id", "tenant", "object", "rule", "event", "record", "run_id"}``;
- ``X-Trellis-Delivery``: the delivery's id, the same on every attempt, so a receiver
  that stores the ids it accepted processes each delivery once;
- ``X-Trellis-Timestamp``: Unix seconds of this attempt, and ``X-Trellis-Attempt``;
- ``X-Trellis-Signature: sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` with the
  webhook's secret, so the receiver can check the sender and refuse replays of old timestamps.

The secret is ``TRELLIS_WEBHOOK_SECRET_<secret_ref>`` from the worker's environment when the
action names a ``secret_ref``; otherwise the tenant's own key, derived from
``TRELLIS_SECRET_KEY`` (``tenant_secret``). Any answer but 2xx, or no answer, fails the
attempt; the job layer tries again after its backoff, up to ``ATTEMPTS`` times.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from trellis.metadata.automations import Action, Rule

from ..jobs import JobContext, JobFailed, job_handler
from ..storage.stores import TenantStore
from ..storage.system import automation_tables

if TYPE_CHECKING:
    from ..core import Platform
    from ..records.service import RecordService

DELIVER_KIND = "automation.webhook"
ATTEMPTS = 5
TIMEOUT_S = 10
SIGNATURE = "X-Trellis-Signature"
TIMESTAMP = "X-Trellis-Timestamp"
DELIVERY = "X-Trellis-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: int = 300) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def tenant_secret(platform: Platform, slug: str) -> str:
    """The key a tenant's webhooks are signed with when their action names no ``secret_ref``."""
    return hmac.new(platform.settings.secret_key.encode(), f"webhook:{slug}".encode(), hashlib.sha256).hexdigest()


def send(ctx: JobContext, service: RecordService, rule: Rule, action: Action, record: Mapping[str, Any],
         run: Mapping[str, Any], index: int) -> int:
    """Queue the delivery of this action's payload (once per run and action); returns the delivery job."""
    delivery_id = hashlib.sha256(f"{ctx.tenant.slug}:{run['id']}:{run['created_at']}:{index}".encode()).hexdigest()[:32]
    dumped = service.runtime.output_schema(rule.object).dump(record)
    payload = {"id": delivery_id, "tenant": ctx.tenant.slug, "object": rule.object, "rule": rule.name,
               "event": rule.on, "run_id": run["id"], "record": json.loads(json.dumps(dumped, default=str))}
    args = {"url": action.spec["url"], "secret_ref": action.spec.get("secret_ref"), "payload": payload,
            "delivery_id": delivery_id, "run_id": run["id"]}
    return ctx.platform.jobs.enqueue(ctx.tenant.slug, DELIVER_KIND, args, ctx.actor.user_id,
                                     idempotency_key=f"hook:{delivery_id}", max_attempts=ATTEMPTS, timeout_s=60)


@job_handler(DELIVER_KIND)
def deliver(ctx: JobContext) -> None:
    """One attempt: POST the payload, log the attempt, fail (to be retried) unless the answer is 2xx."""
    args = ctx.args
    secret = _secret(ctx, args.get("secret_ref"))
    body = json.dumps(args["payload"], sort_keys=True, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(args["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Trellis-Webhooks/1", DELIVERY: args["delivery_id"],
        TIMESTAMP: stamp, SIGNATURE: sign(secret, stamp, body), "X-Trellis-Attempt": str(ctx.attempt)})
    started = time.monotonic()
    status, error = _post(request)
    store = ctx.platform.runtime(ctx.tenant).store
    _log(store, args, ctx.attempt, status, error, int((time.monotonic() - started) * 1000))
    if error is not None:
        raise JobFailed(f"Webhook delivery {args['delivery_id']} to {args['url']} failed: {error}")


def _post(request: urllib.request.Request) -> tuple[int | None, str | None]:
    """(status code, error or None); redirects are not followed (a receiver must answer itself)."""
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as answer:
        return answer.code, f"the receiver answered {answer.code}"
    except (urllib.error.URLError, OSError) as problem:
        return None, f"no answer ({getattr(problem, 'reason', problem)})"
    return status, None if 200 <= status < 300 else f"the receiver answered {status}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _secret(ctx: JobContext, ref: str | None) -> str:
    if ref is None:
        return tenant_secret(ctx.platform, ctx.tenant.slug)
    secret = os.environ.get(f"TRELLIS_WEBHOOK_SECRET_{ref}")
    if not secret:
        raise JobFailed(f"The webhook's secret_ref {ref} names no secret: set TRELLIS_WEBHOOK_SECRET_{ref} in the "
                        "environment of the workers.")
    return secret


def _log(store: TenantStore, args: Mapping[str, Any], attempt: int, status: int | None, error: str | None,
         duration_ms: int) -> None:
    _, deliveries = automation_tables(store.schema)
    with store.engine.begin() as conn:
        conn.execute(insert(deliveries).values(
            delivery_id=args["delivery_id"], run_id=args.get("run_id"), url=args["url"], attempt=attempt,
            status_code=status, error=error, duration_ms=duration_ms, at=datetime.now(UTC)))


def list_deliveries(store: TenantStore, *, delivery_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Delivery attempts, newest first; with ``delivery_id``, that delivery's attempts."""
    _, deliveries = automation_tables(store.schema)
    query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
    if delivery_id is not None:
        query = query.where(deliveries.c.delivery_id == delivery_id)
    with store.engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        if row["at"].tzinfo is None:
            row["at"] = row["at"].replace(tzinfo=UTC)
    return rows
