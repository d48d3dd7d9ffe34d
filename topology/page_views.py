"""Browser pages of the topology diagram and of the flows (sequence diagrams).

Thin views: parse the query or the form, read through a selector (the topology is plain data loaded
once per data stamp), let the pure cores build DOT or Mermaid text, render. Graphviz runs server-side
(cached by content); Mermaid text is drawn in the browser by the vendored mermaid.js.
"""
from collections import Counter
from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from core.errors import Forbidden, Invalid

from .extensions import registered
from . import budgets, graph, mermaid
from .authentication import ui_actor
from .flow_forms import DEPTH_DEFAULT, DEPTH_MAX, DeriveForm, FlowForm
from .flows import entry_steps, flow_delete, flow_list, flow_save, flow_steps
from .render import RenderError, svg_inline, view_drawing
from .rendering import MAX_HOPS, Layout, Urls, View, home_team, view_layout, view_parse, view_select
from .selectors import teams_writable_by
from .graph_selectors import budget_checks_of, findings_current, topology_current
from .view_rules import TOO_LARGE, TOO_MANY_SERVICES, findings_in_view, too_large

FINDINGS_SHOWN = 40  # the side panel lists this many, worst first; the API has them all
DERIVED_STEPS = 60  # as the sequence diagram API: a derived flow stops after this many steps




# --- topology ----------------------------------------------------------------------------------


def view_params(view: View, **changes) -> dict:
    """The query parameters of a view, canonical (defaults left out), with some fields changed."""
    view = replace(view, **changes)
    params = {}
    if view.team:
        params["team"] = view.team
    if view.focus:
        params["focus"] = view.focus
        if view.hops != 1:
            params["hops"] = view.hops
    if view.blast:
        params["blast"] = view.blast
    if view.chain:
        params["chain"] = ",".join(view.chain)
    if view.expand:
        params["expand"] = ",".join(sorted(view.expand))
    if view.alone and view.team:
        params["alone"] = "1"
    if view.channels:
        params["channels"] = view.channels
    if view.anyway:
        params["draw"] = "all"
    return params


def query(params: dict) -> str:
    return urlencode(params, safe=",")


def _expand_url(view: View) -> str:
    """The link of a collapsed team in the SVG: this view, with that team added to `expand`; the
    fragment tells topology.js which team to zoom to once it is drawn."""
    kept = query(view_params(view, expand=frozenset()))  # url-encoded: no { } left to confuse format()
    current = "".join(f"{team}," for team in sorted(view.expand))
    return f"?{kept + '&' if kept else ''}expand={current}{{team}}#opened-{{team}}"


def _page_svg(stamp: str, topology: graph.Topology, view: View) -> bytes:
    """The SVG of a view whose team links keep the page's parameters."""
    return view_drawing(stamp, view, "svg", Urls(expand=_expand_url(view)), topology)


def _named(view: View) -> tuple[str, ...]:
    """The services a view names: its chain, focus and blast origin."""
    return tuple(dict.fromkeys((*view.chain, *filter(None, (view.focus, view.blast)))))


def _with_named_teams(topology: graph.Topology, view: View, shown: graph.Topology) -> View:
    """A blast origin is no use hidden in a collapsed team: its team is opened. (The focus's team is
    never folded, being what the view is about; the services of a highlighted chain are drawn as
    themselves beside their teams' folders.)"""
    if len(shown.nodes) <= view.collapse_over or not view.blast or view.focus:
        return view
    teams = {topology.nodes[view.blast].team} - {None}
    return replace(view, expand=view.expand | teams)


def _controls(topology: graph.Topology, found: list[graph.Finding]) -> dict:
    return {
        "teams": sorted({node.team for node in topology.nodes.values() if node.team}),
        "services": sorted(topology.nodes),
        "chains": list(dict.fromkeys(finding.services for finding in found
                                     if finding.kind in ("sync-chain", budgets.KIND))),
        "hop_choices": range(1, MAX_HOPS + 1),
    }


def _blast(topology: graph.Topology, view: View) -> dict | None:
    if not view.blast:
        return None
    failing, delayed = graph.blast_radius(topology, view.blast)
    return {"failing": sorted(failing), "delayed": sorted(delayed)}


def _shown_findings(found: list[graph.Finding], layout: Layout, view: View) -> tuple[list[graph.Finding], int]:
    """The findings of the services in the view (view_rules.findings_in_view: not those wholly inside
    the folders of other teams), and how many are left out; the whole system has them all."""
    if view.whole:
        return found, 0
    return findings_in_view(found, layout.shown.nodes, [name for name, at in layout.places.items() if at == name])


FOCUS_OFFERED = 3  # a team view too large to draw offers to focus on its this many busiest services


