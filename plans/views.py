"""The plan page: choose changes, see what they do to the whole system before anything changes."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.errors import Invalid
from topology.models import Interaction

from .changes import changes_parse
from .evaluation import plan_evaluate
from .forms import PlanForm


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
