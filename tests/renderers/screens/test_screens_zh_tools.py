"""The screens added for reports, exports, imports, jobs and templates speak Chinese to a user whose locale is
zh-CN, and the catalog has no entry left untranslated or only guessed (fuzzy)."""

from __future__ import annotations

import uuid

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from screen_helpers import sign_in, text_of

from trellis.platform.controlplane.accounts import add_membership, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.renderers.screens.i18n import TRANSLATIONS
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """The tests here only read, so they share one demo tenant."""
    return shared_demo


@pytest.fixture
def chinese(client: FlaskClient, platform: Platform, demo: DemoLogin, base: str) -> FlaskClient:
    """The client signed in as an admin whose own locale is zh-CN."""
    email = f"wang-{uuid.uuid4().hex[:8]}@{demo.tenant}.example"
    with platform.control() as session:
        user = create_user(session, email=email, password="zh-password", name="Wang", locale="zh-CN")
        add_membership(session, find_tenant(session, demo.tenant), user, role="admin")
    assert sign_in(client, base, email, "zh-password").status_code == 302
    return client


@pytest.mark.parametrize(("page", "expected"), [
    ("/reports", ["报表", "仪表板"]),
    ("/exports", ["导出", "暂无导出"]),
    ("/imports", ["导入 CSV", "第 1 步（共 4 步）", "上传并映射列"]),
    ("/jobs", ["后台任务"]),
    ("/templates", ["模板", "已安装"]),
])
def test_the_tool_screens_speak_chinese(chinese: FlaskClient, base: str, page: str, expected: list[str]) -> None:
    text = text_of(chinese.get(f"{base}{page}", follow_redirects=True))
    assert [word for word in expected if word not in text] == []


def test_every_catalog_entry_is_translated_and_none_is_fuzzy() -> None:
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    assert [m.id for m in catalog if m.id and (not m.string or m.fuzzy)] == []
