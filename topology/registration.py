"""Apply service manifests: the one write path for services and their interactions.

The API, the browser forms and the demo import all describe the desired state of a service as a
ServiceSpec and call registration_apply, which plans the change with a handful of queries, checks
permissions, writes everything in one transaction (or nothing on a dry run) and reports.
"""
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.db import atomic_retried
from core.errors import Conflict, Forbidden, Invalid
from core.severity import severity_at_least

from .audit import audit_event, audit_record, field_changes
from .choices import AuditAction, AuditObject
from .extensions import Assessment, registered
from .manifest import InteractionSpec, ServiceSpec
from .models import RECOMMENDATION_COLUMNS, Interaction, InteractionTarget, Service, Team
from .overview_services import registry_changed
from .selectors import interactions_settled

SERVICE_FIELDS = ("title", "description", "labels", "lifecycle", "language", "repository", "probes")
INTERACTION_FIELDS = ("description", "style", "channel", "broker", "criteria")

CREATED, UPDATED, UNCHANGED, REMOVED = "created", "updated", "unchanged", "removed"


class RegistrationInvalid(Invalid):
    """Input that is well-formed but refers to things that do not exist (HTTP 422)."""


class RegistrationForbidden(Forbidden):
    """The caller may not write one of the named services or teams (HTTP 403)."""


class RegistrationRejected(Invalid):
    """fail_on found mismatches at or above its severity (HTTP 422); nothing was written."""

    def __init__(self, offending: list[dict], threshold: str):
        super().__init__(f"{len(offending)} interaction(s) have a mismatch of severity {threshold} or worse")
        self.offending, self.threshold = offending, threshold

    def body(self) -> dict:
        return {"detail": f"{self}; nothing was written (fail_on={self.threshold})", "offending": self.offending}


class RegistrationConflict(Conflict):
    """A concurrent write got there first twice in a row (HTTP 409)."""


@dataclass
class InteractionPlan:
    spec: InteractionSpec | None
    result: str
    current: Interaction | None = None
    changes: dict = field(default_factory=dict)
    current_targets: tuple[str, ...] = ()
    recommendation: dict | None = None  # full engine result when (re)evaluated, else the stored one
    evaluated: bool = False


@dataclass
class ServicePlan:
    spec: ServiceSpec
    team: Team
    current: Service | None
    result: str = UNCHANGED
    changes: dict = field(default_factory=dict)
    interactions: list[InteractionPlan] = field(default_factory=list)
    promoted: bool = False  # the service existed as a placeholder


@dataclass
class Plan:
    services: list[ServicePlan]
    existing: dict[str, Service]
    placeholders_new: list[str]
    linked_ids: dict[str, int]  # name -> id of every service the current interactions target

    @property
    def anything_created(self) -> bool:
        return bool(self.placeholders_new) or any(
            plan.result == CREATED or any(item.result == CREATED for item in plan.interactions)
            for plan in self.services
        )


def registration_apply(*, specs: list[ServiceSpec], actor: Actor, dry_run: bool = False,
                       fail_on: str | None = None) -> dict:
    """Make the named services look like their specs. Returns the report.

    With fail_on ("warning" or "error"), a mismatch at or above that severity that no accepted
    override settles rejects the whole manifest before anything is written.
    """
    return atomic_retried(lambda: _apply(specs=specs, actor=actor, dry_run=dry_run, fail_on=fail_on),
                          conflict=RegistrationConflict("another write changed these services at the same time; retry"))


def _apply(*, specs: list[ServiceSpec], actor: Actor, dry_run: bool, fail_on: str | None) -> dict:
    """Plan, check and write inside the caller's transaction; on a dry run, roll it back."""
    plan = _plan(specs=specs, actor=actor)
    if fail_on:
        _check_fail_on(plan, fail_on)
    removed = _write(plan, actor=actor)
    if dry_run:
        # Writing and rolling back reports exactly what would happen, and keeps nothing.
        transaction.set_rollback(True)
    return _report(plan, removed_placeholders=removed, dry_run=dry_run)


