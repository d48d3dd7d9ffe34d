"""Named constants every app shares."""
from django.db import models


class JobStatus(models.TextChoices):
    """Where a background job is: re-evaluations, PDF reports, large imports."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Via(models.TextChoices):
    """The way a write came in."""

    UI = "ui", "Browser"
    API = "api", "API"
    IMPORT = "import", "Import"
    CLI = "cli", "Command line"
