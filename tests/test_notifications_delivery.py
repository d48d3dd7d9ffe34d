"""Delivering the outbox to a real HTTP receiver on loopback: signature, headers, retries with
backoff, timeouts, a receiver that is down and comes back, re-sending by hand, Slack and e-mail."""
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.actors import actor_for_cli
from core.errors import Conflict, Invalid
from notifications import delivery as sending
from notifications import events as outbox
from notifications.models import Attempt, Delivery
from notifications.payloads import backoff_seconds, signature_valid
from notifications.services import channel_create
from tests.http_receiver import Receiver
from tests.notification_helpers import webhook

SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture(autouse=True)
def quick(settings, monkeypatch):
    settings.NOTIFY_TIMEOUT_SECONDS = 1
    settings.NOTIFY_MAX_ATTEMPTS = 3
    queued = []
    monkeypatch.setattr(outbox, "deliveries_queue", lambda *, delivery_ids: queued.extend(delivery_ids))
    monkeypatch.setattr(sending, "deliveries_queue", lambda *, delivery_ids: queued.extend(delivery_ids))
    return queued


def an_event(team, type="probe.down"):
    return outbox.event_write(type=type, summary="orders/api is down at default: connection refused",
                              url="http://127.0.0.1:8000/services/orders/probes/api/",
                              details={"probe": {"name": "api", "state": "down"}}, teams=[team.slug], service="orders")


