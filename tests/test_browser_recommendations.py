"""Browser tests of the recommendation pages: a real Chromium drives pytest-django's live server.

Each test signs in through the login form and saves full-page screenshots to var/screenshots/.
Chromium is Debian's (/usr/bin/chromium); nothing is downloaded. The browser and page fixtures are
conftest.py's (one Playwright for the whole run).
"""
import re

import pytest

from tests.browser_helpers import (  # sets DJANGO_ALLOW_ASYNC_UNSAFE before Playwright starts
    make_team,
    make_user,
    screenshot,
    sign_in,
)

from .factories import pubsub, register, rest, service_doc

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFY = rest("order-cancelled", "shipping", "invoicing", description="Cancellations are pushed to each service.",
              criteria={"can_defer": True, "operation": "notification", "eventual_consistency_ok": True, "peak_rps": 5})
PRICES = rest("read-prices", "pricing",
              criteria={"needs_immediate_response": True, "operation": "read", "external_clients": True})
REGISTERED = pubsub("user-registered", "users.registered", "welcome-mailer", "data-init",
                    criteria={"operation": "notification", "can_defer": True, "requires_decoupling": True})
PAGE = "/services/orders/interactions/order-cancelled/"


@pytest.fixture
def shop(live_server):
    team = make_team("commerce", "Commerce")
    make_team("identity", "Identity")
    register(service_doc("orders", interactions=[NOTIFY, PRICES]),
             service_doc("accounts", team="identity", interactions=[REGISTERED]))
    return team


def test_it_shows_the_recommendation_and_answers_what_if_live(page, live_server, shop):
    from topology.models import AuditEvent, Interaction

    make_user("vera", team=shop, role="viewer")
    sign_in(page, live_server.url, "vera")
    page.goto(PAGE)
    card = page.locator("#recommendation")
    expect(card.locator(".rec-headline")).to_have_text("Recommended: asynchronous publish/subscribe on Kafka")
    expect(card.locator(".rec-mismatch-error")).to_contain_text("Declared rest, but the criteria point to asynchronous")
    expect(card.get_by_role("meter")).to_have_attribute("aria-valuenow", "89")
    expect(card.locator(".rec-reason").first).to_contain_text("Publish/subscribe gives every subscriber a copy")
    expect(card.locator(".tag-beyond").first).to_have_text("beyond the document")
    screenshot(page, "recommendation_interaction_page")

    stored = Interaction.objects.get(name="order-cancelled").recommendation
    events = AuditEvent.objects.count()
    result = page.locator("#what-if-result")
    form = page.locator("#what-if form")
    form.get_by_label("Does the caller need the answer before it can go on?").select_option("yes")
    expect(result.locator(".rec-headline")).to_have_text(
        "Recommended: hybrid: a synchronous REST call, plus an event on Kafka for the others")
    expect(result.locator(".rec-compare")).to_contain_text("Now recommended: asynchronous publish/subscribe on Kafka")
    page.locator("#what-if").scroll_into_view_if_needed()
    screenshot(page, "recommendation_what_if")

    form.get_by_label("Does the caller need the answer before it can go on?").select_option("")
    expect(result.locator(".rec-headline")).to_have_text("Recommended: asynchronous publish/subscribe on Kafka")
    expect(result.locator(".rec-compare")).to_contain_text("same as now")
    form.get_by_label("Declared style").select_option("pubsub")
    expect(result.locator(".rec-mismatch")).to_have_count(0)

    page.locator("#id_criteria_latency_budget_ms").fill("-5")
    page.locator("#id_criteria_latency_budget_ms").press("Enter")
    expect(result.get_by_role("alert")).to_contain_text("greater than or equal to 0")
    assert Interaction.objects.get(name="order-cancelled").recommendation == stored
    assert AuditEvent.objects.count() == events


def test_it_marks_recommendations_on_the_service_page_and_dashboard(page, live_server, shop):
    make_user("vera", team=shop, role="viewer")
    sign_in(page, live_server.url, "vera")
    row = page.locator("#outgoing tr", has_text="order-cancelled")
    page.goto("/services/orders/")
    expect(row.locator(".rec-badge")).to_have_text("pub-sub")
    expect(row.locator(".rec-sev-error")).to_be_visible()

    page.goto("/")
    card = page.locator("#declared-vs-recommended")
    expect(card.locator(".rec-chart .main-svg").first).to_be_visible()  # drawn by plotly.js
    expect(card.locator(".rec-chart")).to_contain_text("REST")
    first = card.locator(".rec-mismatch-list li").first
    expect(first).to_contain_text("orders/order-cancelled")
    first.get_by_role("link", name="orders/order-cancelled").click()
    page.wait_for_url(re.compile(r"/services/orders/interactions/order-cancelled/#recommendation$"))
    page.goto("/")
    screenshot(page, "recommendation_dashboard")


def test_staff_previews_a_custom_rule_saves_it_and_watches_the_re_evaluation(page, live_server, shop, monkeypatch):
    from celery import current_app

    from decisions.models import CustomRule
    from decisions.recommendations import REFRESH_TASK, recommendations_refresh

    queued = []
    # Stands in for the broker: the test runs the queued re-evaluation itself.
    monkeypatch.setattr(current_app.tasks[REFRESH_TASK], "delay", queued.append)
    make_user("root", staff=True)
    sign_in(page, live_server.url, "root")
    page.goto("/rules/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Slug").fill("notify-by-call")
    page.get_by_label("Title").fill("Notifications to two services stay calls")
    page.get_by_label("Condition").fill('operation == "notification" and')
    page.get_by_label("Effects").fill("request-response=20")
    page.get_by_label("Cites").select_option("§5.1")
    page.get_by_label("Explanation").fill("House rule: {source} keeps calling {targets} directly.")
    page.get_by_role("button", name="Preview").click()
    caret = page.locator("#condition-problem .rule-caret")
    expect(caret).to_contain_text("Line 1, character 32:")
    expect(caret.locator(".rule-caret-mark")).to_have_text(" " * 31 + "^")  # just after the last character

    page.get_by_label("Condition").fill('operation == "notification" and targets > 1 and requires_decoupling != true')
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("1 interaction would get a different recommendation")
    expect(preview.locator("tbody tr")).to_have_count(1)
    expect(preview.locator("tbody tr")).to_contain_text("orders/order-cancelled")
    expect(page.locator("#condition-problem .rule-caret")).to_have_count(0)
    screenshot(page, "recommendation_rule_preview")
    assert not CustomRule.objects.exists()

    page.get_by_role("button", name="Add rule").click()
    page.wait_for_url(re.compile(r"/rules/\?run=\d+$"))
    progress = page.locator("#evaluation-progress")
    expect(progress).to_contain_text("queued")
    expect(page.locator(".message-success")).to_contain_text("Rule notify-by-call saved")
    assert len(queued) == 1
    recommendations_refresh(run_id=queued[0])  # the worker's job; the page polls every 2 s
    expect(progress.locator(".run-status")).to_have_text("done", timeout=8_000)
    expect(progress).to_contain_text("3 of 3 interactions re-evaluated · 1 changed")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    screenshot(page, "recommendation_rule_progress")

    page.goto(PAGE)
    card = page.locator("#recommendation")
    expect(card.locator(".rec-headline")).to_have_text("Recommended: synchronous request/response over REST")
    expect(card.locator(".rec-reason", has_text="House rule").locator(".tag-custom")).to_have_text("custom rule")
