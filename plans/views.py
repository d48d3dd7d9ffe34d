"""The plan pages: choose changes and see what they do to the whole system before anything changes
(drawn, with the numbers), save a plan with or without accepting it, list the saved plans, and open
one against the registry of now. Writes go through plans.services, which checks who may."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import Conflict, Forbidden, Invalid
from core.web import page_of
from topology.authentication import ui_actor
from topology.models import Interaction, Service
from topology.render import RenderError, diagram_render, svg_inline

from .changes import Change, changes_parse
from .drawing import plan_dot
from .evaluation import Evaluated, plan_evaluated, plan_stored_evaluated
from .filtersets import PlanFilterSet
from .forms import PlanForm
from .models import Plan
from .selectors import plan_actions, plans_list, plans_summarised
from .services import plan_accept, plan_delete, plan_save

LIST_SIZE = 20


def _form(request, data=None, **kwargs) -> PlanForm:
    keys = [f"{source}/{name}" for source, name in
            Interaction.objects.order_by("source__name", "name").values_list("source__name", "name")]
    services = list(Service.objects.filter(team__isnull=False).order_by("name").values_list("name", flat=True))
    return PlanForm(data, interactions=keys, services=services, **kwargs)


def _drawing(evaluated: Evaluated, changes: list[Change]) -> dict:
    """The plan drawn as inline SVG (Graphviz escapes every label and attribute), or why it is not."""
    dot = plan_dot(before=evaluated.before, after=evaluated.after, changes=changes, result=evaluated.result)
    try:
        return {"svg": svg_inline(diagram_render(dot=dot, fmt="svg")), "problem": ""}
    except RenderError as exc:
        return {"svg": "", "problem": str(exc)}


def _saved(request) -> dict:
    """The saved plans (?q=, ?status=, ?page=), each with whether it still applies."""
    filters = PlanFilterSet(request.GET or None, queryset=plans_list())
    page = page_of(request, filters.qs if filters.is_valid() else plans_list(), size=LIST_SIZE)
    return {"filters": filters.form, "page": page, "saved": plans_summarised(plans=list(page.object_list))}


def _evaluated_form(form: PlanForm) -> tuple[dict, list[dict]]:
    """(context of the evaluated plan, errors labelled with their rows)."""
    if not form.is_valid():
        return {}, _form_errors(form)
    changes, errors = changes_parse(form.body())
    if errors:
        return {}, form.errors_labelled(errors)
    try:
        evaluated = plan_evaluated(changes=changes)
    except Invalid as exc:
        return {}, form.errors_labelled(exc.errors)
    return {"result": evaluated.result, "drawing": _drawing(evaluated, changes)}, []


def _form_errors(form: PlanForm) -> list[dict]:
    """The form's own errors (a choice that is not offered, a text too long), named by field."""
    return [{"pointer": "", "message": f"{form[name].label}: {message}", "row": _row_of(name)}
            for name, messages_ in form.errors.items() for message in messages_]


def _row_of(field: str) -> str:
    head, _, number = field.rpartition("_")
    if not number.isdigit():
        return ""
    return f"{'new interaction' if head.startswith('new_') else 'change'} {int(number) + 1}"


@login_required
def plan_page(request):
    """GET shows the form (?interaction= fills the first row) and the saved plans; POST evaluates the
    form (nothing is stored) and draws it."""
    context = _saved(request)
    if request.method != "POST":
        form = _form(request, initial={"interaction_0": request.GET.get("interaction", "")})
        return render(request, "plans/plan.html", {**context, "form": form})
    form = _form(request, request.POST)
    evaluated, errors = _evaluated_form(form)
    return render(request, "plans/plan.html", {**context, **evaluated, "form": form, "errors": errors},
                  status=200 if evaluated else 422)


def _stored(request, form: PlanForm, *, accept: bool):
    """Save the evaluated plan under a name, and accept it when asked."""
    errors = [] if form.is_valid() else _form_errors(form)
    if form.is_valid():
        actor = ui_actor(request)
        try:
            plan = plan_save(actor=actor, name=request.POST.get("name", "").strip(),
                             title=request.POST.get("title", "").strip(), body=form.body())
            decisions = plan_accept(actor=actor, plan=plan) if accept else []
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except (Invalid, Conflict) as exc:
            errors = form.errors_labelled(exc.errors)
        else:
            if not accept:
                messages.success(request, f"Plan {plan.name} saved. It is not accepted yet.")
                return redirect(plan)
            messages.success(request, f"Plan {plan.name} accepted: proposed decision records "
                                      f"{', '.join(d.code for d in decisions)}.")
            return redirect("decision-detail", number=decisions[0].number)
    evaluated, found = _evaluated_form(form)
    return render(request, "plans/plan.html", {**_saved(request), **evaluated, "form": form,
                                               "errors": errors or found, "save_errors": True}, status=422)


@login_required
@require_POST
def plan_save_page(request):
    """Save the evaluated plan under a name, without accepting it."""
    return _stored(request, _form(request, request.POST), accept=False)


@login_required
@require_POST
def plan_accept_page(request):
    """Save the evaluated plan under a name and accept it: one proposed decision record per change."""
    return _stored(request, _form(request, request.POST), accept=True)


@login_required
@require_GET
def plan_detail(request, name: str):
    """A saved plan against the registry of now: whether it still applies (which change no longer
    does, and why), what it does, drawn, and what may be done with it."""
    plan = get_object_or_404(Plan.objects.prefetch_related("decisions"), name=name)
    shown = _shown(plan)
    may = plan_actions(actor=ui_actor(request), plan=plan, changes=shown["changes"])
    return render(request, "plans/plan_detail.html", {"plan": plan, "may": may, **shown})


def _shown(plan: Plan) -> dict:
    """A saved plan as its pages show it: against the registry of now (`stored`), its changes, and,
    while it can still be evaluated, what it does (`result`) and its drawing."""
    stored, evaluated = plan_stored_evaluated(plan=plan)
    changes, _ = changes_parse({"changes": plan.changes})
    if evaluated is None:
        return {"stored": stored, "changes": changes, "result": None, "drawing": None}
    return {"stored": stored, "changes": changes, "result": evaluated.result, "drawing": _drawing(evaluated, changes)}


@login_required
@require_POST
def plan_detail_accept(request, name: str):
    plan = get_object_or_404(Plan, name=name)
    try:
        decisions = plan_accept(actor=ui_actor(request), plan=plan)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except Conflict as exc:
        messages.error(request, f"Not accepted: {exc}")
        return redirect(plan)
    messages.success(request, f"Plan {plan.name} accepted: proposed decision records "
                              f"{', '.join(d.code for d in decisions)}.")
    return redirect(plan)


@login_required
@require_POST
def plan_delete_page(request, name: str):
    plan = get_object_or_404(Plan, name=name)
    try:
        plan_delete(actor=ui_actor(request), plan=plan)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, f"Plan {name} deleted.")
    return redirect("plan")


def plan_topology_overlay(name: str) -> dict | None:
    """A saved plan as the topology page draws it (topology's plan_overlay extension point): the plan
    against the registry of now, drawn, with what gets better and worse; None for no such plan."""
    plan = Plan.objects.filter(name=name).first()
    return None if plan is None else {"template": "plans/_topology_overlay.html", "plan": plan, **_shown(plan)}
