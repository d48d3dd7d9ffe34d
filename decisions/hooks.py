"""Plugs the rules into the registry (topology.extensions): every interaction a registration writes is
evaluated under the current ruleset, accepted overrides settle mismatches in reports and drawings, a
decision moves the topology stamp, and the interaction page lists its decisions."""
from django.db.models import Prefetch
from django.urls import reverse

from topology.extensions import Assessment, Assessor, registered

from .choices import DecisionKind, DecisionStatus
from .models import Decision
from .recommendations import (accepted_override_links, question_of, recommendation_expand, recommendation_fields,
                              recommendation_summary, ruleset_current)
from .rules import evaluate
from .selectors import decisions_for_interaction


class RulesetAssessment(Assessment):
    """The current ruleset (built-in and enabled custom rules), read once per registration."""

    def __init__(self) -> None:
        self.ruleset = ruleset_current()
        self.version = self.ruleset.version

    def assess(self, *, source: str, targets: tuple[str, ...], criteria: dict, declared_style: str) -> dict:
        question = question_of(source=source, targets=targets, criteria=criteria, declared_style=declared_style)
        return evaluate(self.ruleset, question)


def overrides_prefetch() -> Prefetch:
    """The accepted override decisions of each interaction, as `accepted_overrides`."""
    accepted = Decision.objects.filter(status=DecisionStatus.ACCEPTED, kind=DecisionKind.OVERRIDE).order_by("number")
    return Prefetch("decisions", queryset=accepted, to_attr="accepted_overrides")


def interaction_page(interaction) -> dict:
    return {"decisions": decisions_for_interaction(interaction=interaction),
            "what_if_url": reverse("interaction-what-if", args=[interaction.source.name, interaction.name])}


def register() -> None:
    registered.assessor = Assessor(
        begin=RulesetAssessment, columns=recommendation_fields, summary=recommendation_summary,
        expanded=recommendation_expand, settled_links=accepted_override_links, settled_prefetch=overrides_prefetch)
    if (Decision, "updated_at") not in registered.stamp_registry:
        registered.stamp_registry.append((Decision, "updated_at"))
    if interaction_page not in registered.interaction_page:
        registered.interaction_page.append(interaction_page)