# --- planning (reads only) -------------------------------------------------------------------


def _plan(*, specs: list[ServiceSpec], actor: Actor) -> Plan:
    names = {spec.name for spec in specs}
    targets = {target for spec in specs for item in spec.interactions for target in item.targets}
    existing = {s.name: s for s in Service.objects.select_related("team").filter(name__in=names | targets)}
    teams = {team.slug: team for team in Team.objects.filter(slug__in={spec.team for spec in specs})}
    _check_teams(specs, teams)
    _check_locations(specs)
    _check_permissions(specs, teams, existing, actor)
    current, linked_ids = _current_interactions([existing[name] for name in names if name in existing])
    specs = [_secrets_kept(spec, existing.get(spec.name)) for spec in specs]
    plans = [_service_plan(spec, teams[spec.team], existing.get(spec.name), current) for spec in specs]
    _recommend(plans, registered.assessor.begin())
    new_placeholders = sorted(targets - names - set(existing))
    return Plan(services=plans, existing=existing, placeholders_new=new_placeholders, linked_ids=linked_ids)


def _check_teams(specs: list[ServiceSpec], teams: dict[str, Team]) -> None:
    errors = [
        {"pointer": f"/{index}/metadata/team", "message": f"team {spec.team!r} does not exist"}
        for index, spec in enumerate(specs)
        if spec.team not in teams
    ]
    if errors:
        raise RegistrationInvalid(errors)


def _secrets_kept(spec: ServiceSpec, service: Service | None) -> ServiceSpec:
    """Probe secrets shown hidden (user:***@, "***" headers) and sent back unchanged keep their stored value."""
    if service is None or not spec.probes or not service.probes:
        return spec
    stored = {item["name"]: item for item in service.probes}
    return replace(spec, probes=[registered.probes.unredacted(item, stored.get(item["name"])) for item in spec.probes])


def _check_locations(specs: list[ServiceSpec]) -> None:
    known = set(settings.PROBE_LOCATIONS)
    errors = [
        {"pointer": f"/{index}/spec/probes/{position}/locations/{place}",
         "message": f"location {location!r} is not one of PROBE_LOCATIONS ({', '.join(sorted(known))})"}
        for index, spec in enumerate(specs)
        for position, probe in enumerate(spec.probes)
        for place, location in enumerate(probe["locations"])
        if location not in known
    ]
    if errors:
        raise RegistrationInvalid(errors)


def _check_permissions(specs, teams, existing, actor: Actor) -> None:
    errors = []
    for index, spec in enumerate(specs):
        team = teams[spec.team]
        current = existing.get(spec.name)
        if not actor.can_write_team(team.id):
            errors.append({"pointer": f"/{index}/metadata/team",
                           "message": f"{actor.label} may not write services of team {team.slug!r}"})
        elif current and current.team_id and not actor.can_write_team(current.team_id):
            errors.append({"pointer": f"/{index}/metadata/name",
                           "message": f"service {spec.name!r} belongs to another team; "
                                      "only that team or an administrator can change or move it"})
    if errors:
        raise RegistrationForbidden(errors)


def _current_interactions(services: list[Service]) -> tuple[dict[int, dict], dict[str, int]]:
    """Per source service id: interaction name -> (interaction, target names in order);
    and the ids of the services those interactions target, by name."""
    registered = [service.id for service in services]
    interactions = {item.id: item for item in Interaction.objects.filter(source_id__in=registered)}
    targets: dict[int, list[str]] = {item_id: [] for item_id in interactions}
    links = InteractionTarget.objects.filter(interaction_id__in=list(interactions)).order_by("interaction_id", "position")
    linked_ids = {}
    for interaction_id, service_id, name in links.values_list("interaction_id", "service_id", "service__name"):
        targets[interaction_id].append(name)
        linked_ids[name] = service_id
    current: dict[int, dict] = {service_id: {} for service_id in registered}
    for item in interactions.values():
        current[item.source_id][item.name] = (item, tuple(targets[item.id]))
    return current, linked_ids


