"""Topology -> Graphviz DOT text. Pure: no ORM, no subprocess (see topology/render.py for `dot`).

Teams are clusters; placeholders are dashed; topics and queues are nodes of their own shapes between
a publisher and its consumers; sync edges are solid and async ones dashed; edges are coloured by
agreement with the recommendation and nodes filled by live health. Above a size, teams collapse to
one node each (expanded on request) so that a thousand services stay readable.
"""
import heapq
import re
from dataclasses import dataclass, field, replace

from .graph import (SYNC_LABELS, Link, Node, Overview, TeamLinks, Topology, blast_radius, health_counts, link_count,
                    links_counted, neighbourhood)
from .view_rules import by_force, channel_lines_wanted, channels_as_lines, teams_folded

COLLAPSE_OVER = 150  # more services than this in a view: teams collapse unless expanded
# Edges to or from collapsed teams beyond this many are left out, weakest first: dot's layout time
# grows steeply with dense graphs, and a hairball of team links says nothing.
GROUP_EDGE_BUDGET = 120
HEALTH_FILL = {"up": "#e3f4e8", "degraded": "#fff1cc", "down": "#fbdcdc", "": "#ffffff"}
EDGE_COLOUR = {"error": "#c62828", "warning": "#e07b00", "info": "#5472a8", "ok": "#5b8a72",
               "deliberate": "#7b4fb3", "": "#8a94a6"}
FOCUS_FILL, BLAST_FILL, DELAYED_FILL, CHAIN_PEN = "#1f5fd1", "#fbdcdc", "#fff1cc", "#1f5fd1"
CHANNEL_MODES = ("nodes", "lines")  # `channels`: topics and queues with one producer and one consumer
_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class View:
    team: str | None = None
    focus: str | None = None
    hops: int = 1
    blast: str | None = None
    chain: tuple[str, ...] = ()
    expand: frozenset[str] = field(default_factory=frozenset)
    collapse_over: int = COLLAPSE_OVER
    alone: bool = False  # a team without its neighbours
    channels: str = ""  # "nodes", "lines", or "" to let the view's size decide (view_rules)
    anyway: bool = False  # draw a view the page would call too large

    @property
    def whole(self) -> bool:
        """The whole system as it is drawn by default: no team, service or chain named, none expanded."""
        return not (self.team or self.focus or self.blast or self.chain or self.expand or self.channels)


@dataclass(frozen=True)
class Urls:
    """How nodes and edges link to pages (paths, so the SVG works under any host)."""

    service: str = "/services/{name}/"
    interaction: str = "/services/{source}/interactions/{interaction}/"
    expand: str = "?expand={team}"


MAX_HOPS = 6
# Height / width of the topology page's canvas (as tall as the window less its header, beside the
# 340 px findings): about 835 x 805 pixels at 1440x900, 875 x 705 at 1280x800, 835 x 985 at 1920x1080.
# Force and radial drawings are stretched to it, so that at fit they fill the canvas and their labels
# are larger.
CANVAS_RATIO = 0.9


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(raw or "").split(",") if part.strip())


def view_read(params) -> tuple[View, dict[str, str]]:
    """Query parameters (team, focus, hops, blast, chain, expand, alone, channels, draw) -> a View, and
    an error per malformed one; the names in it are not checked (view_parse does that against the topology)."""
    try:
        hops = int(params.get("hops") or 1)
    except ValueError:
        hops = 0
    errors = {}
    if not 1 <= hops <= MAX_HOPS:
        errors["hops"] = f"hops must be a whole number from 1 to {MAX_HOPS}"
    channels, alone, draw = (params.get(key) or "" for key in ("channels", "alone", "draw"))
    if channels not in ("", *CHANNEL_MODES):
        errors["channels"] = "channels must be nodes or lines"
    if alone not in ("", "1"):
        errors["alone"] = "alone must be 1 (the team without its neighbours)"
    if draw not in ("", "all"):
        errors["draw"] = "draw must be all (draw a view however large)"
    view = View(team=params.get("team") or None, focus=params.get("focus") or None, hops=max(1, min(hops, MAX_HOPS)),
                blast=params.get("blast") or None, chain=_names(params.get("chain", "")),
                expand=frozenset(_names(params.get("expand", ""))), alone=alone == "1",
                channels=channels if channels in CHANNEL_MODES else "", anyway=draw == "all")
    return view, errors


