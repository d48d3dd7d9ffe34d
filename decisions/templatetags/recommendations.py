"""Template helpers for recommendations: labels, § links, score bars, badges, the seed's original words.

Presentation only: every function takes plain values (a recommendation dict, a § id, an interaction
already loaded by a selector) and returns text or escaped HTML. No queries.
"""
import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from topology.criteria import anchor, original as original_of
from topology.graph import SYNC_LABELS

register = template.Library()

CITE = re.compile(r"§\d+(?:\.\d+)?")
STRONG = re.compile(r"\*\*(.+?)\*\*")
LABELS = {
    "request-response": "request/response", "pub-sub": "publish/subscribe", "queue": "message queue",
    "hybrid": "hybrid", **SYNC_LABELS, "kafka": "Kafka", "rabbitmq": "RabbitMQ",
    "nats": "NATS", "pulsar": "Pulsar", "sync": "synchronous", "async": "asynchronous",
}
SHORT = {"request-response": "request-response", "pub-sub": "pub-sub", "queue": "queue", "hybrid": "hybrid"}
FAMILY = {"request-response": "sync", "hybrid": "hybrid", "pub-sub": "async", "queue": "async"}
SEVERITY_TEXT = {"error": "Mismatch", "warning": "Mismatch", "info": "Note"}
SEVERITY_ICON = {"error": "✕", "warning": "!", "info": "i"}
HIGH, MEDIUM = 0.65, 0.35  # the engine's error/warning thresholds, used again as confidence levels


@register.filter
def cite_anchor(cites) -> str:
    """'§5.1' -> 's5-1', the anchor of that point on the criteria page ('' for anything else)."""
    return anchor(cites) if isinstance(cites, str) and CITE.fullmatch(cites) else ""


@register.simple_tag
def cite_link(cites):
    """<a class="cite" href="/criteria/#s5-1">§5.1</a>, or nothing for an empty citation."""
    if not cite_anchor(cites):
        return ""
    return format_html('<a class="cite" href="{}#{}" title="Criteria {}">{}</a>', reverse("criteria"),
                       anchor(cites), cites, cites)


@register.filter(needs_autoescape=True)
def link_cites(text, autoescape=True) -> str:
    """Escape a sentence and turn each § id in it into a link to the criteria page."""
    url = reverse("criteria")
    escaped = escape(str(text or ""))
    return mark_safe(CITE.sub(lambda m: f'<a class="cite" href="{url}#{anchor(m.group(0))}">{m.group(0)}</a>', escaped))


@register.filter
def original(section_id) -> str:
    """The seed document's sentence for a § id, escaped, with its **emphasis** kept as <strong>."""
    text = original_of(str(section_id or ""))
    return mark_safe(STRONG.sub(r"<strong>\1</strong>", escape(text)))


@register.filter
def option_label(value) -> str:
    """'pub-sub' -> 'publish/subscribe', 'rabbitmq' -> 'RabbitMQ'; anything else as it is."""
    return LABELS.get(value, value or "")


@register.filter
def headline(recommendation) -> str:
    """'asynchronous publish/subscribe on Kafka', 'synchronous request/response over REST', ..."""
    if not recommendation:
        return ""
    pattern = recommendation.get("pattern")
    protocol = LABELS.get(recommendation.get("protocol") or "", "")
    broker = LABELS.get(recommendation.get("broker") or "", "")
    if pattern == "hybrid":
        call, event = protocol or "REST", broker or "a broker"
        return f"hybrid: a synchronous {call} call, plus an event on {event} for the others"
    label = f"{LABELS.get(recommendation.get('style'), '')} {LABELS.get(pattern, pattern or '')}".strip()
    if pattern == "request-response":
        return f"{label} over {protocol}" if protocol else label
    return f"{label} on {broker}" if broker else label


@register.filter
def family(pattern) -> str:
    """The colour family of a pattern: sync, async, hybrid (or '' when unknown)."""
    return FAMILY.get(pattern, "")


@register.filter
def percent(value) -> int:
    try:
        return max(0, min(100, round(float(value) * 100)))
    except (TypeError, ValueError):
        return 0


