"""Named constants of the reports app."""
from django.db import models


class ScopeKind(models.TextChoices):
    SYSTEM = "system", "Whole system"
    TEAM = "team", "One team"
    SERVICE = "service", "One service and its neighbours"