def _service_plan(spec: ServiceSpec, team: Team, service: Service | None, current: dict) -> ServicePlan:
    plan = ServicePlan(spec=spec, team=team, current=service,
                       promoted=service is not None and service.team_id is None)
    if service is None or plan.promoted:
        plan.result = CREATED
    else:
        plan.changes = field_changes(_service_values(service), _spec_values(spec, team))
    existing = current.get(service.id, {}) if service else {}
    plan.interactions = [_interaction_plan(item, existing.get(item.name)) for item in spec.interactions]
    listed = {item.name for item in spec.interactions}
    plan.interactions += [
        InteractionPlan(spec=None, result=REMOVED, current=item, current_targets=targets)
        for name, (item, targets) in sorted(existing.items()) if name not in listed
    ]
    if plan.result != CREATED and (plan.changes or any(i.result != UNCHANGED for i in plan.interactions)):
        plan.result = UPDATED
    return plan


def _interaction_plan(spec: InteractionSpec, found: tuple | None) -> InteractionPlan:
    if found is None:
        return InteractionPlan(spec=spec, result=CREATED)
    item, targets = found
    changes = field_changes(_interaction_values(item, targets), _interaction_spec_values(spec))
    return InteractionPlan(spec=spec, result=UPDATED if changes else UNCHANGED, current=item,
                           changes=changes, current_targets=targets)


def _recommend(plans: list[ServicePlan], assessment: Assessment) -> None:
    """Evaluate new and changed interactions, and unchanged ones stored under another ruleset version."""
    for service_plan in plans:
        for item in service_plan.interactions:
            if item.result == REMOVED:
                continue
            if item.result == UNCHANGED and item.current.ruleset_version == assessment.version:
                item.recommendation = item.current.recommendation
                continue
            spec = item.spec
            item.recommendation = assessment.assess(source=service_plan.spec.name, targets=spec.targets,
                                                    criteria=spec.criteria, declared_style=spec.style)
            item.evaluated = bool(item.recommendation)


def _check_fail_on(plan: Plan, threshold: str) -> None:
    flagged = [
        (index, position, service_plan, item)
        for index, service_plan in enumerate(plan.services)
        for position, item in enumerate(service_plan.interactions)
        if item.recommendation and severity_at_least(_severity(item.recommendation), threshold)
    ]
    overridden = interactions_settled(interaction_ids=[item.current.id for *_, item in flagged if item.current])
    offending = [
        {"pointer": f"/{index}/spec/interactions/{position}", "service": service_plan.spec.name,
         "interaction": item.spec.name, **item.recommendation["mismatch"]}
        for index, position, service_plan, item in flagged
        if not (item.current and item.current.id in overridden)
    ]
    if offending:
        raise RegistrationRejected(offending, threshold)


def _severity(recommendation: dict) -> str:
    return (recommendation.get("mismatch") or {}).get("severity", "")


def _service_values(service: Service) -> dict:
    values = {name: getattr(service, name) for name in SERVICE_FIELDS}
    values["team"] = service.team.slug if service.team_id else None
    return values


def _spec_values(spec: ServiceSpec, team: Team) -> dict:
    values = {name: getattr(spec, name) for name in SERVICE_FIELDS}
    values["team"] = team.slug
    return values


def _interaction_values(item: Interaction, targets: tuple) -> dict:
    values = {name: getattr(item, name) for name in INTERACTION_FIELDS}
    values["to"] = list(targets)
    return values


def _interaction_spec_values(spec: InteractionSpec) -> dict:
    values = {name: getattr(spec, name) for name in INTERACTION_FIELDS}
    values["to"] = list(spec.targets)
    return values


# --- writing ---------------------------------------------------------------------------------


