"""Webhooks: a receiver that fails twice, then succeeds, accepts the signed payload exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from automation_kit import TICKET, admin, automation_platform, drain, with_rules

from trellis.platform.automation import webhooks
from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant

SECRET = "s3cret-for-tests"


class Receiver(ThreadingHTTPServer):
    """A webhook receiver as an integrator would write one: it answers 500 to the first ``fail`` requests,
    then keeps the payload of each delivery id once (a retry of an accepted delivery is not processed again)."""

    def __init__(self, fail: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail = fail
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/trellis"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"headers": dict(self.headers), "body": body})
        if len(self.server.requests) <= self.server.fail:
            self.send_response(500)
        else:
            self.server.accepted.setdefault(self.headers["X-Trellis-Delivery"], json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(fail=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def auto(settings: Settings) -> Iterator[Platform]:
    yield from automation_platform(settings)


@pytest.fixture
def actor(auto: Platform) -> Actor:
    return admin(auto)


def _tenant(auto: Platform, actor: Actor, url: str) -> str:
    slug = f"h-{uuid.uuid4().hex[:12]}"
    create_tenant(auto, slug, "Webhooks")
    rule = {"name": "notify", "trigger": {"on": "created"}, "condition": 'priority = "high"',
            "actions": [{"type": "webhook", "url": url, "secret_ref": "TEST"}]}
    auto.editor(auto.runtime(slug), actor).create_object(with_rules(TICKET, rule))
    return slug


def test_a_receiver_failing_twice_gets_the_signed_payload_once(auto: Platform, actor: Actor, receiver: Receiver,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_WEBHOOK_SECRET_TEST", SECRET)
    slug = _tenant(auto, actor, receiver.url)
    records = auto.records(auto.runtime(slug), actor)
    records.create("ticket", {"subject": "Quiet", "priority": "low"})  # the condition keeps this one back
    ticket = records.create("ticket", {"subject": "Server down", "priority": "high"})
    drain(auto, slug)

    assert len(receiver.requests) == 3
    ids = {request["headers"]["X-Trellis-Delivery"] for request in receiver.requests}
    assert len(ids) == 1  # the same delivery id on every attempt
    assert [request["headers"]["X-Trellis-Attempt"] for request in receiver.requests] == ["1", "2", "3"]
    assert len({request["body"] for request in receiver.requests}) == 1  # the same payload too
    (delivery_id,) = ids
    payload = receiver.accepted[delivery_id]
    assert list(receiver.accepted) == [delivery_id]
    assert (payload["object"], payload["rule"], payload["event"], payload["tenant"]) == (
        "ticket", "notify", "created", slug)
    assert (payload["record"]["id"], payload["record"]["subject"]) == (ticket["id"], "Server down")

    for request in receiver.requests:  # each attempt carries a valid signature over its timestamp and body
        headers = request["headers"]
        expected = hmac.new(SECRET.encode(), headers["X-Trellis-Timestamp"].encode() + b"." + request["body"],
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Trellis-Signature"], f"sha256={expected}")
        assert webhooks.verify(SECRET, headers["X-Trellis-Timestamp"], request["body"], headers["X-Trellis-Signature"])
        assert not webhooks.verify("wrong", headers["X-Trellis-Timestamp"], request["body"],
                                   headers["X-Trellis-Signature"])

    log = sorted(webhooks.list_deliveries(auto.runtime(slug).store, delivery_id=delivery_id),
                 key=lambda row: row["attempt"])
    assert [(row["attempt"], row["status_code"]) for row in log] == [(1, 500), (2, 500), (3, 200)]
    assert log[0]["error"] == "the receiver answered 500" and log[2]["error"] is None
    assert all(row["url"] == receiver.url and row["duration_ms"] >= 0 for row in log)
    (run,) = auto.automation.runs(auto.runtime(slug), "ticket", "notify")
    assert (run["status"], run["record_id"]) == ("succeeded", ticket["id"])


def test_an_unknown_secret_ref_fails_the_delivery_with_a_clear_error(auto: Platform, actor: Actor,
                                                                    receiver: Receiver,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRELLIS_WEBHOOK_SECRET_TEST", raising=False)
    slug = _tenant(auto, actor, receiver.url)
    auto.records(auto.runtime(slug), actor).create("ticket", {"subject": "Down", "priority": "high"})
    drain(auto, slug)
    (job,) = [j for j in auto.jobs.list(auto.tenant(slug).id) if j.kind == webhooks.DELIVER_KIND]
    assert job.status == "failed" and "TRELLIS_WEBHOOK_SECRET_TEST" in (job.error or "")
    assert receiver.requests == []
