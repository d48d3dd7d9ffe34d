"""Evaluating a plan against the registry as it is: nothing is stored. The registry is read once
(the topology and the changed interactions), the changes applied to a copy of the topology, the
findings of both compared, and each changed interaction evaluated again by the current ruleset."""
from typing import NamedTuple

from core.errors import Invalid
from topology import graph, mermaid
from topology.extensions import registered
from topology.graph_selectors import findings_of, topology_load
from topology.models import Interaction
from topology.selectors import settled_links

from .changes import Change, changes_parse
from .models import Plan
from .selectors import plan_staleness
from .steps import steps_for
from .whatif import ASYNC, blast_compared, brokers_new, findings_compared, topology_changed


class Evaluated(NamedTuple):
    """A plan's evaluation, with the two topologies it compared (for drawing the plan)."""

    result: dict
    before: graph.Topology
    after: graph.Topology


def plan_evaluate(*, changes: list[Change]) -> dict:
    return plan_evaluated(changes=changes).result


def plan_evaluated(*, changes: list[Change]) -> Evaluated:
    current = _interactions(changes)
    before = topology_load()
    _new_ones_checked(changes, before)
    after = topology_changed(before, changes)
    found_before, found_after = findings_of(before), findings_of(after)
    better, worse = findings_compared(found_before, found_after)
    affected = {name for change in changes for name in (change.source, *_targets(change, current))}
    blast_better, blast_worse, radii = blast_compared(before, after, affected)
    assessment = registered.assessor.begin()  # the current ruleset, read once
    evaluated = [_evaluated_new(change, assessment) if change.add else
                 _evaluated(change, current[change.key], assessment) for change in changes]
    mismatch_better, mismatch_worse = _mismatches_compared(evaluated)
    mismatches = _mismatches_now()
    result = {
        "before": {"findings": [f.as_dict() for f in found_before], "mismatches": mismatches},
        "after": {"findings": [f.as_dict() for f in found_after], "mismatches": _mismatches_after(mismatches, evaluated)},
        "better": blast_better + better + mismatch_better,
        "worse": blast_worse + worse + brokers_new(before, after) + mismatch_worse,
        "blast_radius": radii,
        "changes": evaluated,
        "steps": [{"interaction": item["interaction"], "steps": item["steps"]} for item in evaluated],
    }
    return Evaluated(result, before, after)


def _targets(change: Change, current: dict[str, dict]) -> tuple[str, ...]:
    return change.targets if change.add else tuple(current[change.key]["targets"])


def _interactions(changes: list[Change]) -> dict[str, dict]:
    """The interactions the changes name as they are; Invalid naming each changed or removed one that
    does not exist, and each new one that does."""
    wanted = {(c.source, c.name) for c in changes}
    rows = (Interaction.objects.filter(source__name__in={s for s, _ in wanted}).select_related("source")
            .prefetch_related("target_links__service"))
    found = {f"{row.source.name}/{row.name}": {
        "row": row, "targets": [link.service.name for link in row.target_links.all()]}
        for row in rows if (row.source.name, row.name) in wanted}
    errors = [{"pointer": f"/changes/{n}/interaction", "message": f"no interaction {c.key}"}
              for n, c in enumerate(changes) if not c.add and c.key not in found]
    errors += [{"pointer": f"/changes/{n}/interaction",
                "message": f"{c.key} exists already: change it (or remove it) instead of adding it"}
               for n, c in enumerate(changes) if c.add and c.key in found]
    if errors:
        raise Invalid(errors)
    return found


def _new_ones_checked(changes: list[Change], topology: graph.Topology) -> None:
    """Invalid unless each new interaction starts at a registered service and reaches known services."""
    errors = []
    for n, change in enumerate(changes):
        if not change.add:
            continue
        if topology.team_of(change.source) is None:
            errors.append({"pointer": f"/changes/{n}/interaction", "message": f"no registered service {change.source}"
                           + (" (it is a placeholder)" if change.source in topology.nodes else "")})
        errors += [{"pointer": f"/changes/{n}/to/{k}", "message": f"no service {target}"}
                   for k, target in enumerate(change.targets) if target not in topology.nodes]
    if errors:
        raise Invalid(errors)


