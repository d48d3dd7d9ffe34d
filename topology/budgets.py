"""Latency budgets along sync chains (§3.5), pure: no Django, no database.

An interaction may declare the caller's budget (criterion `latency_budget_ms`). A synchronous call
waits for its target, and the target for everything it calls synchronously in turn; so the budget
has to cover the p95 latency of every service on the slowest sync path below the call. With the
p95 that probes measured per service and location, a budget smaller than that sum cannot be met:
a finding no catalog or service map makes. A service without a measured p95 counts 0, so the sum is
a lower bound and a finding is certain, not a guess.
"""
from dataclasses import dataclass
import networkx as nx

from . import graph

KIND = "latency-budget"


@dataclass(frozen=True)
class Hop:
    service: str
    p95_ms: float | None  # None: not measured at this location


@dataclass(frozen=True)
class BudgetCheck:
    """One interaction's budget against the slowest sync path below it, at one location."""

    source: str
    interaction: str
    budget_ms: float
    location: str
    hops: tuple[Hop, ...]

    @property
    def total_ms(self) -> float:
        return round(sum(hop.p95_ms or 0 for hop in self.hops), 1)

    @property
    def fits(self) -> bool:
        return self.total_ms <= self.budget_ms

    @property
    def unmeasured(self) -> list[str]:
        return [hop.service for hop in self.hops if hop.p95_ms is None]

    def shares(self) -> list[tuple[Hop, float]]:
        """Each hop with its share of the larger of the budget and the total (for a bar)."""
        scale = max(self.budget_ms, self.total_ms) or 1
        return [(hop, (hop.p95_ms or 0) / scale) for hop in self.hops]

    def text(self) -> str:
        sums = " + ".join(f"{hop.p95_ms:g}" if hop.p95_ms is not None else "?" for hop in self.hops)
        relation = "<" if not self.fits else "≥"
        missing = f"; not measured: {', '.join(self.unmeasured)}" if self.unmeasured else ""
        return (f"{possessive(self.source)} {self.budget_ms:g} ms budget for {self.interaction} {relation} {sums} = "
                f"{self.total_ms:g} ms p95 along {graph.arrow(h.service for h in self.hops)} at {self.location}"
                f"{missing} (§3.5)")


def possessive(name: str) -> str:
    """checkout's, orders'."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def budget_checks(topology: graph.Topology, budgets: dict[tuple[str, str], float],
                  latency: dict[str, dict[str, float]], *, only: tuple[str, str] | None = None) -> list[BudgetCheck]:
    """Every budgeted sync interaction (or `only` the one named (source, interaction)) against the
    slowest sync path from each of its targets, at each location where something on it was measured."""
    dag = _dag(topology)
    targets: dict[tuple[str, str], list[str]] = {}
    for link in topology.links:
        key = (link.source, link.interaction)
        if link.sync and key in budgets and (only is None or key == only):
            targets.setdefault(key, []).append(link.target)
    locations = sorted({location for by_location in latency.values() for location in by_location})
    slowest = {location: _slowest_paths(dag, latency, location) for location in locations} if targets else {}
    checks = []
    for (source, interaction), called in sorted(targets.items()):
        for location in locations:
            path = max((slowest[location].get(target, (target,)) for target in called),
                       key=lambda found: (_total(found, latency, location), found))
            hops = tuple(Hop(name, latency.get(name, {}).get(location)) for name in path)
            if any(hop.p95_ms is not None for hop in hops):
                checks.append(BudgetCheck(source, interaction, budgets[(source, interaction)], location, hops))
    return checks


def _dag(topology: graph.Topology) -> nx.DiGraph:
    return graph.acyclic(graph.sync_graph(topology))


def _total(path: tuple[str, ...], latency: dict, location: str) -> float:
    return sum(latency.get(name, {}).get(location) or 0 for name in path)


def _slowest_paths(dag: nx.DiGraph, latency: dict, location: str) -> dict[str, tuple[str, ...]]:
    """For every service, the path from it down the sync calls with the largest sum of p95
    (unmeasured: 0), built callees first in one pass over the graph."""
    best: dict[str, tuple[str, ...]] = {}
    for name in reversed(list(nx.topological_sort(dag))):
        tails = [best[callee] for callee in sorted(dag.successors(name))]
        best[name] = (name, *max(tails, key=lambda tail: (_total(tail, latency, location), len(tail)), default=()))
    return best


def budget_bar(check: BudgetCheck) -> dict:
    """The check with the segments of its bar (each hop's x and width in % of the larger of the budget
    and the sum) and where the budget's line goes, as templates/topology/_budget.html draws them."""
    x, segments = 0.0, []
    for hop, share in check.shares():
        segments.append({"hop": hop, "x": round(x * 100, 2), "width": round(share * 100, 2)})
        x += share
    limit = check.budget_ms / (max(check.budget_ms, check.total_ms) or 1)
    return {"check": check, "segments": segments, "limit_x": round(limit * 100, 2)}


def budget_along(checks: list[BudgetCheck], chain: tuple[str, ...]) -> list[BudgetCheck]:
    """The checks whose caller and slowest path are the services of `chain`, in order (a budget
    finding's services, highlighted on the topology)."""
    return [check for check in checks if (check.source, *(hop.service for hop in check.hops)) == tuple(chain)]


def budget_findings(checks: list[BudgetCheck]) -> list[graph.Finding]:
    """A warning for each budget that cannot fit, at each location where it cannot."""
    return [graph.Finding(KIND, "warning", (check.source, *(hop.service for hop in check.hops)), "§3.5",
                          check.text(), value=check.total_ms)
            for check in checks if not check.fits]
