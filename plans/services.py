"""Writes of named plans: save, remove, accept (one proposed decision record per changed
interaction, linked to each other through the plan). Each in one transaction, audited."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import Actor
from core.errors import Conflict, Forbidden, Invalid
from core.inputs import NAME_RE
from decisions.choices import DecisionKind
from decisions.services import decision_create
from topology.models import Interaction, Service

from .changes import changes_parse
from .evaluation import plan_stored_evaluate
from .models import Plan
from .selectors import plan_checked

RESERVED = {"evaluate", "accept", "save"}  # /api/v1/plans/evaluate/, /plans/accept/ and /plans/save/ are taken


def _may_plan(actor: Actor, team_ids: set[int]) -> None:
    if actor.is_staff or any(actor.can_write_team(team_id) for team_id in team_ids):
        return
    raise Forbidden("only maintainers of a team whose interactions the plan changes (or staff) may save it")


@transaction.atomic
def plan_save(*, actor: Actor, name: str, title: str, body: dict) -> Plan:
    errors = [] if isinstance(name, str) and NAME_RE.match(name) and name not in RESERVED else [
        {"pointer": "/name", "message": "lower-case letters, digits and '-', 1 to 63 characters (not 'evaluate', 'accept' or 'save')"}]
    if not isinstance(title, str) or not 0 < len(title) <= 200:
        errors.append({"pointer": "/title", "message": "a title of 1 to 200 characters"})
    changes, found = changes_parse(body)
    errors += found
    if errors:
        raise Invalid(errors)
    basis, teams, missing = plan_checked(changes=changes)
    if missing:
        raise Invalid(missing)
    _may_plan(actor, teams)
    try:
        with transaction.atomic():
            return Plan.objects.create(name=name, title=title, changes=body["changes"], basis=basis,
                                       created_by=actor.label)
    except IntegrityError:
        raise Invalid([{"pointer": "/name", "message": f"a plan named {name} exists"}]) from None


@transaction.atomic
def plan_delete(*, actor: Actor, plan: Plan) -> None:
    changes, _ = changes_parse({"changes": plan.changes})
    teams = set(Service.objects.filter(name__in={c.source for c in changes}, team__isnull=False)
                .values_list("team_id", flat=True))
    if plan.created_by != actor.label:
        _may_plan(actor, teams)
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
    """A changed or removed interaction's record is linked to it; a new interaction's record, which
    has no interaction to link yet, belongs to the team of the service that would own it."""
    source, name = item["interaction"].split("/", 1)
    after = item["after"]
    context = (f"Part of change plan {plan.name} ({plan.title})" + (f", with {', '.join(others)}" if others else "")
               + ".")
    if item["added"]:
        owner = Service.objects.select_related("team").get(name=source)
        interactions, team = [], owner.team
        context += (f" A new interaction from {source} to {', '.join(item['targets'])}: link this record to it once "
                    "it is registered.")
        outcome, becomes = f"add it as {after['style'] or 'undecided'}", f"new, {after['style'] or 'undecided'}"
    else:
        interaction = Interaction.objects.select_related("source__team").get(source__name=source, name=name)
        interactions, team = [interaction], interaction.source.team
        outcome = "remove the interaction" if after is None else f"make it {after['style']}"
        becomes = "removed" if after is None else after["style"]
    steps = "\n".join(f"{step['order']}. {step['step']} ({step['cites']})" for step in item["steps"])
    return decision_create(
        actor=actor, title=f"{plan.title}: {item['interaction']} → {becomes}"[:200],
        kind=DecisionKind.GENERAL, interactions=interactions, team=team, context=context,
        outcome=outcome[:200], chosen_style=after["style"] if after else "",
        consequences_good="\n".join(evaluation["better"]), consequences_bad="\n".join(evaluation["worse"]),
        justification=f"Migration steps:\n{steps}")