def view_parse(params, topology: Topology) -> tuple[View, dict[str, str]]:
    """Query parameters (team, focus, hops, blast, chain, expand) -> a View, and an error per bad one."""
    view, shape_errors = view_read(params)
    errors = {}
    for key in ("focus", "blast"):
        if params.get(key) and params[key] not in topology.nodes:
            errors[key] = f"no service named {params[key]!r}"
    if view.team and not any(node.team == view.team for node in topology.nodes.values()):
        errors["team"] = f"no team named {view.team!r} with services"
    errors |= shape_errors
    if any(name not in topology.nodes for name in view.chain):
        errors["chain"] = "every name in chain must be a service"
    return view, errors


def view_select(topology: Topology, view: View) -> Topology:
    """The part of the topology a view shows: a team and its direct neighbours, the services within
    `hops` of a focus, or the blast radius of a service (alone, or highlighted within the others)."""
    names = set(topology.nodes)
    if view.team:
        names = _team_and_neighbours(topology, view.team) if not view.alone else {
            name for name, node in topology.nodes.items() if node.team == view.team}
    if view.focus:
        names &= neighbourhood(topology, view.focus, view.hops)
    if view.blast and not (view.team or view.focus):
        failing, delayed = blast_radius(topology, view.blast)
        names = failing | delayed | {view.blast}
    links = [link for link in topology.links if link.source in names and link.target in names]
    observed = [seen for seen in topology.observed if seen.source in names and seen.target in names]
    return Topology(nodes={n: topology.nodes[n] for n in sorted(names) if n in topology.nodes}, links=links,
                    observed=observed)


def _team_and_neighbours(topology: Topology, team: str) -> set[str]:
    members = {name for name, node in topology.nodes.items() if node.team == team}
    touching = [link for link in topology.links if link.source in members or link.target in members]
    return members | {link.source for link in touching} | {link.target for link in touching}


@dataclass(frozen=True)
class Layout:
    """How a view is drawn: the services it shows, the teams folded, where each service is drawn
    (itself or its team's folder), and the channels drawn as lines (id -> (producer, consumer))."""

    shown: Topology
    collapsed: set[str]
    places: dict[str, str]
    lines: dict[str, tuple[str, str]]
    channel_nodes: int

    @property
    def nodes(self) -> int:
        """How many nodes the drawing has: services, folders and channels (the legend aside)."""
        return len(set(self.places.values())) + self.channel_nodes


def home_team(topology: Topology, view: View) -> str | None:
    """The team a team or focus view is about ("" for a placeholder in focus), else None."""
    if view.team:
        return view.team
    node = topology.nodes.get(view.focus or "")
    return (node.team or "") if node else None


def view_layout(topology: Topology, view: View) -> Layout:
    """The Layout of a view (see view_rules for the rules of folding and of channels as lines)."""
    shown = view_select(topology, view)
    expand = {"" if name == PLACEHOLDERS else name for name in view.expand}
    folded = teams_folded({name: node.team or "" for name, node in shown.nodes.items()}, home_team(topology, view),
                          expand)
    collapsed = _collapsed_teams(shown, view) | folded
    places = _places(shown, collapsed, set(view.chain))
    routes = _channel_routes(shown, places)
    channels = {route[0] for route in routes}
    lines = channels_as_lines(routes) if channel_lines_wanted(
        view.channels, len(set(places.values())) + len(channels)) else {}
    return Layout(shown, collapsed, places, lines, len(channels) - len(lines))


def dot_source(topology: Topology, view: View = View(), urls: Urls = Urls()) -> str:
    """The DOT text of a view of the topology, with a legend."""
    layout = view_layout(topology, view)
    shown, collapsed, places = layout.shown, layout.collapsed, layout.places
    marks = _marks(topology, view)
    teams_only = bool(collapsed) and all((node.team or "") in collapsed for node in shown.nodes.values())
    root = view.focus if view.focus and places.get(view.focus) == view.focus and not teams_only else None
    centre = []
    if view.team and collapsed and not teams_only and not root:  # the team ringed by its neighbours' folders
        root = f"centre:{view.team}"
        centre = [f"  {quote(root)} [style=invis, label=\"\", width=0.1, height=0.1];"] + [
            f"  {quote(root)} -> {quote(name)} [style=invis];" for name, node in shown.nodes.items()
            if node.team == view.team]
    force = by_force(layout.nodes, team_view=bool(view.team), folders=bool(collapsed))
    lines = _header(teams_only, root=root, force=force) + _clusters(shown, collapsed, marks, urls, places)
    lines += _channels(shown, places, layout.lines)
    edges, groups = _edges(shown, places, marks, urls, view, layout.lines, quiet=root is not None or force)
    undeclared = _observed_edges(shown, places)
    return _finish(lines + edges + undeclared + centre, _strongest(groups), len(groups), observed=bool(undeclared),
                   channel_lines=bool(layout.lines), radial=root is not None or force)


