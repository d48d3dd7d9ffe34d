"""What a report of one scope says, read once as plain data (ReportData): the Markdown bundle
(reports/bundle.py) and the HTML/PDF report draw from the same.

Reads are per kind of thing, never per row: the topology and its findings come from the per-process
caches of topology.graph_selectors, the interactions, probes, flows and decisions each from one or a
few queries, whatever the size of the system or the scope.
"""
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.utils import timezone

from core.severity import SEVERITIES
from decisions.models import Decision
from decisions.recommendations import ruleset_current
from probes.models import Probe
from probes.selectors import probe_outcome, probe_queryset, probe_uptimes
from topology import mermaid
from topology.flows import entry_steps, flow_list, flow_steps
from topology.graph import Finding, Topology
from topology.graph_selectors import findings_current, topology_current
from topology.models import Flow, Interaction
from topology.rendering import COLLAPSE_OVER, view_select

from .scopes import ReportScope, scope_view

CITE = re.compile(r"§\d+(?:\.\d+)?")
DERIVED_FLOWS_MAX = 20  # derived flows in one report: a large system has many entry services
DERIVED_DEPTH, DERIVED_STEPS = 6, 60  # as the sequence diagram API draws a derived flow by default
SEVERITY_PLACE = {severity: place for place, severity in enumerate(SEVERITIES)}  # error 0, warning 1, info 2


# --- the data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    name: str
    team: str  # "" for a placeholder
    title: str
    lifecycle: str
    placeholder: bool
    health: str  # the worst current outcome of its probes: up, degraded, down; "" when none has one
    probes: int  # how many probes it has


@dataclass(frozen=True)
class Reason:
    """One reason the rules gave for a recommendation."""

    text: str
    cites: tuple[str, ...]  # criterion § ids: the rule's own first, then any the text names
    decides: str  # pattern, protocol or broker
    supports: str  # the option it speaks for (effect > 0) or against (effect < 0)
    effect: float
    rule: str  # the rule's id ("default" when none applied)


@dataclass(frozen=True)
class InteractionRow:
    key: str  # source/name
    source: str
    name: str
    targets: tuple[str, ...]
    style: str  # declared: rest, grpc, pubsub, queue; "" when undecided
    channel: str
    broker: str  # declared
    pattern: str  # recommended; "" when not evaluated yet
    protocol: str  # recommended, "" when none
    recommended_broker: str  # "" when none
    confidence: float | None
    mismatch: str  # error, warning, info; "" when none
    mismatch_message: str
    mismatch_cites: tuple[str, ...]
    deliberate: bool  # an accepted override decision settles the mismatch
    reasons: tuple[Reason, ...]

    @property
    def open_mismatch(self) -> str:
        """The mismatch severity when no decision settles it, else ""."""
        return "" if self.deliberate else self.mismatch


@dataclass(frozen=True)
class FindingRow:
    kind: str  # sync-chain, sync-cycle, sync-fan-out, sync-mesh, fan-in, chain-availability
    severity: str
    services: tuple[str, ...]
    message: str
    cites: str  # the criterion § id


@dataclass(frozen=True)
class LocationState:
    location: str
    state: str  # up, degraded, down; "" before the first run
    latency_ms: float | None
    checked_at: datetime | None


@dataclass(frozen=True)
class ProbeRow:
    service: str
    name: str
    kind: str
    state: str  # the worst over its locations; "" before the first run
    locations: tuple[LocationState, ...]
    latency_ms: float | None  # of the location checked last
    uptime_24h: float | None  # share of runs not down, 0-1; None without runs in the window
    uptime_7d: float | None
    uptime_30d: float | None


@dataclass(frozen=True)
class FlowDiagram:
    kind: Literal["saved", "derived"]
    name: str  # saved: the flow's slug; derived: the entry service
    title: str
    mermaid: str  # a sequenceDiagram
    steps: int


@dataclass(frozen=True)
class DecisionRow:
    number: int
    code: str  # ADR-0007
    title: str
    status: str
    interactions: tuple[str, ...]  # the keys (source/name) of the linked interactions in scope


