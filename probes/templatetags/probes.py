"""Template helpers for probe pages: state badges, uptime percentages, durations, redacted targets."""
from django import template
from django.utils.html import format_html

from ..engine.spec import duration_text, target_redacted

register = template.Library()

STATE_LABELS = {"up": "Up", "degraded": "Degraded", "down": "Down", "": "Not run yet"}


@register.simple_tag
def state_badge(outcome: str, title: str = ""):
    state = outcome or "unknown"
    return format_html('<span class="state state-{}" title="{}">{}</span>', state, title,
                       STATE_LABELS.get(outcome, outcome))


@register.filter
def uptime(value) -> str:
    """0.99712 -> "99.71%"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}%" if value < 1 else "100%"


@register.filter
def duration(seconds) -> str:
    return duration_text(float(seconds))


@register.filter
def redacted(target: str) -> str:
    return target_redacted(target)


@register.filter
def values_text(values) -> str:
    """{"ready": 1200, "consumers": 0} -> "ready=1200 consumers=0"."""
    return " ".join(f"{key}={value}" for key, value in (values or {}).items())


@register.filter
def uptime_of(uptimes: dict, probe_id: int) -> dict:
    return uptimes.get(probe_id, {})
