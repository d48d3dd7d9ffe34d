"""Named constants of the notifications app."""
from django.db import models


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON, signed)"
    SLACK = "slack", "Slack-compatible webhook"
    EMAIL = "email", "E-mail"


class EventType(models.TextChoices):
    PROBE_DOWN = "probe.down", "Probe down"
    PROBE_UP = "probe.up", "Probe up again"
    PROBE_DEGRADED = "probe.degraded", "Probe degraded"
    FINDING_NEW = "finding.new", "New finding"
    DECISION_CHANGED = "decision.changed", "Decision changed"
    TEST = "test", "Test message"


SUBSCRIBABLE = [value for value in EventType.values if value != EventType.TEST]
PROBE_EVENTS = {"down": EventType.PROBE_DOWN, "up": EventType.PROBE_UP, "degraded": EventType.PROBE_DEGRADED}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Suppression(models.TextChoices):
    """Why a probe event was not sent to anyone."""

    MAINTENANCE = "maintenance", "In a maintenance window"
    MUTED = "muted", "Probe muted"
