"""PDF architecture reports: who asked for which scope, how far the rendering got, and the file."""
from django.conf import settings
from django.db import models
from django.urls import reverse

from core.choices import JobStatus, Via

from .choices import ScopeKind


class Report(models.Model):
    """One PDF report, rendered by a Celery task; `status` and `progress` only move forward."""

    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices, default=ScopeKind.SYSTEM)
    scope_team = models.CharField(max_length=63, blank=True)
    scope_service = models.CharField(max_length=63, blank=True)
    scope_hops = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100")
    step = models.CharField(max_length=200, blank=True, help_text="What the renderer is doing now.")
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=200, help_text="The user name or token label, kept after deletion.")
    requested_via = models.CharField(max_length=10, choices=Via.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    ruleset_version = models.CharField(max_length=40, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes of the PDF.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pruned_at = models.DateTimeField(null=True, blank=True, help_text="When retention removed the file.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.scope_kind})"

    def get_absolute_url(self) -> str:
        return reverse("report-detail", args=[self.pk])


class ReportFile(models.Model):
    """The PDF itself, kept in the database so that any web process can serve what any worker rendered
    (workers may run on other machines); apart from Report so that lists never load it."""

    report = models.OneToOneField(Report, primary_key=True, on_delete=models.CASCADE, related_name="file")
    content = models.BinaryField()
