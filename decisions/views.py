import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from topology.authentication import ui_actor
from topology.registration import RegistrationConflict, RegistrationForbidden
from topology.selectors import teams_writable_by

from .choices import DecisionKind
from .criteria import CRITERIA, SECTIONS, anchor
from .drafts import DraftError, recommendation_label
from .filtersets import DecisionFilterSet
from .forms import DecisionForm
from .selectors import (
    decision_by_number,
    decision_detail_queryset,
    decision_draft_for,
    decision_history,
    decision_list,
    interaction_for_decision,
    overridden_ids,
)
from .services import DecisionInvalid, decision_can_write, decision_create, decision_update

PAGE_SIZE = 50
CITE = re.compile(r"(§\d+(?:\.\d+)?)")
CITE_GROUP = re.compile(r"\((§\d+(?:\.\d+)?(?:,\s*§\d+(?:\.\d+)?)*)\)")


@login_required
def criteria(request):
    """The criteria digest, with anchors the interaction form's questions link to."""
    sections = [
        {"number": s.number, "title": s.title, "points": [(pid, anchor(pid), text) for pid, text in s.points]}
        for s in SECTIONS
    ]
    questions = [{"criterion": c, "anchor": anchor(c.cites)} for c in CRITERIA]
    return render(request, "decisions/criteria.html", {"sections": sections, "questions": questions})


# --- decision records --------------------------------------------------------------------------



@login_required
def decision_list_view(request):
    filterset = DecisionFilterSet(request.GET or None, queryset=decision_list())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "decisions/decision_list.html", {
        "filter": filterset, "page": page, "can_create": teams_writable_by(actor=ui_actor(request)).exists(),
    })


@login_required
def decision_detail(request, number):
    decision = get_object_or_404(decision_detail_queryset(), number=number)
    linked = list(decision.interactions.all())
    deliberate = overridden_ids(interactions=linked)
    return render(request, "decisions/decision_detail.html", {
        "decision": decision,
        "superseded_by": getattr(decision, "superseded_by", None),
        "context_blocks": _blocks(decision.context),
        "drivers": [_segments(text) for text in decision.drivers or []],
        "options": _options(decision),
        "justification_blocks": _blocks(decision.justification),
        "good": [_segments(line.strip()) for line in decision.consequences_good.splitlines() if line.strip()],
        "bad": [_segments(line.strip()) for line in decision.consequences_bad.splitlines() if line.strip()],
        "linked": [_linked_row(item, decision, deliberate) for item in linked],
        "snapshot": _summary(decision.recommendation),
        "history": _history(decision_history(decision=decision)),
        "can_write": decision_can_write(ui_actor(request), team=decision.team, interactions=linked),
    })


@login_required
def decision_create_view(request):
    """A new decision; ?interaction=<id>&kind=accept|override prefills a draft, ?supersedes=<number> a successor."""
    actor = ui_actor(request)
    teams = teams_writable_by(actor=actor)
    if not teams.exists():
        raise PermissionDenied("You maintain no team, so you cannot record decisions.")
    kind = request.GET.get("kind", DecisionKind.ACCEPT)
    interaction = _draft_interaction(request, actor)
    initial = {}
    if request.method != "POST":  # a posted form carries its own values
        try:
            initial = _initial_values(request, interaction, kind)
        except DraftError as exc:
            messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
            return redirect(interaction.get_absolute_url())
    form = DecisionForm(request.POST or None, teams=teams, staff=actor.is_staff, initial=initial)
    if interaction is not None and kind == DecisionKind.OVERRIDE and not form.is_bound:
        form.fields["justification"].widget.attrs["autofocus"] = True  # the one thing left to write
    if request.method == "POST" and form.is_valid():
        decision = _save(form, lambda values: decision_create(actor=actor, **values))
        if decision is not None:
            messages.success(request, f"{decision.code} recorded.")
            return redirect(decision.get_absolute_url())
    return render(request, "decisions/decision_form.html", {
        "form": form, "decision": None, "interaction": interaction, "kind": kind if interaction else "",
        "snapshot": _summary(_snapshot_of(form)),
    })


def _draft_interaction(request, actor):
    """The interaction of ?interaction=<id>, which the actor must be able to decide about; or None."""
    if not request.GET.get("interaction"):
        return None
    interaction = interaction_for_decision(interaction_id=request.GET["interaction"])
    if interaction is None:
        raise Http404("No such interaction.")
    if not actor.can_write_team(interaction.source.team_id):
        raise PermissionDenied(f"Only maintainers of {interaction.source.team or 'its team'} can record "
                               f"decisions about {interaction.key}.")
    return interaction


