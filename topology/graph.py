"""Graph analysis of the topology: sync chains, cycles, fan-out, fan-in, blast radius, availability.

Pure: plain nodes and links in, findings out (networkx underneath, no ORM). A link is one
interaction reaching one target; sync links are declared REST or gRPC, async ones pub/sub or queue;
undecided interactions take part in neither analysis.
"""
from dataclasses import dataclass, field
from math import prod
from typing import NamedTuple

import networkx as nx

from core.severity import SEVERITIES, SEVERITY_OF_RANK, SEVERITY_RANK

SYNC = frozenset({"rest", "grpc"})
SYNC_LABELS = {"rest": "REST", "grpc": "gRPC"}  # how drawings, charts and pages write the declared sync styles
ASYNC = frozenset({"pubsub", "queue"})
SEVERITY_ORDER = {severity: place for place, severity in enumerate(SEVERITIES)}  # worst first

CHAIN_MIN_HOPS = 3  # a sync chain this deep is worth a look (§3.5)
CHAIN_WARNING_HOPS = 4
CYCLE_MAX_LENGTH = 8
CYCLE_LIMIT = 50
FAN_OUT_ACROSS = 5  # distinct sync callees of one service: a mesh forming (§3.6)
FAN_IN = 4  # distinct sync callers of one service: a hot spot (§3.5)
AVAILABILITY_WARNING = 0.99


@dataclass(slots=True)
class Node:
    name: str
    team: str | None = None  # None: a placeholder nobody registered yet
    title: str = ""
    lifecycle: str = ""
    availability: float | None = None  # 0-1: measured uptime, else a declared SLO
    availability_source: str = ""  # "measured", "slo" or ""
    health: str = ""  # up, degraded, down, or "" when not probed

    @property
    def placeholder(self) -> bool:
        return self.team is None


@dataclass(slots=True)
class Link:
    source: str
    target: str
    interaction: str
    style: str = ""  # declared: rest, grpc, pubsub, queue, or "" when undecided
    channel: str = ""
    broker: str = ""
    mismatch: str = ""  # "", info, warning, error
    recommended: str = ""  # recommended pattern, "" when not evaluated
    deliberate: bool = False  # an accepted override decision settles the mismatch
    targets: int = 1  # how many targets the interaction has

    @property
    def sync(self) -> bool:
        return self.style in SYNC

    @property
    def asynchronous(self) -> bool:
        return self.style in ASYNC

    @property
    def kind(self) -> str:
        return KIND_OF_STYLE.get(self.style, "undecided")


KIND_OF_STYLE = {**dict.fromkeys(SYNC, "sync"), **dict.fromkeys(ASYNC, "async")}  # others: "undecided"


@dataclass
class Topology:
    nodes: dict[str, Node]
    links: list[Link] = field(default_factory=list)
    observed: list["Observed"] = field(default_factory=list)  # calls tracing saw that no interaction declares

    def team_of(self, name: str) -> str | None:
        node = self.nodes.get(name)
        return node.team if node else None


class Observed(NamedTuple):
    """Calls tracing saw from one service to another that no interaction declares (drawn, not analysed)."""

    source: str
    target: str
    calls: int


class TeamLinks(NamedTuple):
    """The links of one kind from one team to another: how many, how many of them have a mismatch
    that no accepted override settles, and the worst of those mismatches ("" when none)."""

    count: int
    mismatched: int = 0
    worst: str = ""


@dataclass
class Overview:
    """The system at team level: services per team (None: the placeholders), and the links between
    two different teams per (source team, target team, kind), kind being sync, async or undecided."""

    teams: dict[str | None, int]
    links: dict[tuple[str | None, str | None, str], TeamLinks] = field(default_factory=dict)
    health: dict[str | None, dict[str, int]] = field(default_factory=dict)  # team -> {"down": n, "degraded": m}
    groups: int | None = None  # how many (source, target, kind) groups in all, when `links` keeps only some

    @property
    def size(self) -> int:
        return sum(self.teams.values())

    @property
    def link_groups(self) -> int:
        return len(self.links) if self.groups is None else self.groups


def overview_of(topology: Topology) -> Overview:
    """The team-level overview of a loaded topology (selectors.topology_overview() reads the same from
    the database with aggregates)."""
    teams: dict[str | None, int] = {}
    healths: dict[str | None, list[str]] = {}
    for node in topology.nodes.values():
        teams[node.team] = teams.get(node.team, 0) + 1
        healths.setdefault(node.team, []).append(node.health)
    team_of = {name: node.team for name, node in topology.nodes.items()}
    found: dict = {}
    for link in topology.links:
        source, target = team_of[link.source], team_of[link.target]
        if source != target:
            link_count(found, (source, target, link.kind), link)
    health = {team: counts for team, found_health in healths.items() if (counts := health_counts(found_health))}
    return Overview(teams=teams, links=links_counted(found), health=health)