def _observed_edges(shown: Topology, places: dict[str, str]) -> list[str]:
    """Calls tracing saw that no interaction declares, between services drawn one by one: dashed amber,
    without moving the layout."""
    return [f"  {quote(seen.source)} -> {quote(seen.target)} " + dot_attrs(
        color=EDGE_COLOUR["warning"], fontcolor=EDGE_COLOUR["warning"], style="dashed", penwidth="1.6",
        arrowhead="empty", constraint="false", label=f"observed {seen.calls:,}×",
        tooltip=f"tracing saw {seen.source} call {seen.target} {seen.calls:,} times; no interaction declares it")
        for seen in shown.observed if places.get(seen.source) == seen.source and places.get(seen.target) == seen.target]


def overview_dot(overview: Overview, urls: Urls = Urls()) -> str:
    """The DOT text of the whole system with every team collapsed, from its team-level overview: the
    same text as dot_source draws for the default view of that system when it is over the limit."""
    folders = sorted(overview.teams.items(), key=lambda item: item[0] or "")  # the placeholders ("") first
    lines = _header(teams_only=True) + [_group_node(team or "", size, urls, overview.health.get(team))
                                        for team, size in folders]
    return _finish(lines, _strongest(overview.links, _drawn_group), overview.link_groups)


def overview_trimmed(overview: Overview) -> Overview:
    """The overview with only the team links overview_dot draws, and how many there are in all: it
    draws the same DOT text from much less."""
    named = {_drawn_group(key): key for key in overview.links}
    kept = {named[drawn]: found for drawn, found in _strongest(overview.links, _drawn_group)}
    return replace(overview, links=kept, groups=overview.link_groups)


def _drawn_group(key: tuple[str | None, str | None, str]) -> tuple[str, str, str]:
    return _group_id(key[0] or ""), _group_id(key[1] or ""), key[2]


LAYERED = "graph [layout=dot, "


def dot_by_force(dot: str) -> str:
    """The same graph laid out by force with `fdp`, which keeps team clusters: for a view whose
    layered layout (`dot`) takes too long. Long cycles of calls across many teams can give `dot` a
    hundred ranks and millions of crossings to weigh, minutes of work; `fdp` draws them in seconds.
    Text that is not a layered graph of this module is returned as it is."""
    head, found, rest = dot.partition(LAYERED)
    return head + "graph [layout=fdp, " + rest if found and head.count("\n") == 1 else dot


def _header(teams_only: bool = False, root: str | None = None, force: bool = False) -> list[str]:
    """The graph's attributes. Services flow left to right (dot). A graph of team folders alone has
    no such order (teams call each other both ways): it is laid out by force (neato) with straight
    lines and larger text, so that at fit-to-screen it is about square and its labels can be read;
    nodes are drawn over the lines that cross them. A view around a focused service (`root`) is laid
    out in rings around it (twopi): the service in the middle, each ring one hop further out. So is a
    team among the folders of its neighbours, around an invisible centre: its services on the inner
    ring, the folders outside (layered, the folders that both call and are called by the team pull
    the drawing into long back edges; by force, it spreads out and its labels cannot be read at fit).
    Their lines are straight (curved around the nodes they take Graphviz 20 to 50 times as long) and
    drawn under the nodes. A large team view without folders (`force`, view_rules.by_force) is laid
    out by force too, stretched to the canvas, with straight lines. Nodes are kept 4 points apart (8 made the drawing of a focus with 24
    neighbours 8% larger, its labels as much smaller at fit)."""
    layout = ('layout=neato, overlap=false, sep="+6", splines=false, outputorder=edgesfirst' if teams_only else
              'layout=neato, overlap=false, sep="+4", splines=false, outputorder=edgesfirst, '
              f'ratio={CANVAS_RATIO}' if force else
              f'layout=twopi, root={quote(root)}, ranksep=1.5, overlap=false, sep="+4", splines=line, '
              f'outputorder=edgesfirst, ratio={CANVAS_RATIO}' if root else
              'layout=dot, rankdir=LR, nodesep=0.35, ranksep=0.7, newrank=true')
    large = teams_only or root or force  # larger text: these drawings are shrunk to fit
    return ['digraph topology {',
            f'  graph [{layout}, fontname="Helvetica", fontsize=11, bgcolor="transparent", '
            'tooltip="Switchboard topology"];',
            f'  node [fontname="Helvetica", fontsize={14 if large else 11}, shape=box, style="rounded,filled", '
            'fillcolor="#ffffff", color="#5b6475", penwidth=1.2, margin="0.12,0.06"];',
            f'  edge [fontname="Helvetica", fontsize={11 if large else 9}, color="#8a94a6", arrowsize=0.7];']


