"""Decision records in a real browser: drafts from an interaction, overrides, superseding, the list.

Screenshots go to var/screenshots/<test name>-<step>.png. Chromium is Debian's (/usr/bin/chromium).
"""
import re

import pytest

from tests.browser_helpers import (  # sets DJANGO_ALLOW_ASYNC_UNSAFE before Playwright starts
    make_team,
    make_user,
    screenshot,
    sign_in,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.django_db(transaction=True)




def _registry():
    """Payments' services, registered through the real write path (so recommendations are stored)."""
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.registration import registration_apply

    payments = make_team("payments", "Payments", "Checkout, payment capture and the ledger.")
    make_team("growth", "Growth")
    make_user("maya", team=payments, role="maintainer")
    make_user("vic", team=payments, role="viewer")
    registration_apply(specs=[
        ServiceSpec(name="checkout", team="payments", title="Checkout API", interactions=(
            InteractionSpec(name="charge-card", targets=("payment-gateway",), style="rest",
                            description="Authorise and capture the card payment.",
                            criteria={"needs_immediate_response": True, "operation": "write",
                                      "latency_budget_ms": 800, "external_clients": False}),
            InteractionSpec(name="invoice-jobs", targets=("invoicing",), style="rest",
                            description="Ask invoicing to render the PDF invoice.",
                            criteria={"can_defer": True, "bursty_traffic": True, "operation": "command",
                                      "peak_rps": 900}),
            InteractionSpec(name="order-placed", targets=("notifications", "analytics", "fraud-scoring"),
                            style="pubsub", channel="orders.placed.v1", broker="kafka",
                            criteria={"can_defer": True, "requires_decoupling": True}),
        )),
        ServiceSpec(name="notifications", team="growth", title="Notifications"),
    ], actor=actor_for_cli(label="maya"))


def _interaction(key):
    from topology.models import Interaction

    source, name = key.split("/")
    return Interaction.objects.get(source__name=source, name=name)


def test_it_overrides_a_recommendation_then_supersedes_the_override(page, live_server):
    from decisions.models import Decision

    _registry()
    base = live_server.url
    name = "test_it_overrides_a_recommendation_then_supersedes_the_override"
    sign_in(page, base, "maya")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions").click()
    page.wait_for_url(f"{base}/decisions/")
    expect(page.get_by_role("link", name="Decisions", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".empty-state")).to_contain_text("No decisions recorded yet")

    # The interaction's page offers both drafts: its declared REST differs from the recommended queue.
    page.goto(f"{base}/services/checkout/interactions/invoice-jobs/")
    box = page.locator("#decisions")
    expect(box).to_contain_text("No decision recorded about this interaction yet")
    expect(box.get_by_role("link", name="Accept recommendation")).to_be_visible()
    box.get_by_role("link", name="Override with rationale").click()
    page.wait_for_url(re.compile(r"/decisions/new/\?interaction=\d+&kind=override$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Override the recommendation")
    expect(page.get_by_label("Title")).to_have_value(re.compile(r"^checkout/invoice-jobs: keep REST instead of queue"))
    expect(page.get_by_label("Kind")).to_have_value("override")
    expect(page.get_by_label("Settled style")).to_have_value("rest")
    expect(page.get_by_label("Chosen option")).to_have_value("request-response over REST")
    expect(page.get_by_label("Interactions")).to_have_value("checkout/invoice-jobs")
    expect(page.get_by_label("Considered options")).to_have_value(re.compile(r"^queue\n"))
    expect(page.get_by_label("Context and problem statement")).to_have_value(re.compile("Criteria answered:"))
    expect(page.locator("#recommendation")).to_contain_text("queue on RabbitMQ")
    expect(page.locator("#recommendation .badge-mismatch-error")).to_be_visible()
    expect(page.get_by_label("Justification")).to_be_focused()
    screenshot(page, f"{name}-draft")

    # Saving without a justification puts the error next to that field and saves nothing.
    page.get_by_role("button", name="Save decision").click()
    justification = page.locator(".field", has=page.get_by_label("Justification"))
    expect(justification.locator(".errorlist")).to_contain_text("an override needs a justification")
    expect(page.locator(".field .errorlist")).to_have_count(1)
    assert not Decision.objects.exists()
    screenshot(page, f"{name}-error")

    page.get_by_label("Status").select_option("accepted")
    page.get_by_label("Justification").fill(
        "Invoicing is a vendor product with a synchronous REST API only (§3.2); we cap the rate on our side.")
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_url(f"{base}/decisions/1/")
    expect(page.locator(".message-success")).to_have_text("ADR-0001 recorded.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ADR-0001")
    expect(page.locator("h1 .badge")).to_have_text("accepted")
    expect(page.locator("#outcome")).to_contain_text("Chosen option: request-response over REST")
    expect(page.locator("#outcome .madr-justification .cite")).to_have_attribute("href", "/criteria/#s3-2")
    expect(page.locator("#options .madr-option")).to_have_count(4)
    expect(page.locator("#options .madr-option.is-chosen .madr-option-name")).to_have_text("request-response")
    row = page.locator("#interactions tbody tr")
    expect(row).to_contain_text("checkout/invoice-jobs")
    expect(row).to_contain_text("queue on RabbitMQ")
    expect(row.locator(".decision-deliberate")).to_have_text("deliberate (accepted override)")
    expect(page.locator("#history")).to_contain_text("maya created decision ADR-0001")
    screenshot(page, f"{name}-override")

    # Back on the interaction's page, the decision is listed and the mismatch is deliberate.
    row.get_by_role("link", name="checkout/invoice-jobs").click()
    page.wait_for_url(f"{base}/services/checkout/interactions/invoice-jobs/")
    expect(box.locator(".decision-links li")).to_have_count(1)
    expect(box.locator(".decision-links li")).to_contain_text("ADR-0001")
    expect(box.locator(".decision-deliberate-note")).to_contain_text("The mismatch is deliberate")
    box.scroll_into_view_if_needed()
    screenshot(page, f"{name}-interaction")
    page.goto(f"{base}/decisions/1/")

    # A later decision replaces it: the old one becomes superseded in the same save.
    page.get_by_role("link", name="Supersede").click()
    expect(page.get_by_label("Supersedes")).to_have_value("ADR-0001")
    page.get_by_label("Title").fill("checkout/invoice-jobs: move invoice rendering to a queue")
    page.get_by_label("Status").select_option("accepted")
    page.get_by_label("Kind").select_option("accept")
    page.get_by_label("Chosen option").fill("queue on RabbitMQ")
    page.get_by_label("Settled style").select_option("queue")
    page.get_by_label("Justification").fill("Invoicing now consumes jobs from RabbitMQ.")
    page.get_by_label("Good consequences").fill("Good, because peaks are buffered (§5.5).")
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_url(f"{base}/decisions/2/")
    expect(page.locator("#details")).to_contain_text("ADR-0001")
    page.locator("#details").get_by_role("link", name="ADR-0001").click()
    page.wait_for_url(f"{base}/decisions/1/")
    expect(page.locator(".banner-superseded")).to_contain_text("replaced by ADR-0002")
    expect(page.locator("h1 .badge")).to_have_text("superseded")
    expect(page.locator("#history")).to_contain_text("maya marked decision ADR-0001 superseded by ADR-0002")
    expect(page.get_by_role("link", name="Supersede")).to_have_count(0)
    screenshot(page, f"{name}-superseded")
    assert Decision.objects.get(number=1).status == "superseded"


def test_it_accepts_a_recommendation_and_lists_decisions(page, live_server):
    from decisions.choices import DecisionStatus
    from decisions.selectors import decision_draft_for
    from decisions.services import decision_create, decision_update
    from core.actors import actor_for_cli

    _registry()
    base = live_server.url
    name = "test_it_accepts_a_recommendation_and_lists_decisions"
    sign_in(page, base, "maya")

    # Declared REST agrees with the recommendation: only accepting is offered.
    page.goto(f"{base}/services/checkout/interactions/charge-card/")
    box = page.locator("#decisions")
    expect(box.get_by_role("link", name="Override with rationale")).to_have_count(0)
    box.get_by_role("link", name="Accept recommendation").click()
    page.wait_for_url(re.compile(r"/decisions/new/\?interaction=\d+&kind=accept$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept the recommendation")
    expect(page.get_by_label("Title")).to_have_value(re.compile(r"^checkout/charge-card: use request-response over"))
    expect(page.get_by_label("Decision drivers")).to_have_value(re.compile(r"\(§5\.1\)"))
    expect(page.get_by_label("Deciders (team)")).to_have_value("payments")
    screenshot(page, f"{name}-draft")
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_url(f"{base}/decisions/1/")
    expect(page.locator("h1 .badge")).to_have_text("proposed")
    expect(page.locator("#drivers li").first).to_contain_text("§5.1")
    expect(page.locator("#interactions")).to_contain_text("checkout/charge-card")

    # More decisions, in several states, written directly.
    cli = actor_for_cli(label="ops")
    order = _interaction("checkout/order-placed")
    events = decision_create(actor=cli, **{**decision_draft_for(interaction=order, kind="accept"),
                                           "status": DecisionStatus.ACCEPTED})
    old = decision_create(actor=cli, title="All internal calls over gRPC", status=DecisionStatus.ACCEPTED,
                          team=order.source.team)
    decision_create(actor=cli, title="Internal calls over gRPC only where latency matters",
                    team=order.source.team, supersedes=old)
    rejected = decision_create(actor=cli, title="Use NATS for notifications", team=order.source.team)
    decision_update(actor=cli, decision=rejected, status=DecisionStatus.REJECTED)

    page.goto(f"{base}/decisions/")
    rows = page.locator(".decision-table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("ADR-0005")
    expect(page.locator(".decision-table")).to_contain_text(events.title)
    expect(page.locator(".decision-table .badge-status-superseded")).to_have_count(1)
    expect(page.locator(".decision-table .badge-status-rejected")).to_have_count(1)
    screenshot(page, f"{name}-list")

    page.get_by_label("Status").select_option("accepted")
    page.get_by_label("Service").fill("notifications")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/decisions/\?.*status=accepted"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("checkout/order-placed")
    page.get_by_role("searchbox", name="Search decisions").fill("ADR-0004")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Service").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("gRPC only where latency matters")


def test_it_shows_a_viewer_no_write_buttons(page, live_server):
    from decisions.services import decision_create
    from core.actors import actor_for_cli
    from topology.models import Team

    _registry()
    decision_create(actor=actor_for_cli(), title="REST for the web shop", team=Team.objects.get(slug="payments"))
    base = live_server.url
    sign_in(page, base, "vic")
    page.goto(f"{base}/decisions/")
    expect(page.get_by_role("link", name="Record a decision")).to_have_count(0)
    page.get_by_role("link", name="REST for the web shop").click()
    page.wait_for_url(f"{base}/decisions/1/")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Supersede")).to_have_count(0)
    assert page.goto(f"{base}/decisions/1/edit/").status == 403
    assert page.goto(f"{base}/decisions/new/").status == 403
