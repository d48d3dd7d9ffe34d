"""Browser tests: a real Chromium drives the pages served by pytest-django's live server.

Each test signs in through the login form and saves a full-page screenshot to
var/screenshots/<test name>.png. Chromium is Debian's (/usr/bin/chromium); nothing is downloaded.
"""
import hashlib
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



def _service_names_in_table(page) -> list[str]:
    return page.locator("#service-results tbody tr td:first-child a").all_inner_texts()


def test_it_registers_a_service_with_two_interactions_and_finds_it(page, live_server):
    from topology.models import AuditEvent, Interaction, Service

    team = make_team("payments", "Payments")
    make_user("maya", team=team, role="maintainer")
    Service.objects.create(name="ledger", team=team, title="Ledger")
    base = live_server.url
    sign_in(page, base, "maya")

    # Register the service through the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Register a service").click()
    page.get_by_label("Name").fill("checkout")
    page.get_by_label("Team").select_option("payments")
    page.get_by_label("Title").fill("Checkout API")
    page.get_by_label("Description").fill("Takes orders and payment details from the web shop.")
    page.get_by_label("Lifecycle").select_option("production")
    page.get_by_label("Language").fill("Go")
    page.get_by_label("Repository").fill("https://git.example.com/payments/checkout")
    page.get_by_label("Labels").fill("tier=critical\noncall=payments")
    page.get_by_role("button", name="Register service").click()
    page.wait_for_url(f"{base}/services/checkout/")
    expect(page.locator(".message-success")).to_contain_text("Service checkout registered.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout API")
    expect(page.locator(".chips")).to_contain_text("tier=critical")
    expect(page.get_by_role("link", name="https://git.example.com/payments/checkout")).to_be_visible()

    # A synchronous REST call with criteria answers.
    page.get_by_role("link", name="Add interaction").first.click()
    expect(page.get_by_role("link", name="§5.1")).to_have_attribute("href", "/criteria/#s5-1")
    page.get_by_label("Name").fill("charge-card")
    page.get_by_label("Targets").fill("ledger")
    page.get_by_label("Style").select_option("rest")
    page.get_by_label("Does the caller need the answer before it can go on?").select_option("yes")
    page.get_by_label("What kind of operation is it?").select_option("write")
    page.get_by_label("How long may the call take at most?").fill("300")
    page.get_by_role("button", name="Add interaction").click()
    page.wait_for_url(f"{base}/services/checkout/interactions/charge-card/")
    criteria = page.locator("#criteria")
    expect(criteria.get_by_role("row", name=re.compile("Does the caller need the answer"))).to_contain_text("Yes")
    expect(criteria.get_by_role("row", name=re.compile("How long may the call take"))).to_contain_text("300 ms")
    expect(criteria.get_by_role("row", name=re.compile("Can the work happen later"))).to_contain_text("—")

    # An asynchronous pub/sub interaction to a service nobody registered yet.
    page.get_by_role("link", name="checkout").first.click()
    page.get_by_role("link", name="Add interaction").first.click()
    page.get_by_label("Name").fill("order-events")
    page.get_by_label("Targets").fill("notifications")
    page.get_by_label("Style").select_option("pubsub")
    page.get_by_label("Channel").fill("orders.placed")
    page.get_by_label("Broker").select_option("kafka")
    page.get_by_role("button", name="Add interaction").click()
    page.wait_for_url(f"{base}/services/checkout/interactions/order-events/")
    expect(page.locator(".flow")).to_contain_text("notifications")
    expect(page.locator(".flow .badge-placeholder")).to_have_text("placeholder")

    # The target exists now, as a placeholder with a way to register it.
    page.locator(".flow").get_by_role("link", name="notifications").click()
    page.wait_for_url(f"{base}/services/notifications/")
    expect(page.locator(".banner-placeholder")).to_contain_text("notifications is a placeholder")
    register = page.get_by_role("link", name="Register notifications")
    expect(register).to_have_attribute("href", "/register/?name=notifications")
    assert Service.objects.get(name="notifications").is_placeholder

    # Live search in the service list swaps the table in place (htmx), and updates the address.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    expect(page.locator("#service-results tbody tr")).to_have_count(3)
    expect(page.locator("#service-results tr.is-placeholder")).to_contain_text("placeholder")
    page.evaluate("window.__stillTheSamePage = true")
    page.get_by_role("searchbox", name="Search services").press_sequentially("check", delay=40)
    page.wait_for_url(re.compile(r"/services/\?q=check$"))
    expect(page.locator("#service-results tbody tr")).to_have_count(1)
    assert _service_names_in_table(page) == ["Checkout API"]
    assert page.evaluate("window.__stillTheSamePage === true"), "the search reloaded the whole page"

    # The service page shows both interactions and the history of what was done.
    page.locator("#service-results").get_by_role("link", name="Checkout API").click()
    page.wait_for_url(f"{base}/services/checkout/")
    outgoing = page.locator("#outgoing")
    expect(outgoing.locator("tbody tr")).to_have_count(2)
    expect(outgoing.get_by_role("row", name=re.compile("charge-card"))).to_contain_text("REST")
    order_events = outgoing.get_by_role("row", name=re.compile("order-events"))
    expect(order_events).to_contain_text("pub/sub")
    expect(order_events).to_contain_text("orders.placed")
    expect(order_events).to_contain_text("Apache Kafka")
    expect(order_events.locator(".service-ref.is-placeholder")).to_have_text("notifications")
    expect(page.locator("#history")).to_contain_text("maya created interaction checkout/order-events")
    expect(page.locator("#history")).to_contain_text("maya created interaction checkout/charge-card")
    expect(page.locator("#history")).to_contain_text("maya created service checkout")
    expect(page.locator(".props")).to_contain_text("maya via browser")
    screenshot(page, "test_it_registers_a_service_with_two_interactions_and_finds_it")

    assert Interaction.objects.filter(source__name="checkout").count() == 2
    assert Interaction.objects.get(name="charge-card").criteria == {
        "needs_immediate_response": True, "operation": "write", "latency_budget_ms": 300,
    }
    assert AuditEvent.objects.filter(service_name="checkout", object_type="interaction").count() == 2