def _finish(lines: list[str], strongest: list[tuple[tuple[str, str, str], TeamLinks]], groups: int, *,
            observed: bool = False, channel_lines: bool = False, radial: bool = False) -> str:
    """The lines so far, the strongest team links, a note of how many of all `groups` were left out,
    the legend (in a radial drawing, below it as the graph's label: a node of its own would be
    placed beside the rings and push the focus off the middle)."""
    lines += [_group_edge(key, found) for key, found in strongest]
    hidden = groups - len(strongest)
    if radial:
        note = f"{hidden} weaker team links not drawn: expand a team to see them" if hidden else ""
        lines += [f'  label={_legend_table(observed, channel_lines, columns=4, note=note)}; labelloc="b"; '
                  'fontsize=9; fontcolor="#5b6475";', "}"]
        return "\n".join(lines) + "\n"
    if hidden:
        lines.append(f"  label={quote(f'{hidden} weaker team links not drawn: expand a team or focus a service to see them')}; "
                     'labelloc="t"; fontcolor="#5b6475";')
    lines += _legend(observed=observed, channel_lines=channel_lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _strongest(groups: dict, place=None) -> list[tuple[tuple[str, str, str], TeamLinks]]:
    """The GROUP_EDGE_BUDGET groups of links with the highest counts (ties: first by their drawn
    (source, target, kind)), in that order; `place` turns a key into that drawn triple."""
    place = place or (lambda key: key)
    if len(groups) > GROUP_EDGE_BUDGET:  # only the groups as strong as the weakest one kept are ranked
        least = heapq.nlargest(GROUP_EDGE_BUDGET, (found.count for found in groups.values()))[-1]
        groups = {key: found for key, found in groups.items() if found.count >= least}
    ranked = sorted((-found.count, place(key), found) for key, found in groups.items())[:GROUP_EDGE_BUDGET]
    return sorted((key, found) for _, key, found in ranked)


# --- pieces --------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A DOT string literal (most texts have nothing to escape: that is checked first, as it is faster).

    Backslashes are doubled (so Graphviz's own escapes such as \\N or \\G and a closing \\" cannot
    be formed), quotes escaped, every line break written as \\n, and control characters and lone
    surrogates dropped (a NUL would end the text for Graphviz, a surrogate cannot be written)."""
    text = str(text)
    if "\\" in text or '"' in text or "\n" in text or not text.isprintable():
        text = _UNPRINTABLE.sub("", _BREAKS.sub("\n", text))
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def dot_attrs(**values) -> str:
    """A DOT attribute list, every value quoted (None values left out)."""
    return "[" + ", ".join([f"{key}={quote(value)}" for key, value in values.items() if value is not None]) + "]"


PLACEHOLDERS = "(placeholders)"  # the group of placeholders, as named in `expand`


def _collapsed_teams(shown: Topology, view: View) -> set[str]:
    """Teams (by name; "" for the placeholders) drawn as one node each."""
    if len(shown.nodes) <= view.collapse_over:
        return set()
    teams = {node.team or "" for node in shown.nodes.values()}
    expanded = {"" if name == PLACEHOLDERS else name for name in view.expand}
    focus = shown.nodes.get(view.focus or "")
    home = {view.team} if view.team else {focus.team or ""} if focus else set()  # the team the view is about
    return teams - expanded - home


def _group_id(team: str) -> str:
    return f"team:{team or PLACEHOLDERS}"


def _places(shown: Topology, collapsed: set[str], pinned: set[str] = frozenset()) -> dict[str, str]:
    """Where each service is drawn: its own node, or its collapsed team's node. The `pinned` ones (the
    services of a highlighted chain) are drawn as themselves beside their team's folder: opening
    their whole teams instead drew 200 nodes whose labels could not be read at fit."""
    return {name: _group_id(node.team or "") if (node.team or "") in collapsed and name not in pinned else name
            for name, node in shown.nodes.items()}


def _marks(topology: Topology, view: View) -> dict[str, str]:
    marks = {}
    if view.blast:
        failing, delayed = blast_radius(topology, view.blast)
        marks.update({name: "delayed" for name in delayed})
        marks.update({name: "failing" for name in failing})
        marks[view.blast] = "origin"
    for name in view.chain:
        marks.setdefault(name, "chain")
    if view.focus:
        marks[view.focus] = "focus"
    return marks


def _clusters(shown: Topology, collapsed: set[str], marks: dict, urls: Urls, places: dict[str, str]) -> list[str]:
    by_team: dict[str, list[Node]] = {}
    for node in shown.nodes.values():
        by_team.setdefault(node.team or "", []).append(node)
    lines = []
    for index, (team, members) in enumerate(sorted(by_team.items())):
        if team in collapsed:
            folded = [node for node in members if places[node.name] != node.name]
            lines += ["  " + _node(node, marks.get(node.name, ""), urls) for node in members
                      if places[node.name] == node.name]  # pinned: beside the folder
            if folded:
                lines.append(_group_node(team, len(folded), urls, health_counts(node.health for node in folded)))
            continue
        if team:
            lines.append(f"  subgraph cluster_{index} {{")
            lines.append(f'    label={quote(team)}; style="rounded,dashed"; color="#b8c0cc"; fontcolor="#5b6475";')
        lines += ["    " + _node(node, marks.get(node.name, ""), urls) for node in members]
        if team:
            lines.append("  }")
    return lines


def _group_node(team: str, size: int, urls: Urls, health: dict[str, int] | None = None) -> str:
    """A collapsed team: its size, and how many of its services probes find down or degraded."""
    health = health or {}
    unwell = " · ".join(f"{count} {state}" for state, count in health.items())
    fill = HEALTH_FILL[next(iter(health))] if health else "#eef2f8"
    return "  " + quote(_group_id(team)) + " " + dot_attrs(
        label=f"{team or 'placeholders'}\n{size} services" + (f"\n{unwell}" if unwell else ""), shape="folder",
        fillcolor=fill, tooltip=f"{team or 'Placeholders'}: {size} services{', ' + unwell if unwell else ''} "
                                "(click to expand)",
        URL=urls.expand.format(team=team or PLACEHOLDERS), target="_top")


def _node(node: Node, mark: str, urls: Urls) -> str:
    fill = {"origin": BLAST_FILL, "failing": BLAST_FILL, "delayed": DELAYED_FILL, "focus": FOCUS_FILL}.get(
        mark, HEALTH_FILL.get(node.health, "#ffffff"))
    details = [node.title or node.name, f"team {node.team}" if node.team else "placeholder (not registered)"]
    if node.availability is not None:
        details.append(f"availability {node.availability * 100:.3g}% ({node.availability_source})")
    if node.health:
        details.append(f"health: {node.health}")
    style = "rounded,filled,dashed" if node.placeholder else "rounded,filled"
    focus = mark == "focus"  # the focused service: dark fill, bold white label, thick border
    return quote(node.name) + " " + dot_attrs(
        label=node.name, fillcolor=fill, style=style, color="#0d3a8a" if focus else CHAIN_PEN if mark == "chain" else (
            "#9aa3b2" if node.placeholder else "#c62828" if mark in ("origin", "failing") else "#5b6475"),
        fontcolor="#ffffff" if focus else "#6b7385" if node.placeholder else None,
        fontname="Helvetica-Bold" if focus else None, fontsize="16" if focus else None,
        penwidth="3" if focus else "2" if mark in ("origin", "chain") else None, id="focus" if focus else None,
        tooltip=" · ".join(details) + (" · the focus of this view" if focus else ""),
        URL=urls.service.format(name=node.name), target="_top",
    )


def _channel_id(link: Link) -> str:
    return f"channel:{link.broker or 'broker'}:{link.channel}"


def _grouped(places: dict[str, str], link: Link) -> bool:
    """True when either end of the link is inside a collapsed team."""
    return places[link.source] != link.source or places[link.target] != link.target


def _channel_routes(shown: Topology, places: dict[str, str]) -> list[tuple[str, str, str]]:
    """(channel id, producer, consumer) of every message route through a channel between two
    services drawn one by one."""
    return [(_channel_id(link), link.source, link.target) for link in shown.links
            if link.asynchronous and link.channel and not _grouped(places, link)]


def _channels(shown: Topology, places: dict[str, str], as_lines: dict[str, tuple[str, str]]) -> list[str]:
    seen = {}
    for link in shown.links:
        if link.asynchronous and link.channel and not _grouped(places, link) and _channel_id(link) not in as_lines:
            seen.setdefault(_channel_id(link), link)
    return [_channel(channel_id, link) for channel_id, link in sorted(seen.items())]


def _channel(channel_id: str, link: Link) -> str:
    kind = "topic" if link.style == "pubsub" else "queue"
    on = f" on {link.broker}" if link.broker else ""
    return "  " + quote(channel_id) + " " + dot_attrs(
        label=f"{link.channel}\n{kind}{on}", shape="hexagon" if kind == "topic" else "cylinder", style="filled",
        fillcolor="#f3ecfb" if kind == "topic" else "#eaf4f4", color="#8e6cc0" if kind == "topic" else "#4c8f8f",
        fontsize="9", tooltip=f"{kind.capitalize()} {link.channel}{on}")


def _edge_colour(link: Link) -> str:
    if link.deliberate:
        return EDGE_COLOUR["deliberate"]
    if link.mismatch:
        return EDGE_COLOUR[link.mismatch]
    return EDGE_COLOUR["ok"] if link.recommended else EDGE_COLOUR[""]


def _edges(shown: Topology, places: dict[str, str], marks: dict, urls: Urls, view: View,
           as_lines: dict[str, tuple[str, str]], *, quiet: bool = False) -> tuple[list[str], dict[tuple[str, str, str], TeamLinks]]:
    """The edge lines between services and channels (or through a channel drawn as a line), and the
    links to or from collapsed teams merged per (source, target, kind). `quiet` (radial drawings):
    no REST/gRPC or publish/send words on the lines, which all cross the middle around the focus
    and covered its neighbours' names; the line's style says sync or async, its tooltip the style."""
    chain_pairs = set(zip(view.chain, view.chain[1:]))
    lines, drawn, groups = [], set(), {}
    for link in shown.links:
        source, target = places[link.source], places[link.target]
        if source != link.source or target != link.target:
            if source != target:
                link_count(groups, (source, target, link.kind), link)
            continue
        colour = _edge_colour(link)
        tooltip = f"{link.source}/{link.interaction}: {link.style or 'undecided'}"
        if link.recommended:
            tooltip += f"; recommended {link.recommended}" + (f" ({link.mismatch} mismatch)" if link.mismatch else "")
        url = urls.interaction.format(source=link.source, interaction=link.interaction)
        in_chain = (link.source, link.target) in chain_pairs
        attrs = dict(color=CHAIN_PEN if in_chain else colour, penwidth="2.4" if in_chain else "1.3",
                     tooltip=tooltip, URL=url, target="_top")
        if link.asynchronous and link.channel and _channel_id(link) in as_lines:
            if _channel_id(link) not in drawn:
                drawn.add(_channel_id(link))
                lines.append(_channel_line(link, attrs))
            continue
        if link.asynchronous and link.channel:
            channel = quote(_channel_id(link))
            key = (source, channel, target)
            if (source, channel) not in drawn:
                drawn.add((source, channel))
                lines.append(f"  {quote(source)} -> {channel} " + dot_attrs(style="dashed", label=None if quiet else "publish" if link.style == "pubsub" else "send", **attrs))
            if key not in drawn:
                drawn.add(key)
                lines.append(f"  {channel} -> {quote(target)} " + dot_attrs(style="dashed", **attrs))
            continue
        key = (source, target, link.interaction)
        if key in drawn:
            continue
        drawn.add(key)
        lines.append(f"  {quote(source)} -> {quote(target)} " + dot_attrs(
            style=KIND_STYLE[link.kind], label=None if quiet else SYNC_LABELS.get(link.style), **attrs))
    return lines, links_counted(groups)


def _channel_line(link: Link, attrs: dict) -> str:
    """A topic or queue with one producer and one consumer, drawn as a dashed line labelled with its name."""
    kind = "topic" if link.style == "pubsub" else "queue"
    on = f" on {link.broker}" if link.broker else ""
    attrs = attrs | {"tooltip": f"{link.source} → {kind} {link.channel}{on} → {link.target} ({attrs['tooltip']})"}
    return f"  {quote(link.source)} -> {quote(link.target)} " + dot_attrs(
        style="dashed", label=f"{'⬡' if kind == 'topic' else '⛁'} {link.channel}", fontcolor="#6b4fa0", **attrs)


KIND_STYLE = {"sync": "solid", "async": "dashed", "undecided": "dotted"}
KIND_WORDS = {"sync": "sync calls", "async": "async messages", "undecided": "undecided interactions"}


def _group_edge(key: tuple, found: TeamLinks) -> str:
    """One edge for all the links of one kind between a collapsed team and another node (written out
    directly, not through dot_attrs: a large overview has a hundred of them, and only the names and the
    tooltip can hold characters to escape)."""
    source, target, kind = key
    count = found.count
    tooltip = f"{count} {KIND_WORDS[kind]} from {source.removeprefix('team:')} to {target.removeprefix('team:')}"
    if found.mismatched:
        tooltip += f"; {found.mismatched} with a mismatch (worst: {found.worst})"
    colour = EDGE_COLOUR[found.worst] if found.worst else EDGE_COLOUR["ok"]
    return (f'  {quote(source)} -> {quote(target)} [style="{KIND_STYLE[kind]}", label="{count}", '
            f'penwidth="{min(1 + count.bit_length() * 0.6, 5):.1f}", color="{colour}", tooltip={quote(tooltip)}]')


def _legend(*, observed: bool = False, channel_lines: bool = False) -> list[str]:
    return ['  subgraph cluster_legend { label=""; style="rounded"; color="#d5dae2"; fontsize=9;',
            f'    legend [shape=plaintext, style="", fontsize=9, label={_legend_table(observed, channel_lines)}, '
            'tooltip="Legend"];', "  }"]


def _legend_table(observed: bool, channel_lines: bool, *, columns: int = 1, note: str = "") -> str:
    """The legend as an HTML-like label: one entry a row, or `columns` entries a row; `note` first."""
    rows = [
        ("sync call (REST/gRPC)", "solid", EDGE_COLOUR["ok"]),
        ("async via topic/queue", "dashed", EDGE_COLOUR["ok"]),
        ("undecided", "dotted", EDGE_COLOUR[""]),
        ("mismatch: error", "solid", EDGE_COLOUR["error"]),
        ("mismatch: warning", "solid", EDGE_COLOUR["warning"]),
        ("deliberate deviation", "solid", EDGE_COLOUR["deliberate"]),
    ] + [("observed, not declared", "dashed", EDGE_COLOUR["warning"])] * observed + [
        ("⬡/⛁ name: a topic/queue with one producer and one consumer", "dashed", "#6b4fa0")] * channel_lines
    entries = [f'<TD><FONT COLOR="{colour}">{"━━━" if style == "solid" else "╍╍╍" if style == "dashed" else "┈┈┈"}'
               f'</FONT></TD><TD ALIGN="LEFT">{text}</TD>' for text, style, colour in rows]
    entries += ['<TD>▭</TD><TD ALIGN="LEFT">service (fill: health)</TD>', '<TD>⬡</TD><TD ALIGN="LEFT">topic</TD>',
                '<TD>⛁</TD><TD ALIGN="LEFT">queue</TD>', '<TD>┆▭┆</TD><TD ALIGN="LEFT">placeholder</TD>']
    body = "".join(f"<TR>{''.join(entries[start:start + columns])}</TR>" for start in range(0, len(entries), columns))
    head = f'<TR><TD COLSPAN="{2 * columns}"><B>Legend</B></TD></TR>'
    if note:
        head = f'<TR><TD COLSPAN="{2 * columns}">{note}</TD></TR>' + head
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{head}{body}</TABLE>>'

