"""Observed dependencies: each import of a tracing system's dependency export is kept as a snapshot of
the calls it saw between services, and drift compares the newest one with the declared topology."""
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from core.choices import JobStatus, Via

from .choices import DependencyFormat, SourceKind


class DependencySnapshot(models.Model):
    """One imported dependency export, and the time window it covers (when it says)."""

    format = models.CharField(max_length=10, choices=DependencyFormat.choices)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the links and the window.")
    links = models.PositiveIntegerField(help_text="How many service pairs it observed.")
    imported_by = models.CharField(max_length=200)
    imported_via = models.CharField(max_length=10, choices=Via.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} of {self.created_at:%Y-%m-%d %H:%M}"


class ObservedLink(models.Model):
    """Calls tracing saw from one service (parent) to another (child), as normalised service names."""

    snapshot = models.ForeignKey(DependencySnapshot, on_delete=models.CASCADE, related_name="observed")
    parent = models.CharField(max_length=200)
    child = models.CharField(max_length=200)
    calls = models.BigIntegerField()
    errors = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["snapshot", "parent", "child"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "parent", "child"], name="observedlink_unique_pair")]


class ImportSource(models.Model):
    """A document (or set of documents) imported into the registry, by kind and name: what a newer
    version of it replaces is exactly what it created before."""

    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    name = models.CharField(max_length=200, help_text="The file or the name given with ?source=.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the last imported content.")
    imported_by = models.CharField(max_length=200)
    imported_via = models.CharField(max_length=10, choices=Via.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="importsource_unique_kind_name")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class ImportedObject(models.Model):
    """A service (interaction "") or an interaction that an import source created and owns."""

    source = models.ForeignKey(ImportSource, on_delete=models.CASCADE, related_name="owned")
    service = models.CharField(max_length=63)
    interaction = models.CharField(max_length=63, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "service", "interaction"],
                                               name="importedobject_unique")]


class ImportJob(models.Model):
    """A catalog import too large to apply within the request, applied by a Celery task."""

    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=63, blank=True)
    documents = models.JSONField(help_text="[[file name, text], ...] as uploaded.")
    actor = models.JSONField(help_text="Who asked, with what they may write, as when they asked.")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    report = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