def due_again(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_it_delivers_a_signed_body_with_the_event_headers(team):
    with Receiver() as receiver:
        channel = webhook(team, receiver.url, secret=SECRET)
        event = an_event(team)
        delivery = event.deliveries.get()
        assert sending.delivery_attempt(delivery_id=delivery.pk) is True
    [got] = receiver.requests
    assert got.headers["x-switchboard-event-id"] == str(event.id) == got.json()["id"]
    assert got.headers["x-switchboard-event"] == "probe.down"
    assert got.headers["content-type"] == "application/json"
    assert signature_valid(SECRET, got.body, got.headers["x-switchboard-signature"])
    assert not signature_valid("another secret", got.body, got.headers["x-switchboard-signature"])
    body = got.json()
    assert body["type"] == "probe.down" and body["team"] == "commerce" and body["service"] == "orders"
    assert body["probe"]["state"] == "down" and body["url"].endswith("/services/orders/probes/api/")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    assert Attempt.objects.get(channel=channel).ok


def test_it_sends_no_signature_without_a_secret(team):
    with Receiver() as receiver:
        webhook(team, receiver.url)
        sending.delivery_attempt(delivery_id=an_event(team).deliveries.get().pk)
    assert "x-switchboard-signature" not in receiver.requests[0].headers


def test_it_retries_with_backoff_then_marks_the_delivery_failed(team, settings):
    settings.NOTIFY_BACKOFF_SECONDS = 20
    with Receiver(status=500) as receiver:
        webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        sending.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert delivery.status == "pending" and 9 <= wait <= 20  # 20 s with up to half taken off by jitter
        assert sending.delivery_attempt(delivery_id=delivery.pk) is False  # not due yet: not sent
        for _ in range(2):
            due_again(delivery)
            sending.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 500")
    assert len(receiver.requests) == 3
    assert list(Attempt.objects.filter(delivery=delivery).order_by("number").values_list("number", "ok")) == [
        (1, False), (2, False), (3, False)]


def test_it_handles_a_receiver_that_does_not_answer(team):
    with Receiver(hang_seconds=3) as receiver:
        webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        sending.delivery_attempt(delivery_id=delivery.pk)
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.error == "no answer within 1 s" and attempt.duration_ms < 2500
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_it_keeps_events_while_the_receiver_is_down_and_delivers_them_when_it_is_back(team, quick):
    receiver = Receiver().start()
    webhook(team, receiver.url)
    receiver.stop()
    events = [an_event(team), an_event(team, "probe.up")]
    for event in events:
        sending.delivery_attempt(delivery_id=event.deliveries.get().pk)
    assert Attempt.objects.filter(ok=False, error="connection refused").count() == 2
    receiver.start()  # the same port
    try:
        Delivery.objects.update(next_attempt_at=timezone.now())
        quick.clear()
        assert sending.deliveries_due_send() == 2
        for pk in quick:
            sending.delivery_attempt(delivery_id=pk)
    finally:
        receiver.stop()
    assert sorted(r.json()["id"] for r in receiver.requests) == sorted(str(e.id) for e in events)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_sends_a_claimed_delivery_once_when_two_workers_take_it(team):
    with Receiver() as receiver:
        webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        results = [sending.delivery_attempt(delivery_id=delivery.pk) for _ in range(2)]
    assert results == [True, False] and len(receiver.requests) == 1


def test_it_resends_a_failed_delivery_by_hand(team):
    with Receiver(status=503) as receiver:
        webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        for _ in range(3):
            due_again(delivery)
            sending.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "failed"
        receiver.status = 200
        sending.delivery_resend(actor=actor_for_cli(), delivery=delivery)
        assert sending.delivery_attempt(delivery_id=delivery.pk) is True
        with pytest.raises(Conflict):
            sending.delivery_resend(actor=actor_for_cli(), delivery=delivery)
    assert [r.json()["id"] for r in receiver.requests] == [str(delivery.event_id)] * 4


def test_it_sends_slack_a_short_text_with_a_link_back(team):
    with Receiver() as receiver:
        channel_create(actor=actor_for_cli(), team=team, values={
            "name": "slack", "kind": "slack", "url": receiver.url, "events": ["probe.down"]})
        event = outbox.event_write(type="probe.down", summary="<!channel> a & b", url="http://sb.test/p/",
                                   details={}, teams=[team.slug])
        sending.delivery_attempt(delivery_id=event.deliveries.get().pk)
    text = receiver.requests[0].json()["text"]
    assert "&lt;!channel&gt; a &amp; b" in text and "<http://sb.test/p/|open in Switchboard>" in text
    assert "x-switchboard-signature" not in receiver.requests[0].headers


def test_it_mails_through_the_django_backend(team):
    channel_create(actor=actor_for_cli(), team=team, values={
        "name": "mail", "kind": "email", "addresses": ["oncall@example.com", "lead@example.com"],
        "events": ["probe.down"]})
    event = an_event(team)
    assert sending.delivery_attempt(delivery_id=event.deliveries.get().pk) is True
    [message] = mail.outbox
    assert message.to == ["oncall@example.com", "lead@example.com"]
    assert message.subject.startswith("[Switchboard] orders/api is down")
    assert str(event.id) in message.body and "http://127.0.0.1:8000/services/orders/probes/api/" in message.body


def test_it_rejects_a_webhook_to_an_always_refused_address(team):
    with pytest.raises(Invalid) as refused:
        webhook(team, "http://169.254.169.254/latest/meta-data/")
    assert refused.value.errors[0]["pointer"] == "/url" and "refused" in refused.value.errors[0]["message"]


def test_it_refuses_at_send_time_a_name_that_resolves_to_a_denied_network(team, settings):
    with Receiver() as receiver:
        webhook(team, receiver.url.replace("127.0.0.1", "localhost"))
        settings.PROBE_DENIED_NETWORKS = ["127.0.0.0/8", "::1/128"]
        delivery = an_event(team).deliveries.get()
        sending.delivery_attempt(delivery_id=delivery.pk)
    assert receiver.requests == []
    assert "refused by the probe target policy" in Attempt.objects.get(delivery=delivery).error


def test_it_sends_a_test_to_a_channel_and_logs_it(team):
    with Receiver() as receiver:
        channel = webhook(team, receiver.url, secret=SECRET)
        attempt = sending.channel_test(actor=actor_for_cli(), channel=channel)
    assert attempt.ok and attempt.status_code == 200 and attempt.event_type == "test"
    got = receiver.requests[0]
    assert got.headers["x-switchboard-event"] == "test" and signature_valid(SECRET, got.body,
                                                                           got.headers["x-switchboard-signature"])
    assert json.loads(got.body)["summary"].startswith("Test message to oncall")


def test_it_backs_off_exponentially_with_jitter_up_to_a_cap():
    assert [backoff_seconds(n, base=15, cap=3600, jitter=0) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert backoff_seconds(20, base=15, cap=3600, jitter=0) == 3600
    assert backoff_seconds(2, base=15, cap=3600, jitter=1) == 15  # at most half taken off


def test_it_delivers_only_to_channels_of_the_teams_concerned(team, other_team):
    with Receiver() as receiver:
        mine = webhook(team, receiver.url)
        theirs = webhook(other_team, receiver.url)
        system = channel_create(actor=actor_for_cli(), team=None, values={
            "name": "everything", "kind": "webhook", "url": receiver.url, "events": ["probe.down"]})
        paused = webhook(team, receiver.url, name="paused", enabled=False)
        event = an_event(team)
    assert set(event.deliveries.values_list("channel_id", flat=True)) == {mine.pk, system.pk}
    assert theirs.pk and paused.pk


def test_it_fails_the_pending_deliveries_of_a_paused_channel_and_sends_it_nothing_more(team):
    from notifications.services import channel_update

    with Receiver() as receiver:
        channel = webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        channel_update(actor=actor_for_cli(), channel=channel, values={"enabled": False})
        delivery.refresh_from_db()
        assert (delivery.status, delivery.last_error) == ("failed", "the channel was paused")
        with pytest.raises(Conflict):
            sending.delivery_resend(actor=actor_for_cli(), delivery=delivery)
        assert sending.deliveries_due_send() == 0 and sending.delivery_attempt(delivery_id=delivery.pk) is False
        assert not an_event(team).deliveries.exists()  # a paused channel wants nothing
    assert receiver.requests == []


def test_it_names_where_a_redirect_pointed_without_following_it(team):
    with Receiver(status=301) as receiver:
        receiver.location = "https://hooks.example.test/moved"
        webhook(team, receiver.url)
        delivery = an_event(team).deliveries.get()
        sending.delivery_attempt(delivery_id=delivery.pk)
    attempt = Attempt.objects.get(delivery=delivery)
    assert not attempt.ok and attempt.status_code == 301
    assert attempt.error.startswith("HTTP 301 to https://hooks.example.test/moved") and len(receiver.requests) == 1


def test_it_gives_a_test_message_the_fields_of_every_event(team):
    with Receiver() as receiver:
        sending.channel_test(actor=actor_for_cli(), channel=webhook(team, receiver.url))
    body = receiver.requests[0].json()
    assert body["teams"] == ["commerce"] and {"id", "type", "occurred_at", "team", "service", "summary", "url"} <= set(body)


def test_it_keeps_a_resent_delivery_pending_when_the_broker_does_not_answer(team, monkeypatch, settings):
    """Re-sending with the broker down is no 500: the delivery is pending, and the sweep sends it later."""
    from kombu.exceptions import OperationalError

    monkeypatch.undo()  # the real queueing, with a broker that refuses
    settings.NOTIFY_TIMEOUT_SECONDS, settings.NOTIFY_MAX_ATTEMPTS = 1, 3

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    from celery import current_app

    monkeypatch.setattr(current_app.tasks[outbox.SEND_TASK], "apply_async", refused)
    channel = webhook(team, "http://127.0.0.1:9/hook")
    event = outbox.event_write(type="probe.down", summary="s", url="", details={}, teams=[team.slug])
    delivery = event.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    sending.delivery_resend(actor=actor_for_cli(), delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and channel.pk
