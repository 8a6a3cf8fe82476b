"""The leads_inbound extension: a signed inbound endpoint that creates leads, and a signed outgoing "notify".

Enable it with POST /metadata/extensions::

    {"api_name": "leads_inbound", "label": "Inbound leads",
     "settings": {"secret_env": "TRELLIS_LEADS_SECRET", "object": "lead", "notify_url": "https://example.com/hook"}}

A sender POSTs a JSON object of the lead's fields to /t/<tenant>/api/v1/x/leads_inbound/leads
with ``X-Trellis-Timestamp`` (Unix seconds) and ``X-Trellis-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``<timestamp>.<body>`` under the shared secret — the scheme Trellis's own
webhooks use, so one verifier serves both ways. The secret is the environment variable that
``secret_env`` names (never stored in the metadata). The "notify" action sends the record to
``notify_url`` as a signed webhook, retried and logged like automation webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

from trellis.extensions.api import Extension, ExtensionContext, HookRefused, RecordContext

extension = Extension("leads_inbound", "1.0.0", "Inbound leads",
                      description="Creates leads from signed HTTP posts and notifies other systems of records.")

#: How old a signed request may be, in seconds (refuses replays of captured requests).
TOLERANCE_S = 300


def _secret(settings: dict[str, Any]) -> str:
    secret = os.environ.get(settings.get("secret_env", "TRELLIS_LEADS_SECRET"), "")
    if not secret:
        raise HookRefused("The inbound endpoint has no secret: set the environment variable named by the "
                          "extension's secret_env setting.", conflict=True)
    return secret


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``<timestamp>.<body>``: what a sender puts in X-Trellis-Signature."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _fresh(timestamp: str) -> bool:
    try:
        return abs(time.time() - int(timestamp)) <= TOLERANCE_S
    except ValueError:
        return False


@extension.route("/leads", methods=["POST"], public=True)
def receive_lead(ctx: ExtensionContext) -> tuple[dict[str, Any], int]:
    """Create one lead from a signed JSON object of its fields."""
    headers = {key.lower(): value for key, value in ctx.headers.items()}
    stamp, signed = headers.get("x-trellis-timestamp", ""), headers.get("x-trellis-signature", "")
    expected = signature(_secret(dict(ctx.settings)), stamp, ctx.raw_body)
    if not (_fresh(stamp) and hmac.compare_digest(expected, signed)):
        raise HookRefused("The signature is missing, wrong or older than 5 minutes; sign <timestamp>.<body> "
                          "with the shared secret (HMAC-SHA256).", field="X-Trellis-Signature")
    if not isinstance(ctx.body, dict):
        raise HookRefused("Send the lead's fields as a JSON object.", field="$")
    return ctx.records.create(ctx.settings.get("object", "lead"), ctx.body), 201


@extension.action("notify", "Notify")
def notify(ctx: RecordContext) -> dict[str, Any]:
    """Send the record to the configured URL as a signed webhook; answers the delivery id."""
    url = ctx.settings.get("notify_url")
    if not url:
        raise HookRefused("Set notify_url in the extension's settings first.", conflict=True)
    assert ctx.send_webhook is not None and ctx.record is not None
    delivery = ctx.send_webhook(url, {"object": ctx.object, "event": "notify", "record": dict(ctx.record)},
                                ctx.settings.get("secret_ref"))
    return {"delivery_id": delivery}