def _write(plan: Plan, *, actor: Actor) -> list[str]:
    now = timezone.now()
    events = []
    services = dict(plan.existing)
    services.update(_placeholders_create(plan.placeholders_new, actor=actor, now=now))
    saved = _services_save(plan, actor=actor, now=now, events=events)
    services.update(saved)
    registered.probes.synced(services=[saved[item.spec.name] for item in plan.services
                                       if item.result == CREATED or "probes" in item.changes], now=now)
    losing = _interactions_save(plan, services=services, actor=actor, now=now, events=events)
    removed = placeholders_prune(losing)
    events += [audit_event(actor, AuditAction.DELETE, AuditObject.SERVICE, name, service_name=name,
                           changes={"placeholder": [True, None]}, at=now) for name in removed]
    audit_record(events)
    if saved or events or removed or plan.placeholders_new or _reevaluated(plan):
        registry_changed()  # an unchanged manifest, posted again, leaves the stamp and drawings alone
    return removed


def _reevaluated(plan: Plan) -> bool:
    return any(item.evaluated for service in plan.services for item in service.interactions)


def _placeholders_create(names: list[str], *, actor: Actor, now) -> dict[str, Service]:
    rows = [Service(name=name, team=None, written_via=actor.via, written_by=actor.label,
                    created_at=now, updated_at=now) for name in names]
    return {service.name: service for service in Service.objects.bulk_create(rows)}


def _services_save(plan: Plan, *, actor: Actor, now, events: list) -> dict[str, Service]:
    fresh, changed = [], []
    for item in plan.services:
        if item.result == UNCHANGED:
            continue
        service = item.current or Service(name=item.spec.name, created_at=now)
        before = _service_values(service) if item.promoted else None
        for name in SERVICE_FIELDS:
            setattr(service, name, getattr(item.spec, name))
        service.team = item.team
        service.updated_at, service.written_via, service.written_by = now, actor.via, actor.label
        (changed if item.current else fresh).append(service)
        if item.result == CREATED or item.changes:  # interaction changes have events of their own
            events.append(_service_event(actor, item, before, now))
    Service.objects.bulk_create(fresh)
    Service.objects.bulk_update(changed, [*SERVICE_FIELDS, "team", "updated_at", "written_via", "written_by"])
    return {service.name: service for service in fresh + changed}


def _service_event(actor: Actor, item: ServicePlan, before: dict | None, now):
    if item.result == CREATED:
        changes = field_changes(before or {}, _spec_values(item.spec, item.team))
        return audit_event(actor, AuditAction.CREATE, AuditObject.SERVICE, item.spec.name,
                           service_name=item.spec.name, team_slug=item.team.slug, changes=_shown(changes), at=now)
    return audit_event(actor, AuditAction.UPDATE, AuditObject.SERVICE, item.spec.name,
                       service_name=item.spec.name, team_slug=item.team.slug, changes=_shown(item.changes), at=now)


def _shown(changes: dict) -> dict:
    """Changes as the history keeps them: probe secrets (target passwords, secret headers) hidden."""
    if "probes" not in changes:
        return changes
    hidden = [[registered.probes.redacted(probe) for probe in side] if side else side for side in changes["probes"]]
    return {**changes, "probes": hidden}


def _interactions_save(plan: Plan, *, services: dict, actor: Actor, now, events: list) -> set[int]:
    """Write interaction rows and target links. Returns ids of services that lost an incoming link."""
    fresh, changed, relink, doomed, losing, restored = [], [], [], [], set(), []
    for service_plan in plan.services:
        source = services[service_plan.spec.name]
        for item in service_plan.interactions:
            if item.result == UNCHANGED:
                if item.evaluated:
                    _recommendation_set(item.current, item.recommendation)
                    restored.append(item.current)
                continue
            events.append(_interaction_event(actor, service_plan, item, now))
            if item.current and "to" in item.changes or item.result == REMOVED:
                losing.update(plan.linked_ids[name] for name in item.current_targets)
            if item.result == REMOVED:
                doomed.append(item.current.id)
                continue
            row = item.current or Interaction(source=source, name=item.spec.name, created_at=now)
            for name in INTERACTION_FIELDS:
                setattr(row, name, getattr(item.spec, name))
            _recommendation_set(row, item.recommendation)
            row.updated_at = now
            (changed if item.current else fresh).append(row)
            if item.current is None or "to" in item.changes:
                relink.append((row, item.spec.targets))
    Interaction.objects.filter(id__in=doomed).delete()
    Interaction.objects.bulk_create(fresh)
    Interaction.objects.bulk_update(changed, [*INTERACTION_FIELDS, *RECOMMENDATION_COLUMNS, "updated_at"])
    Interaction.objects.bulk_update(restored, list(RECOMMENDATION_COLUMNS))
    _targets_link(relink, services, retargeted={row.id for row in changed})
    return losing