def _evaluated(change: Change, current: dict, assessment) -> dict:
    row, targets = current["row"], current["targets"]
    criteria = {key: value for key, value in {**row.criteria, **change.criteria}.items() if value is not None}
    style = row.style if change.remove else (change.style or row.style)
    result = assessment.assess(source=row.source.name, targets=tuple(targets), criteria=criteria,
                                                declared_style=style)
    columns = registered.assessor.columns(result) if result else {}
    return {
        "interaction": change.key, "kind": change.kind, "removed": change.remove, "added": False,
        "targets": targets,
        "before": {"style": row.style, "channel": row.channel, "broker": row.broker,
                   "recommended": row.recommended_pattern, "mismatch": row.mismatch},
        "after": None if change.remove else {
            "style": style, "channel": change.channel if change.channel is not None else row.channel,
            "broker": change.broker if change.broker is not None else row.broker,
            "recommended": columns.get("recommended_pattern", ""), "mismatch": columns.get("mismatch", ""),
            "criteria": criteria},
        "steps": steps_for(change, before_style=row.style, targets=targets),
    }


def _evaluated_new(change: Change, assessment) -> dict:
    """A new interaction: no `before`; the rules evaluate it as proposed."""
    criteria = {key: value for key, value in change.criteria.items() if value is not None}
    style = change.style or ""
    result = assessment.assess(source=change.source, targets=change.targets, criteria=criteria, declared_style=style)
    columns = registered.assessor.columns(result) if result else {}
    asynchronous = style in ASYNC
    return {
        "interaction": change.key, "kind": change.kind, "removed": False, "added": True,
        "targets": list(change.targets), "before": None,
        "after": {"style": style, "channel": (change.channel or "") if asynchronous else "",
                  "broker": (change.broker or "") if asynchronous else "",
                  "recommended": columns.get("recommended_pattern", ""), "mismatch": columns.get("mismatch", ""),
                  "criteria": criteria},
        "steps": steps_for(change, before_style="", targets=list(change.targets)),
    }


def _mismatches_compared(evaluated: list[dict]) -> tuple[list[str], list[str]]:
    better, worse = [], []
    for item in evaluated:
        was = item["before"]["mismatch"] if item["before"] else ""
        now = "" if item["removed"] else item["after"]["mismatch"]
        if was and not now:
            better.append(f"mismatch of {item['interaction']} ({was}) resolved")
        elif now and not was:
            worse.append(f"new mismatch of {item['interaction']} ({now}): the rules recommend "
                         f"{item['after']['recommended']}")
    return better, worse


def _mismatches_now() -> list[dict]:
    links = settled_links()
    rows = Interaction.objects.exclude(mismatch="")
    if links is not None:
        rows = rows.exclude(id__in=links.values("interaction_id"))
    return [{"interaction": f"{source}/{name}", "severity": severity, "declared": style, "recommended": pattern}
            for source, name, severity, style, pattern in rows.order_by("source__name", "name").values_list(
                "source__name", "name", "mismatch", "style", "recommended_pattern")]


def _mismatches_after(now: list[dict], evaluated: list[dict]) -> list[dict]:
    changed = {item["interaction"]: item for item in evaluated}
    kept = [row for row in now if row["interaction"] not in changed]
    for key, item in changed.items():
        after = item["after"]
        if after and after["mismatch"]:
            kept.append({"interaction": key, "severity": after["mismatch"], "declared": after["style"],
                         "recommended": after["recommended"]})
    return sorted(kept, key=lambda row: row["interaction"])


def plan_stored_evaluate(*, plan: Plan) -> dict:
    return plan_stored_evaluated(plan=plan)[0]


def plan_stored_evaluated(*, plan: Plan) -> tuple[dict, Evaluated | None]:
    """A stored plan against the registry of now: `stale` says which of its changes no longer
    apply and why (an interaction it changes is gone or changed since, a new one it proposes exists
    now or lost a service); a plan that cannot be evaluated any more (a gone interaction or
    service) is not (`evaluation` null)."""
    changes, _ = changes_parse({"changes": plan.changes})
    stale = plan_staleness(basis=plan.basis, changes=changes)
    try:
        evaluated = plan_evaluated(changes=changes)
    except Invalid:  # what is missing is in `stale` already
        evaluated = None
    stored = {"plan": plan.name, "applies": not stale, "stale": stale,
              "evaluation": evaluated.result if evaluated else None}
    return stored, evaluated


def plan_charts(*, changes: list[Change]) -> tuple[str, str]:
    """Mermaid flowcharts of the services the changes touch and their neighbours, before and after."""
    before = topology_load()
    after = topology_changed(before, changes)
    near = set()
    for change in changes:
        near |= graph.neighbourhood(before, change.source, 1) | set(change.targets)
    return mermaid.flowchart(_within(before, near)), mermaid.flowchart(_within(after, near))


def _within(topology: graph.Topology, names: set[str]) -> graph.Topology:
    return graph.Topology(nodes={n: node for n, node in topology.nodes.items() if n in names},
                          links=[link for link in topology.links if link.source in names and link.target in names])
