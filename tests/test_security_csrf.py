"""CSRF: every form that posts carries the token, and a post without it is refused with 403."""
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from topology.models import Team


class Forms(HTMLParser):
    """The forms of a page: (method, action, names of its inputs)."""

    def __init__(self):
        super().__init__()
        self.forms, self.open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.open = [(attrs.get("method") or "get").lower(), attrs.get("action") or "", []]
            self.forms.append(self.open)
        elif tag in ("input", "button", "select", "textarea") and self.open is not None:
            self.open[2].append(attrs.get("name"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.open = None


def post_forms(html: str) -> list:
    parser = Forms()
    parser.feed(html)
    return [form for form in parser.forms if form[0] == "post"]


def pages_without_arguments() -> list[str]:
    """Every page URL of the site that takes no argument (the API, admin and files aside)."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route:
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return [url for url in found if not url.startswith(("/api/", "/admin/", "/healthz"))
            and "preview" not in url and "confirm" not in url and "/exports/" not in url]


def pages_of_objects() -> list[str]:
    from decisions.models import CustomRule, Decision
    from notifications.models import Channel
    from probes.models import Probe
    from topology.models import Flow, Interaction, Service

    pages = []
    for model in (Service, Interaction, Team, Flow, Probe, Decision, CustomRule, Channel):
        found = model.objects.order_by("pk").first()
        if found is not None:
            pages.append(found.get_absolute_url())
    service = Service.objects.order_by("name").first()
    pages += [f"/services/{service.name}/probes/new/", f"/services/{service.name}/edit/"]
    decision = Decision.objects.order_by("pk").first()
    if decision is not None:
        pages.append(f"/decisions/{decision.number}/edit/")
    return pages


@pytest.fixture
def strict(demo):
    """The demo's staff user, on a client that checks CSRF as a browser's requests are checked."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="admin"))
    return client


def test_it_handles_every_post_form_with_a_csrf_token(strict):
    pages = pages_without_arguments() + pages_of_objects()
    assert {"/", "/register/", "/rules/new/", "/notifications/", "/imports/", "/reports/"} <= set(pages)
    seen, missing, opened = 0, [], []
    for url in pages:
        response = strict.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        opened.append(url)
        for method, action, names in post_forms(response.content.decode()):
            seen += 1
            if "csrfmiddlewaretoken" not in names:
                missing.append(f"{url}: <form method=post action={action!r}>")
    assert not missing, missing
    assert len(opened) >= 25, opened
    assert seen >= 40, seen  # sign-out on every page, plus the forms of the pages


def test_it_handles_the_login_form_with_a_csrf_token(db):
    forms = post_forms(Client().get("/accounts/login/").content.decode())
    assert forms and all("csrfmiddlewaretoken" in names for _, _, names in forms)


def test_it_rejects_a_post_without_the_csrf_token(strict):
    team = Team.objects.order_by("slug").first()
    for url, data in [(f"/teams/{team.slug}/tokens/", {"name": "sneaky"}), ("/accounts/logout/", {}),
                      ("/register/", {"name": "sneaky"}), ("/rules/new/", {"slug": "sneaky"})]:
        response = strict.post(url, data)
        assert response.status_code == 403, url
    assert not team.tokens.filter(name="sneaky").exists()
    assert strict.get("/").status_code == 200  # still signed in: the logout was refused too


def test_it_rejects_a_sign_in_without_the_csrf_token(db):
    User.objects.create_user("alice", password="correct-horse-battery-7")
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "alice",
                                                                          "password": "correct-horse-battery-7"})
    assert response.status_code == 403


def test_it_rejects_an_api_write_of_a_session_without_the_csrf_token(strict):
    """The API trusts the session cookie only with the token; API tokens need none (no cookie involved)."""
    response = strict.post("/api/v1/teams/", {"slug": "sneaky", "name": "Sneaky"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Team.objects.filter(slug="sneaky").exists()


def test_it_handles_a_post_with_the_csrf_token(strict):
    team = Team.objects.order_by("slug").first()
    strict.get(f"/teams/{team.slug}/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(f"/teams/{team.slug}/tokens/", {"name": "honest", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert team.tokens.filter(name="honest").exists()
