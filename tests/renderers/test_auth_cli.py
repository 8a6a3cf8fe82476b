"""``trellis users reset-link`` and ``trellis tokens list|revoke`` from a terminal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from trellis.platform.config import Settings
from trellis.platform.controlplane.accounts import RESET_LINK_SECONDS, user_for_reset
from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.renderers.cli import main as trellis_cli
from trellis.renderers.cli import root as cli_root
from trellis.tenants.demo import DemoLogin


def test_reset_link_and_tokens_from_the_terminal(platform: Platform, settings: Settings, demo: DemoLogin,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_root, "Platform", lambda: Platform(settings))
    run = CliRunner().invoke
    link = run(trellis_cli, ["users", "reset-link", demo.email, "--tenant", demo.tenant, "--base-url", "https://crm/"])
    assert link.exit_code == 0, link.output
    assert link.output.startswith(f"https://crm/t/{demo.tenant}/account/reset/") and RESET_LINK_SECONDS == 3600
    with platform.control() as session:
        assert user_for_reset(session, link.output.strip().rsplit("/", 1)[1], settings.secret_key).email == demo.email
    stranger = run(trellis_cli, ["users", "reset-link", "nobody@example.com", "--tenant", demo.tenant])
    assert stranger.exit_code == 1 and "not an active member" in stranger.output

    listed = run(trellis_cli, ["tokens", "list", "--tenant", demo.tenant])
    assert listed.exit_code == 0 and listed.output.splitlines()[0].startswith("id\tprefix\tname")
    row = next(line.split("\t") for line in listed.output.splitlines()[1:] if demo.token[:12] in line)
    assert row[2] == "demo" and row[3] == demo.email and row[6] == "-"
    revoked = run(trellis_cli, ["tokens", "revoke", row[0], "--tenant", demo.tenant])
    assert revoked.exit_code == 0, revoked.output
    client = create_app(platform=platform).test_client()
    answer = client.get(f"/t/{demo.tenant}/api/v1/records/deal", headers={"Authorization": f"Bearer {demo.token}"})
    assert answer.status_code == 401
    missing = run(trellis_cli, ["tokens", "revoke", "999999", "--tenant", demo.tenant])
    assert missing.exit_code == 1 and "no API token with id 999999" in missing.output
