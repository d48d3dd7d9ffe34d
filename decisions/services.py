"""Writes of decision records: create, update, delete, and superseding, each in one transaction.

Every write checks the actor's permissions, validates the whole record (the same rules for the API
and the browser form), keeps the numbering race-safe and records an audit event per decision touched.
"""
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.actors import Actor
from core.db import atomic_retried
from core.errors import Conflict, Forbidden, Invalid
from topology.audit import audit_event, audit_record, field_changes
from topology.choices import AuditAction, AuditObject
from topology.models import AuditEvent, Interaction, Team
from topology.overview_services import registry_changed

from .choices import DecisionKind, DecisionStatus
from .models import Decision
from .rules import DECLARED_STYLES
from .signals import decision_changed

TEXT_FIELDS = ("title", "context", "outcome", "justification", "consequences_good", "consequences_bad")
FIELDS = (*TEXT_FIELDS, "status", "kind", "drivers", "options", "chosen_style", "recommendation", "decided_on",
          "team", "interactions", "supersedes")
MAX_TITLE, MAX_OUTCOME, MAX_TEXT = 200, 200, 20_000
MAX_DRIVERS, MAX_OPTIONS, MAX_ITEMS, MAX_ITEM = 30, 12, 30, 1_000
DECIDED = (DecisionStatus.ACCEPTED, DecisionStatus.REJECTED)
ABOUT_INTERACTION = (DecisionKind.ACCEPT, DecisionKind.OVERRIDE)


class DecisionInvalid(Invalid):
    """A decision that breaks a rule (HTTP 422); errors carry a pointer to the field, e.g. /justification."""


class DecisionNotDeletable(Exception):
    """Only proposed decisions can be deleted; the others are kept as the record (HTTP 409)."""


# --- validation (no writes) --------------------------------------------------------------------


def decision_errors(values: dict, *, current: Decision | None = None) -> list[dict]:
    """Every problem with the complete field values of a decision, as [{pointer, message}]."""
    errors: list[dict] = []

    def problem(name: str, message: str) -> None:
        errors.append({"pointer": f"/{name}", "message": message})

    title = (values.get("title") or "").strip()
    if not title:
        problem("title", "a decision needs a title")
    for name in TEXT_FIELDS:
        limit = {"title": MAX_TITLE, "outcome": MAX_OUTCOME}.get(name, MAX_TEXT)
        if len(values.get(name) or "") > limit:
            problem(name, f"{name} is longer than {limit} characters")
    status, kind = values.get("status"), values.get("kind")
    if status not in DecisionStatus.values:
        problem("status", f"status must be one of {', '.join(DecisionStatus.values)}")
    if kind not in DecisionKind.values:
        problem("kind", f"kind must be one of {', '.join(DecisionKind.values)}")
    superseded_by = getattr(current, "superseded_by", None) if current is not None and current.pk else None
    if status == DecisionStatus.SUPERSEDED and superseded_by is None:
        problem("status", "a decision becomes superseded when a later decision supersedes it; "
                          "create that decision with supersedes set to this one")
    elif superseded_by is not None and status != DecisionStatus.SUPERSEDED:
        problem("status", f"{current.code} is superseded by {superseded_by.code}; it stays superseded")
    style = values.get("chosen_style") or ""
    if style and style not in DECLARED_STYLES:
        problem("chosen_style", f"chosen_style must be one of {', '.join(DECLARED_STYLES)}, or empty")
    if kind == DecisionKind.OVERRIDE:
        if not (values.get("justification") or "").strip():
            problem("justification", "an override needs a justification: why the declared style is kept "
                                     "against the recommendation")
        if not style:
            problem("chosen_style", "an override settles a declared style: say which one is kept")
    if kind in ABOUT_INTERACTION and not values.get("interactions"):
        problem("interactions", "a decision that accepts or overrides a recommendation must link the "
                                "interaction it is about")
    errors += _list_errors(values.get("drivers"), "drivers", MAX_DRIVERS)
    errors += _options_errors(values.get("options"))
    if not isinstance(values.get("recommendation") or {}, dict):
        problem("recommendation", "the recommendation snapshot must be an object")
    decided_on = values.get("decided_on")
    if decided_on is not None and not isinstance(decided_on, date):
        problem("decided_on", "decided_on must be a date")
    errors += _supersedes_errors(values.get("supersedes"), current)
    return errors


