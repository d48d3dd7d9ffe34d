"""A change plan in Chromium on the demo: make orders/order-cancelled publish/subscribe, see the
fan-out finding go and the mismatch cleared, read the migration steps and the plan drawn, accept the
plan and find the decision record; or save it first, find it in the list of saved plans, open it
against the registry of now, and accept it there. Screenshots (1440x900): var/screenshots/
plan_evaluated, plan_accepted, plan_saved_list, plan_saved_page, plan_on_topology."""
from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from decisions.models import Decision
from plans.models import Plan

WIDE = {"width": 1440, "height": 900}
CHANGED = "#1f5fd1"  # plans/drawing.py: a changed interaction's edge


def evaluate_cancellations_by_event(page) -> None:
    page.goto("/services/orders/interactions/order-cancelled/")
    page.get_by_role("link", name="Plan it across the system").click()
    page.select_option("#id_style_0", "pubsub")
    page.fill("#id_channel_0", "orders.cancelled")
    page.select_option("#id_broker_0", "kafka")
    page.get_by_role("button", name="Evaluate").click()
    page.locator("#plan-outcome").wait_for()


def assert_drawn_with_the_changed_edge(page) -> None:
    drawing = page.locator(".plan-drawing svg")
    drawing.wait_for()
    assert "rest → pubsub" in drawing.text_content()
    edge = drawing.locator("g.edge", has_text="rest → pubsub")  # one edge per target of order-cancelled
    assert edge.count() == 2 and edge.locator(f'path[stroke="{CHANGED}"]').count() == 2
    assert edge.locator("path").first.get_attribute("stroke-width") == "3"
    summary = drawing.locator("g.node", has_text="Before → after").text_content()
    lines = [line.strip() for line in summary.splitlines()]  # one text element per line of the table
    assert lines[lines.index("findings") + 1] == "3 → 2" and lines[lines.index("unsettled mismatches") + 1] == "1 → 0"
    assert "+ mismatch of orders/order-cancelled (error)" in lines


def test_it_builds_evaluates_and_accepts_a_plan_on_the_demo(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.set_viewport_size(WIDE)
    evaluate_cancellations_by_event(page)
    better = page.locator("#plan-outcome").inner_text()
    assert "resolved: orders/order-cancelled calls 2 services synchronously" in better, better
    assert "mismatch of orders/order-cancelled (error) resolved" in better
    steps = page.locator(".plan-steps").first.inner_text()
    assert "outbox" in steps and "idempotent" in steps
    assert_drawn_with_the_changed_edge(page)
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


def test_it_saves_a_plan_lists_it_opens_it_and_accepts_it_there(page, live_server, live_demo):
    refused = []  # the inline drawing must not need anything the Content Security Policy refuses
    page.on("console", lambda message: refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    sign_in(page, live_server.url, "dora")
    page.set_viewport_size(WIDE)
    evaluate_cancellations_by_event(page)
    page.fill("#plan-name", "cancel-by-event")
    page.fill("#plan-title", "Publish order cancellations")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/plans/cancel-by-event/")
    assert "Plan cancel-by-event saved" in page.locator(".messages").inner_text()
    assert Plan.objects.get().accepted_at is None and not Decision.objects.filter(plans__isnull=False).exists()

    page.goto("/plans/")
    row = page.locator("#plan-saved tbody tr", has_text="Publish order cancellations")
    assert row.count() == 1
    cells = row.inner_text()
    assert "cancel-by-event" in cells and "dora" in cells and "applies" in cells and "not yet" in cells
    page.locator("#plan-saved").scroll_into_view_if_needed()
    screenshot(page, "plan_saved_list")

    row.get_by_role("link", name="Publish order cancellations").click()
    page.wait_for_url("**/plans/cancel-by-event/")
    assert "Every interaction it changes or removes is as it was" in page.locator("#plan-applies").inner_text()
    assert_drawn_with_the_changed_edge(page)
    assert page.get_by_role("link", name="Download Markdown").get_attribute("href") == \
        "/api/v1/plans/cancel-by-event/markdown/"
    screenshot(page, "plan_saved_page")
    page.get_by_role("link", name="Draw on the topology").click()
    page.wait_for_url("**/topology/?plan=cancel-by-event")
    assert "cancel-by-event" in page.locator("#topology-note").inner_text()
    assert_drawn_with_the_changed_edge(page)
    assert "Findings 3 → 2" in page.locator(".plan-numbers").inner_text()
    screenshot(page, "plan_on_topology")
    page.get_by_role("link", name="Open the plan").click()
    page.wait_for_url("**/plans/cancel-by-event/")
    page.get_by_role("button", name="Accept", exact=True).click()
    page.wait_for_url("**/plans/cancel-by-event/")
    assert "Plan cancel-by-event accepted" in page.locator(".messages").inner_text()
    decision = Decision.objects.get(plans__name="cancel-by-event")
    assert decision.status == "proposed" and decision.chosen_style == "pubsub"
    assert page.get_by_role("link", name=decision.code).count() == 1  # the page links the record it drafted
    assert page.get_by_role("button", name="Accept", exact=True).count() == 0  # accepted once
    assert refused == []
