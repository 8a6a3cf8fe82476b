"""A metadata change made through one server process is served by another on its very next request.

Two gunicorn processes share the database, as two app servers behind a load
balancer would. The second one has already cached the tenant's runtime, its
OpenAPI document and its screens app; after a field is added through the first,
the second must show the field at once, without a restart.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener, urlopen

import pytest

from trellis.platform.config import Settings
from trellis.tenants.demo import DemoLogin

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "TRELLIS_DATA_DIR": str(settings.data_dir), "TRELLIS_SECRET_KEY": settings.secret_key}
    for name, value in (("TRELLIS_DATABASE_URL", settings.database_url), ("TRELLIS_REDIS_URL", settings.redis_url)):
        env.pop(name, None)
        if value:
            env[name] = value
    return env


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            urlopen(f"{base}/", timeout=2).close()
            return
        except OSError:  # refused or timed out while the worker boots
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not come up")


@pytest.fixture
def servers(settings: Settings) -> Iterator[list[str]]:
    """Two independent app server processes over the same databases."""
    processes, bases = [], []
    try:
        for _ in range(2):
            port = _free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT, env=_environment(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes, strict=True):
            _wait_until_up(base, process)
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _api(base: str, demo: DemoLogin, path: str, body: bytes | None = None) -> bytes:
    request = Request(f"{base}/t/{demo.tenant}/api/v1{path}", data=body, headers={
        "Authorization": f"Bearer {demo.token}", "Content-Type": "application/json"})
    with urlopen(request, timeout=30) as response:
        return response.read()


def _signed_in(base: str, demo: DemoLogin):
    """An HTTP client with a cookie jar, signed in to the tenant's screens on ``base``."""
    client = build_opener(HTTPCookieProcessor(CookieJar()))
    login = f"{base}/t/{demo.tenant}/login"
    page = client.open(login, timeout=30).read().decode()
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1])
    form = urlencode({"email": demo.email, "password": demo.password, "csrf_token": token}).encode()
    client.open(login, data=form, timeout=30).read()
    return client


def test_a_field_added_through_one_process_is_served_by_the_other(servers: list[str], demo: DemoLogin) -> None:
    first, second = servers
    screens = _signed_in(second, demo)
    create_form = f"{second}/t/{demo.tenant}/records/deal/new/"
    assert b"Region" not in screens.open(create_form, timeout=30).read()  # the second process has built its app
    assert b"region" not in _api(second, demo, "/openapi.json")

    _api(first, demo, "/metadata/objects/deal/fields",
         b'{"api_name": "region", "label": "Region", "type": "text"}')

    assert b'"region"' in _api(second, demo, "/openapi.json")
    assert b"Region" in screens.open(create_form, timeout=30).read()
    created = _api(second, demo, "/records/deal", b'{"name": "Nordic expansion", "account": 1, '
                                                   b'"stage": "prospecting", "region": "EMEA"}')
    assert b'"region": "EMEA"' in created
