"""Named constants of the probes app (models, forms, filters and the API)."""
from django.db import models


class ProbeKind(models.TextChoices):
    """The same values as probes.engine.spec.Kind, with labels for forms and pages."""

    HTTP = "http", "HTTP(S)"
    TCP = "tcp", "TCP connect"
    GRPC = "grpc", "gRPC health"
    RABBITMQ_QUEUE = "rabbitmq-queue", "RabbitMQ queue"
    NATS_CONSUMER = "nats-consumer", "NATS JetStream consumer"
    REDIS = "redis", "Redis"
    KAFKA_CONSUMER = "kafka-consumer", "Kafka consumer group lag"


class ProbeOutcome(models.TextChoices):
    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


class RollupPeriod(models.TextChoices):
    MINUTE = "m", "Minute"
    HOUR = "h", "Hour"
