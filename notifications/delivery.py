"""Sending what the outbox holds: claim a due delivery (a conditional UPDATE, so two workers never
send one delivery at once), send it, log the attempt, then mark it sent, or due again after an
exponential backoff with jitter, or failed after NOTIFY_MAX_ATTEMPTS. Delivery is at-least-once:
a worker that dies after sending and before marking sends again after the claim lapses, with the
same event id in the body and headers for the receiver to deduplicate."""
import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from core.actors import Actor
from core.errors import Conflict, Forbidden
from probes.services import probe_policy

from . import payloads
from .choices import ChannelKind, DeliveryStatus, EventType
from .events import deliveries_queue, page_url
from .models import Attempt, Channel, Delivery
from .transport import Outcome, http_post, mail_send

SWEEP_LIMIT = 500


def delivery_attempt(*, delivery_id: int) -> bool:
    """Send one due delivery if this worker claims it; whether it was sent."""
    delivery = _claimed(delivery_id)
    if delivery is None:
        return False
    outcome = channel_send(channel=delivery.channel, payload=delivery.event.payload)
    _logged(delivery.channel, outcome, delivery=delivery, payload=delivery.event.payload)
    _settled(delivery, outcome)
    return outcome.ok


def _claimed(delivery_id: int) -> Delivery | None:
    """Take a due delivery for one attempt: it is not due again until the attempt could have ended."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFY_TIMEOUT_SECONDS * 2 + 30)
    won = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
                                  channel__enabled=True).update(next_attempt_at=lease, attempts=F("attempts") + 1)
    return Delivery.objects.select_related("channel", "event").get(pk=delivery_id) if won else None


def _settled(delivery: Delivery, outcome: Outcome) -> None:
    now = timezone.now()
    fields = {"last_error": outcome.error, "last_status_code": outcome.status_code}
    if outcome.ok:
        fields.update(status=DeliveryStatus.SENT, sent_at=now)
    elif delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED)
    else:
        wait = payloads.backoff_seconds(delivery.attempts, base=settings.NOTIFY_BACKOFF_SECONDS,
                                        cap=settings.NOTIFY_BACKOFF_MAX_SECONDS, jitter=random.random())
        fields.update(next_attempt_at=now + timedelta(seconds=wait))
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(**fields)


def _logged(channel: Channel, outcome: Outcome, *, payload: dict, delivery: Delivery | None = None) -> Attempt:
    return Attempt.objects.create(
        channel=channel, delivery=delivery, event_type=payload["type"], event_id=payload["id"],
        number=delivery.attempts if delivery else 1, at=timezone.now(), ok=outcome.ok,
        status_code=outcome.status_code, error=outcome.error, duration_ms=outcome.duration_ms)


def channel_send(*, channel: Channel, payload: dict) -> Outcome:
    """One try of one payload to one channel, in the channel's form."""
    timeout = settings.NOTIFY_TIMEOUT_SECONDS
    if channel.kind == ChannelKind.EMAIL:
        mail = payloads.mail_of(payload)
        return mail_send(addresses=channel.addresses, subject=mail.subject, body=mail.body)
    if channel.kind == ChannelKind.SLACK:
        return http_post(url=channel.url, body=payloads.slack_body(payload), timeout=timeout, policy=probe_policy(),
                         headers={"Content-Type": "application/json", "User-Agent": payloads.USER_AGENT})
    body = payloads.body_bytes(payload)
    return http_post(url=channel.url, body=body, headers=payloads.webhook_headers(payload, body, channel.secret),
                     timeout=timeout, policy=probe_policy())


def deliveries_due_send(*, limit: int = SWEEP_LIMIT) -> int:
    """Queue every pending delivery that is due (retries, and sends whose task was lost while the
    broker was down); returns how many."""
    due = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now(),
                                       channel__enabled=True)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    if due:
        deliveries_queue(delivery_ids=due)
    return len(due)


def deliveries_pause(*, channel: Channel) -> int:
    """A paused channel sends nothing more: its pending deliveries fail, to be re-sent by hand."""
    return Delivery.objects.filter(channel=channel, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="the channel was paused", last_status_code=None)


def delivery_resend(*, actor: Actor, delivery: Delivery) -> Delivery:
    """A failed delivery, due again now with a fresh count of attempts."""
    if not actor.can_write_team(delivery.channel.team_id):
        raise Forbidden(f"only maintainers of the channel's team may re-send to {delivery.channel}")
    if not delivery.channel.enabled:
        raise Conflict(f"{delivery.channel} is paused: enable it before re-sending")
    now = timezone.now()
    moved = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)
    if not moved:
        raise Conflict(f"delivery {delivery.pk} is {delivery.status}: only a failed delivery can be re-sent")
    deliveries_queue(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


def channel_test(*, actor: Actor, channel: Channel) -> Attempt:
    """Send a sample event to the channel now and log the outcome (nothing goes through the outbox)."""
    if not actor.can_write_team(channel.team_id):
        raise Forbidden(f"only maintainers of the channel's team may send a test to {channel}")
    now = timezone.now()
    team = channel.team.slug if channel.team_id else None
    payload = {"id": str(uuid.uuid4()), "type": EventType.TEST.value, "occurred_at": now.isoformat(),
               "team": team, "teams": [team] if team else [], "service": None,
               "summary": f"Test message to {channel.name}, sent by {actor.label}: this channel works.",
               "url": page_url(channel.get_absolute_url())}
    return _logged(channel, channel_send(channel=channel, payload=payload), payload=payload)
