"""Draft decision records from an interaction's recommendation. Pure Python, no ORM.

`decision_draft(facts, kind=...)` takes plain data about one interaction (its names, criteria,
declared style and the engine's stored recommendation) and returns the field values of a
Decision, for a person to edit before it is saved:

- kind "accept": adopt the recommended pattern (and protocol or broker);
- kind "override": keep the declared style, with a justification the person must write.

An empty recommendation ({}) gives a draft without options, saying there is no recommendation yet.
"""
import re
from dataclasses import dataclass, field

from topology.criteria import BOOL, CRITERIA
from topology.graph import SYNC_LABELS

from .choices import DecisionKind, DecisionStatus
from .rules.engine import FAMILY_OF_DECLARED, OPTIONS

PATTERNS = OPTIONS["pattern"]
PROTOCOL_LABELS = SYNC_LABELS
BROKER_LABELS = {"kafka": "Kafka", "rabbitmq": "RabbitMQ", "nats": "NATS", "pulsar": "Pulsar", "other": "a broker"}
STYLE_LABELS = {**SYNC_LABELS, "pubsub": "pub/sub", "queue": "a queue"}
PATTERN_OF_STYLE = {"rest": "request-response", "grpc": "request-response", "pubsub": "pub-sub", "queue": "queue"}
PATTERN_DESCRIPTIONS = {
    "request-response": "A synchronous call: the caller waits for the answer (§2.3, §3.1).",
    "pub-sub": "Publish an event to a topic; every subscriber gets a copy (§4.3).",
    "queue": "Put a message on a queue; exactly one consumer of a worker pool handles it (§4.4).",
    "hybrid": "A synchronous call for the answer the caller needs, plus an event for the others (§5.0).",
}
MAX_TITLE = 200
TRAILING_CITES = re.compile(r"\((§[\d.]+(?:, §[\d.]+)*)\)$")
KEEP_CAPITALS = {"Kafka", "RabbitMQ", "NATS", "Pulsar", "HTTP", "JSON", "REST"}


class DraftError(ValueError):
    """A draft that cannot be made, e.g. an override of an interaction without a declared style."""


@dataclass(frozen=True)
class DraftFacts:
    """What a draft needs to know about one interaction, as plain data."""

    key: str  # "orders/authorize-payment"
    source: str
    targets: tuple[str, ...] = ()
    description: str = ""
    declared_style: str = ""
    declared_broker: str = ""
    criteria: dict = field(default_factory=dict)
    recommendation: dict = field(default_factory=dict)
    # rule id -> {option: weight}: how each fired rule scored every option, so each considered
    # option gets its own pros and cons. Rules missing here count only for the recommended option.
    rule_effects: dict = field(default_factory=dict)
    # "sync" / "async" -> [{cites, drawback, mitigations}]: the trade-offs of each family, so an
    # override lists the drawbacks of the style it keeps.
    tradeoffs: dict = field(default_factory=dict)


def style_of_recommendation(recommendation: dict) -> str:
    """The declared style (rest, grpc, pubsub, queue) that carries out a recommendation, or ''."""
    if not recommendation or not recommendation.get("pattern"):
        return ""
    if recommendation.get("style") == "sync":
        return recommendation.get("protocol") or "rest"
    return "pubsub" if recommendation["pattern"] == "pub-sub" else "queue"


def recommendation_label(recommendation: dict) -> str:
    """'request-response over REST', 'pub-sub on Kafka', 'hybrid: REST plus events on Kafka'."""
    pattern = recommendation.get("pattern") or ""
    protocol = PROTOCOL_LABELS.get(recommendation.get("protocol") or "", "")
    broker = BROKER_LABELS.get(recommendation.get("broker") or "", "")
    if pattern == "hybrid":
        return f"hybrid: {protocol or 'REST'} plus events on {broker or 'a broker'}"
    if pattern == "request-response":
        return f"request-response over {protocol}" if protocol else pattern
    return f"{pattern} on {broker}" if broker else pattern


def declared_label(style: str, broker: str = "") -> str:
    """The outcome that keeps a declared style: 'request-response over gRPC', 'queue on RabbitMQ'."""
    pattern = PATTERN_OF_STYLE[style]
    if pattern == "request-response":
        return f"request-response over {PROTOCOL_LABELS[style]}"
    label = BROKER_LABELS.get(broker, "")
    return f"{pattern} on {label}" if label and broker != "other" else pattern


