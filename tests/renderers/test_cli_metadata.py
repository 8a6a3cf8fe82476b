"""``trellis metadata``: the revision log, diffs and rollback from a terminal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.cli import main as trellis_cli
from trellis.renderers.cli import root as cli_root
from trellis.tenants.demo import DemoLogin


def test_revisions_diff_and_a_rollback_from_the_terminal(platform: Platform, settings: Settings, demo: DemoLogin,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_root, "Platform", lambda: Platform(settings))
    installed = platform.runtime(demo.tenant).revision.number  # the demo's own revisions
    editor = platform.editor(platform.runtime(demo.tenant), Actor(user_id=None))
    editor.add_field("deal", {"api_name": "region", "label": "Region", "type": "text"})
    run = CliRunner().invoke
    log = run(trellis_cli, ["metadata", "revisions", demo.tenant])
    assert log.exit_code == 0 and log.output.splitlines()[0].endswith("Added field deal.region")
    diff = run(trellis_cli, ["metadata", "diff", demo.tenant, str(installed), str(installed + 1)])
    assert diff.output.strip() == '{"op": "add_field", "object": "deal", "field": "region"}'
    dry = run(trellis_cli, ["metadata", "rollback", demo.tenant, str(installed), "--dry-run"])
    assert dry.exit_code == 0 and "Archive deal.region" in dry.output and "nothing was changed" in dry.output
    done = run(trellis_cli, ["metadata", "rollback", demo.tenant, str(installed)])
    assert done.exit_code == 0 and f"as revision {installed + 2}" in done.output
    refused = run(trellis_cli, ["metadata", "rollback", demo.tenant, "1"])
    assert refused.exit_code == 1 and "were created after revision 1" in refused.output


def test_serve_builds_the_app_and_hands_it_to_the_server(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    served = {}
    monkeypatch.setattr(cli_root, "Platform", lambda: Platform(settings))
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda host, port, app, **_: served.update(app=app, port=port))
    monkeypatch.setattr("trellis.renderers.app.settle_heap", lambda: None)
    result = CliRunner().invoke(trellis_cli, ["serve", "--port", "5077"])
    assert result.exit_code == 0, result.output
    assert served["port"] == 5077 and served["app"].test_client().get("/").status_code == 200


def test_a_field_change_from_the_terminal_shows_its_plan(platform: Platform, settings: Settings, demo: DemoLogin,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_root, "Platform", lambda: Platform(settings))
    run = CliRunner().invoke
    dry = run(trellis_cli, ["metadata", "change-field", demo.tenant, "account", "website", '{"type": "integer"}',
                            "--dry-run"])
    assert dry.exit_code == 0 and "BLOCKED Convert account.website from url to integer" in dry.output
    refused = run(trellis_cli, ["metadata", "change-field", demo.tenant, "account", "website", '{"type": "integer"}'])
    assert refused.exit_code == 1 and "cannot become an integer" in refused.output
    done = run(trellis_cli, ["metadata", "change-field", demo.tenant, "account", "website", '{"type": "integer"}',
                             "--migration", '{"keep_unconvertible": true}'])
    assert done.exit_code == 0 and "Saved as revision" in done.output
    bad = run(trellis_cli, ["metadata", "change-field", demo.tenant, "account", "website", "{type"])
    assert bad.exit_code == 2 and "not JSON" in bad.output
