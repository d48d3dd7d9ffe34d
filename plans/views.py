"""The plan page: choose changes, see what they do to the whole system before anything changes."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import Conflict, Forbidden, Invalid
from topology.authentication import ui_actor
from topology.models import Interaction

from .changes import changes_parse
from .evaluation import plan_evaluate
from .forms import PlanForm
from .services import plan_accept, plan_save


def _interaction_keys() -> list[str]:
    return [f"{source}/{name}" for source, name in
            Interaction.objects.order_by("source__name", "name").values_list("source__name", "name")]


@login_required
def plan_page(request):
    """GET shows the form (?interaction= fills the first row); POST evaluates it (nothing is stored)."""
    keys = _interaction_keys()
    if request.method != "POST":
        form = PlanForm(interactions=keys, initial={"interaction_0": request.GET.get("interaction", "")})
        return render(request, "plans/plan.html", {"form": form})
    form = PlanForm(request.POST, interactions=keys)
    result, errors = None, []
    if form.is_valid():
        changes, errors = changes_parse(form.body())
        if not errors:
            try:
                result = plan_evaluate(changes=changes)
            except Invalid as exc:
                errors = exc.errors
    return render(request, "plans/plan.html", {"form": form, "result": result, "errors": errors},
                  status=200 if result else 422)


@login_required
@require_POST
def plan_accept_page(request):
    """Save the evaluated plan under a name and accept it: one proposed decision record per change."""
    form = PlanForm(request.POST, interactions=_interaction_keys())
    errors = []
    if form.is_valid():
        actor = ui_actor(request)
        try:
            plan = plan_save(actor=actor, name=request.POST.get("name", "").strip(),
                             title=request.POST.get("title", "").strip(), body=form.body())
            decisions = plan_accept(actor=actor, plan=plan)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except (Invalid, Conflict) as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Plan {plan.name} accepted: proposed decision records "
                                      f"{', '.join(d.code for d in decisions)}.")
            return redirect("decision-detail", number=decisions[0].number)
    changes, found = changes_parse(form.body()) if form.is_valid() else ([], [])
    result = plan_evaluate(changes=changes) if changes and not found else None
    return render(request, "plans/plan.html", {"form": form, "result": result, "errors": errors or found,
                                               "accept_errors": True}, status=422)
