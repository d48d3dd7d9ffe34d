import os
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from topology.choices import TeamRole
from topology.models import Team, TeamMembership
from topology.render import drawings_forget, recent
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


@pytest.fixture
def ci(token):
    """An API client that authenticates with the commerce team's token, as CI does."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def as_maintainer(client, maintainer):
    """The test client signed in as maria, a maintainer of commerce."""
    client.force_login(maintainer)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    """The test client signed in as victor, a viewer of commerce."""
    client.force_login(viewer)
    return client


@pytest.fixture
def demo(db, settings, tmp_path):
    """The demo system (`load_demo`); VAR_DIR, where its passwords file goes, stays tmp_path."""
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    drawings_forget()


@pytest.fixture
def admin(demo):
    """An API client signed in as the demo's admin."""
    client = APIClient()
    client.force_login(User.objects.get(username="admin"))
    return client


@pytest.fixture
def live_demo(live_server, settings, tmp_path):
    """The demo system for the browser tests, with dora, a staff user who signs in through the form.

    The demo's passwords file goes to tmp_path; VAR_DIR is then set back, so screenshots go to
    var/screenshots/.
    """
    from tests.browser_helpers import make_user

    screenshots_var = settings.VAR_DIR
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    settings.VAR_DIR = screenshots_var
    drawings_forget()
    make_user("dora", staff=True)


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


@pytest.fixture
def report_worker(transactional_db, settings):
    """A real Celery worker on a queue of this test run's own, which the reports are sent to."""
    from tests.celery_helpers import worker_start, worker_stop

    settings.REPORT_QUEUE = f"reports.t{os.getpid()}"
    process = worker_start(queue=settings.REPORT_QUEUE, name=f"report-worker-{os.getpid()}")
    yield process
    worker_stop(process)
