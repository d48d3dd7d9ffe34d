"""What a plan does to the system: the topology with the changes applied, and what got better or
worse between the two. Pure: no Django (graph findings, blast radius and brokers are compared)."""
from dataclasses import replace

from topology import graph

from .changes import Change

ASYNC = graph.ASYNC
# Findings whose value is better when lower (hops, callers, callees); chain availability is better higher.
HIGHER_IS_BETTER = {"chain-availability"}


def topology_changed(topology: graph.Topology, changes: list[Change]) -> graph.Topology:
    """The topology with each change applied to its interaction's links: removed ones dropped, new
    ones added (a target nobody registered becomes a placeholder, as registration makes one)."""
    by_key = {(c.source, c.name): c for c in changes if not c.add}
    links = []
    for link in topology.links:
        change = by_key.get((link.source, link.interaction))
        if change is None:
            links.append(link)
        elif not change.remove:
            style = change.style or link.style
            asynchronous = style in ASYNC
            links.append(replace(link, style=style, mismatch="", deliberate=False,
                                 channel=(change.channel if change.channel is not None else link.channel)
                                 if asynchronous else "",
                                 broker=(change.broker if change.broker is not None else link.broker)
                                 if asynchronous else ""))
    nodes = topology.nodes
    for change in (c for c in changes if c.add):
        links += links_new(change)
        missing = [name for name in (change.source, *change.targets) if name not in nodes]
        if missing:
            nodes = {**nodes, **{name: graph.Node(name) for name in missing}}
    return graph.Topology(nodes=nodes, links=links, observed=topology.observed)


def links_new(change: Change) -> list[graph.Link]:
    """The links of a new interaction, one per target."""
    style = change.style or ""
    asynchronous = style in ASYNC
    return [graph.Link(change.source, target, change.name, style=style,
                       channel=(change.channel or "") if asynchronous else "",
                       broker=(change.broker or "") if asynchronous else "", targets=len(change.targets))
            for target in change.targets]


def findings_key(finding: graph.Finding) -> tuple:
    return finding.kind, finding.services


def findings_compared(before: list[graph.Finding], after: list[graph.Finding]) -> tuple[list[str], list[str]]:
    """(better, worse) in words: findings gone, new, or whose value moved."""
    old, new = {findings_key(f): f for f in before}, {findings_key(f): f for f in after}
    better = [f"resolved: {old[key].text}" for key in old if key not in new]
    worse = [f"new: {new[key].text}" for key in new if key not in old]
    for key in old.keys() & new.keys():
        was, now = old[key].value, new[key].value
        if was is None or now is None or was == now:
            continue
        improved = (now > was) if key[0] in HIGHER_IS_BETTER else (now < was)
        (better if improved else worse).append(f"{key[0]} of {graph.arrow(key[1])}: {_value(key[0], was)} → "
                                               f"{_value(key[0], now)}")
    return sorted(better), sorted(worse)


def _value(kind: str, value: float) -> str:
    return graph.percent(value) if kind == "chain-availability" else f"{value:g}"


def blast_compared(before: graph.Topology, after: graph.Topology, names: set[str]) -> tuple[list[str], list[str],
                                                                                             dict]:
    """The blast radius of each affected service (services that fail with it) before and after."""
    better, worse, radii = [], [], {}
    for name in sorted(names):
        was, now = len(graph.blast_radius(before, name)[0]), len(graph.blast_radius(after, name)[0])
        radii[name] = {"before": was, "after": now}
        if was != now:
            line = f"blast radius of {name}: {was} service{'s' if was != 1 else ''} fail with it → {now}"
            (better if now < was else worse).append(line)
    return better, worse, radii


def brokers_new(before: graph.Topology, after: graph.Topology) -> list[str]:
    """Services that depend on a broker they did not use before (§4.8)."""
    def used(topology):
        return {(link.source, link.broker) for link in topology.links if link.asynchronous and link.broker}

    return [f"new: {source} depends on the {broker} broker (§4.8)"
            for source, broker in sorted(used(after) - used(before))]
