"""Rules that learn from overrides: for each rule, on how many interactions it fired and how many
of those an accepted override decision settled otherwise, with the justifications; a rule overridden
often is flagged, and a custom rule can be drafted from the overrides' common answers."""
from collections import Counter
from dataclasses import dataclass, field

from .choices import DecisionKind, DecisionStatus
from .models import Decision
from topology.models import Interaction

FLAG_OVERRIDES = 3  # at least this many overrides ...
FLAG_SHARE = 0.25  # ... and at least this share of where it fired
PATTERN_OF_STYLE = {"rest": "request-response", "grpc": "request-response", "pubsub": "pub-sub", "queue": "queue"}


@dataclass
class RuleOverrides:
    fired: int = 0
    overridden: int = 0
    justifications: list[tuple[str, str]] = field(default_factory=list)  # (ADR code, text)
    draft: dict | None = None

    @property
    def flagged(self) -> bool:
        return self.overridden >= FLAG_OVERRIDES and self.overridden >= FLAG_SHARE * self.fired


def rule_overrides() -> dict[str, RuleOverrides]:
    """Rule id -> how often it fired and was overridden (stored recommendations, accepted overrides)."""
    fired: dict[str, set[int]] = {}
    criteria: dict[int, dict] = {}
    for pk, recommendation, answers in Interaction.objects.exclude(recommendation={}).values_list(
            "pk", "recommendation", "criteria"):
        criteria[pk] = answers or {}
        for reason in (recommendation or {}).get("reasons", []):
            fired.setdefault(reason.get("rule", ""), set()).add(pk)
    overrides = _overrides()
    stats = {}
    for rule, interactions in fired.items():
        settled = [(pk, overrides[pk]) for pk in sorted(interactions) if pk in overrides]
        found = RuleOverrides(fired=len(interactions), overridden=len(settled),
                              justifications=[(code, text) for _, (code, text, _) in settled][:5])
        if found.flagged:
            found.draft = _draft(rule, [criteria[pk] for pk, _ in settled], [style for _, (_, _, style) in settled])
        stats[rule] = found
    return stats


def _overrides() -> dict[int, tuple[str, str, str]]:
    """Interaction id -> (code, justification, chosen style) of its accepted override decision."""
    found = {}
    rows = (Decision.objects.filter(status=DecisionStatus.ACCEPTED, kind=DecisionKind.OVERRIDE)
            .order_by("number").values_list("number", "justification", "chosen_style", "interactions"))
    for number, justification, style, interaction in rows:
        if interaction is not None:
            found[interaction] = (f"ADR-{number:04d}", justification, style)
    return found


def _draft(rule: str, answers: list[dict], styles: list[str]) -> dict | None:
    """A custom rule from what the overridden interactions have in common: the answers they all
    share, favouring the pattern most of the overrides chose."""
    common = {key: value for key, value in answers[0].items()
              if all(other.get(key) == value for other in answers[1:]) and isinstance(value, (bool, str, int))}
    chosen = Counter(PATTERN_OF_STYLE.get(style) for style in styles if style in PATTERN_OF_STYLE).most_common(1)
    if not common or not chosen:
        return None
    condition = " and ".join(f"{key} == {_literal(value)}" for key, value in sorted(common.items()))
    return {"slug": f"{rule}-overridden"[:63], "title": f"What overrides of {rule} chose", "decides": "pattern",
            "condition": condition, "effects": f"{chosen[0][0]}=4",
            "explanation": f"Accepted overrides of {rule} with these answers chose {chosen[0][0]}."}


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)
