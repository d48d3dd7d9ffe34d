"""Mermaid text for flows (sequenceDiagram) and topologies (flowchart). Pure: plain data in, text out.

Sequence diagrams follow the document's two reference styles (§6): a synchronous call is a `->>`
message with an activation and a `-->>` return, nested while the callee calls on; an asynchronous
message goes to a broker participant named after the broker and channel, which acknowledges it and
pushes it to each consumer. Participants and nodes get generated ids and quoted labels, so any
name (spaces, dashes, quotes, non-ASCII) comes out valid.
"""
import re
from dataclasses import dataclass

from .graph import ASYNC, SYNC, SYNC_LABELS, TeamLinks, Topology, health_counts, link_count, links_counted

# Characters that would end a statement, open an entity, start a comment or a directive (%%{init}%%),
# open an HTML tag or an HTML entity (Mermaid draws labels as HTML), or start a Markdown string
# (`...`), as Mermaid entity codes: the reader sees the character, Mermaid never acts on it.
ENTITIES = str.maketrans({"#": "#35;", ";": "#59;", "%": "#37;", '"': "#quot;", "<": "#lt;", ">": "#gt;",
                          "&": "#38;", "`": "#96;"})
# Control characters and lone surrogates: no diagram text needs them, and some end a line for Mermaid.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Merged links a folded flowchart draws at most, strongest first (as the drawing's GROUP_EDGE_BUDGET):
# thousands of team-to-team lines say nothing.
FOLDED_LINKS_DRAWN = 120
BROKER_TITLES = {"kafka": "Kafka", "rabbitmq": "RabbitMQ", "nats": "NATS", "pulsar": "Pulsar", "other": "Broker"}


@dataclass(frozen=True)
class Step:
    """One interaction taking part in a flow, in order."""

    source: str
    targets: tuple[str, ...]
    interaction: str
    style: str = ""  # rest, grpc, pubsub, queue or "" (undecided: drawn as a sync call)
    channel: str = ""
    broker: str = ""
    label: str = ""  # what the message says; the interaction name when empty


def text(value: str) -> str:
    """Message or label text that cannot end the statement, open an entity, a tag or a directive."""
    return " ".join(UNPRINTABLE.sub(" ", str(value)).split()).translate(ENTITIES) or " "


class _Participants:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.lines: list[str] = []

    def id_of(self, name: str, *, label: str | None = None, kind: str = "participant") -> str:
        if name not in self.ids:
            self.ids[name] = f"p{len(self.ids) + 1}"
            self.lines.append(f"    {kind} {self.ids[name]} as {text(label or name)}")
        return self.ids[name]


def sequence_diagram(steps: list[Step], *, title: str = "") -> str:
    """A sequenceDiagram of ordered steps; sync calls nest while the callee calls on."""
    people = _Participants()
    for step in steps:  # declare participants in order of appearance
        people.id_of(step.source)
        if step.style in ASYNC:
            people.id_of(_broker_key(step), label=_broker_label(step), kind="participant")
        for target in step.targets:
            people.id_of(target)
    body, stack = [], []  # stack of (caller id, callee id, label) for open sync calls
    for step in steps:
        source = people.ids[step.source]
        _unwind(body, stack, until=source)
        if step.style in ASYNC:
            body += _publish(step, people)
        else:
            body += _call(step, people, stack)
    _unwind(body, stack, until=None)
    header = ["sequenceDiagram", *([f"    title {text(title)}"] if title else []), "    autonumber"]
    return "\n".join(header + people.lines + body) + "\n"


def _call(step: Step, people: _Participants, stack: list) -> list[str]:
    """A sync call; with several targets the caller calls each in turn and the last stays active."""
    caller, label, lines = people.ids[step.source], text(step.label or step.interaction), []
    for position, target in enumerate(step.targets, start=1):
        callee = people.ids[target]
        lines += [f"    {caller}->>{callee}: {label}", f"    activate {callee}"]
        if position < len(step.targets):
            lines += [f"    {callee}-->>{caller}: {label} (reply)", f"    deactivate {callee}"]
        else:
            stack.append((caller, callee, label))
    return lines


