"""The outbox is mailed over SMTP by a job when TRELLIS_SMTP_URL is set, and kept unsent otherwise.

The mail server is a few lines of SMTP on a local socket, so the test needs no package and
sees exactly what a real server would receive.
"""

from __future__ import annotations

import socketserver
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select
from workers import running

from trellis.platform.config import Settings
from trellis.platform.controlplane.accounts import queue_message
from trellis.platform.controlplane.tables import OutboxMessage
from trellis.platform.mail import send_later
from trellis.tenants.registry import create_tenant


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greet, accept one message, remember it."""

    received: list[str] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(part.decode())
                _Smtp.received.append("".join(body))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def mail_server() -> Iterator[int]:
    _Smtp.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _tenant(platform) -> str:
    slug = f"mail-{uuid.uuid4().hex[:10]}"
    create_tenant(platform, slug, "Mailer")
    return slug


def _queue(platform, to: str) -> int:
    with platform.control() as session:
        return queue_message(session, to, "Deal won", "Globex signed.").id


def test_a_queued_message_is_mailed_once_and_marked_sent(settings: Settings, mail_server: int) -> None:
    smtp = replace(settings, redis_url=None, smtp_url=f"smtp://127.0.0.1:{mail_server}", mail_from="crm@acme.test")
    with running(smtp) as platform:
        slug = _tenant(platform)
        message_id = _queue(platform, "finance@acme.test")
        job = send_later(platform, slug, message_id)
        assert send_later(platform, slug, message_id) == job  # one job per message
        assert platform.jobs.wait(job).status == "succeeded"
        with platform.control() as session:
            assert session.get(OutboxMessage, message_id).sent_at is not None
    assert len(_Smtp.received) == 1
    assert "To: finance@acme.test" in _Smtp.received[0] and "From: crm@acme.test" in _Smtp.received[0]
    assert "Globex signed." in _Smtp.received[0]


def test_an_unreachable_server_fails_the_job_with_the_reason_and_the_message_stays_unsent(settings: Settings,
                                                                                           mail_server: int) -> None:
    dead = replace(settings, redis_url=None, smtp_url="smtp://127.0.0.1:9", job_backoff_s=(0.01,))
    with running(dead) as platform:
        slug = _tenant(platform)
        message_id = _queue(platform, "finance@acme.test")
        info = platform.jobs.wait(send_later(platform, slug, message_id))
        assert info.status == "failed" and "could not be reached" in (info.error or "")
        with platform.control() as session:
            assert session.get(OutboxMessage, message_id).sent_at is None


def test_without_smtp_messages_are_stored_not_sent(settings: Settings) -> None:
    with running(replace(settings, redis_url=None)) as platform:
        slug = _tenant(platform)
        message_id = _queue(platform, "finance@acme.test")
        assert send_later(platform, slug, message_id) is None
        with platform.control() as session:
            stored = session.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()
            assert stored.sent_at is None and stored.body == "Globex signed."
