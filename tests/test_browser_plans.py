"""A change plan in Chromium on the demo: make orders/order-cancelled publish/subscribe, see the
fan-out finding go and the mismatch cleared, read the migration steps, accept the plan and find the
decision record. Screenshots: var/screenshots/plan_evaluated, plan_accepted."""
from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from decisions.models import Decision
from plans.models import Plan


def test_it_builds_evaluates_and_accepts_a_plan_on_the_demo(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.goto("/services/orders/interactions/order-cancelled/")
    page.get_by_role("link", name="Plan it across the system").click()
    page.select_option("#id_style_0", "pubsub")
    page.fill("#id_channel_0", "orders.cancelled")
    page.select_option("#id_broker_0", "kafka")
    page.get_by_role("button", name="Evaluate").click()
    outcome = page.locator("#plan-outcome")
    outcome.wait_for()
    better = outcome.inner_text()
    assert "resolved: orders/order-cancelled calls 2 services synchronously" in better, better
    assert "mismatch of orders/order-cancelled (error) resolved" in better
    steps = page.locator(".plan-steps").first.inner_text()
    assert "outbox" in steps and "idempotent" in steps
    screenshot(page, "plan_evaluated")
    page.fill("#plan-name", "cancel-by-event")
    page.fill("#plan-title", "Publish order cancellations")
    page.get_by_role("button", name="Save and accept").click()
    page.wait_for_url("**/decisions/*/")
    assert "Plan cancel-by-event accepted" in page.locator(".messages, .message-success").first.inner_text()
    decision = Decision.objects.get(plans__name="cancel-by-event")
    assert decision.status == "proposed" and decision.chosen_style == "pubsub"
    assert decision.title == "Publish order cancellations: orders/order-cancelled → pubsub"
    assert Plan.objects.get().accepted_at is not None
    screenshot(page, "plan_accepted")
