"""How decision records read on their pages: § references linked, text split into paragraphs and
lists, options marked as chosen, recommendations summarised, history put into words."""
import re

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from topology.criteria import anchor

from .drafts import recommendation_label

CITE = re.compile(r"(§\d+(?:\.\d+)?)")
CITE_GROUP = re.compile(r"\((§\d+(?:\.\d+)?(?:,\s*§\d+(?:\.\d+)?)*)\)")


def segments(text: str) -> str:
    """Escaped text with each § reference linked to the criteria digest; '(§4.7, §5.5)' loses its brackets."""
    url = reverse("criteria")

    def link(cite: str) -> str:
        return format_html('<a class="cite" href="{}#{}">{}</a>', url, anchor(cite), cite)

    parts = []
    for index, part in enumerate(CITE_GROUP.split(text)):
        if index % 2:  # a bracketed group of § ids
            parts.append(" ".join(link(cite) for cite in CITE.findall(part)))
        else:
            parts += [link(piece) if CITE.fullmatch(piece) else escape(piece) for piece in CITE.split(part) if piece]
    return mark_safe("".join(parts))


def blocks(text: str) -> list[dict]:
    """Paragraphs and '- ' bullet lists of a text field, each line split into segments."""
    blocks: list[dict] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            blocks.append({"kind": "gap"})
            continue
        kind = "ul" if stripped.startswith(("- ", "* ")) else "p"
        content = segments(stripped[2:] if kind == "ul" else stripped)
        last = blocks[-1] if blocks else None
        if last and last["kind"] == kind:
            last["items"].append(content)
        else:
            blocks.append({"kind": kind, "items": [content]})
    return [block for block in blocks if block["kind"] != "gap"]


def options_of(decision) -> list[dict]:
    outcome = (decision.outcome or "").strip().lower()
    rows = []
    for option in decision.options or []:
        name = option.get("name", "")
        chosen = bool(outcome) and (outcome == name.lower() or outcome.startswith(name.lower() + " ")
                                    or outcome.startswith(name.lower() + ":"))
        rows.append({
            "name": name, "chosen": chosen,
            "description": segments(option.get("description") or ""),
            "pros": [segments(item) for item in option.get("pros") or []],
            "cons": [segments(item) for item in option.get("cons") or []],
        })
    return rows


def summary_of(recommendation: dict | None) -> dict | None:
    """What the pages show of one recommendation: its label, confidence, version and mismatch."""
    if not recommendation or not recommendation.get("pattern"):
        return None
    mismatch = recommendation.get("mismatch") or {}
    label = recommendation_label(recommendation)
    tie = ((recommendation.get("ties") or {}).get("pattern") or {})
    if tie.get("options"):  # a tie is shown as a tie, with what the engine assumed until it is broken
        label = f"a tie: {' or '.join(tie['options'])} ({label} assumed)"
    return {
        "label": label, "style": recommendation.get("style"),
        "tie": tie.get("options") or [], "tie_question": (tie.get("question") or {}).get("question", ""),
        "pattern": recommendation["pattern"], "confidence": recommendation.get("confidence"),
        "version": recommendation.get("ruleset_version", ""),
        "severity": mismatch.get("severity", ""), "reason": mismatch.get("reason", ""),
        "reason_html": segments(mismatch.get("reason", "")),
    }


def linked_row(interaction, decision, deliberate: set[int]) -> dict:
    now = summary_of(interaction.recommendation)
    then = summary_of(decision.recommendation)
    return {
        "interaction": interaction, "now": now,
        "deliberate": interaction.pk in deliberate and bool(interaction.mismatch),
        "settles": bool(decision.chosen_style) and decision.chosen_style == interaction.style,
        "changed": bool(now and then and now["label"] != then["label"]),
    }


def _value_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        names = [item.get("name", "?") if isinstance(item, dict) else str(item) for item in value]
        text = "; ".join(names)
    else:
        text = str(value)
    return text if len(text) <= 160 else text[:159] + "…"


def history_of(events) -> list:
    """Audit events with their changes as short text, and what happened in words."""
    events = list(events)
    for event in events:
        event.rows = [(name, _value_text(pair[0]), _value_text(pair[1])) for name, pair in event.changes.items()]
        successor = event.changes.get("superseded_by")
        event.verb, event.after = f"{event.get_action_display().lower()} decision", ""
        if successor and successor[1]:
            event.verb, event.after = "marked decision", f"superseded by {successor[1]}"
        elif successor:
            event.verb, event.after = "restored decision", f"(no longer superseded by {successor[0]})"
    return events