def test_it_shows_a_form_error_next_to_the_field_and_saves_nothing(page, live_server):
    from topology.models import Interaction, Service

    team = make_team("search", "Search")
    make_user("sam", team=team, role="maintainer")
    Service.objects.create(name="indexer", team=team)
    base = live_server.url
    sign_in(page, base, "sam")

    page.goto(f"{base}/register/")
    page.get_by_label("Name").fill("Bad Name!")
    page.get_by_role("button", name="Register service").click()
    name_field = page.locator(".field", has=page.get_by_label("Name"))
    expect(name_field.locator(".errorlist")).to_contain_text("must be 1-63 lower-case letters")
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Bad Name!")
    expect(page.locator(".form-errors")).to_contain_text("Nothing was saved")
    expect(page.locator(".field .errorlist")).to_have_count(1)
    assert list(Service.objects.values_list("name", flat=True)) == ["indexer"]
    screenshot(page, "test_it_shows_a_form_error_next_to_the_field_and_saves_nothing")

    # The interaction form puts each problem next to its own field too.
    page.goto(f"{base}/services/indexer/interactions/new/")
    page.get_by_label("Name").fill("index-events")
    page.get_by_label("Targets").fill("indexer")
    page.get_by_label("Style").select_option("queue")
    page.get_by_label("How long may the call take at most?").fill("-5")
    page.get_by_role("button", name="Add interaction").click()
    field = lambda label: page.locator(".field", has=page.get_by_label(label, exact=True))  # noqa: E731
    expect(field("Targets").locator(".errorlist")).to_contain_text("cannot target itself")
    expect(field("Channel").locator(".errorlist")).to_contain_text("channel (the topic or queue name) is required")
    expect(field("How long may the call take at most?").locator(".errorlist")).to_be_visible()
    expect(field("Name").locator(".errorlist")).to_have_count(0)
    assert not Interaction.objects.exists()
    screenshot(page, "test_it_shows_a_form_error_next_to_the_field_and_saves_nothing-interaction")


