"""A plan drawn: the part of the topology it touches (the services of the changed, new and removed
interactions and their direct neighbours), with changed edges highlighted in their new style, removed
ones struck, new ones marked, and the before/after numbers beside it. Pure: graph objects and the
evaluation in, DOT text out (topology/render.py draws it)."""
from html import escape
from textwrap import wrap

from topology import graph
from topology.rendering import KIND_STYLE, Urls, dot_attrs, quote

from .changes import Change

MAX_NODES = 60  # the touched services first, then their neighbours, until this many
MAX_LINES = 6  # better or worse sentences listed beside the drawing; the rest are counted
WRAP = 46  # characters a line of a sentence beside the drawing, so that the drawing keeps its width
CHANGED, REMOVED, ADDED = "#1f5fd1", "#c62828", "#2e7d32"
UNCHANGED, TOUCHED_FILL, PLACEHOLDER = "#a3abb9", "#dbe7ff", "#9aa3b2"
BOX = '<TABLE BORDER="1" COLOR="#d5dae2" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3">'


def plan_dot(*, before: graph.Topology, after: graph.Topology, changes: list[Change], result: dict,
             urls: Urls = Urls()) -> str:
    """The DOT text of a plan's drawing; `result` is the plan's evaluation (plans.evaluation)."""
    kinds = {(c.source, c.name): c.kind for c in changes}
    touched = _touched(before, after, kinds)
    drawn, left_out = _drawn(before, after, touched)
    lines = _header()
    lines += [_node(before.nodes.get(name) or after.nodes[name], name in touched, urls) for name in sorted(drawn)]
    lines += _edges(before, after, kinds, drawn, urls)
    lines += _summary(result, left_out)
    lines += _legend()
    lines += [f'  {quote(name)} -> "plan:summary" [style=invis, weight=0]' for name in sorted(drawn)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _touched(before: graph.Topology, after: graph.Topology, kinds: dict) -> set[str]:
    """The sources and targets of every changed, removed and new interaction."""
    found = {source for source, _ in kinds}
    for topology in (before, after):
        found |= {link.target for link in topology.links if (link.source, link.interaction) in kinds}
    return found


def _drawn(before: graph.Topology, after: graph.Topology, touched: set[str]) -> tuple[set[str], int]:
    """The touched services and their direct neighbours (either direction, before or after), at most
    MAX_NODES of them (touched ones first, then by name), and how many were left out."""
    near = set()
    for topology in (before, after):
        for link in topology.links:
            if link.source in touched:
                near.add(link.target)
            if link.target in touched:
                near.add(link.source)
    ranked = sorted(touched) + sorted(near - touched)
    return set(ranked[:MAX_NODES]), max(0, len(ranked) - MAX_NODES)


def _header() -> list[str]:
    return ['digraph plan {',
            '  graph [layout=dot, rankdir=LR, nodesep=0.4, ranksep=0.9, newrank=true, fontname="Helvetica", '
            'fontsize=11, bgcolor="transparent", tooltip="The change plan drawn"];',
            '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded,filled", fillcolor="#ffffff", '
            'color="#5b6475", penwidth=1.2, margin="0.12,0.06"];',
            '  edge [fontname="Helvetica", fontsize=9, color="#a3abb9", arrowsize=0.7];']


def _node(node: graph.Node, touched: bool, urls: Urls) -> str:
    about = [node.title or node.name, f"team {node.team}" if node.team else "placeholder (not registered)"]
    if touched:
        about.append("touched by the plan")
    return "  " + quote(node.name) + " " + dot_attrs(
        label=node.name, fillcolor=TOUCHED_FILL if touched else "#ffffff",
        style="rounded,filled,dashed" if node.placeholder else "rounded,filled",
        color=PLACEHOLDER if node.placeholder else "#5b6475", penwidth="2" if touched else None,
        tooltip=" · ".join(about), URL=urls.service.format(name=node.name), target="_top")


def _keyed(topology: graph.Topology, drawn: set[str]) -> dict[tuple[str, str, str], graph.Link]:
    return {(link.source, link.interaction, link.target): link for link in topology.links
            if link.source in drawn and link.target in drawn}


def _edges(before: graph.Topology, after: graph.Topology, kinds: dict, drawn: set[str], urls: Urls) -> list[str]:
    was, now = _keyed(before, drawn), _keyed(after, drawn)
    lines = []
    for key in sorted(was.keys() | now.keys()):
        source, name, target = key
        kind = kinds.get((source, name))
        link = now.get(key) or was[key]
        url = urls.interaction.format(source=source, interaction=name)
        if kind == "remove":
            attrs = dict(style="dashed", color=REMOVED, fontcolor=REMOVED, penwidth="2.2", arrowhead="tee",
                         label=f"removed: {name}", tooltip=f"{source}/{name} removed (was {_style(link)})")
        elif kind == "add":
            attrs = dict(style=KIND_STYLE[link.kind], color=ADDED, fontcolor=ADDED, penwidth="3",
                         label=f"new: {name}\n{_style(link)}{_on(link)}", tooltip=f"{source}/{name}: new, {_style(link)}")
        elif kind == "change":
            old = was.get(key, link)
            attrs = dict(style=KIND_STYLE[link.kind], color=CHANGED, fontcolor=CHANGED, penwidth="3",
                         label=f"{name}\n{_style(old)} → {_style(link)}{_on(link)}",
                         tooltip=f"{source}/{name}: {_style(old)} → {_style(link)}")
        else:
            attrs = dict(style=KIND_STYLE[link.kind], color=UNCHANGED, penwidth="1.1",
                         tooltip=f"{source}/{name}: {_style(link)} (unchanged)")
        lines.append(f"  {quote(source)} -> {quote(target)} " + dot_attrs(**attrs, URL=url, target="_top"))
    return lines


def _style(link: graph.Link) -> str:
    return link.style or "undecided"


def _on(link: graph.Link) -> str:
    if not link.asynchronous or not link.channel:
        return ""
    return f"\n{link.channel}" + (f" ({link.broker})" if link.broker else "")


def _summary(result: dict, left_out: int) -> list[str]:
    """The before/after numbers and what got better and worse, as a table beside the drawing."""
    def row(left: str, right: str, colour: str = "#1f2430") -> str:
        return (f'<TR><TD ALIGN="LEFT"><FONT COLOR="{colour}">{_html(left)}</FONT></TD>'
                f'<TD ALIGN="RIGHT"><FONT COLOR="{colour}">{_html(right)}</FONT></TD></TR>')

    def note(text: str, colour: str = "#5b6475") -> str:
        lines = '<BR ALIGN="LEFT"/>'.join(_html(line) for line in wrap(text, WRAP, subsequent_indent="   "))
        return f'<TR><TD ALIGN="LEFT" COLSPAN="2"><FONT COLOR="{colour}">{lines}<BR ALIGN="LEFT"/></FONT></TD></TR>'

    rows = [row("findings", f"{len(result['before']['findings'])} → {len(result['after']['findings'])}"),
            row("unsettled mismatches", f"{len(result['before']['mismatches'])} → {len(result['after']['mismatches'])}"),
            row("better", str(len(result["better"])), ADDED), row("worse", str(len(result["worse"])), REMOVED)]
    for key, mark, colour in (("better", "+", ADDED), ("worse", "−", REMOVED)):
        listed = result[key][:MAX_LINES]
        rows += [note(f"{mark} {_short(line)}", colour) for line in listed]
        if len(result[key]) > MAX_LINES:
            rows.append(note(f"… {len(result[key]) - MAX_LINES} more {key}"))
    if left_out:
        rows.append(note(f"{left_out} neighbouring services not drawn"))
    table = (f'<{BOX}<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Before → after</B></TD></TR>{"".join(rows)}</TABLE>>')
    return [f'  "plan:summary" [shape=plain, style="", fontsize=10, label={table}];']


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _html(text: str) -> str:
    """Text for a Graphviz HTML-like label: markup escaped, control characters dropped."""
    return escape("".join(ch for ch in str(text) if ch.isprintable()), quote=True)


def _legend() -> list[str]:
    items = [("changed (new style)", "━━━", CHANGED), ("removed", "╍╍╍", REMOVED), ("new", "━━━", ADDED),
             ("unchanged", "━━━", UNCHANGED)]
    cells = "".join(f'<TR><TD><FONT COLOR="{colour}">{line}</FONT></TD><TD ALIGN="LEFT">{text}</TD></TR>'
                    for text, line, colour in items)
    cells += '<TR><TD>▭</TD><TD ALIGN="LEFT">blue fill: touched by the plan</TD></TR>'
    return [f'  "plan:legend" [shape=plain, style="", fontsize=9, label=<{BOX}<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>'
            f'{cells}</TABLE>>];',
            '  { rank=same; "plan:summary"; "plan:legend"; }  // beside the drawing, on its right (edges below)']