def busiest_of_team(topology: graph.Topology, team: str, count: int = FOCUS_OFFERED) -> list[tuple[str, int]]:
    """The `count` services of a team with the most links (either way), most first (ties by name)."""
    links = Counter()
    for link in topology.links:
        for name in (link.source, link.target):
            node = topology.nodes.get(name)
            if node is not None and node.team == team:
                links[name] += 1
    return sorted(links.items(), key=lambda item: (-item[1], item[0]))[:count]


def narrower_views(topology: graph.Topology, view: View) -> list[dict]:
    """Views narrower than a too large one, each with its query and how many nodes it draws: fewer
    hops around the focus; the team without its neighbours, or one of its busiest services and its
    direct neighbours."""
    options = []
    if view.focus:
        for hops in sorted({view.hops - 1, 1} - {0}, reverse=True):
            options.append((f"{hops} hop{'s' if hops > 1 else ''} around {view.focus}", replace(view, hops=hops)))
    if view.team and not view.alone:
        options.append((f"team {view.team} alone, without its neighbours", replace(view, alone=True)))
    if view.team and not view.focus:
        options += [(f"{name} and its direct neighbours ({links} links)", View(focus=name, channels=view.channels))
                    for name, links in busiest_of_team(topology, view.team)]
    found = []
    for label, narrower in options:
        layout = view_layout(topology, narrower)
        found.append({"label": label, "query": query(view_params(narrower)), "nodes": layout.nodes,
                      "too_large": too_large(layout.nodes, len(layout.shown.nodes))})
    return found


def _too_large(topology: graph.Topology, view: View, layout: Layout) -> dict | None:
    """What the page offers instead of drawing a view of more than TOO_LARGE nodes (a view over the
    collapse limit without a team or focus draws its teams as folders and is not measured)."""
    folders_only = not (view.team or view.focus) and len(layout.shown.nodes) > view.collapse_over
    if folders_only or not too_large(layout.nodes, len(layout.shown.nodes), anyway=view.anyway):
        return None
    return {"nodes": layout.nodes, "services": len(layout.shown.nodes), "limit": TOO_LARGE,
            "most": TOO_MANY_SERVICES, "options": narrower_views(topology, view),
            "anyway": query(view_params(view, anyway=True))}


def _budget_rows(topology: graph.Topology, view: View) -> list[dict]:
    """The latency budgets whose chain the view highlights, with their bars (none without a chain)."""
    if len(view.chain) < 2:
        return []
    return [budgets.budget_bar(check) for check in budgets.budget_along(budget_checks_of(topology), view.chain)]


def _channel_toggle(view: View, layout: Layout) -> dict | None:
    """The link that draws topics and queues the other way, when some are (or could be) lines."""
    if layout.lines:
        return {"query": query(view_params(view, channels="nodes")), "text": "Draw topics and queues as nodes",
                "count": len(layout.lines)}
    if view.channels == "nodes":
        return {"query": query(view_params(view, channels="lines")), "count": 0,
                "text": "Draw topics and queues with one producer and one consumer as labelled lines"}
    return None


def _view_context(topology: graph.Topology, found: list[graph.Finding], asked: View, view: View,
                  layout: Layout) -> dict:
    """What the page says about a view: `asked` as parsed, `view` as drawn (named teams opened)."""
    shown = layout.shown
    params = view_params(view)
    collapsed = len(shown.nodes) > view.collapse_over and not (view.team or view.focus)
    in_view, outside = _shown_findings(found, layout, view)
    return {
        "view": view, "query": query(params), "active": bool(params), "shown_count": len(shown.nodes),
        "collapsed": collapsed, "zoom_to": ",".join(_named(view)) if collapsed else "",
        "expanded": [{"team": team, "opened_for_view": team not in asked.expand,
                      "collapse": query(view_params(view, expand=asked.expand - {team}))}
                     for team in sorted(view.expand)],
        "blast_radius": _blast(topology, view), "chain_param": params.get("chain", ""),
        "expand_param": ",".join(sorted(asked.expand)),
        "findings": in_view[:FINDINGS_SHOWN], "findings_more": max(0, len(in_view) - FINDINGS_SHOWN),
        "findings_outside": outside, "folded": sorted(layout.collapsed - {home_team(topology, view)})
        if view.team or view.focus else [],
        "drawn_nodes": layout.nodes, "too_large": _too_large(topology, view, layout),
        "channel_toggle": _channel_toggle(view, layout), "budget_checks": _budget_rows(topology, view),
    }


def _plan_overlay(name: str) -> tuple[dict | None, dict[str, str]]:
    """The plan drawn over the page (`?plan=`), by the app that owns plans; or the error to show."""
    if not name:
        return None, {}
    overlay = registered.plan_overlay(name) if registered.plan_overlay else None
    return (overlay, {}) if overlay else (None, {"plan": f"there is no saved plan named {name!r}"})


