"""Browser pages of the rules and the live what-if of an interaction.

Thin views: parse the form, call one selector or service (or the pure engine for a what-if, which
stores nothing), render a page or an htmx partial.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from topology.authentication import ui_actor
from topology.selectors import interaction_list, interaction_target_names, workers_alive
from core.errors import Forbidden

from .overrides import rule_overrides
from .choices import RunStatus
from topology.criteria import CRITERIA
from .models import CustomRule, EvaluationRun
from .recommendations import proposed_custom_specs, question_of, rules_preview, ruleset_current
from .rule_forms import CustomRuleForm, WhatIfForm
from .rule_services import custom_rule_delete, custom_rule_save
from .rules import RuleError, evaluate
from .rules.engine import OPTIONS, builtin_specs

RECOMMENDATION = "decisions/_recommendation.html"
DECIDES_TITLES = {
    "pattern": "Pattern rules",
    "protocol": "Protocol rules: the synchronous part",
    "broker": "Broker rules: the asynchronous part",
}



def _require_staff(request):
    actor = ui_actor(request)
    if not actor.is_staff:
        raise PermissionDenied("Only administrators change the rules.")
    return actor


# --- what-if -----------------------------------------------------------------------------------


@login_required
@require_POST
def interaction_what_if(request, name, interaction):
    """The recommendation the interaction would get with the posted answers; nothing is stored."""
    item = get_object_or_404(interaction_list(), source__name=name, name=interaction)
    form = WhatIfForm(request.POST)
    context = {"what_if": True, "interaction": item, "stored": item.recommendation}
    if not form.is_valid():
        return render(request, RECOMMENDATION, {**context, "recommendation": {}, "errors": form.messages()},
                      status=422)
    declared = form.cleaned_data["style"]
    question = question_of(source=item.source.name, targets=tuple(interaction_target_names(item)),
                           criteria=form.cleaned_data["criteria"], declared_style=declared)
    overrides = getattr(item, "accepted_overrides", [])
    # An accepted override settles the declared style it was made for, not another one tried here.
    deviation = overrides[0] if overrides and declared == item.style else None
    return render(request, RECOMMENDATION, {
        **context, "recommendation": evaluate(ruleset_current(), question), "deviation": deviation,
    })


# --- rules pages -------------------------------------------------------------------------------


def _builtin_groups() -> list[dict]:
    specs = builtin_specs()
    return [{"decides": decides, "title": DECIDES_TITLES[decides], "options": OPTIONS[decides],
             "rules": [spec for spec in specs if spec.decides == decides]} for decides in OPTIONS]


def _run_shown(request) -> EvaluationRun | None:
    runs = EvaluationRun.objects.order_by("-created_at", "-id")
    wanted = request.GET.get("run", "")
    return (runs.filter(pk=int(wanted)).first() if wanted.isascii() and wanted.isdecimal() else None) or runs.first()


def _waiting_for_worker(run: EvaluationRun | None) -> bool:
    return bool(run and run.status == RunStatus.QUEUED and not workers_alive())


@login_required
def rule_list(request):
    run = _run_shown(request)
    return render(request, "decisions/rule_list.html", {
        "version": ruleset_current().version,
        "groups": _builtin_groups(),
        "overrides": rule_overrides(),
        "custom_rules": CustomRule.objects.order_by("slug"),
        "run": run,
        "no_worker": _waiting_for_worker(run),
        "can_edit": ui_actor(request).is_staff,
    })


FACT_NOTES = {
    "targets": "how many services the interaction reaches (a number)",
    "answered": "how many criteria are answered (0-10)",
    "declared_style": "the declared style: \"rest\", \"grpc\", \"pubsub\", \"queue\" or null",
    "pattern": "for protocol and broker rules: the pattern the pattern rules chose",
}


def _facts() -> list[dict]:
    criteria = [{"name": c.key, "note": c.question, "cites": c.cites,
                 "values": " or ".join(f'"{choice}"' for choice in c.choices) if c.choices else
                 "true, false or null" if c.kind == "bool" else "a number or null"} for c in CRITERIA]
    return criteria + [{"name": name, "note": note, "cites": "", "values": ""} for name, note in FACT_NOTES.items()]


@login_required
def rule_form_page(request, slug=None):
    """A new custom rule (rule-create), or the rule `slug` edited (rule-edit); administrators only."""
    actor = _require_staff(request)
    rule = get_object_or_404(CustomRule, slug=slug) if slug else None
    drafted = rule_overrides().get(request.GET.get("from", "")) if rule is None and request.method == "GET" else None
    initial = {"enabled": True, **drafted.draft} if drafted and drafted.draft else None
    form = CustomRuleForm(request.POST or None, instance=rule, **({"initial": initial} if initial else {}))
    if request.method == "POST" and form.is_valid():
        try:
            saved, run = custom_rule_save(actor=actor, rule=form.rule())
        except RuleError as exc:
            form.add_rule_error(exc)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        else:
            messages.success(request, f"Rule {saved.slug} saved. Every interaction is being re-evaluated.")
            return redirect(f"{reverse('rule-list')}?run={run.pk}")
    return render(request, "decisions/rule_form.html", {
        "form": form, "rule": rule, "facts": _facts(), "options": OPTIONS,
    })


@login_required
@require_POST
def rule_delete(request, slug):
    actor = _require_staff(request)
    rule = get_object_or_404(CustomRule, slug=slug)
    try:
        run = custom_rule_delete(actor=actor, rule=rule)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, f"Rule {slug} deleted. Every interaction is being re-evaluated.")
    return redirect(f"{reverse('rule-list')}?run={run.pk}")


@login_required
@require_POST
def rule_preview(request, slug=None):
    """Which interactions would change recommendation if the posted rule were saved; nothing is saved."""
    _require_staff(request)
    rule = get_object_or_404(CustomRule, slug=slug) if slug else None
    form = CustomRuleForm(request.POST, instance=rule)
    if not form.is_valid():
        return render(request, "decisions/_rule_preview.html", {"form": form, "errors": form.messages()}, status=422)
    preview = rules_preview(custom=proposed_custom_specs(form.rule()))
    return render(request, "decisions/_rule_preview.html", {
        "form": form, "preview": preview, "more": preview["changed"] - len(preview["changes"]),
    })


@login_required
@require_GET
def evaluation_progress(request, run_id):
    run = get_object_or_404(EvaluationRun, pk=run_id)
    return render(request, "decisions/_evaluation_progress.html", {"run": run, "no_worker": _waiting_for_worker(run)})
