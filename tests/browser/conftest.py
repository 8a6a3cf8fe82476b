"""Fixtures for browser tests: the real app on a free local port, and Debian's Chromium.

The server is werkzeug's, in a thread of the test process, serving ``create_app`` over
the session's platform, so a test can arrange data through the platform and then drive
the screens like a user would. Chromium is the system one (never ``playwright install``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from trellis.platform.core import Platform
from trellis.renderers.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(platform: Platform) -> Iterator[str]:
    """The base URL of the app, served until the backend's tests are done."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per asset would bury a failure's log
    server = make_server("127.0.0.1", 0, create_app(platform=platform), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A fresh browser context; on failure a screenshot is kept in the test's tmp_path."""
    context = browser.new_context(locale="en-US", viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, pytest.TestReport,
                                                                                      pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