UNHEALTHY = ("down", "degraded")


def health_counts(healths) -> dict[str, int]:
    """How many services are down and degraded among these health values (only those present)."""
    healths = list(healths)
    return {state: healths.count(state) for state in UNHEALTHY if state in healths}


def link_count(found: dict, key: tuple, link: Link) -> None:
    """Count a link under `key` (see links_counted)."""
    counts = found.get(key)
    if counts is None:
        counts = found[key] = [0, 0, 0]
    counts[0] += 1
    if link.mismatch and not link.deliberate:
        counts[1] += 1
        rank = SEVERITY_RANK[link.mismatch]
        if rank > counts[2]:
            counts[2] = rank




def links_counted(found: dict) -> dict[tuple, TeamLinks]:
    """The links counted by link_count, as TeamLinks per key."""
    return {key: TeamLinks(count, mismatched, SEVERITY_OF_RANK[rank])
            for key, (count, mismatched, rank) in found.items()}


@dataclass(frozen=True)
class Finding:
    kind: str  # sync-chain, sync-cycle, sync-fan-out, sync-mesh, fan-in, chain-availability
    severity: str  # error, warning, info
    services: tuple[str, ...]
    cites: str
    text: str
    value: float | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "services": list(self.services),
                "cites": self.cites, "text": self.text, "value": self.value}


# --- graphs ------------------------------------------------------------------------------------


def sync_graph(topology: Topology) -> nx.DiGraph:
    """The sync calls as a graph, built in sorted order so that every traversal is repeatable; built
    once per topology (a topology is not changed once made) and shared, so callers only read it."""
    graph = topology.__dict__.get("_sync_graph")
    if graph is None:
        graph = nx.DiGraph()
        graph.add_nodes_from(sorted(topology.nodes))
        graph.add_edges_from(sorted({(link.source, link.target) for link in topology.links if link.sync}))
        topology.__dict__["_sync_graph"] = graph
    return graph