def _list_errors(items, name: str, limit: int) -> list[dict]:
    if not isinstance(items, (list, tuple)):
        return [{"pointer": f"/{name}", "message": f"{name} must be a list of sentences"}]
    if len(items) > limit:
        return [{"pointer": f"/{name}", "message": f"at most {limit} {name}, got {len(items)}"}]
    return [
        {"pointer": f"/{name}/{index}", "message": f"{name} must be non-empty sentences of at most {MAX_ITEM} "
                                                   "characters"}
        for index, item in enumerate(items)
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ITEM
    ]


def _options_errors(options) -> list[dict]:
    if not isinstance(options, (list, tuple)):
        return [{"pointer": "/options", "message": "options must be a list of {name, description, pros, cons}"}]
    if len(options) > MAX_OPTIONS:
        return [{"pointer": "/options", "message": f"at most {MAX_OPTIONS} options, got {len(options)}"}]
    errors, seen = [], set()
    for index, option in enumerate(options):
        where = f"/options/{index}"
        if not isinstance(option, dict):
            errors.append({"pointer": where, "message": "an option must be {name, description, pros, cons}"})
            continue
        unknown = set(option) - {"name", "description", "pros", "cons"}
        if unknown:
            errors.append({"pointer": where, "message": f"unknown keys {', '.join(sorted(unknown))}"})
        name = option.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_OUTCOME:
            errors.append({"pointer": f"{where}/name", "message": "every option needs a name of at most "
                                                                  f"{MAX_OUTCOME} characters"})
        elif name.strip().lower() in seen:
            errors.append({"pointer": f"{where}/name", "message": f"two options are named {name.strip()!r}"})
        else:
            seen.add(name.strip().lower())
        if not isinstance(option.get("description", ""), str) or len(option.get("description", "")) > MAX_TEXT:
            errors.append({"pointer": f"{where}/description", "message": "the description must be text"})
        for side in ("pros", "cons"):
            errors += [{**error, "pointer": f"{where}{error['pointer']}"}
                       for error in _list_errors(option.get(side, []), side, MAX_ITEMS)]
    return errors


def _supersedes_errors(target: Decision | None, current: Decision | None) -> list[dict]:
    if target is None:
        return []
    pointer = "/supersedes"
    if current is not None and target.pk == current.pk:
        return [{"pointer": pointer, "message": "a decision cannot supersede itself"}]
    holder = Decision.objects.filter(supersedes=target).exclude(pk=getattr(current, "pk", None)).first()
    if holder is not None:
        return [{"pointer": pointer, "message": f"{target.code} is already superseded by {holder.code}"}]
    if current is not None and current.pk:
        seen, step = set(), target
        while step is not None and step.pk not in seen:  # a chain that leads back here would be a loop
            if step.pk == current.pk:
                return [{"pointer": pointer, "message": f"{target.code} already descends from {current.code}; "
                                                        "superseding it would make a loop"}]
            seen.add(step.pk)
            step = step.supersedes
    return []


# --- permissions -------------------------------------------------------------------------------


def decision_can_write(actor: Actor, *, team: Team | None, interactions) -> bool:
    """The actor may write the team (no team: staff only) and the source team of every linked interaction."""
    return actor.can_write_team(team.id if team else None) and all(
        actor.can_write_team(item.source.team_id) for item in interactions
    )


def _require_write(actor: Actor, *, team: Team | None, interactions, what: str) -> None:
    if not actor.can_write_team(team.id if team else None):
        whose = f"decisions of team {team.slug!r}" if team else "decisions without a team (staff only)"
        raise Forbidden(f"{actor.label} may not {what}: only maintainers may write {whose}")
    for item in interactions:
        if not actor.can_write_team(item.source.team_id):
            raise Forbidden(f"{actor.label} may not {what}: it links {item.source.name}/{item.name}, "
                                   f"which only maintainers of {item.source.team or 'its team'} may decide about")


# --- writes ------------------------------------------------------------------------------------


def _next_number() -> int:
    return (Decision.objects.aggregate(top=Max("number"))["top"] or 0) + 1