def test_it_shows_a_viewer_no_edit_buttons_and_refuses_the_edit_page(page, live_server):
    from topology.models import Service

    team = make_team("identity", "Identity")
    make_user("vic", team=team, role="viewer")
    Service.objects.create(name="auth", team=team, title="Auth service", description="Sign-in for everyone.")
    base = live_server.url
    sign_in(page, base, "vic")

    page.goto(f"{base}/services/auth/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Auth service")
    for name in ("Edit", "Delete", "Add interaction", "+ Add"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    page.goto(f"{base}/teams/identity/")
    expect(page.locator(".page-sub")).to_contain_text("you are a viewer")
    expect(page.locator("#tokens")).to_have_count(0)
    expect(page.get_by_role("link", name="Register a service")).to_have_count(0)

    response = page.goto(f"{base}/services/auth/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You can't do that here")
    expect(page.locator(".error-page")).to_contain_text("Only maintainers of Identity can change auth.")
    expect(page.locator(".topbar")).to_contain_text("vic")
    screenshot(page, "test_it_shows_a_viewer_no_edit_buttons_and_refuses_the_edit_page")
    assert page.goto(f"{base}/services/auth/delete/").status == 403
    assert page.goto(f"{base}/register/").status == 403


def test_it_shows_a_new_token_once_and_revokes_it(page, live_server):
    from topology.models import ApiToken

    team = make_team("platform", "Platform")
    make_user("tara", team=team, role="maintainer")
    base = live_server.url
    sign_in(page, base, "tara")

    page.goto(f"{base}/teams/platform/")
    page.get_by_label("Token name").fill("ci-deploy")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_url(f"{base}/teams/platform/")
    reveal = page.locator(".token-reveal")
    expect(reveal).to_contain_text("shown once; store it now", ignore_case=True)
    value = page.get_by_label("Token value").input_value()
    assert value.startswith("sb_")
    token = ApiToken.objects.get(team=team, name="ci-deploy")
    assert token.digest == hashlib.sha256(value.encode()).hexdigest()
    row = page.locator("#tokens tbody tr", has_text="ci-deploy")
    expect(row).to_contain_text(token.prefix)
    expect(row.locator(".badge")).to_have_text("active")
    screenshot(page, "test_it_shows_a_new_token_once_and_revokes_it")

    page.reload()
    expect(page.locator(".token-reveal")).to_have_count(0)
    assert value not in page.content()

    # Dismissing the confirmation keeps the token; accepting it revokes it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Revoke").click()
    expect(row.locator(".badge")).to_have_text("active")
    token.refresh_from_db()
    assert token.is_active

    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".message-success")).to_contain_text("Token ci-deploy revoked")
    expect(row.locator(".badge")).to_have_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    assert "ci-deploy" in messages[0]
    token.refresh_from_db()
    assert not token.is_active
    screenshot(page, "test_it_shows_a_new_token_once_and_revokes_it-revoked")


def test_it_pages_the_service_list_and_keeps_the_filters(page, live_server):
    from topology.models import Service

    team = make_team("data", "Data")
    make_user("dana", team=team, role="viewer")
    Service.objects.bulk_create([Service(name=f"etl-{number:02}", team=team) for number in range(60)])
    base = live_server.url
    sign_in(page, base, "dana")

    page.goto(f"{base}/services/?team=data&lifecycle=production")
    expect(page.locator("#service-results tbody tr")).to_have_count(50)
    expect(page.locator(".pagination")).to_contain_text("1–50 of 60")
    expect(page.get_by_role("link", name="Register a service")).to_have_count(0)
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"/services/\?team=data&lifecycle=production&page=2$"))
    expect(page.locator("#service-results tbody tr")).to_have_count(10)
    expect(page.get_by_label("Team")).to_have_value("data")
    expect(page.get_by_label("Lifecycle")).to_have_value("production")
    screenshot(page, "test_it_pages_the_service_list_and_keeps_the_filters")