def acyclic(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without edges inside cycles (cycles are findings of their own)."""
    dag = graph.copy()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            dag.remove_edges_from([(a, b) for a, b in graph.subgraph(component).edges])
    dag.remove_edges_from(nx.selfloop_edges(dag))
    return dag


def sync_chains(topology: Topology, *, min_hops: int = CHAIN_MIN_HOPS, limit: int = 20) -> list[tuple[str, ...]]:
    """The longest chain of sync calls from each entry point, deepest first."""
    dag = acyclic(sync_graph(topology))
    longest: dict[str, tuple[str, ...]] = {}
    for name in reversed(list(nx.topological_sort(dag))):
        tails = [longest[successor] for successor in dag.successors(name)]
        longest[name] = (name, *max(tails, key=lambda tail: (len(tail), tail), default=()))
    entries = [name for name in dag if dag.in_degree(name) == 0 and dag.out_degree(name) > 0]
    chains = sorted((longest[name] for name in entries), key=lambda chain: (-len(chain), chain))
    return [chain for chain in chains if len(chain) - 1 >= min_hops][:limit]


def sync_cycles(topology: Topology, *, limit: int = CYCLE_LIMIT) -> list[tuple[str, ...]]:
    """One shortest cycle per group of services that call each other in a loop, starting from the
    group's first name; repeatable, and bounded however tangled the graph is."""
    graph = sync_graph(topology)
    loops = sorted((sorted(group) for group in nx.strongly_connected_components(graph) if len(group) > 1))
    return sorted((_shortest_cycle(graph.subgraph(group), group[0]) for group in loops[:limit]),
                  key=lambda cycle: (len(cycle), cycle))


def _shortest_cycle(graph: nx.DiGraph, start: str) -> tuple[str, ...]:
    paths = [nx.shortest_path(graph, successor, start) for successor in sorted(graph.successors(start))]
    best = min(paths, key=lambda path: (len(path), path))
    return (start, *best[:-1])


def _rotated(cycle: tuple[str, ...]) -> tuple[str, ...]:
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def blast_radius(topology: Topology, name: str) -> tuple[set[str], set[str]]:
    """(failing, delayed) when `name` fails: failing = every service that calls it synchronously,
    directly or through others (§3.5); delayed = services that only miss its or their async
    messages until they recover (§4.6)."""
    graph = sync_graph(topology)
    failing = nx.ancestors(graph, name) if name in graph else set()
    down = failing | {name}
    delayed = {link.target for link in topology.links if link.asynchronous and link.source in down}
    return failing, delayed - down


def neighbourhood(topology: Topology, name: str, hops: int) -> set[str]:
    """Services within `hops` links of `name`, in either direction and of any style."""
    graph = nx.Graph()
    graph.add_nodes_from(topology.nodes)
    graph.add_edges_from((link.source, link.target) for link in topology.links)
    if name not in graph:
        return set()
    return set(nx.single_source_shortest_path_length(graph, name, cutoff=hops))


def chain_availability(topology: Topology, chain: tuple[str, ...]) -> tuple[float | None, list[float | None]]:
    """The availability of a sync chain: at most the product of its members' (None if one is unknown)."""
    parts = [topology.nodes[name].availability if name in topology.nodes else None for name in chain]
    return (prod(parts) if parts and None not in parts else None), parts


def percent(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def arrow(names) -> str:
    """a → b → c; a long chain keeps its ends and says how many it left out."""
    names = list(names)
    if len(names) > 8:
        names = [*names[:3], f"… {len(names) - 6} more …", *names[-3:]]
    return " → ".join(names)


# --- findings ----------------------------------------------------------------------------------


def findings(topology: Topology, *, more: tuple[Finding, ...] = ()) -> list[Finding]:
    """What the graph shows, worst first; `more` are findings of other sources (drift) ranked with them."""
    found = [*_chain_findings(topology), *_cycle_findings(topology), *_fan_out_findings(topology),
             *_mesh_findings(topology), *_fan_in_findings(topology), *more]
    return sorted(found, key=lambda f: (SEVERITY_ORDER[f.severity], f.kind, f.services))


def _chain_findings(topology: Topology) -> list[Finding]:
    found = []
    for chain in sync_chains(topology):
        hops = len(chain) - 1
        severity = "warning" if hops >= CHAIN_WARNING_HOPS else "info"
        found.append(Finding(
            "sync-chain", severity, chain, "§3.5",
            f"{arrow(chain)}: {hops} synchronous calls in a row; if {chain[-1]} is slow or down, "
            f"{_names_short(chain[:-1])} all wait or fail with it.", value=hops))
        found.extend(_availability_finding(topology, chain))
    return found


def _names_short(names) -> str:
    names = list(names)
    return ", ".join(names) if len(names) <= 6 else f"{', '.join(names[:5])} and {len(names) - 5} more"


def _availability_finding(topology: Topology, chain: tuple[str, ...]) -> list[Finding]:
    total, parts = chain_availability(topology, chain)
    if total is None:
        return []
    product = " × ".join(percent(part) for part in parts)
    severity = "warning" if total < AVAILABILITY_WARNING else "info"
    return [Finding("chain-availability", severity, chain, "§3.5",
                    f"{product} = {percent(total)} for {arrow(chain)}: a synchronous chain is at most as "
                    "available as the product of its members (beyond the document).", value=round(total, 6))]


def _cycle_findings(topology: Topology) -> list[Finding]:
    return [
        Finding("sync-cycle", "error", cycle, "§3.5",
                f"{arrow((*cycle, cycle[0]))}: a cycle of synchronous calls; a slow member can block the "
                "whole loop, and a request can call itself back.", value=len(cycle))
        for cycle in sync_cycles(topology)
    ]


def _fan_out_findings(topology: Topology) -> list[Finding]:
    by_interaction: dict[tuple[str, str], list[str]] = {}
    for link in topology.links:
        if link.sync:
            by_interaction.setdefault((link.source, link.interaction), []).append(link.target)
    found = []
    for (source, interaction), targets in sorted(by_interaction.items()):
        if len(targets) < 2:
            continue
        found.append(Finding(
            "sync-fan-out", "warning" if len(targets) >= 3 else "info", (source, *targets), "§5.3",
            f"{source}/{interaction} calls {len(targets)} services synchronously ({', '.join(targets)}); "
            "if they only need to learn of it, one published event reaches them all.", value=len(targets)))
    return found


def _mesh_findings(topology: Topology) -> list[Finding]:
    graph = sync_graph(topology)
    return [
        Finding("sync-mesh", "info", (name, *sorted(graph.successors(name))), "§3.6",
                f"{name} calls {graph.out_degree(name)} services synchronously; point-to-point calls like "
                "these grow into a mesh that is hard to manage.", value=graph.out_degree(name))
        for name in sorted(graph) if graph.out_degree(name) >= FAN_OUT_ACROSS
    ]


def _fan_in_findings(topology: Topology) -> list[Finding]:
    graph = sync_graph(topology)
    return [
        Finding("fan-in", "warning", (name, *sorted(graph.predecessors(name))), "§3.5",
                f"{graph.in_degree(name)} services call {name} synchronously; when it is slow or down, "
                "all of them are blocked.", value=graph.in_degree(name))
        for name in sorted(graph) if graph.in_degree(name) >= FAN_IN
    ]