def _interactions_of(items) -> list[Interaction]:
    ids = [item.pk if isinstance(item, Interaction) else int(item) for item in items or ()]
    found = {item.pk: item for item in Interaction.objects.select_related("source__team").filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise DecisionInvalid([{"pointer": "/interactions", "message": f"no interaction with id {', '.join(missing)}"}])
    return [found[pk] for pk in dict.fromkeys(ids)]


def _snapshot(decision: Decision, interactions: list[Interaction]) -> dict:
    """The audited values of a decision (the recommendation snapshot is kept out: it never changes alone)."""
    return {
        **{name: getattr(decision, name) for name in (*TEXT_FIELDS, "status", "kind", "chosen_style")},
        "drivers": list(decision.drivers or []),
        "options": list(decision.options or []),
        "decided_on": decision.decided_on.isoformat() if decision.decided_on else None,
        "team": decision.team.slug if decision.team_id else None,
        "interactions": sorted(item.key for item in interactions),
        "supersedes": decision.supersedes.code if decision.supersedes_id else None,
    }


def _with_defaults(values: dict, interactions: list[Interaction]) -> dict:
    values = dict(values)
    if values.get("status") in DECIDED and values.get("decided_on") is None:
        values["decided_on"] = timezone.localdate()
    if values.get("kind") in ABOUT_INTERACTION and not values.get("recommendation") and len(interactions) == 1:
        values["recommendation"] = interactions[0].recommendation or {}
    for name in TEXT_FIELDS:
        values[name] = (values.get(name) or "").strip() if name == "title" else values.get(name) or ""
    values["chosen_style"] = values.get("chosen_style") or ""
    drivers = values.get("drivers")
    if isinstance(drivers, (list, tuple)):
        values["drivers"] = [item.strip() if isinstance(item, str) else item for item in drivers]
    values["recommendation"] = values.get("recommendation") or {}
    return values


def _supersede(actor: Actor, *, target: Decision, by: Decision, events: list[AuditEvent]) -> None:
    """Mark the superseded decision; its status before is kept in the audit event for a later release."""
    target = Decision.objects.select_for_update(of=("self",)).select_related("team").get(pk=target.pk)
    _require_write(actor, team=target.team, interactions=list(target.interactions.select_related("source__team")),
                   what=f"supersede {target.code}")
    before = target.status
    Decision.objects.filter(pk=target.pk).update(status=DecisionStatus.SUPERSEDED, updated_at=timezone.now())
    changes = field_changes({"status": before, "superseded_by": None},
                            {"status": DecisionStatus.SUPERSEDED, "superseded_by": by.code})
    events.append(audit_event(actor, AuditAction.UPDATE, AuditObject.DECISION, target.code,
                              team_slug=target.team.slug if target.team_id else "", changes=changes))
    target.status = DecisionStatus.SUPERSEDED
    decision_changed.send(sender=Decision, decision=target, change="superseded", changes=changes, actor=actor.label)


def _release(actor: Actor, *, target: Decision, by: Decision, events: list[AuditEvent]) -> None:
    """Undo a supersede: the decision gets back the status it had before `by` superseded it."""
    target = Decision.objects.select_related("team").get(pk=target.pk)
    if target.status != DecisionStatus.SUPERSEDED:
        return
    restored = DecisionStatus.ACCEPTED
    events_of_target = AuditEvent.objects.filter(object_type=AuditObject.DECISION, object_key=target.code)
    for event in events_of_target.order_by("-at", "-id"):
        pair = event.changes.get("superseded_by")
        if pair and pair[1] == by.code and event.changes.get("status"):
            restored = event.changes["status"][0] or DecisionStatus.ACCEPTED
            break
    Decision.objects.filter(pk=target.pk).update(status=restored, updated_at=timezone.now())
    changes = {"status": [DecisionStatus.SUPERSEDED.value, restored], "superseded_by": [by.code, None]}
    events.append(audit_event(actor, AuditAction.UPDATE, AuditObject.DECISION, target.code,
                              team_slug=target.team.slug if target.team_id else "", changes=changes))
    target.status = restored
    decision_changed.send(sender=Decision, decision=target, change="released", changes=changes, actor=actor.label)


def _retrying(write):
    """Run a write in a transaction, once more if a concurrent write took the same number or target."""
    def written():
        result = write()
        registry_changed()  # accepted overrides settle mismatches between teams
        return result

    return atomic_retried(written, conflict=Conflict("another decision was written at the same time; retry"))


def decision_create(*, actor: Actor, title: str, status: str = DecisionStatus.PROPOSED,
                    kind: str = DecisionKind.GENERAL, context: str = "", drivers: list[str] | None = None,
                    options: list[dict] | None = None, outcome: str = "", justification: str = "",
                    consequences_good: str = "", consequences_bad: str = "", chosen_style: str = "",
                    recommendation: dict | None = None, decided_on: date | None = None, team: Team | None = None,
                    interactions=(), supersedes: Decision | None = None) -> Decision:
    """Create a decision with the next number; superseding `supersedes` in the same transaction."""
    linked = _interactions_of(interactions)
    values = _with_defaults({
        "title": title, "status": status, "kind": kind, "context": context, "drivers": drivers or [],
        "options": options or [], "outcome": outcome, "justification": justification,
        "consequences_good": consequences_good, "consequences_bad": consequences_bad,
        "chosen_style": chosen_style, "recommendation": recommendation, "decided_on": decided_on, "team": team,
        "interactions": linked, "supersedes": supersedes,
    }, linked)
    _require_write(actor, team=team, interactions=linked, what="write this decision")

    def write() -> Decision:
        errors = decision_errors(values)
        if errors:
            raise DecisionInvalid(errors)
        fields = {name: values[name] for name in FIELDS if name != "interactions"}
        decision = Decision.objects.create(number=_next_number(), created_by=actor.label, **fields)
        decision.interactions.set(linked)
        events = []
        if supersedes is not None:
            _supersede(actor, target=supersedes, by=decision, events=events)
        created = field_changes({}, _snapshot(decision, linked))
        events.insert(0, audit_event(actor, AuditAction.CREATE, AuditObject.DECISION, decision.code,
                                     team_slug=team.slug if team else "", changes=created))
        audit_record(events)
        decision_changed.send(sender=Decision, decision=decision, change="created", changes=created, actor=actor.label)
        return decision

    return _retrying(write)


def decision_update(*, actor: Actor, decision: Decision, **changes) -> Decision:
    """Change some fields of a decision (the others stay); a changed `supersedes` moves the supersede."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"decision_update() got unknown fields: {', '.join(sorted(unknown))}")
    decision = Decision.objects.select_related("team", "supersedes").get(pk=decision.pk)
    current_links = list(decision.interactions.select_related("source__team"))
    _require_write(actor, team=decision.team, interactions=current_links, what=f"change {decision.code}")
    linked = _interactions_of(changes["interactions"]) if "interactions" in changes else current_links
    values = {name: getattr(decision, name) for name in FIELDS if name != "interactions"}
    values.update(changes, interactions=linked)
    values = _with_defaults(values, linked)
    _require_write(actor, team=values["team"], interactions=linked, what=f"change {decision.code}")
    before = _snapshot(decision, current_links)
    previous = decision.supersedes

    def write() -> Decision:
        locked = Decision.objects.select_for_update(of=("self",)).select_related("team", "supersedes").get(pk=decision.pk)
        errors = decision_errors(values, current=locked)
        if errors:
            raise DecisionInvalid(errors)
        for name in FIELDS:
            if name != "interactions":
                setattr(locked, name, values[name])
        locked.save()
        if "interactions" in changes:
            locked.interactions.set(linked)
        events = []
        target = values["supersedes"]
        if getattr(previous, "pk", None) != getattr(target, "pk", None):
            if previous is not None:
                _release(actor, target=previous, by=locked, events=events)
            if target is not None:
                _supersede(actor, target=target, by=locked, events=events)
        changed = field_changes(before, _snapshot(locked, linked))
        if changed:
            events.insert(0, audit_event(actor, AuditAction.UPDATE, AuditObject.DECISION, locked.code,
                                         team_slug=locked.team.slug if locked.team_id else "", changes=changed))
            decision_changed.send(sender=Decision, decision=locked, change="updated", changes=changed,
                                  actor=actor.label)
        audit_record(events)
        return locked

    return _retrying(write)


@transaction.atomic
def decision_delete(*, actor: Actor, decision: Decision) -> None:
    """Delete a proposed decision (a mistake or a dropped idea); a decision it superseded is released."""
    decision = Decision.objects.select_for_update(of=("self",)).select_related("team", "supersedes").get(pk=decision.pk)
    links = list(decision.interactions.select_related("source__team"))
    _require_write(actor, team=decision.team, interactions=links, what=f"delete {decision.code}")
    if decision.status != DecisionStatus.PROPOSED:
        raise DecisionNotDeletable(f"{decision.code} is {decision.status}: only proposed decisions can be deleted; "
                                   "deprecate it or supersede it instead")
    events = [audit_event(actor, AuditAction.DELETE, AuditObject.DECISION, decision.code,
                          team_slug=decision.team.slug if decision.team_id else "",
                          changes=field_changes(_snapshot(decision, links), {}))]
    previous = decision.supersedes
    if previous is not None:
        Decision.objects.filter(pk=decision.pk).update(supersedes=None)
        _release(actor, target=previous, by=decision, events=events)
    decision_changed.send(sender=Decision, decision=decision, change="deleted", changes=events[0].changes,
                          actor=actor.label)
    decision.delete()
    audit_record(events)
    registry_changed()