def _demo_registry():
    """A small registry written through the registration path, so the history is real."""
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.registration import registration_apply

    payments = make_team("payments", "Payments", "Checkout, payment capture and the ledger.")
    make_team("growth", "Growth", "Notifications, campaigns and recommendations.")
    make_user("maya", team=payments, role="maintainer")
    actor = actor_for_cli(label="maya")
    specs = [
        ServiceSpec(
            name="checkout", team="payments", title="Checkout API", language="Go",
            description="Takes orders from the web shop and mobile apps,\nthen charges the customer.",
            repository="https://git.example.com/payments/checkout",
            labels={"tier": "critical", "oncall": "payments-primary", "pci": "in-scope"},
            interactions=(
                InteractionSpec(name="charge-card", targets=("payment-gateway",), style="rest",
                                description="Authorise and capture the card payment.",
                                criteria={"needs_immediate_response": True, "operation": "write",
                                          "latency_budget_ms": 800, "external_clients": False}),
                InteractionSpec(name="order-placed", targets=("notifications", "analytics", "fraud-scoring"),
                                style="pubsub", channel="orders.placed.v1", broker="kafka",
                                criteria={"can_defer": True, "requires_decoupling": True, "peak_rps": 1200}),
                InteractionSpec(name="stock-check", targets=("inventory",)),
            ),
        ),
        ServiceSpec(name="payment-gateway", team="payments", title="Payment gateway", language="Java",
                    lifecycle="production", interactions=(
                        InteractionSpec(name="ledger-entries", targets=("ledger",), style="queue",
                                        channel="ledger.entries", broker="rabbitmq"),
                    )),
        ServiceSpec(name="ledger", team="payments", title="Ledger", language="Kotlin", lifecycle="experimental"),
        ServiceSpec(name="notifications", team="growth", title="Notifications", language="Python",
                    repository="git@git.example.com:growth/notifications.git",
                    interactions=(InteractionSpec(name="send-email", targets=("mailer",), style="grpc"),)),
        ServiceSpec(name="legacy-reports", team="growth", lifecycle="deprecated", language="PHP"),
    ]
    registration_apply(specs=specs, actor=actor)
    registration_apply(specs=[ServiceSpec(
        name="ledger", team="payments", title="Ledger", language="Kotlin", lifecycle="production",
        description="Double-entry book of every payment.",
    )], actor=actor)


def test_it_renders_every_page(page, live_server):
    """Every page with some data, at 1280 px, for a person to look at (var/screenshots/)."""
    _demo_registry()
    base = live_server.url
    name = "test_it_renders_every_page"

    page.goto(f"{base}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-errors")).to_contain_text("Please enter a correct username and password")
    screenshot(page, f"{name}-login")
    sign_in(page, base, "maya")

    stat = lambda label: page.locator(".stat", has=page.locator(".stat-label", has_text=label))  # noqa: E731
    expect(stat("Services").locator(".stat-value")).to_have_text("5")
    expect(stat("Placeholders").locator(".stat-value")).to_have_text("4")
    expect(stat("Interactions").locator(".stat-value")).to_have_text("5")
    expect(page.locator(".banner-warning")).to_contain_text("No background worker is running")
    expect(page.locator(".nav .is-disabled")).to_have_count(0)  # every item of the navigation leads somewhere
    expect(page.locator(".nav").get_by_role("link", name="Reports")).to_have_attribute("href", "/reports/")
    screenshot(page, f"{name}-dashboard")

    pages = [
        ("services", "/services/", "Services"),
        ("services-placeholders", "/services/?placeholder=true", "Services"),
        ("service", "/services/checkout/", "Checkout API"),
        ("placeholder", "/services/fraud-scoring/", "fraud-scoring"),
        ("interaction", "/services/checkout/interactions/order-placed/", "order-placed"),
        ("interaction-undecided", "/services/checkout/interactions/stock-check/", "stock-check"),
        ("interactions", "/interactions/", "Interactions"),
        ("service-edit", "/services/checkout/edit/", "Edit checkout"),
        ("service-delete", "/services/ledger/delete/", "Delete service ledger?"),
        ("teams", "/teams/", "Teams"),
        ("criteria", "/criteria/#s5-1", "Criteria"),
        ("not-found", "/services/does-not-exist/", "Nothing here"),
    ]
    for label, path, heading in pages:
        page.goto(f"{base}{path}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        screenshot(page, f"{name}-{label}")

    page.goto(f"{base}/services/checkout/interactions/new/")
    page.get_by_label("Name").fill("Charge Card")
    page.get_by_label("Targets").fill("ledger, ledger")
    page.get_by_label("Style").select_option("grpc")
    page.get_by_label("Channel").fill("payments.charges")
    page.get_by_role("button", name="Add interaction").click()
    expect(page.locator(".field .errorlist")).to_have_count(3)
    screenshot(page, f"{name}-interaction-form-errors")

    page.goto(f"{base}/teams/payments/")
    page.get_by_label("Token name").fill("github-actions")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".token-reveal")).to_be_visible()
    screenshot(page, f"{name}-team-new-token")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/services/checkout/")
    screenshot(page, f"{name}-service-narrow")
