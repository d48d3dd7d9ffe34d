"""Custom rules, re-evaluation runs and decision records."""
from django.db import models
from django.urls import reverse

from .choices import Decides, DecisionKind, DecisionStatus, RunStatus


class CustomRule(models.Model):
    """An organisation's own rule, evaluated after the built-in ones."""

    slug = models.SlugField(max_length=63, unique=True, help_text="Rule id, e.g. pci-stays-sync.")
    title = models.CharField(max_length=200)
    decides = models.CharField(max_length=10, choices=Decides.choices, default=Decides.PATTERN)
    condition = models.TextField(help_text="A rule-engine expression over the interaction's facts.")
    effects = models.JSONField(help_text="Option -> score change, e.g. {\"request-response\": 5}.")
    cites = models.CharField(max_length=10, blank=True, help_text="The criterion it applies, e.g. §5.1.")
    explanation = models.CharField(max_length=500, help_text="Sentence shown as the reason; may use {source}, {targets}.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    written_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("rule-edit", args=[self.slug])


class EvaluationRun(models.Model):
    """One re-evaluation of every interaction against a ruleset version, with its progress."""

    ruleset_version = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def percent(self) -> int:
        return 100 if self.status == RunStatus.DONE else int(100 * self.done / self.total) if self.total else 0


class Decision(models.Model):
    """An architecture decision record (MADR fields), numbered ADR-0001, ADR-0002, ..."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.PROPOSED,
                              db_index=True)
    kind = models.CharField(max_length=10, choices=DecisionKind.choices, default=DecisionKind.GENERAL)
    context = models.TextField(blank=True, help_text="The problem and its circumstances.")
    drivers = models.JSONField(default=list, blank=True, help_text="Decision drivers, one string each.")
    options = models.JSONField(default=list, blank=True,
                               help_text="Considered options: [{name, description, pros: [...], cons: [...]}].")
    outcome = models.CharField(max_length=200, blank=True, help_text="The chosen option.")
    justification = models.TextField(blank=True, help_text="Why that option was chosen.")
    consequences_good = models.TextField(blank=True)
    consequences_bad = models.TextField(blank=True)
    chosen_style = models.CharField(max_length=10, blank=True,
                                    help_text="For decisions about an interaction: the declared style it settles.")
    recommendation = models.JSONField(default=dict, blank=True,
                                      help_text="The recommendation at the time of the decision.")
    decided_on = models.DateField(null=True, blank=True)
    team = models.ForeignKey("topology.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="decisions", help_text="The deciders.")
    interactions = models.ManyToManyField("topology.Interaction", blank=True, related_name="decisions")
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"ADR-{self.number:04d}"

    def get_absolute_url(self) -> str:
        return reverse("decision-detail", args=[self.number])
