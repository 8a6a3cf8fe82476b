"""Mailing the outbox over SMTP.

Every message Trellis writes (reset links, automation emails) goes into the control
plane's ``outbox`` first, in the transaction that decided to send it. With
``TRELLIS_SMTP_URL`` set (``smtp://user:password@host:587?starttls=true`` or
``smtps://…`` for TLS from the start), each message is then handed to a ``mail.send``
job, so a mail server that is down is retried with the job layer's backoff and a
message is marked ``sent_at`` once it went out. Without it — the embedded default —
messages stay stored and unsent, where an admin or a test can read them.
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from .controlplane.tables import OutboxMessage
from .jobs import JobContext, JobFailed, job_handler

if TYPE_CHECKING:
    from .core import Platform

KIND = "mail.send"


def send_later(platform: Platform, tenant_slug: str, message_id: int) -> int | None:
    """Queue the sending of outbox message ``message_id`` (once per message); None when no SMTP is configured."""
    if not platform.settings.smtp_url:
        return None
    return platform.jobs.enqueue(tenant_slug, KIND, {"message": message_id}, None,
                                 idempotency_key=f"mail:{message_id}", max_attempts=5, timeout_s=120)


@job_handler(KIND)
def send(ctx: JobContext) -> None:
    url = ctx.platform.settings.smtp_url
    if not url:
        raise JobFailed("TRELLIS_SMTP_URL is not set in the worker's environment, so mail cannot be sent.")
    with ctx.platform.control() as session:
        message = session.get(OutboxMessage, ctx.args["message"])
        if message is None or message.sent_at is not None:
            return  # sent by an earlier attempt that died before its job was marked done
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = ctx.platform.settings.mail_from, message.to, message.subject
        mail.set_content(message.body)
        try:
            _deliver(url, mail)
        except (OSError, smtplib.SMTPException) as error:
            raise JobFailed(f"The mail server refused or could not be reached: {error}") from error
        message.sent_at = datetime.now(UTC)


def _deliver(url: str, mail: EmailMessage) -> None:
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    client = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with client(parts.hostname or "localhost", port, timeout=30) as smtp:
        if parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("1", "true"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(mail)
