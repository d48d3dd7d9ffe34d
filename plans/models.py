"""Named change plans: the proposed changes, and the interactions as they were when the plan was
made, so a later evaluation can say which changes no longer apply."""
from django.db import models
from django.urls import reverse


class Plan(models.Model):
    name = models.SlugField(max_length=63, unique=True)
    title = models.CharField(max_length=200)
    changes = models.JSONField()  # as POST /api/v1/plans/evaluate/ takes them
    basis = models.JSONField(default=dict)  # "<service>/<name>" -> {style, channel, broker, criteria} when made
    decisions = models.ManyToManyField("decisions.Decision", blank=True, related_name="plans")
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", args=[self.name])
