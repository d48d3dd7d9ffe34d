"""Named constants of the topology app (used by models, validation, forms and the API)."""
from django.db import models


class TeamRole(models.TextChoices):
    MAINTAINER = "maintainer", "Maintainer"
    VIEWER = "viewer", "Viewer"


class Lifecycle(models.TextChoices):
    EXPERIMENTAL = "experimental", "Experimental"
    PRODUCTION = "production", "Production"
    DEPRECATED = "deprecated", "Deprecated"


class Style(models.TextChoices):
    REST = "rest", "REST (sync)"
    GRPC = "grpc", "gRPC (sync)"
    PUBSUB = "pubsub", "Publish/subscribe (async)"
    QUEUE = "queue", "Queue (async)"


SYNC_STYLES = frozenset({Style.REST, Style.GRPC})
ASYNC_STYLES = frozenset({Style.PUBSUB, Style.QUEUE})


class Broker(models.TextChoices):
    KAFKA = "kafka", "Apache Kafka"
    RABBITMQ = "rabbitmq", "RabbitMQ"
    NATS = "nats", "NATS"
    PULSAR = "pulsar", "Apache Pulsar"
    OTHER = "other", "Other"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"


class AuditObject(models.TextChoices):
    TEAM = "team", "Team"
    MEMBERSHIP = "membership", "Membership"
    SERVICE = "service", "Service"
    INTERACTION = "interaction", "Interaction"
    TOKEN = "token", "API token"
    RULE = "rule", "Custom rule"
    FLOW = "flow", "Flow"
    DECISION = "decision", "Decision"
    CHANNEL = "channel", "Notification channel"
    MAINTENANCE = "maintenance", "Maintenance window"
    PROBE_MUTE = "probe-mute", "Probe mute"
