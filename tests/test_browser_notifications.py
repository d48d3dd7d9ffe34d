"""Notifications in Chromium: a maintainer adds a webhook channel, sends a test and sees it delivered
(a real receiver on loopback got it, signed); then sees a failed test for a receiver that is down.
Screenshots: var/screenshots/notifications, notifications_channel."""
from tests.browser_helpers import make_team, make_user, screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from notifications.models import Attempt, Channel
from notifications.payloads import signature_valid
from tests.http_receiver import Receiver
from topology.choices import TeamRole

SECRET = "browser-test-secret-0123"


def test_it_adds_a_channel_and_sends_a_test(page, live_server, transactional_db):
    team = make_team("commerce", "Commerce")
    make_user("maria", team=team, role=TeamRole.MAINTAINER)
    sign_in(page, live_server.url, "maria")
    page.get_by_role("link", name="Alerts").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    form = page.locator("#add-channel")
    with Receiver() as receiver:
        form.get_by_label("Team").select_option(label="Commerce")
        form.get_by_label("Kind").select_option("email")
        assert form.get_by_label("Addresses").is_visible() and not form.get_by_label("URL").is_visible()
        form.get_by_label("Kind").select_option("webhook")
        assert not form.get_by_label("Addresses").is_visible()
        form.get_by_label("Name").fill("payments-oncall")
        form.get_by_label("URL").fill(receiver.url)
        form.get_by_label("Secret").fill(SECRET)
        form.get_by_label("Probe degraded").check()
        form.get_by_label("New finding").check()
        screenshot(page, "notifications")
        form.get_by_role("button", name="Add channel").click()
        page.wait_for_url(f"{live_server.url}/notifications/channels/*/")
        channel = Channel.objects.get()
        assert channel.events == ["probe.down", "probe.up", "probe.degraded", "finding.new"] and channel.secret == SECRET
        page.get_by_role("button", name="Send test").click()
        outcome = page.locator("#test-outcome")
        outcome.get_by_text("Delivered.").wait_for()
        assert "HTTP 200" in outcome.inner_text()
        [got] = receiver.requests
        assert signature_valid(SECRET, got.body, got.headers["x-switchboard-signature"])
        assert got.headers["x-switchboard-event"] == "test"
    page.get_by_role("button", name="Send test").click()  # the receiver is gone now
    page.locator("#test-outcome").get_by_text("Not delivered:").wait_for()
    assert "connection refused" in page.locator("#test-outcome").inner_text()
    page.reload()
    log = page.locator("#log")
    assert log.get_by_text("delivered").count() == 1 and log.get_by_text("failed").count() == 1
    screenshot(page, "notifications_channel")
    assert Attempt.objects.count() == 2