@dataclass(frozen=True)
class TopologyDiagram:
    mermaid: str  # a flowchart: services by team, or teams alone when collapsed
    collapsed: bool  # more than COLLAPSE_OVER services: teams drawn as nodes
    services: int  # services the view shows (the scope's and, for a team, its neighbours)
    note: str  # what the drawing leaves out; "" when nothing


@dataclass(frozen=True)
class Counts:
    services: int  # registered services in scope
    placeholders: int
    interactions: int
    mismatches: dict[str, int]  # error, warning, info -> open mismatches (no decision settles them)
    deliberate: int  # mismatches an accepted override settles
    probes: dict[str, int]  # up, degraded, down, unknown -> probes whose worst state it is


@dataclass(frozen=True)
class ReportData:
    scope: ReportScope
    generated_at: datetime
    ruleset_version: str
    counts: Counts
    services: list[ServiceRow]  # by name
    interactions: list[InteractionRow]  # open mismatches first (error, warning, info), then by key
    findings: list[FindingRow]  # worst first
    probes: list[ProbeRow]  # by service, then name
    topology: TopologyDiagram
    flows: list[FlowDiagram]  # saved flows by name, then derived flows by entry
    flows_left_out: int  # derived flows not included (over DERIVED_FLOWS_MAX)
    decisions: list[DecisionRow]  # by number


# --- reading it ----------------------------------------------------------------------------------


def report_data(*, scope: ReportScope) -> ReportData:
    """Everything a report of this scope says (the scope is assumed checked: reports.scopes)."""
    topology = topology_current()[1]
    names, in_scope = _scope_rule(topology, scope)
    interactions = _interactions(topology, scope, names, in_scope)
    probes = _probes(scope, names)
    services = _services(topology, names, Counter(probe.service for probe in probes))
    flows, left_out = _flows(topology, names)
    return ReportData(
        scope=scope, generated_at=timezone.now(), ruleset_version=ruleset_current().version,
        counts=_counts(services, interactions, probes), services=services, interactions=interactions,
        findings=_findings(names), probes=probes, topology=_diagram(topology, scope), flows=flows,
        flows_left_out=left_out, decisions=_decisions(scope, interactions))


InScope = Callable[[str, tuple[str, ...]], bool]


def _scope_rule(topology: Topology, scope: ReportScope) -> tuple[set[str], InScope]:
    """The services in scope, and whether an interaction (source, targets) is: for a team, each one
    that touches its services; for a service, those within its neighbourhood; for the system, all."""
    if scope.kind == "team":
        members = {name for name, node in topology.nodes.items() if node.team == scope.team}
        return members, lambda source, targets: source in members or not members.isdisjoint(targets)
    if scope.kind == "service":
        near = set(view_select(topology, scope_view(scope)).nodes)
        return near, lambda source, targets: source in near and not near.isdisjoint(targets)
    return set(topology.nodes), lambda source, targets: True


def _services(topology: Topology, names: set[str], probes: Counter) -> list[ServiceRow]:
    return [ServiceRow(name=node.name, team=node.team or "", title=node.title, lifecycle=node.lifecycle,
                       placeholder=node.placeholder, health=node.health, probes=probes[name])
            for name, node in sorted(topology.nodes.items()) if name in names]


# --- interactions --------------------------------------------------------------------------------


Links = dict[tuple[str, str], tuple[tuple[str, ...], bool]]


def _links_by_key(topology: Topology) -> Links:
    """(source, name) -> (targets in order, whether an accepted override settles it), from the topology."""
    found: Links = {}
    for link in topology.links:
        targets, deliberate = found.get((link.source, link.interaction), ((), False))
        found[link.source, link.interaction] = ((*targets, link.target), deliberate or link.deliberate)
    return found


def _interactions(topology: Topology, scope: ReportScope, names: set[str], in_scope: InScope) -> list[InteractionRow]:
    """The interactions in scope, open mismatches first (worst first), then by key: one query."""
    links = _links_by_key(topology)
    rows = Interaction.objects.order_by().values_list("source__name", "name", "style", "channel", "broker",
                                                     "recommendation")
    if scope.kind != "system":
        rows = rows.filter(source__name__in=_sources(links, names, in_scope))
    found = [_interaction(row, *links.get((row[0], row[1]), ((), False))) for row in rows]
    found = [row for row in found if in_scope(row.source, row.targets)]
    return sorted(found, key=lambda row: (SEVERITY_PLACE.get(row.open_mismatch, len(SEVERITIES)), row.key))


