"""Jobs through the doors: the API (admins see all, members their own, retry), the admins' screen and the CLI.

Jobs run in process here (on SQLite and on PostgreSQL); the rq path has its
own tests in tests/platform/test_jobs_worker.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from html import unescape

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.config import Settings
from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.renderers.cli import main
from trellis.tenants.registry import create_tenant

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Crew:
    slug: str
    admin_id: int
    member_id: int
    admin: dict[str, str]
    member: dict[str, str]
    admin_email: str
    member_email: str


@pytest.fixture(scope="module")
def jobs_platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform(replace(settings, redis_url=None, job_heartbeat_s=0.2, job_backoff_s=(0.0,)))
    platform.migrate()
    yield platform
    platform.dispose()


@pytest.fixture(scope="module")
def app(jobs_platform: Platform) -> Flask:
    return create_app(platform=jobs_platform)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def crew(jobs_platform: Platform) -> Crew:
    """A tenant with an admin and a member, each with an API token."""
    slug = f"jd-{uuid.uuid4().hex[:10]}"
    create_tenant(jobs_platform, slug, "Jobs doors")
    with jobs_platform.control() as session:
        tenant = find_tenant(session, slug)
        people = {}
        for role in ("admin", "member"):
            user = create_user(session, email=f"{role}-{slug}@example.com", password=PASSWORD, name=role)
            add_membership(session, tenant, user, role=role)
            token, _ = create_token(session, tenant=tenant, user=user, name="test")
            people[role] = (user.id, {"Authorization": f"Bearer {token}"}, user.email)
    return Crew(slug, people["admin"][0], people["member"][0], people["admin"][1], people["member"][1],
                people["admin"][2], people["member"][2])


def _failed_job(platform: Platform, crew: Crew, user_id: int) -> int:
    """A job that failed its only attempt and will succeed when retried."""
    job_id = platform.jobs.enqueue(crew.slug, "trellis.count", {"to": 1, "delay": 0, "fail_times": 1}, user_id,
                                   max_attempts=1)
    assert platform.jobs.wait(job_id, timeout=30).status == "failed"
    return job_id


def test_members_see_only_their_own_jobs_and_admins_all(jobs_platform: Platform, client: FlaskClient,
                                                        crew: Crew) -> None:
    api = f"/t/{crew.slug}/api/v1/jobs"
    mine = jobs_platform.jobs.enqueue(crew.slug, "trellis.count", {"to": 2, "delay": 0}, crew.member_id)
    theirs = jobs_platform.jobs.enqueue(crew.slug, "trellis.count", {"to": 2, "delay": 0}, crew.admin_id)
    jobs_platform.jobs.wait(theirs, timeout=30)
    assert [job["id"] for job in client.get(api, headers=crew.member).get_json()["data"]] == [mine]
    assert [job["id"] for job in client.get(api, headers=crew.admin).get_json()["data"]] == [theirs, mine]
    hidden = client.get(f"{api}/{theirs}", headers=crew.member)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    shown = client.get(f"{api}/{theirs}", headers=crew.admin).get_json()["data"]
    assert (shown["status"], shown["percent"], shown["kind"]) == ("succeeded", 100, "trellis.count")
    assert client.post(f"{api}/{theirs}/retry", headers=crew.member).status_code == 404


def test_a_failed_job_is_retried_through_the_api(jobs_platform: Platform, client: FlaskClient, crew: Crew) -> None:
    job_id = _failed_job(jobs_platform, crew, crew.member_id)
    url = f"/t/{crew.slug}/api/v1/jobs/{job_id}"
    failed = client.get(url, headers=crew.member).get_json()["data"]
    assert (failed["status"], failed["error"]) == ("failed", "Planned failure 1 of 1.")
    retried = client.post(f"{url}/retry", headers=crew.admin)
    assert retried.status_code == 202 and retried.get_json()["data"]["status"] in ("queued", "running", "succeeded")
    assert jobs_platform.jobs.wait(job_id, timeout=30).status == "succeeded"
    again = client.post(f"{url}/retry", headers=crew.admin)
    assert again.status_code == 409 and "only a failed job" in again.get_json()["detail"]


def test_bad_job_requests_get_problems_naming_the_parameter(client: FlaskClient, crew: Crew,
                                                            jobs_platform: Platform) -> None:
    api = f"/t/{crew.slug}/api/v1/jobs"
    for query, field in (("?status=done", "status"), ("?limit=0", "limit"), ("?limit=x", "limit")):
        response = client.get(api + query, headers=crew.admin)
        assert response.status_code == 422 and [e["field"] for e in response.get_json()["errors"]] == [field]
    assert client.get(f"{api}/{2**40}", headers=crew.admin).status_code == 404
    other = f"jd-{uuid.uuid4().hex[:10]}"
    create_tenant(jobs_platform, other, "Other")
    foreign = jobs_platform.jobs.enqueue(other, "trellis.count", {"to": 1, "delay": 0}, None)
    assert client.get(f"{api}/{foreign}", headers=crew.admin).status_code == 404
    assert client.get(api).status_code == 401


def test_the_jobs_screen_lists_a_failed_job_and_retries_it(jobs_platform: Platform, client: FlaskClient,
                                                           crew: Crew) -> None:
    job_id = _failed_job(jobs_platform, crew, crew.admin_id)
    base = f"/t/{crew.slug}"
    _sign_in(client, base, crew.admin_email)
    page = client.get(f"{base}/jobs/")
    assert page.status_code == 200
    failed = _section(page.text, "failed")
    assert f'data-job-id="{job_id}"' in failed and "Planned failure 1 of 1." in failed
    assert f'action="{base}/jobs/{job_id}/retry"' in failed
    refused = client.post(f"{base}/jobs/{job_id}/retry")  # no CSRF token
    assert refused.status_code == 400 and jobs_platform.jobs.get(job_id).status == "failed"
    done = client.post(f"{base}/jobs/{job_id}/retry", data={"csrf_token": _csrf(page.text)}, follow_redirects=True)
    assert f"Job {job_id} is queued again." in unescape(done.text)
    assert jobs_platform.jobs.wait(job_id, timeout=30).status == "succeeded"
    assert f'data-job-id="{job_id}"' in _section(client.get(f"{base}/jobs/").text, "succeeded")


def test_members_cannot_open_the_jobs_screen(client: FlaskClient, crew: Crew) -> None:
    base = f"/t/{crew.slug}"
    _sign_in(client, base, crew.member_email)
    assert client.get(f"{base}/jobs/").status_code == 403


def test_the_cli_lists_shows_and_retries_jobs(jobs_platform: Platform, crew: Crew) -> None:
    job_id = _failed_job(jobs_platform, crew, crew.admin_id)
    settings = jobs_platform.settings
    env = {"TRELLIS_DATABASE_URL": settings.database_url or "", "TRELLIS_DATA_DIR": str(settings.data_dir),
           "TRELLIS_REDIS_URL": "", "TRELLIS_SECRET_KEY": settings.secret_key}
    runner = CliRunner(env=env)
    listed = runner.invoke(main, ["jobs", "list", "--tenant", crew.slug, "--status", "failed"])
    assert listed.exit_code == 0 and f"{job_id}\ttrellis.count\tfailed" in listed.output
    shown = runner.invoke(main, ["jobs", "show", str(job_id)])
    assert "error: Planned failure 1 of 1." in shown.output
    retried = runner.invoke(main, ["jobs", "retry", str(job_id), "--wait", "30"])
    assert retried.exit_code == 0 and "\tsucceeded\t100%" in retried.output, retried.output
    refused = runner.invoke(main, ["jobs", "retry", str(job_id)])
    assert refused.exit_code == 1 and "only a failed job can be retried" in refused.output


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return unescape(match[1])


def _sign_in(client: FlaskClient, base: str, email: str) -> None:
    token = _csrf(client.get(f"{base}/login").text)
    response = client.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text


def _section(html: str, status: str) -> str:
    match = re.search(rf'data-testid="jobs-{status}">(.*?)</section>', html, re.S)
    assert match, f"no {status} section"
    return match[1]
