"""Evaluating a plan against the registry as it is: nothing is stored. The registry is read once
(the topology and the changed interactions), the changes applied to a copy of the topology, the
findings of both compared, and each changed interaction evaluated again by the current ruleset."""
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
from .whatif import blast_compared, brokers_new, findings_compared, topology_changed


def plan_evaluate(*, changes: list[Change]) -> dict:
    current = _interactions(changes)
    before = topology_load()
    after = topology_changed(before, changes)
    found_before, found_after = findings_of(before), findings_of(after)
    better, worse = findings_compared(found_before, found_after)
    affected = {name for change in changes for name in (change.source, *current[change.key]["targets"])}
    blast_better, blast_worse, radii = blast_compared(before, after, affected)
    assessment = registered.assessor.begin()  # the current ruleset, read once
    evaluated = [_evaluated(change, current[change.key], assessment) for change in changes]
    mismatch_better, mismatch_worse = _mismatches_compared(evaluated)
    mismatches = _mismatches_now()
    return {
        "before": {"findings": [f.as_dict() for f in found_before], "mismatches": mismatches},
        "after": {"findings": [f.as_dict() for f in found_after], "mismatches": _mismatches_after(mismatches, evaluated)},
        "better": blast_better + better + mismatch_better,
        "worse": blast_worse + worse + brokers_new(before, after) + mismatch_worse,
        "blast_radius": radii,
        "changes": evaluated,
        "steps": [{"interaction": item["interaction"], "steps": item["steps"]} for item in evaluated],
    }


def _interactions(changes: list[Change]) -> dict[str, dict]:
    """The changed interactions as they are; Invalid naming each one that does not exist."""
    wanted = {(c.source, c.name) for c in changes}
    rows = (Interaction.objects.filter(source__name__in={s for s, _ in wanted}).select_related("source")
            .prefetch_related("target_links__service"))
    found = {f"{row.source.name}/{row.name}": {
        "row": row, "targets": [link.service.name for link in row.target_links.all()]}
        for row in rows if (row.source.name, row.name) in wanted}
    missing = [{"pointer": f"/changes/{n}/interaction", "message": f"no interaction {c.key}"}
               for n, c in enumerate(changes) if c.key not in found]
    if missing:
        raise Invalid(missing)
    return found



def _evaluated(change: Change, current: dict, assessment) -> dict:
    row, targets = current["row"], current["targets"]
    criteria = {key: value for key, value in {**row.criteria, **change.criteria}.items() if value is not None}
    style = row.style if change.remove else (change.style or row.style)
    result = assessment.assess(source=row.source.name, targets=tuple(targets), criteria=criteria,
                                                declared_style=style)
    columns = registered.assessor.columns(result) if result else {}
    return {
        "interaction": change.key, "removed": change.remove, "targets": targets,
        "before": {"style": row.style, "channel": row.channel, "broker": row.broker,
                   "recommended": row.recommended_pattern, "mismatch": row.mismatch},
        "after": None if change.remove else {
            "style": style, "channel": change.channel if change.channel is not None else row.channel,
            "broker": change.broker if change.broker is not None else row.broker,
            "recommended": columns.get("recommended_pattern", ""), "mismatch": columns.get("mismatch", ""),
            "criteria": criteria},
        "steps": steps_for(change, before_style=row.style, targets=targets),
    }


def _mismatches_compared(evaluated: list[dict]) -> tuple[list[str], list[str]]:
    better, worse = [], []
    for item in evaluated:
        was = item["before"]["mismatch"]
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
    """A stored plan against the registry of now: `stale` says which of its changes no longer
    apply (the interaction is gone, or changed since); a plan naming a gone interaction is not
    evaluated (`evaluation` null)."""
    changes, _ = changes_parse({"changes": plan.changes})
    stale = plan_staleness(basis=plan.basis, changes=changes)
    gone = any(reason.endswith("no longer exists") for reason in stale)
    evaluation = None if gone else plan_evaluate(changes=changes)
    return {"plan": plan.name, "applies": not stale, "stale": stale, "evaluation": evaluation}


def plan_charts(*, changes: list[Change]) -> tuple[str, str]:
    """Mermaid flowcharts of the services the changes touch and their neighbours, before and after."""
    before = topology_load()
    after = topology_changed(before, changes)
    near = set()
    for change in changes:
        near |= graph.neighbourhood(before, change.source, 1)
    return mermaid.flowchart(_within(before, near)), mermaid.flowchart(_within(after, near))


def _within(topology: graph.Topology, names: set[str]) -> graph.Topology:
    return graph.Topology(nodes={n: node for n, node in topology.nodes.items() if n in names},
                          links=[link for link in topology.links if link.source in names and link.target in names])
