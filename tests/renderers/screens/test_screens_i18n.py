"""Languages: the user's own locale, else the browser's; metadata labels follow the same choice."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from screen_helpers import sign_in, text_of

from trellis.platform.controlplane.accounts import add_membership, create_user
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.core import Platform
from trellis.renderers.screens.i18n import supported
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """The tests here only read, so they share one demo tenant."""
    return shared_demo


def _chinese_member(platform: Platform, tenant: str) -> tuple[str, str]:
    with platform.control() as session:
        user = create_user(session, email=f"li@{tenant}.example", password="zh-password", name="Li", locale="zh-CN")
        add_membership(session, session.query(Tenant).filter_by(slug=tenant).one(), user, role="admin")
    return f"li@{tenant}.example", "zh-password"


def test_a_user_whose_locale_is_chinese_gets_chinese_screens(client: FlaskClient, platform: Platform,
                                                             demo: DemoLogin, base: str) -> None:
    email, password = _chinese_member(platform, demo.tenant)
    assert sign_in(client, base, email, password).status_code == 302
    listing = text_of(client.get(f"{base}/records/deal/", headers={"Accept-Language": "en"}))
    assert "商机名称" in listing and "阶段" in listing  # field labels from the metadata
    assert any(stage in listing for stage in ("初步接洽", "资格确认", "方案报价", "谈判", "赢单", "输单"))
    assert "创建" in listing  # flask-admin's own strings ("Create")
    assert "退出" in listing  # ours ("Sign out")
    form = client.get(f"{base}/records/deal/new/")
    assert "金额" in text_of(form) and 'value="保存"' in form.text


def test_the_browser_language_picks_the_sign_in_page_language(client: FlaskClient, base: str) -> None:
    chinese = text_of(client.get(f"{base}/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}))
    assert "登录" in chinese and "密码" in chinese
    english = text_of(client.get(f"{base}/login", headers={"Accept-Language": "fr-FR,en;q=0.5"}))
    assert "Sign in" in english and "Password" in english


def test_an_english_user_gets_english_whatever_the_browser_says(signed_in: FlaskClient, base: str) -> None:
    listing = text_of(signed_in.get(f"{base}/records/deal/", headers={"Accept-Language": "zh-CN"}))
    assert "Deal name" in listing and "商机名称" not in listing


def test_language_tags_map_to_the_languages_we_speak() -> None:
    assert [supported(tag) for tag in ("zh-CN", "zh_Hans_CN", "zh", "ZH-tw", "en-GB", "de", "", None)] == [
        "zh_CN", "zh_CN", "zh_CN", "zh_CN", "en", "en", "en", "en"]
