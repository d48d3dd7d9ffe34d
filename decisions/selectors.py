"""Reads of decision records: lists with their joins done up front, history, and draft inputs."""
from django.db.models import Prefetch, Q, QuerySet

from topology.models import AuditEvent, Interaction, InteractionTarget
from topology.choices import AuditObject
from topology.selectors import interaction_list, interaction_target_names

from .drafts import DraftFacts, decision_draft
from .models import Decision
from .recommendations import (
    interactions_overridden,
    question_of,
    recommendation_expand,
    recommendation_fields,
    ruleset_current,
)
from .rules import evaluate
from .rules.engine import tradeoffs_of


def _linked_interactions() -> Prefetch:
    interactions = Interaction.objects.select_related("source").order_by("source__name", "name")
    return Prefetch("interactions", queryset=interactions)


def decision_list() -> QuerySet[Decision]:
    """Decisions, newest number first, with team, supersede links and linked interactions joined."""
    return (
        Decision.objects.select_related("team", "supersedes", "superseded_by")
        .prefetch_related(_linked_interactions())
        .order_by("-number")
    )


def decision_detail_queryset() -> QuerySet[Decision]:
    """As decision_list, with each linked interaction's team and targets for the detail page."""
    links = InteractionTarget.objects.select_related("service").order_by("position")
    interactions = (Interaction.objects.select_related("source__team")
                    .prefetch_related(Prefetch("target_links", queryset=links)).order_by("source__name", "name"))
    return (
        Decision.objects.select_related("team", "supersedes", "superseded_by")
        .prefetch_related(Prefetch("interactions", queryset=interactions))
    )


def decision_history(*, decision: Decision, limit: int = 100) -> QuerySet[AuditEvent]:
    return (AuditEvent.objects.filter(object_type=AuditObject.DECISION, object_key=decision.code)
            .order_by("-at", "-id")[:limit])


def decisions_for_interaction(*, interaction: Interaction) -> QuerySet[Decision]:
    """The decisions linked to one interaction, newest first (for its page's decisions box)."""
    return interaction.decisions.select_related("team", "superseded_by").order_by("-number")


def decision_by_number(*, number: int) -> Decision | None:
    return Decision.objects.select_related("team").filter(number=number).first()


def overridden_ids(*, interactions) -> set[int]:
    """Which of these interactions have an accepted override: their mismatch is deliberate."""
    return interactions_overridden(interaction_ids=[item.pk for item in interactions])



def interaction_for_decision(*, interaction_id) -> Interaction | None:
    """One interaction with its source, team and targets, or None for an unknown or malformed id."""
    try:
        pk = int(interaction_id)
    except (TypeError, ValueError):
        return None
    return interaction_list().filter(pk=pk).first()


def interactions_by_keys(*, keys: list[str]) -> tuple[list[Interaction], list[str]]:
    """Interactions named 'service/interaction', in the order given, and the keys that match nothing."""
    pairs = [tuple(key.split("/", 1)) for key in keys if key.count("/") == 1]
    if not pairs:
        return [], list(keys)
    match = Q()
    for source, name in pairs:
        match |= Q(source__name=source, name=name)
    found = {item.key: item for item in Interaction.objects.select_related("source__team").filter(match)}
    return [found[key] for key in keys if key in found], [key for key in keys if key not in found]


# --- drafts ------------------------------------------------------------------------------------


def interaction_recommendation(*, interaction: Interaction) -> dict:
    """The stored recommendation (with its trade-offs and open questions put back), or a fresh one
    from the current ruleset while none is stored."""
    if interaction.recommendation:
        return recommendation_expand(interaction.recommendation, criteria=interaction.criteria)
    question = question_of(source=interaction.source.name, targets=tuple(interaction_target_names(interaction)),
                           criteria=interaction.criteria, declared_style=interaction.style)
    return evaluate(ruleset_current(), question)


def draft_facts_of(*, interaction: Interaction, recommendation: dict | None = None) -> DraftFacts:
    ruleset = ruleset_current()
    return DraftFacts(
        key=interaction.key, source=interaction.source.name,
        targets=tuple(interaction_target_names(interaction)), description=interaction.description,
        declared_style=interaction.style, declared_broker=interaction.broker, criteria=interaction.criteria,
        recommendation=(interaction_recommendation(interaction=interaction) if recommendation is None
                        else recommendation),
        rule_effects={rule.spec.id: rule.spec.effects for rule in ruleset.rules},
        tradeoffs={"sync": tradeoffs_of("request-response"), "async": tradeoffs_of("queue")},
    )


def decision_draft_for(*, interaction: Interaction, kind: str) -> dict:
    """The prefilled fields of a decision about one interaction; raises drafts.DraftError."""
    facts = draft_facts_of(interaction=interaction)
    draft = decision_draft(facts, kind=kind)
    # The snapshot is the recommendation as the interaction stores it (trade-offs are derived on reading).
    snapshot = interaction.recommendation or (recommendation_fields(facts.recommendation)["recommendation"]
                                              if facts.recommendation else {})
    return {**draft, "recommendation": snapshot, "team": interaction.source.team, "interactions": [interaction]}