@login_required
def topology_page(request):
    overlay, problems = _plan_overlay(request.GET.get("plan", "").strip()[:80])
    if overlay or problems:
        context = {"plan_overlay": overlay, "errors": problems, "params": request.GET}
        return render(request, "topology/topology_plan.html", context, status=404 if problems else 200)
    stamp, topology = topology_current()
    found = findings_current()
    asked, errors = view_parse(request.GET, topology)
    context = {"errors": errors, "params": request.GET, "expand_param": request.GET.get("expand", ""),
               **_controls(topology, found)}
    if errors:
        return render(request, "topology/topology.html", context, status=400)
    shown = view_select(topology, asked)  # which services: `expand` only changes how they are drawn
    view = _with_named_teams(topology, asked, shown)
    context |= _view_context(topology, found, asked, view, view_layout(topology, view))
    svg, problem = "", ""
    if not context["too_large"]:
        try:
            svg = svg_inline(_page_svg(stamp, topology, view))
        except RenderError as exc:
            problem = str(exc)
    context |= {"svg": svg, "problem": problem}
    return render(request, "topology/topology.html", context, status=503 if problem else 200)


# --- flows -------------------------------------------------------------------------------------


@login_required
def flow_list_page(request):
    topology = topology_current()[1]
    return render(request, "topology/flow_list.html", {
        "flows": flow_list().order_by("name"),
        "services": sorted(topology.nodes), "depth": DEPTH_DEFAULT, "depth_max": DEPTH_MAX,
        "can_create": teams_writable_by(actor=ui_actor(request)).exists(),
    })


@login_required
def flow_derive(request):
    """A flow derived from an entry service by following its interactions, drawn like a saved one."""
    topology = topology_current()[1]
    form = DeriveForm(request.GET, services=topology.nodes)
    context = {"form": form, "services": sorted(topology.nodes), "depth": DEPTH_DEFAULT, "depth_max": DEPTH_MAX}
    if not form.is_valid():
        return render(request, "topology/flow_derive.html", context, status=400)
    entry, depth = form.cleaned_data["entry"], form.cleaned_data["depth"]
    steps = entry_steps(topology, entry, depth=depth, steps=DERIVED_STEPS)
    return render(request, "topology/flow_derive.html", {
        **context, "entry": entry, "steps": steps,
        "truncated": len(steps) >= DERIVED_STEPS,
        "source": mermaid.sequence_diagram(steps, title=f"From {entry}") if steps else "",
        "download": query({"entry": entry, "depth": depth}),
    })


@login_required
def flow_detail(request, slug):
    flow = get_object_or_404(flow_list(), slug=slug)
    steps = flow_steps(flow)
    return render(request, "topology/flow_detail.html", {
        "flow": flow, "steps": steps, "source": mermaid.sequence_diagram(steps, title=flow.name),
        "can_write": ui_actor(request).can_write_team(flow.team_id), "download": query({"flow": flow.slug}),
    })


def _writable_flow(request, slug):
    flow = get_object_or_404(flow_list(), slug=slug)
    actor = ui_actor(request)
    if not actor.can_write_team(flow.team_id):
        raise PermissionDenied(f"Only maintainers of {flow.team or 'its team'} can change the flow {flow.name}.")
    return actor, flow


@login_required
def flow_form_page(request, slug=None):
    """A new flow (flow-create), or the flow `slug` edited (flow-edit)."""
    actor, flow = _writable_flow(request, slug) if slug else (ui_actor(request), None)
    teams = teams_writable_by(actor=actor)
    if flow is None and not teams.exists():
        raise PermissionDenied("You maintain no team, so you cannot write flows.")
    initial = FlowForm.initial_of(flow) if flow else {"team": teams.first() if teams.count() == 1 else None}
    form = FlowForm(request.POST or None, teams=teams, allow_no_team=actor.is_staff, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = flow_save(actor=actor, flow=flow, slug=data["slug"], name=data["name"],
                              description=data["description"], team=data["team"], steps=data["steps"])
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except Invalid as exc:
            form.add_save_errors(exc.errors)
        else:
            messages.success(request, f"Flow {saved.name} saved.")
            return redirect("flow-detail", slug=saved.slug)
    return render(request, "topology/flow_form.html", {"form": form, "flow": flow})


@login_required
def flow_delete_page(request, slug):
    actor, flow = _writable_flow(request, slug)
    if request.method == "POST":
        try:
            flow_delete(actor=actor, flow=flow)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        messages.success(request, f"Flow {flow.name} deleted.")
        return redirect("flow-list")
    return render(request, "topology/confirm_delete.html", {
        "object_label": f"flow {flow.name}",
        "consequences": ["the interactions it walks through stay as they are"],
        "cancel_url": flow.get_absolute_url(),
    })
