"""Named constants of the decisions app."""
from django.db import models

from core.choices import JobStatus


class DecisionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"
    SUPERSEDED = "superseded", "Superseded"


class DecisionKind(models.TextChoices):
    GENERAL = "general", "General"
    ACCEPT = "accept", "Accepts the recommendation"
    OVERRIDE = "override", "Overrides the recommendation"


class Decides(models.TextChoices):
    PATTERN = "pattern", "Pattern (request-response, pub-sub, queue, hybrid)"
    PROTOCOL = "protocol", "Protocol of the sync part (rest, grpc)"
    BROKER = "broker", "Broker of the async part (kafka, rabbitmq, nats, pulsar)"


RunStatus = JobStatus  # a re-evaluation run is a background job like the others