@register.filter
def confidence_level(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "low"
    return "high" if value >= HIGH else "medium" if value >= MEDIUM else "low"


@register.filter
def signed(value) -> str:
    """+3, −2, 0 (a true minus sign); whole floats lose their '.0'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"+{value}" if value > 0 else f"−{abs(value)}" if value < 0 else "0"
    return str(value)


@register.simple_tag
def score_rows(scores, chosen=None):
    """One row per option for a diverging bar: its score, and the bar's side and length (% of half the track)."""
    if not isinstance(scores, dict) or not scores:
        return []
    numbers = {option: float(score) for option, score in scores.items() if isinstance(score, (int, float))}
    scale = max([abs(score) for score in numbers.values()] + [1.0])
    return [
        {"option": option, "label": LABELS.get(option, option), "score": score, "chosen": option == chosen,
         "width": round(50 * abs(score) / scale, 1), "negative": score < 0}
        for option, score in numbers.items()
    ]


@register.filter
def deliberate(interaction):
    """The first accepted override decision of an interaction (prefetched as accepted_overrides), or None."""
    overrides = getattr(interaction, "accepted_overrides", None) or ()
    return overrides[0] if overrides else None


@register.simple_tag
def pattern_badge(pattern, title_prefix="Recommended"):
    """A badge for a recommended pattern, coloured like the declared-style badges (sync blue, async violet)."""
    if not pattern:
        return format_html('<span class="badge rec-badge rec-badge-none" title="{}">not evaluated</span>',
                           "The rules have not evaluated this interaction yet")
    kind = FAMILY.get(pattern, "")
    return format_html('<span class="badge rec-badge rec-badge-{}" title="{}: {}">{}</span>',
                       kind or "none", title_prefix, LABELS.get(pattern, pattern), SHORT.get(pattern, pattern))


@register.simple_tag
def severity_badge(severity, label="", title=""):
    """A small coloured badge for a mismatch severity (error, warning, info); title: e.g. the mismatch reason."""
    if severity not in SEVERITY_ICON:
        return ""
    return format_html(
        '<span class="badge rec-sev rec-sev-{}" title="{}"><span class="rec-sev-icon" aria-hidden="true">{}</span>'
        '{}</span>', severity, title or f"{SEVERITY_TEXT[severity]} ({severity})", SEVERITY_ICON[severity],
        label or severity,
    )

GROUP_TITLES = {"pattern": "Pattern", "protocol": "Protocol", "broker": "Broker"}


@register.simple_tag
def score_groups(recommendation):
    """The score bars to show: the pattern always, the protocol and broker when the pattern uses them."""
    if not recommendation:
        return []
    scores = recommendation.get("scores") or {}
    groups = []
    for decides, title in GROUP_TITLES.items():
        chosen = recommendation.get(decides)
        if decides != "pattern" and not chosen:
            continue
        groups.append({"decides": decides, "title": title, "chosen": chosen,
                       "rows": score_rows(scores.get(decides), chosen)})
    return groups


@register.simple_tag
def reason_groups(recommendation):
    """The reasons in the engine's order, grouped by what they decide: 'Why publish/subscribe', 'Why Kafka'."""
    groups: list[dict] = []
    for reason in (recommendation or {}).get("reasons") or []:
        if not groups or groups[-1]["decides"] != reason.get("decides"):
            supports = reason.get("supports")
            groups.append({"decides": reason.get("decides"), "supports": supports,
                           "title": f"Why {LABELS.get(supports, supports)}", "reasons": []})
        groups[-1]["reasons"].append(reason)
    return groups


@register.simple_tag
def same_recommendation(stored, result) -> bool:
    """True when a what-if result recommends what the stored recommendation does."""
    keys = ("pattern", "protocol", "broker")
    return bool(stored) and all((stored or {}).get(key) == (result or {}).get(key) for key in keys)


@register.filter
def interaction_url(key) -> str:
    """'orders/order-cancelled' -> the URL of that interaction's page ('' when it is not such a key)."""
    source, _, name = str(key or "").partition("/")
    return reverse("interaction-detail", args=[source, name]) if source and name else ""


@register.filter
def of_rule(stats: dict, rule_id: str):
    """The override statistics of one rule (decisions.overrides.RuleOverrides), or None."""
    return (stats or {}).get(rule_id)