def _sources(links: Links, names: set[str], in_scope: InScope) -> set[str]:
    """The services whose interactions may be in scope: those of the scope, and the callers of it."""
    return names | {source for (source, _), (targets, _) in links.items() if in_scope(source, targets)}


def _interaction(row: tuple, targets: tuple[str, ...], deliberate: bool) -> InteractionRow:
    source, name, style, channel, broker, stored = row
    stored = stored or {}
    mismatch = stored.get("mismatch") or {}
    return InteractionRow(
        key=f"{source}/{name}", source=source, name=name, targets=targets, style=style, channel=channel,
        broker=broker, pattern=stored.get("pattern") or "", protocol=stored.get("protocol") or "",
        recommended_broker=stored.get("broker") or "", confidence=stored.get("confidence"),
        mismatch=mismatch.get("severity") or "", mismatch_message=mismatch.get("reason") or "",
        mismatch_cites=_cites("", mismatch.get("reason") or ""), deliberate=deliberate and bool(mismatch),
        reasons=tuple(_reason(reason) for reason in stored.get("reasons") or ()))


def _reason(reason: dict) -> Reason:
    return Reason(text=reason.get("text", ""), cites=_cites(reason.get("cites", ""), reason.get("text", "")),
                  decides=reason.get("decides", ""), supports=reason.get("supports", ""),
                  effect=reason.get("effect", 0), rule=reason.get("rule", ""))


def _cites(own: str, text: str) -> tuple[str, ...]:
    """The § ids of a citation and of a sentence, each once, in order."""
    return tuple(dict.fromkeys(CITE.findall(f"{own} {text}")))


# --- findings, probes ----------------------------------------------------------------------------


def _findings(names: set[str]) -> list[FindingRow]:
    return [_finding(found) for found in findings_current() if not names.isdisjoint(found.services)]


def _finding(found: Finding) -> FindingRow:
    return FindingRow(kind=found.kind, severity=found.severity, services=found.services, message=found.text,
                      cites=found.cites)


def _probes(scope: ReportScope, names: set[str]) -> list[ProbeRow]:
    """The probes of the services in scope with their state and uptimes: three or four queries."""
    probes = probe_queryset().order_by("service__name", "name")
    if scope.kind != "system":
        probes = probes.filter(service__name__in=names)
    probes = list(probes)
    uptimes = probe_uptimes(probe_ids=[probe.pk for probe in probes]) if probes else {}
    return [_probe(probe, uptimes.get(probe.pk, {})) for probe in probes]


def _probe(probe: Probe, uptime: dict[str, float | None]) -> ProbeRow:
    states = tuple(LocationState(location=status.location, state=status.outcome, latency_ms=status.latency_ms,
                                 checked_at=status.checked_at) for status in probe.statuses.all())
    checked = [state for state in states if state.checked_at is not None]
    last = max(checked, key=lambda state: state.checked_at) if checked else None
    return ProbeRow(service=probe.service.name, name=probe.name, kind=probe.kind, state=probe_outcome(probe),
                    locations=states, latency_ms=last.latency_ms if last else None, uptime_24h=uptime.get("24h"),
                    uptime_7d=uptime.get("7d"), uptime_30d=uptime.get("30d"))


# --- diagrams ------------------------------------------------------------------------------------


def _diagram(topology: Topology, scope: ReportScope) -> TopologyDiagram:
    """The scope's flowchart; above COLLAPSE_OVER services folded as the drawing folds it: each team
    one node, but the scope's own team (a service's, for a service)."""
    shown = view_select(topology, scope_view(scope))
    size = len(shown.nodes)
    whole = mermaid.flowchart(shown) if size <= COLLAPSE_OVER else ""
    if whole and mermaid.edge_count(whole) <= mermaid.EDGES_MAX:
        return TopologyDiagram(mermaid=whole, collapsed=False, services=size, note="")
    keep = scope.team or topology.team_of(scope.service)
    text, hidden = mermaid.folded_flowchart(shown, keep=keep)
    return TopologyDiagram(mermaid=text, collapsed=True, services=size,
                           note=_folded_note(size, keep, hidden, edges=mermaid.edge_count(whole)))


