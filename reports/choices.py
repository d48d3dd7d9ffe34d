"""Named constants of the reports app."""
from django.db import models


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ScopeKind(models.TextChoices):
    SYSTEM = "system", "Whole system"
    TEAM = "team", "One team"
    SERVICE = "service", "One service and its neighbours"
