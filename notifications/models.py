"""Channels (where a team is told), the outbox of events with one delivery per channel and its
attempts, maintenance windows and probe mutes, and the findings already announced."""
import uuid

from django.db import models
from django.urls import reverse

from core.severity import SEVERITIES

from .choices import ChannelKind, DeliveryStatus, Suppression

SEVERITY_CHOICES = [(name, name) for name in SEVERITIES]


class Channel(models.Model):
    """Where a team's events go: a webhook, a Slack-compatible webhook or e-mail addresses.
    A channel without a team is system-wide (staff only) and receives the events of every team."""

    team = models.ForeignKey("topology.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=63)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    url = models.URLField(max_length=500, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=200, blank=True, help_text="Signs webhook bodies (HMAC-SHA256).")
    events = models.JSONField(default=list)
    # finding.new filters: mismatches and other findings at or above this severity; chains deeper than this.
    min_severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default="warning")
    chain_depth = models.PositiveSmallIntegerField(default=3)
    enabled = models.BooleanField(default=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="channel_unique_team_name"),
            models.UniqueConstraint(fields=["name"], condition=models.Q(team__isnull=True),
                                    name="channel_unique_system_name"),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug if self.team_id else 'system'}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("channel-detail", args=[self.pk])


class Event(models.Model):
    """One thing that happened, written in the transaction that caused it (the outbox). `payload` is
    the JSON every receiver gets; its `id` is this row's id, for receivers to deduplicate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=20, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    team = models.ForeignKey("topology.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    teams = models.JSONField(default=list)  # slugs of every team concerned, as the payload names them
    concerned = models.ManyToManyField("topology.Team", related_name="+", blank=True)  # the same, for reading
    service = models.CharField(max_length=63, blank=True)
    summary = models.CharField(max_length=500)
    payload = models.JSONField()
    suppressed = models.CharField(max_length=12, choices=Suppression.choices, blank=True)

    class Meta:
        ordering = ["-occurred_at"]


class Delivery(models.Model):
    """One event to one channel: pending until sent or given up on (at-least-once)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="delivery_unique_event_channel")]


class Attempt(models.Model):
    """One try of a delivery (or of a channel's test message): the delivery log."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="attempts")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.CASCADE, related_name="log")
    event_type = models.CharField(max_length=20)
    event_id = models.UUIDField(null=True, blank=True)
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["-at", "-id"]


class MaintenanceWindow(models.Model):
    """While it is open, probe events of its services are stored but sent to no one."""

    team = models.ForeignKey("topology.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="maintenance_windows")
    services = models.ManyToManyField("topology.Service", related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]


class ProbeMute(models.Model):
    """A probe whose events are stored but sent to no one, until `until` (or until removed)."""

    probe = models.OneToOneField("probes.Probe", on_delete=models.CASCADE, related_name="mute")
    until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class KnownFinding(models.Model):
    """A finding present at the last scan of the registry; a finding not known yet is new."""

    fingerprint = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=30)
    severity = models.CharField(max_length=10)
    first_seen = models.DateTimeField()


class FindingBaseline(models.Model):
    """One row: whether KnownFinding holds the findings of the current registry. Scans run only
    while some channel wants finding.new; the first scan after a pause records without announcing."""

    key = models.PositiveSmallIntegerField(primary_key=True, default=1)
    current = models.BooleanField(default=False)
    scanned_at = models.DateTimeField(null=True, blank=True)
