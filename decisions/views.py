import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from core.errors import Conflict, Forbidden
from core.web import filter_fields
from topology.authentication import ui_actor
from topology.selectors import teams_writable_by

from .choices import DecisionKind
from topology.criteria import CRITERIA, SECTIONS, anchor
from .drafts import DraftError
from .filtersets import DecisionFilterSet
from .record_display import blocks, history_of, linked_row, options_of, segments, summary_of
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
        "filter_fields": filter_fields(filterset, status="Any status", team="All teams", service="e.g. orders"),
    })


@login_required
def decision_detail(request, number):
    decision = get_object_or_404(decision_detail_queryset(), number=number)
    linked = list(decision.interactions.all())
    deliberate = overridden_ids(interactions=linked)
    return render(request, "decisions/decision_detail.html", {
        "decision": decision,
        "superseded_by": getattr(decision, "superseded_by", None),
        "context_blocks": blocks(decision.context),
        "drivers": [segments(text) for text in decision.drivers or []],
        "options": options_of(decision),
        "justification_blocks": blocks(decision.justification),
        "good": [segments(line.strip()) for line in decision.consequences_good.splitlines() if line.strip()],
        "bad": [segments(line.strip()) for line in decision.consequences_bad.splitlines() if line.strip()],
        "linked": [linked_row(item, decision, deliberate) for item in linked],
        "snapshot": summary_of(decision.recommendation),
        "history": history_of(decision_history(decision=decision)),
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
        "snapshot": summary_of(_snapshot_of(form)),
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
    wanted = request.GET.get("supersedes", "")
    if not (wanted.isascii() and wanted.isdecimal()):
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
        "snapshot": summary_of(decision.recommendation),
    })


def _save(form, write):
    """Run one service write with the form's values; put refusals on the form. The decision, or None."""
    try:
        return write(form.values())
    except DecisionInvalid as exc:
        form.add_service_errors(exc.errors)
    except (Forbidden, Conflict) as exc:
        form.add_error(None, str(exc))
    return None


def _snapshot_of(form) -> dict:
    """The recommendation snapshot the form carries (a tampered hidden field only loses the summary)."""
    try:
        value = json.loads(form["recommendation"].value() or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
