"""Reads for plans: the interactions a plan changes as they are now, whether it still applies (and
if not, which change and why), and the list of stored plans with their filters."""
from django.db.models import Q, QuerySet

from topology.models import Interaction, Service

from .changes import Change, changes_parse
from .models import Plan

STATE = ("style", "channel", "broker", "criteria")


def _state(row: Interaction) -> dict:
    return {"style": row.style, "channel": row.channel, "broker": row.broker, "criteria": row.criteria}


def _rows(changes: list[Change]) -> list[Interaction]:
    wanted = {(c.source, c.name) for c in changes}
    return [row for row in Interaction.objects.filter(source__name__in={s for s, _ in wanted})
            .select_related("source") if (row.source.name, row.name) in wanted]


def plan_basis(*, changes: list[Change]) -> tuple[dict, list[Interaction]]:
    """("<service>/<name>" -> state) of the existing interactions the changes name, and the rows."""
    rows = _rows(changes)
    return {f"{row.source.name}/{row.name}": _state(row) for row in rows}, rows


def plan_staleness(*, basis: dict, changes: list[Change]) -> list[str]:
    """Why a stored plan no longer applies: an interaction it changes is gone or changed since (and
    what changed), a new one it proposes exists now, or a service a new one needs is gone."""
    return _staleness(basis, changes, *_now(changes))


def _now(changes: list[Change]) -> tuple[dict, dict]:
    """The interactions' states now, and which services exist now (name -> registered?)."""
    now, _ = plan_basis(changes=changes)
    names = {name for c in changes if c.add for name in (c.source, *c.targets)}
    services = dict(Service.objects.filter(name__in=names).values_list("name", "team_id")) if names else {}
    return now, {name: team is not None for name, team in services.items()}


def _staleness(basis: dict, changes: list[Change], now: dict, services: dict) -> list[str]:
    stale = []
    for change in changes:
        if change.add:
            stale += _new_stale(change, now, services)
        elif change.key not in now:
            stale.append(f"{change.key} no longer exists")
        elif basis.get(change.key) != now[change.key]:
            stale.append(f"{change.key} changed since the plan was made: {_what_changed(basis.get(change.key), now[change.key])}")
    return stale


def _new_stale(change: Change, now: dict, services: dict) -> list[str]:
    if change.key in now:
        return [f"{change.key} exists now: it was added to the registry since the plan was made"]
    found = [] if services.get(change.source) else [
        f"{change.key} is proposed from {change.source}, which is no longer a registered service"]
    gone = [target for target in change.targets if target not in services]
    if gone:
        found.append(f"{change.key} is proposed to reach {', '.join(gone)}, which no longer exist"
                     if len(gone) > 1 else f"{change.key} is proposed to reach {gone[0]}, which no longer exists")
    return found


def _what_changed(was: dict | None, now: dict) -> str:
    was = was or {}
    parts = [f"{key} {was.get(key) or '(none)'} → {now[key] or '(none)'}" for key in STATE[:3]
             if was.get(key) != now[key]]
    if was.get("criteria") != now["criteria"]:
        keys = sorted(k for k in set(was.get("criteria") or {}) | set(now["criteria"] or {})
                      if (was.get("criteria") or {}).get(k) != (now["criteria"] or {}).get(k))
        parts.append(f"criteria answers {', '.join(keys)}")
    return "; ".join(parts)


def plans_list() -> QuerySet:
    """Stored plans, newest first (filtered by plans.filtersets.PlanFilterSet)."""
    return Plan.objects.prefetch_related("decisions").order_by("-created_at", "name")


def plans_summarised(*, plans: list[Plan]) -> list[dict]:
    """Each plan with its changes counted, the teams whose services it changes, and whether it still
    applies: the registry is read once for the whole list (two queries)."""
    parsed = {plan.pk: changes_parse({"changes": plan.changes})[0] for plan in plans}
    every = [change for changes in parsed.values() for change in changes]
    now, services = _now(every) if every else ({}, {})
    teams = dict(Service.objects.filter(name__in={c.source for c in every}).values_list("name", "team__slug"))
    return [{"plan": plan, "changes": len(parsed[plan.pk]),
             "teams": sorted({teams[c.source] for c in parsed[plan.pk] if teams.get(c.source)}),
             "stale": _staleness(plan.basis, parsed[plan.pk], now, services)} for plan in plans]


def plan_checked(*, changes: list[Change]) -> tuple[dict, set[int], list[dict]]:
    """Before a plan is saved: the basis (the changed interactions as they are), the ids of the teams
    whose services it changes or adds to, and the errors (pointers) of changes that cannot apply."""
    basis, rows = plan_basis(changes=changes)
    names = {name for c in changes if c.add for name in (c.source, *c.targets)}
    services = dict(Service.objects.filter(name__in=names).values_list("name", "team_id")) if names else {}
    errors = []
    for n, change in enumerate(changes):
        pointer = f"/changes/{n}/interaction"
        if not change.add:
            if change.key not in basis:
                errors.append({"pointer": pointer, "message": f"no interaction {change.key}"})
            continue
        if change.key in basis:
            errors.append({"pointer": pointer, "message": f"{change.key} exists already: change it (or remove it) "
                                                          "instead of adding it"})
        if services.get(change.source) is None:
            errors.append({"pointer": pointer, "message": f"no registered service {change.source}"})
        errors += [{"pointer": f"/changes/{n}/to/{k}", "message": f"no service {target}"}
                   for k, target in enumerate(change.targets) if target not in services]
    teams = {row.source.team_id for row in rows} | {services[c.source] for c in changes if c.add and services.get(c.source)}
    return basis, teams, errors


def plan_actions(*, actor, plan: Plan, changes: list[Change]) -> dict:
    """What the actor may do with a saved plan, as plans.services decides it: delete (its author,
    maintainers of a team whose services it changes, staff) and accept (while not accepted: whoever
    may write the decision records of every team it changes, staff)."""
    teams = set(Service.objects.filter(name__in={c.source for c in changes}, team__isnull=False)
                .values_list("team_id", flat=True))
    writes = [actor.can_write_team(team) for team in teams]
    return {"delete": plan.created_by == actor.label or actor.is_staff or any(writes),
            "accept": plan.accepted_at is None and (actor.is_staff or (bool(writes) and all(writes)))}