def decision_draft(facts: DraftFacts, *, kind: str) -> dict:
    """The field values of a proposed decision about one interaction (see the module docstring)."""
    if kind not in (DecisionKind.ACCEPT, DecisionKind.OVERRIDE):
        raise DraftError(f"a draft is made to accept or to override a recommendation, not {kind!r}")
    declared = facts.declared_style
    if declared and declared not in FAMILY_OF_DECLARED:
        raise DraftError(f"unknown declared style {declared!r}")
    if kind == DecisionKind.OVERRIDE and not declared:
        raise DraftError(f"{facts.key} has no declared style, so there is nothing to keep against the "
                         "recommendation; accept the recommendation or declare a style first")
    recommendation = facts.recommendation or {}
    reasons = recommendation.get("reasons") or []
    options = _options(recommendation, reasons, facts.rule_effects)
    recommended = style_of_recommendation(recommendation)
    if kind == DecisionKind.ACCEPT:
        outcome = recommendation_label(recommendation) if recommended else ""
        chosen_style = declared if declared and (declared == recommended or not recommended) else recommended
        good = [f"Good, because {_because(_cited(reason))}" for reason in reasons if reason.get("effect", 0) > 0]
        bad = [_tradeoff_line(item) for item in recommendation.get("tradeoffs") or []]
        justification = _accept_justification(recommendation)
        title = f"{facts.key}: use {outcome}" if outcome else f"{facts.key}: communication style"
    else:
        outcome = declared_label(declared, facts.declared_broker)
        chosen_style = declared
        kept = _option_named(options, PATTERN_OF_STYLE[declared])
        good = [f"Good, because {_because(text)}" for text in (kept["pros"] if kept else [])]
        bad = []
        if recommended and recommended != declared or recommendation.get("mismatch"):
            bad.append(f"Bad, because it departs from the recommendation ({_recommendation_note(recommendation)}).")
        bad += [f"Bad, because {_because(text)}" for text in (kept["cons"] if kept else [])]
        family = FAMILY_OF_DECLARED[declared]
        tradeoffs = facts.tradeoffs.get(family) or [
            item for item in recommendation.get("tradeoffs") or [] if item.get("style") == family
        ]
        bad += [_tradeoff_line(item) for item in tradeoffs]
        justification = ""
        title = f"{facts.key}: keep {STYLE_LABELS[declared]}"
        if recommended and recommended != declared:
            title += f" instead of {recommendation_label(recommendation)}"
    return {
        "title": _truncate(title, MAX_TITLE),
        "status": DecisionStatus.PROPOSED.value,
        "kind": str(kind),
        "context": _context(facts, recommendation),
        "drivers": [_cited(reason) for reason in reasons if reason.get("effect", 0) > 0],
        "options": options,
        "outcome": outcome,
        "justification": justification,
        "consequences_good": "\n".join(good),
        "consequences_bad": "\n".join(bad),
        "chosen_style": chosen_style,
        "recommendation": recommendation,
    }


def _cited(reason: dict) -> str:
    """The reason's sentence with its § id: 'Reading data suits a synchronous call (§5.2).'"""
    text = (reason.get("text") or "").strip()
    cites = reason.get("cites") or ""
    if not cites or cites in text:
        return text
    body, stop = (text[:-1], ".") if text.endswith(".") else (text, "")
    trailing = TRAILING_CITES.search(body)
    if trailing:  # "... at its own pace (§4.7)" + §5.5 -> "... at its own pace (§4.7, §5.5)"
        return f"{body[:trailing.start()]}({trailing.group(1)}, {cites}){stop}"
    return f"{body} ({cites}){stop}"


