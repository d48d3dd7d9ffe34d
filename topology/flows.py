"""Flows: named, ordered steps over interactions. Reads, writes (with pointers to bad steps) and the
plain steps the Mermaid builder draws."""
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from core.actors import Actor
from core.errors import Forbidden, Invalid

from .audit import audit_event, audit_record, field_changes
from .choices import AuditAction, AuditObject
from .graph import Topology
from .mermaid import Step, flow_from_entry
from .models import Flow, FlowStep, Interaction, Team
from .selectors import interaction_target_names
from .validation import name_error, text_error

MAX_STEPS = 100
RESERVED_SLUGS = frozenset({"new", "derive"})  # paths of the flow pages


def flow_list() -> QuerySet[Flow]:
    steps = FlowStep.objects.select_related("interaction__source").prefetch_related("interaction__target_links__service")
    return Flow.objects.select_related("team").prefetch_related(Prefetch("steps", queryset=steps.order_by("position")))


def flow_steps(flow: Flow) -> list[Step]:
    """The flow as plain steps for the sequence diagram (uses the prefetched steps)."""
    return [
        Step(source=step.interaction.source.name, targets=tuple(interaction_target_names(step.interaction)),
             interaction=step.interaction.name, style=step.interaction.style, channel=step.interaction.channel,
             broker=step.interaction.broker, label=step.label)
        for step in flow.steps.all()
    ]


def entry_steps(topology: Topology, entry: str, *, depth: int, steps: int) -> list[Step]:
    return flow_from_entry(topology, entry, max_depth=depth, max_steps=steps)


def _resolve_steps(steps: object) -> tuple[list[tuple[Interaction, str]], list[dict]]:
    """[{interaction: "service/name", label}] -> interactions, or errors with pointers."""
    if not isinstance(steps, list) or not steps:
        return [], [{"pointer": "/steps", "message": "steps must be a non-empty list"}]
    if len(steps) > MAX_STEPS:
        return [], [{"pointer": "/steps", "message": f"at most {MAX_STEPS} steps"}]
    keys = [step.get("interaction") if isinstance(step, dict) else None for step in steps]
    pairs = [tuple(key.split("/", 1)) for key in keys if isinstance(key, str) and key.count("/") == 1]
    found = {(i.source.name, i.name): i for i in Interaction.objects.select_related("source").filter(
        source__name__in={p[0] for p in pairs}, name__in={p[1] for p in pairs})}
    resolved, errors = [], []
    for index, (step, key) in enumerate(zip(steps, keys)):
        pointer = f"/steps/{index}"
        label = step.get("label", "") if isinstance(step, dict) else ""
        interaction = found.get(tuple(key.split("/", 1))) if isinstance(key, str) and key.count("/") == 1 else None
        if interaction is None:
            errors.append({"pointer": f"{pointer}/interaction",
                           "message": f"{key!r} is not an interaction; write it as service/interaction"
                           if isinstance(key, str) else "interaction is required, as service/interaction"})
        elif not isinstance(label, str) or len(label) > 200:
            errors.append({"pointer": f"{pointer}/label", "message": "label must be a string of at most 200 characters"})
        else:
            resolved.append((interaction, label))
    return resolved, errors


def _check(slug: object, name: object, description: object) -> list[dict]:
    problems = [("/slug", name_error(slug, what="slug")), ("/name", text_error(name, limit=200, what="name")),
                ("/description", text_error(description, limit=4000, what="description"))]
    if isinstance(name, str) and not name.strip():
        problems.append(("/name", "name is required"))
    if slug in RESERVED_SLUGS:
        problems.append(("/slug", f"{slug!r} is reserved (a path of the flow pages); choose another slug"))
    return [{"pointer": pointer, "message": message} for pointer, message in problems if message]


@transaction.atomic
def flow_save(*, actor: Actor, flow: Flow | None, slug: str, name: str, description: str = "",
              team: Team | None, steps: list) -> Flow:
    """Create or replace a flow. Raises Invalid (422, pointers) or Forbidden."""
    for owner in {flow.team_id if flow else None, team.id if team else None} - {None}:
        if not actor.can_write_team(owner):
            raise Forbidden([{"pointer": "/team", "message": f"{actor.label} may not write this team's flows"}])
    if team is None and not actor.is_staff:
        raise Forbidden([{"pointer": "/team", "message": "only administrators keep flows without a team"}])
    resolved, errors = _resolve_steps(steps)
    errors = _check(slug, name, description) + errors
    if Flow.objects.filter(slug=slug).exclude(pk=flow.pk if flow else None).exists():
        errors.append({"pointer": "/slug", "message": f"a flow named {slug!r} already exists"})
    if errors:
        raise Invalid(errors)
    before = _values(flow) if flow else {}
    flow = flow or Flow()
    flow.slug, flow.name, flow.description, flow.team, flow.written_by = slug, name, description, team, actor.label
    flow.save()
    flow.steps.all().delete()
    FlowStep.objects.bulk_create([FlowStep(flow=flow, position=index, interaction=interaction, label=label)
                                  for index, (interaction, label) in enumerate(resolved)])
    audit_record([audit_event(actor, AuditAction.UPDATE if before else AuditAction.CREATE, AuditObject.FLOW, slug,
                              team_slug=team.slug if team else "", changes=field_changes(before, _values(flow)))])
    return flow


def _values(flow: Flow) -> dict:
    keys = [f"{step.interaction.source.name}/{step.interaction.name}" for step in
            flow.steps.select_related("interaction__source").order_by("position")]
    return {"name": flow.name, "description": flow.description, "team": flow.team.slug if flow.team_id else None,
            "steps": keys}


@transaction.atomic
def flow_delete(*, actor: Actor, flow: Flow) -> None:
    if not actor.can_write_team(flow.team_id):
        raise Forbidden([{"pointer": "", "message": f"{actor.label} may not delete this flow"}])
    audit_record([audit_event(actor, AuditAction.DELETE, AuditObject.FLOW, flow.slug,
                              team_slug=flow.team.slug if flow.team_id else "", changes=field_changes(_values(flow), {}))])
    flow.delete()