def _initial_values(request, interaction, kind: str) -> dict:
    """The form's initial values: a draft from the interaction, a successor of ?supersedes=, or nothing."""
    if interaction is not None:
        return DecisionForm.initial_for_draft(decision_draft_for(interaction=interaction, kind=kind))
    if not request.GET.get("supersedes", "").isdigit():
        return {}
    previous = decision_by_number(number=int(request.GET["supersedes"]))
    if previous is None:
        raise Http404("No such decision.")
    return DecisionForm.initial_for_draft({
        "title": previous.title, "kind": DecisionKind.GENERAL, "team": previous.team, "supersedes": previous,
        "interactions": list(previous.interactions.select_related("source")),
        "context": previous.context, "drivers": previous.drivers, "options": previous.options,
    })


@login_required
def decision_edit(request, number):
    decision = get_object_or_404(decision_detail_queryset(), number=number)
    actor = ui_actor(request)
    if not decision_can_write(actor, team=decision.team, interactions=list(decision.interactions.all())):
        raise PermissionDenied(f"Only maintainers of {decision.team or 'its team'} (and of the teams of its "
                               f"interactions) can change {decision.code}.")
    form = DecisionForm(request.POST or None, teams=teams_writable_by(actor=actor), staff=actor.is_staff,
                        decision=decision, initial=DecisionForm.initial_for(decision))
    if request.method == "POST" and form.is_valid():
        saved = _save(form, lambda values: decision_update(actor=actor, decision=decision, **values))
        if saved is not None:
            messages.success(request, f"{saved.code} saved.")
            return redirect(saved.get_absolute_url())
    return render(request, "decisions/decision_form.html", {
        "form": form, "decision": decision, "interaction": None, "kind": "",
        "snapshot": _summary(decision.recommendation),
    })


def _save(form, write):
    """Run one service write with the form's values; put refusals on the form. The decision, or None."""
    try:
        return write(form.values())
    except DecisionInvalid as exc:
        form.add_service_errors(exc.errors)
    except (RegistrationForbidden, RegistrationConflict) as exc:
        form.add_error(None, str(exc))
    return None


def _snapshot_of(form) -> dict:
    """The recommendation snapshot the form carries (a tampered hidden field only loses the summary)."""
    try:
        value = json.loads(form["recommendation"].value() or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- presentation ------------------------------------------------------------------------------


def _segments(text: str) -> str:
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


def _blocks(text: str) -> list[dict]:
    """Paragraphs and '- ' bullet lists of a text field, each line split into segments."""
    blocks: list[dict] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            blocks.append({"kind": "gap"})
            continue
        kind = "ul" if stripped.startswith(("- ", "* ")) else "p"
        content = _segments(stripped[2:] if kind == "ul" else stripped)
        last = blocks[-1] if blocks else None
        if last and last["kind"] == kind:
            last["items"].append(content)
        else:
            blocks.append({"kind": kind, "items": [content]})
    return [block for block in blocks if block["kind"] != "gap"]


def _options(decision) -> list[dict]:
    outcome = (decision.outcome or "").strip().lower()
    rows = []
    for option in decision.options or []:
        name = option.get("name", "")
        chosen = bool(outcome) and (outcome == name.lower() or outcome.startswith(name.lower() + " ")
                                    or outcome.startswith(name.lower() + ":"))
        rows.append({
            "name": name, "chosen": chosen,
            "description": _segments(option.get("description") or ""),
            "pros": [_segments(item) for item in option.get("pros") or []],
            "cons": [_segments(item) for item in option.get("cons") or []],
        })
    return rows


def _summary(recommendation: dict | None) -> dict | None:
    """What the pages show of one recommendation: its label, confidence, version and mismatch."""
    if not recommendation or not recommendation.get("pattern"):
        return None
    mismatch = recommendation.get("mismatch") or {}
    return {
        "label": recommendation_label(recommendation), "style": recommendation.get("style"),
        "pattern": recommendation["pattern"], "confidence": recommendation.get("confidence"),
        "version": recommendation.get("ruleset_version", ""),
        "severity": mismatch.get("severity", ""), "reason": mismatch.get("reason", ""),
        "reason_html": _segments(mismatch.get("reason", "")),
    }


def _linked_row(interaction, decision, deliberate: set[int]) -> dict:
    now = _summary(interaction.recommendation)
    then = _summary(decision.recommendation)
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


def _history(events) -> list:
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