def _unwind(body: list[str], stack: list, *, until: str | None) -> None:
    """Return from open calls until `until` is the active participant (or all, when None)."""
    while stack and stack[-1][1] != until:
        caller, callee, said = stack.pop()
        body += [f"    {callee}-->>{caller}: {said} (reply)", f"    deactivate {callee}"]


def _broker_key(step: Step) -> str:
    return f"\0broker:{step.broker}:{step.channel}"


def _broker_label(step: Step) -> str:
    return f"{BROKER_TITLES.get(step.broker, 'Broker')}: {step.channel or step.interaction}"


def _publish(step: Step, people: _Participants) -> list[str]:
    broker = people.ids[_broker_key(step)]
    source = people.ids[step.source]
    event = text(f'"{step.label or step.interaction}"')
    verb = "publish" if step.style == "pubsub" else "send"
    lines = [f"    {source}->>{broker}: {verb} {event}", f"    {broker}-->>{source}: ack"]
    lines += [f"    {broker}->>{people.ids[target]}: push {event}" for target in step.targets]
    return lines


EDGES_MAX = 500  # Mermaid's default maxEdges: GitHub and GitLab refuse a flowchart with more


def edge_count(chart: str) -> int:
    """How many lines (edges) a flowchart's text draws."""
    return sum(1 for line in chart.splitlines() if "-->" in line or "-.->" in line)


def flowchart(topology: Topology, *, direction: str = "LR") -> str:
    """A flowchart of services grouped by team: sync calls solid, async ones dotted via their channel."""
    ids = _service_ids(topology)
    return _chart(direction, _service_lines(topology, ids) + _flow_edges(topology, ids))


def folded_flowchart(topology: Topology, *, keep: str | None = None, most: int = FOLDED_LINKS_DRAWN,
                     direction: str = "LR") -> tuple[str, int]:
    """A large topology folded as its drawing folds it: every team but `keep` is one node (its number
    of services, how many are down or degraded), `keep`'s services are drawn one by one with their
    links; the links to or from a folded team are merged per kind and counted, the `most` strongest
    (most links, then most mismatched) drawn. Returns the text and how many merged links were left out."""
    kept = Topology(nodes={name: node for name, node in topology.nodes.items() if keep and node.team == keep})
    kept.links = [link for link in topology.links if link.source in kept.nodes and link.target in kept.nodes]
    folds = _folds(topology, kept)
    places = {name: name if name in kept.nodes else _fold_key(node.team) for name, node in topology.nodes.items()}
    merged = _merged(topology, places)
    drawn = sorted(merged.items(), key=lambda item: (-item[1].count, -item[1].mismatched, item[0]))[:most]
    ids = _service_ids(kept) | {key: f"g{index}" for index, key in enumerate(folds, start=1)}
    lines = _service_lines(kept, ids) + [f"    {ids[key]}{shape}" for key, shape in folds.items()]
    lines += _flow_edges(kept, ids) + [_merged_edge(key, found, ids) for key, found in sorted(drawn)]
    return _chart(direction, lines), len(merged) - len(drawn)


def _chart(direction: str, lines: list[str]) -> str:
    return "\n".join([f"flowchart {direction}", *lines]) + "\n"


def _service_ids(topology: Topology) -> dict[str, str]:
    return {name: f"n{index}" for index, name in enumerate(sorted(topology.nodes), start=1)}


def _service_lines(topology: Topology, ids: dict[str, str]) -> list[str]:
    """Each service a node, in a subgraph per team; placeholders (rounded) outside any."""
    lines, teams = [], {}
    for name, node in sorted(topology.nodes.items()):
        teams.setdefault(node.team or "", []).append(name)
    for index, (team, names) in enumerate(sorted(teams.items()), start=1):
        shapes = [f'{ids[name]}["{text(name)}"]' if team else f'{ids[name]}(["{text(name)}"])' for name in names]
        if team:
            lines += [f'    subgraph t{index}["{text(team)}"]', *[f"        {shape}" for shape in shapes], "    end"]
        else:
            lines += [f"    {shape}" for shape in shapes]
    return lines