def _because(text: str) -> str:
    """Lower-case a sentence's first word to follow 'because', unless it is an acronym or a name."""
    first, _, rest = text.partition(" ")
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()) and first not in KEEP_CAPITALS:
        first = first.lower()
    return f"{first} {rest}" if rest else first


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _options(recommendation: dict, reasons: list[dict], rule_effects: dict) -> list[dict]:
    """One option per pattern the engine scored, best first, with the reasons for and against it."""
    scores = (recommendation.get("scores") or {}).get("pattern") or {}
    if not scores:
        return []
    chosen = recommendation.get("pattern")
    ordered = sorted(scores, key=lambda name: (name != chosen, -scores[name], PATTERNS.index(name)
                                               if name in PATTERNS else len(PATTERNS)))
    options = []
    for name in ordered:
        pros, cons = [], []
        for reason in reasons:
            if reason.get("decides") != "pattern":
                continue
            effect = _effect_on(reason, name, rule_effects)
            if effect > 0:
                pros.append(_cited(reason))
            elif effect < 0:
                cons.append(_cited(reason))
        score = scores[name]
        description = PATTERN_DESCRIPTIONS.get(name, "")
        note = "recommended, " if name == chosen else ""
        options.append({
            "name": name,
            "description": f"{description} Score {_number(score)} ({note}rules engine).".strip(),
            "pros": pros,
            "cons": cons,
        })
    return options


def _effect_on(reason: dict, option: str, rule_effects: dict) -> float:
    effects = rule_effects.get(reason.get("rule"))
    if effects is not None:
        return effects.get(option, 0)
    # A rule the current ruleset no longer has (or the fallback reason): only its effect on the
    # option it was recorded for is known.
    return reason.get("effect", 0) if reason.get("supports") == option else 0


def _option_named(options: list[dict], name: str) -> dict | None:
    return next((option for option in options if option["name"] == name), None)


def _number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _recommendation_note(recommendation: dict) -> str:
    note = recommendation_label(recommendation)
    confidence = recommendation.get("confidence")
    if isinstance(confidence, (int, float)):
        note += f", confidence {confidence:.2f}"
    severity = (recommendation.get("mismatch") or {}).get("severity")
    return note + (f"; a mismatch of severity {severity}" if severity else "")


def _tradeoff_line(item: dict) -> str:
    cites = f" ({item['cites']})" if item.get("cites") else ""
    line = f"Bad, because {_because(item.get('drawback', '').rstrip('.'))}{cites}."
    mitigations = [m.rstrip(".") for m in item.get("mitigations") or []]
    if mitigations:
        line += " Mitigate: " + "; ".join(mitigations) + "."
    return line


def _accept_justification(recommendation: dict) -> str:
    if not recommendation:
        return ""
    confidence = recommendation.get("confidence")
    version = recommendation.get("ruleset_version")
    details = ", ".join(part for part in (
        f"confidence {confidence:.2f}" if isinstance(confidence, (int, float)) else "",
        f"ruleset {version}" if version else "",
    ) if part)
    return (f"The rules engine recommends {recommendation_label(recommendation)}"
            f"{f' ({details})' if details else ''}, and the decision drivers above hold for this interaction.")


def _answer(criterion, value) -> str:
    if criterion.kind == BOOL:
        return "yes" if value else "no"
    if criterion.unit:
        return f"{_number(value)} {criterion.unit}"
    return _number(value)


def _context(facts: DraftFacts, recommendation: dict) -> str:
    targets = ", ".join(facts.targets) or "no target yet"
    declared = f"declared style {STYLE_LABELS[facts.declared_style]}" if facts.declared_style else "no declared style"
    lines = [f"Interaction {facts.key}: {facts.source} → {targets} ({declared})."]
    if facts.description.strip():
        lines += ["", facts.description.strip()]
    answered = [(c, facts.criteria[c.key]) for c in CRITERIA if facts.criteria.get(c.key) is not None]
    lines.append("")
    if answered:
        lines.append("Criteria answered:")
        lines += [f"- {c.question} {_answer(c, value)} ({c.cites})" for c, value in answered]
    else:
        lines.append("No criteria answered yet.")
    lines.append("")
    if recommendation.get("pattern"):
        confidence = recommendation.get("confidence")
        sentence = f"The rules engine recommends {recommendation_label(recommendation)}"
        if isinstance(confidence, (int, float)):
            sentence += f" with confidence {confidence:.2f}"
        if recommendation.get("ruleset_version"):
            sentence += f" (ruleset {recommendation['ruleset_version']})"
        lines.append(sentence + ".")
        mismatch = recommendation.get("mismatch") or {}
        if mismatch.get("reason"):
            lines.append(f"Mismatch ({mismatch.get('severity', 'info')}): {mismatch['reason']}")
    else:
        lines.append("There is no recommendation yet for this interaction.")
    return "\n".join(lines)