def _folded_note(size: int, keep: str | None, hidden: int, *, edges: int = 0) -> str:
    opened = f"but {keep}, whose services are drawn one by one, " if keep else ""
    why = (f"{edges} lines, more than Mermaid draws ({mermaid.EDGES_MAX})" if edges
           else f"{size} services, more than {COLLAPSE_OVER}")
    note = (f"{why}: each team {opened}is drawn as one node with its number of "
            "services, and each line to or from it counts the interactions it stands for")
    if hidden:
        note += f"; the {hidden} weakest of these lines are left out"
    return note + ". A report of one team or one service shows more."


def _flows(topology: Topology, names: set[str]) -> tuple[list[FlowDiagram], int]:
    """Saved flows that touch the scope, then the flows derived from its entry services (a service
    nothing calls, that calls out), at most DERIVED_FLOWS_MAX of them; and how many were left out."""
    saved = [_saved(flow) for flow in flow_list().order_by("name")]
    saved = [flow for flow, steps in saved if any(_touches(step, names) for step in steps)]
    entries = _entries(topology, names)
    derived = [_derived(topology, entry) for entry in entries[:DERIVED_FLOWS_MAX]]
    return saved + derived, max(0, len(entries) - DERIVED_FLOWS_MAX)


def _saved(flow: Flow) -> tuple[FlowDiagram, list[mermaid.Step]]:
    steps = flow_steps(flow)
    return FlowDiagram(kind="saved", name=flow.slug, title=flow.name, steps=len(steps),
                       mermaid=mermaid.sequence_diagram(steps, title=flow.name)), steps


def _touches(step: mermaid.Step, names: set[str]) -> bool:
    return step.source in names or not names.isdisjoint(step.targets)


def _entries(topology: Topology, names: set[str]) -> list[str]:
    called = {link.target for link in topology.links}
    calling = {link.source for link in topology.links}
    return sorted(name for name in names & calling if name not in called)


def _derived(topology: Topology, entry: str) -> FlowDiagram:
    steps = entry_steps(topology, entry, depth=DERIVED_DEPTH, steps=DERIVED_STEPS)
    title = f"From {entry}"
    return FlowDiagram(kind="derived", name=entry, title=title, steps=len(steps),
                       mermaid=mermaid.sequence_diagram(steps, title=title))


# --- decisions, counts ---------------------------------------------------------------------------


def _decisions(scope: ReportScope, interactions: list[InteractionRow]) -> list[DecisionRow]:
    """The decisions linked to the interactions in scope, by number: one query."""
    keys = {row.key for row in interactions}
    links = Decision.interactions.through.objects.order_by("decision__number").values_list(
        "decision__number", "decision__title", "decision__status", "interaction__source__name", "interaction__name")
    if scope.kind != "system":
        links = links.filter(interaction__source__name__in={row.source for row in interactions})
    found: dict[int, tuple[str, str, list[str]]] = {}
    for number, title, status, source, name in links:
        if f"{source}/{name}" in keys:
            found.setdefault(number, (title, status, []))[2].append(f"{source}/{name}")
    return [DecisionRow(number=number, code=f"ADR-{number:04d}", title=title, status=status,
                        interactions=tuple(sorted(linked))) for number, (title, status, linked) in found.items()]


def _counts(services: list[ServiceRow], interactions: list[InteractionRow], probes: list[ProbeRow]) -> Counts:
    placeholders = sum(row.placeholder for row in services)
    open_mismatches = Counter(row.open_mismatch for row in interactions)
    states = Counter(probe.state or "unknown" for probe in probes)
    return Counts(
        services=len(services) - placeholders, placeholders=placeholders, interactions=len(interactions),
        mismatches={severity: open_mismatches[severity] for severity in SEVERITIES},
        deliberate=sum(row.deliberate for row in interactions),
        probes={state: states[state] for state in ("up", "degraded", "down", "unknown")})
