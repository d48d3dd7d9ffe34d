"""The service registry: teams, services, interactions, API tokens and the audit trail."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.urls import reverse

from core.choices import Via

from .choices import AuditAction, AuditObject, Broker, Lifecycle, Style, TeamRole

SLUG_HELP = "1-63 lower-case letters, digits or dashes, starting and ending with a letter or digit."


class Team(models.Model):
    slug = models.SlugField(max_length=63, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name or self.slug

    def get_absolute_url(self) -> str:
        return reverse("team-detail", args=[self.slug])


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=TeamRole.choices, default=TeamRole.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]
        ordering = ["team__slug", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Service(models.Model):
    """A registered service, or a placeholder (team is null) that an interaction targets."""

    name = models.CharField(max_length=63, unique=True, help_text=SLUG_HELP)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="services")
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=dict, blank=True)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.PRODUCTION)
    language = models.CharField(max_length=50, blank=True)
    repository = models.CharField(max_length=500, blank=True)
    probes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    written_via = models.CharField(max_length=10, choices=Via.choices, default=Via.UI)
    written_by = models.CharField(max_length=200, blank=True, help_text="User name or token that last wrote it.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_placeholder(self) -> bool:
        return self.team_id is None

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def get_absolute_url(self) -> str:
        return reverse("service-detail", args=[self.name])


class Interaction(models.Model):
    """One way a service talks to one or more others."""

    source = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="interactions")
    name = models.CharField(max_length=63, help_text=SLUG_HELP)
    targets = models.ManyToManyField(Service, through="InteractionTarget", related_name="incoming")
    description = models.TextField(blank=True)
    style = models.CharField(max_length=10, choices=Style.choices, blank=True, db_index=True)
    channel = models.CharField(max_length=249, blank=True)
    broker = models.CharField(max_length=10, choices=Broker.choices, blank=True, db_index=True)
    criteria = models.JSONField(default=dict, blank=True)
    # The stored recommendation of the rules engine, and the ruleset version it came from.
    recommendation = models.JSONField(default=dict, blank=True)
    ruleset_version = models.CharField(max_length=40, blank=True, db_index=True)
    recommended_pattern = models.CharField(max_length=20, blank=True, db_index=True)
    mismatch = models.CharField(max_length=10, blank=True, db_index=True, help_text="info, warning or error")
    recommended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["source__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="interaction_unique_source_name"),
        ]

    def __str__(self) -> str:
        return f"{self.source.name}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.source.name}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("interaction-detail", args=[self.source.name, self.name])


# The Interaction columns that store the rules engine's result (written by the assessor, topology.extensions).
RECOMMENDATION_COLUMNS = ("recommendation", "recommended_at", "ruleset_version", "recommended_pattern", "mismatch")


class InteractionTarget(models.Model):
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="target_links")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="target_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["interaction", "position"]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "service"], name="target_unique_interaction_service"),
        ]


class ApiToken(models.Model):
    """A team's API token. Only a SHA-256 digest is stored; the prefix stays visible."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Refused from then on; empty: never expires.")

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="token_unique_team_name")]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def label(self) -> str:
        return f"token {self.team.slug}/{self.name}"


class AuditEvent(models.Model):
    """Who changed what, when, and through which way in."""

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=200, help_text="The user name or token label, kept after deletion.")
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=20, choices=AuditObject.choices)
    object_key = models.CharField(max_length=200)
    service_name = models.CharField(max_length=63, blank=True, db_index=True)
    team_slug = models.CharField(max_length=63, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_key"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_key}"


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker answered the scheduled heartbeat task."""

    hostname = models.CharField(max_length=255, unique=True)
    last_seen_at = models.DateTimeField()


class Flow(models.Model):
    """A named, ordered walk over interactions (e.g. "User registration"), drawn as a sequence diagram."""

    slug = models.SlugField(max_length=63, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="flows")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    written_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("flow-detail", args=[self.slug])


class FlowStep(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="flow_steps")
    label = models.CharField(max_length=200, blank=True, help_text="What the message says (default: its name).")

    class Meta:
        ordering = ["flow", "position"]
        constraints = [models.UniqueConstraint(fields=["flow", "position"], name="flowstep_unique_position")]


class TopologySummary(models.Model):
    """The registry at team level, as computed for one registry stamp: services per team and the
    team links the overview draws (with how many groups there are in all). A large system's overview
    is drawn from it without aggregating every link; a summary of another stamp is never read. One
    row (key 1), rewritten after each registry change."""

    key = models.PositiveSmallIntegerField(primary_key=True, default=1)
    stamp = models.CharField(max_length=32)
    teams = models.JSONField()  # [[team slug or null for the placeholders, services], ...]
    links = models.JSONField()  # [[source team, target team, kind, count, mismatched, worst], ...]
    groups = models.PositiveIntegerField()
    computed_at = models.DateTimeField()


class RegistryRevision(models.Model):
    """A number every registry write raises in its own transaction (overview_services.registry_changed):
    the topology stamp reads it instead of counting rows, so deletions move the stamp at the cost of
    one row lookup."""

    key = models.PositiveSmallIntegerField(primary_key=True, default=1)
    number = models.BigIntegerField(default=0)
