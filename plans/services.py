"""Writes of named plans: save, remove, accept (one proposed decision record per changed
interaction, linked to each other through the plan). Each in one transaction, audited."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import Actor
from core.errors import Conflict, Forbidden, Invalid
from core.inputs import NAME_RE
from decisions.choices import DecisionKind
from decisions.services import decision_create
from topology.models import Interaction

from .changes import changes_parse
from .evaluation import plan_stored_evaluate
from .models import Plan
from .selectors import plan_basis


RESERVED = {"evaluate"}  # /api/v1/plans/evaluate/ is taken


def _may_plan(actor: Actor, interactions: list[Interaction]) -> None:
    if actor.is_staff or any(actor.can_write_team(item.source.team_id) for item in interactions):
        return
    raise Forbidden("only maintainers of a team whose interactions the plan changes (or staff) may save it")


@transaction.atomic
def plan_save(*, actor: Actor, name: str, title: str, body: dict) -> Plan:
    errors = [] if isinstance(name, str) and NAME_RE.match(name) and name not in RESERVED else [
        {"pointer": "/name", "message": "lower-case letters, digits and '-', 1 to 63 characters (not 'evaluate')"}]
    if not isinstance(title, str) or not 0 < len(title) <= 200:
        errors.append({"pointer": "/title", "message": "a title of 1 to 200 characters"})
    changes, found = changes_parse(body)
    errors += found
    if errors:
        raise Invalid(errors)
    basis, rows = plan_basis(changes=changes)
    missing = [{"pointer": f"/changes/{n}/interaction", "message": f"no interaction {c.key}"}
               for n, c in enumerate(changes) if c.key not in basis]
    if missing:
        raise Invalid(missing)
    _may_plan(actor, rows)
    try:
        with transaction.atomic():
            return Plan.objects.create(name=name, title=title, changes=body["changes"], basis=basis,
                                       created_by=actor.label)
    except IntegrityError:
        raise Invalid([{"pointer": "/name", "message": f"a plan named {name} exists"}]) from None


@transaction.atomic
def plan_delete(*, actor: Actor, plan: Plan) -> None:
    changes, _ = changes_parse({"changes": plan.changes})
    rows = list(Interaction.objects.filter(source__name__in={c.source for c in changes}).select_related("source"))
    if plan.created_by != actor.label:
        _may_plan(actor, rows)
    plan.delete()


@transaction.atomic
def plan_accept(*, actor: Actor, plan: Plan) -> list:
    """Draft a proposed decision record for each changed interaction, each naming the others;
    the plan is evaluated against the registry of now, under the plan's row lock."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.accepted_at:
        raise Conflict(f"plan {plan.name} was accepted on {plan.accepted_at:%Y-%m-%d}")
    stored = plan_stored_evaluate(plan=plan)
    if stored["stale"]:
        raise Conflict(f"plan {plan.name} no longer applies: {'; '.join(stored['stale'])}; save it again")
    evaluation = stored["evaluation"]
    items = evaluation["changes"]
    decisions = [_drafted(actor, plan, item, evaluation, others=[i["interaction"] for i in items if i is not item])
                 for item in items]
    plan.decisions.set(decisions)
    Plan.objects.filter(pk=plan.pk).update(accepted_at=timezone.now())
    return decisions


def _drafted(actor: Actor, plan: Plan, item: dict, evaluation: dict, *, others: list[str]):
    source, name = item["interaction"].split("/", 1)
    interaction = Interaction.objects.select_related("source__team").get(source__name=source, name=name)
    after = item["after"]
    outcome = "remove the interaction" if after is None else f"make it {after['style']}"
    becomes = "removed" if after is None else after["style"]
    steps = "\n".join(f"{step['order']}. {step['step']} ({step['cites']})" for step in item["steps"])
    return decision_create(
        actor=actor, title=f"{plan.title}: {item['interaction']} → {becomes}"[:200],
        kind=DecisionKind.GENERAL, interactions=[interaction], team=interaction.source.team,
        context=(f"Part of change plan {plan.name} ({plan.title})"
                 + (f", with {', '.join(others)}" if others else "") + "."),
        outcome=outcome[:200], chosen_style=after["style"] if after else "",
        consequences_good="\n".join(evaluation["better"]), consequences_bad="\n".join(evaluation["worse"]),
        justification=f"Migration steps:\n{steps}")

