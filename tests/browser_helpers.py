"""Helpers for the Playwright browser tests (tests/test_browser.py).

Test data is made with the ORM; everything a user does goes through the real pages.
"""
import os
from pathlib import Path

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps would otherwise be refused as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.conf import settings  # noqa: E402

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-7"
VIEWPORT = {"width": 1280, "height": 900}


def screenshots_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str) -> Path:
    """A full-page PNG in var/screenshots/<name>.png."""
    path = screenshots_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def make_user(username: str, *, team=None, role: str | None = None, staff: bool = False):
    from django.contrib.auth.models import User

    from topology.models import TeamMembership

    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=staff)
    if team is not None and role:
        TeamMembership.objects.create(team=team, user=user, role=role)
    return user


def make_team(slug: str, name: str, description: str = ""):
    from topology.models import Team

    return Team.objects.create(slug=slug, name=name, description=description)


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form and land on the dashboard."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
