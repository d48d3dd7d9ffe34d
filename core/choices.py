"""Named constants every app shares."""
from django.db import models


class Via(models.TextChoices):
    """The way a write came in."""

    UI = "ui", "Browser"
    API = "api", "API"
    IMPORT = "import", "Import"
    CLI = "cli", "Command line"