def _fold_key(team: str | None) -> str:
    return f"\0team:{team or ''}"


def _folds(topology: Topology, kept: Topology) -> dict[str, str]:
    """fold key -> the node shape of each folded team (placeholders first): its size and unwell services."""
    healths: dict[str, list[str]] = {}
    for name, node in sorted(topology.nodes.items(), key=lambda item: (item[1].team or "", item[0])):
        if name not in kept.nodes:
            healths.setdefault(node.team or "", []).append(node.health)
    return {_fold_key(team): _fold_shape(team, found) for team, found in healths.items()}


def _fold_shape(team: str, healths: list[str]) -> str:
    unwell = "".join(f" · {count} {state}" for state, count in health_counts(healths).items())
    label = text(f"{team or 'placeholders'} · {len(healths)} service{'' if len(healths) == 1 else 's'}{unwell}")
    return f'["{label}"]' if team else f'(["{label}"])'


def _merged(topology: Topology, places: dict[str, str]) -> dict[tuple[str, str, str], TeamLinks]:
    """The links with an end in a folded team, per (drawn source, drawn target, kind)."""
    found: dict = {}
    for link in topology.links:
        source, target = places[link.source], places[link.target]
        if source != target and (source, target) != (link.source, link.target):
            link_count(found, (source, target, link.kind), link)
    return links_counted(found)


def _merged_edge(key: tuple[str, str, str], found: TeamLinks, ids: dict[str, str]) -> str:
    source, target, kind = key
    label = f"{found.count} {kind}" + (f", {found.mismatched} mismatched" if found.mismatched else "")
    return f'    {ids[source]} {"-->" if kind == "sync" else "-.->"}|"{text(label)}"| {ids[target]}'


def _flow_edges(topology: Topology, ids: dict[str, str]) -> list[str]:
    lines, channels, seen = [], {}, set()
    for link in topology.links:
        if link.source not in ids or link.target not in ids:
            continue
        if link.style in ASYNC and link.channel:
            key = (link.broker, link.channel)
            if key not in channels:
                channels[key] = f"c{len(channels) + 1}"
                lines.append(f'    {channels[key]}{{{{"{text(link.channel)}"}}}}')
            for pair in ((ids[link.source], channels[key]), (channels[key], ids[link.target])):
                if pair not in seen:
                    seen.add(pair)
                    lines.append(f"    {pair[0]} -.-> {pair[1]}")
            continue
        arrow = "-->" if link.style in SYNC else "-.->"
        label = SYNC_LABELS.get(link.style, link.style or "undecided")
        lines.append(f'    {ids[link.source]} {arrow}|"{text(label)}"| {ids[link.target]}')
    return lines


def flow_from_entry(topology: Topology, entry: str, *, max_depth: int = 6, max_steps: int = 60) -> list[Step]:
    """Derive a flow by following an entry service's interactions depth-first, bounded."""
    by_source: dict[str, dict[str, list]] = {}
    for link in topology.links:
        by_source.setdefault(link.source, {}).setdefault(link.interaction, []).append(link)
    steps: list[Step] = []
    seen: set[tuple[str, str]] = set()

    def visit(name: str, depth: int) -> None:
        for interaction, links in sorted(by_source.get(name, {}).items()):
            if len(steps) >= max_steps or (name, interaction) in seen:
                continue
            seen.add((name, interaction))
            first = links[0]
            steps.append(Step(source=name, targets=tuple(link.target for link in links), interaction=interaction,
                              style=first.style, channel=first.channel, broker=first.broker))
            if depth < max_depth:
                for link in links:
                    visit(link.target, depth + 1)

    visit(entry, 1)
    return steps
