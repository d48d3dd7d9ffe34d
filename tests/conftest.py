import os

import pytest
from django.contrib.auth.models import User

from topology.choices import TeamRole
from topology.models import Team, TeamMembership
from topology.render import recent
from core.actors import actor_for_cli
from topology.services import token_create

# Playwright's sync API runs an event loop in the test thread; the ORM calls made next to it are
# synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are created in many tests; the real hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_drawings_of_earlier_tests():
    """Topology drawings are kept in memory by a key of the data; an earlier test's must not count."""
    recent.clear()


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """A machine without Graphviz: `dot` is not on the PATH, and no `dot` of this process is running."""
    from topology import render

    render.dot_processes_stop()
    monkeypatch.setenv("PATH", str(tmp_path))
    yield
    render.dot_processes_stop()


@pytest.fixture
def team(db):
    return Team.objects.create(slug="commerce", name="Commerce")


@pytest.fixture
def other_team(db):
    return Team.objects.create(slug="identity", name="Identity")


def member(team, username, role):
    user = User.objects.create_user(username, password="pw-" + username)
    TeamMembership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def maintainer(team):
    return member(team, "maria", TeamRole.MAINTAINER)


@pytest.fixture
def viewer(team):
    return member(team, "victor", TeamRole.VIEWER)


@pytest.fixture
def staff(db):
    return User.objects.create_user("root", password="pw-root", is_staff=True)


@pytest.fixture
def token(team):
    """A raw API token of the commerce team."""
    return token_create(actor=actor_for_cli(), team=team, name="ci")[1]


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run (one sync Playwright per thread).

    Without Chromium the browser tests are skipped on a developer machine, but fail under CI
    (CI=true or SWITCHBOARD_REQUIRE_SERVICES=1): `make test` installs it.
    """
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true" or os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test; fails the test on JavaScript errors or missing static files."""
    from tests.browser_helpers import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("response", lambda response: problems.append(f"{response.status} for {response.url}")
            if "/static/" in response.url and response.status >= 400 else None)
    yield page
    context.close()
    assert not problems, problems
