"""Named constants of the imports app."""
from django.db import models


class DependencyFormat(models.TextChoices):
    JAEGER = "jaeger", "Jaeger dependencies"
    ZIPKIN = "zipkin", "Zipkin dependency links"


class SourceKind(models.TextChoices):
    BACKSTAGE = "backstage", "Backstage catalog"
    ASYNCAPI = "asyncapi", "AsyncAPI documents"