def _recommendation_set(row: Interaction, result: dict) -> None:
    for name, value in registered.assessor.columns(result).items():
        setattr(row, name, value)


def _interaction_event(actor: Actor, service_plan: ServicePlan, item: InteractionPlan, now):
    name = (item.spec or item.current).name
    key = f"{service_plan.spec.name}/{name}"
    if item.result == CREATED:
        action, changes = AuditAction.CREATE, field_changes({}, _interaction_spec_values(item.spec))
    elif item.result == REMOVED:
        action = AuditAction.DELETE
        changes = field_changes(_interaction_values(item.current, item.current_targets), {})
    else:
        action, changes = AuditAction.UPDATE, item.changes
    return audit_event(actor, action, AuditObject.INTERACTION, key, service_name=service_plan.spec.name,
                       team_slug=service_plan.team.slug, changes=changes, at=now)


def _targets_link(relink: list[tuple[Interaction, tuple[str, ...]]], services: dict[str, Service],
                  retargeted: set[int]) -> None:
    InteractionTarget.objects.filter(interaction_id__in=[row.id for row, _ in relink if row.id in retargeted]).delete()
    InteractionTarget.objects.bulk_create([
        InteractionTarget(interaction=row, service=services[name], position=position)
        for row, names in relink
        for position, name in enumerate(names)
    ])


def placeholders_prune(candidate_ids: set[int]) -> list[str]:
    """Delete placeholders among candidate_ids that nothing targets any more."""
    orphans = Service.objects.filter(id__in=candidate_ids, team__isnull=True, target_links__isnull=True)
    names = sorted(orphans.values_list("name", flat=True))
    Service.objects.filter(name__in=names, team__isnull=True, target_links__isnull=True).delete()
    return names


# --- reporting -------------------------------------------------------------------------------


def _report(plan: Plan, *, removed_placeholders: list[str], dry_run: bool) -> dict:
    word = (lambda result: result if result == UNCHANGED else f"would be {result}") if dry_run else str
    summary = {
        "services": _count(plan.services, (CREATED, UPDATED, UNCHANGED)),
        "interactions": _count([i for s in plan.services for i in s.interactions], (CREATED, UPDATED, UNCHANGED, REMOVED)),
        "placeholders": {"created": len(plan.placeholders_new), "removed": len(removed_placeholders)},
    }
    return {
        "dry_run": dry_run,
        "created": plan.anything_created,
        "summary": summary,
        "services": [_service_report(item, word) for item in plan.services],
        "placeholders": {"created": plan.placeholders_new, "removed": removed_placeholders},
    }


def _count(items, results) -> dict:
    counts = dict.fromkeys(results, 0)
    for item in items:
        counts[item.result] += 1
    return counts


def _service_report(item: ServicePlan, word) -> dict:
    return {
        "name": item.spec.name,
        "team": item.team.slug,
        "result": word(item.result),
        "promoted_from_placeholder": item.promoted,
        "changes": sorted(item.changes),
        "interactions": [
            {"name": (i.spec or i.current).name, "result": word(i.result), "changes": sorted(i.changes),
             "recommendation": registered.assessor.summary(i.recommendation) if i.recommendation else None}
            for i in item.interactions
        ],
    }
