"""The rules that keep team and focus views readable, without a database: other teams folding into
folders, channels with one producer and one consumer drawn as lines, views too large to draw, the
findings that follow a view; and how dot_source draws them (the focus marked and in the middle)."""
import pytest

from topology import budgets, rendering, view_rules
from topology.graph import Finding, Link, Node, Topology
from topology.page_views import narrower_views, view_params
from topology.rendering import View, dot_source, view_layout, view_read


# --- folding other teams -----------------------------------------------------------------------

@pytest.mark.parametrize(("team_of", "home", "expand", "folded"), [
    ({"a1": "a", "b1": "b", "b2": "b"}, None, (), set()),  # not a team or focus view
    ({"a1": "a", "b1": "b", "b2": "b"}, "a", (), set()),  # few others: shown as they are
    ({"a1": "a", **{f"b{i}": "b" for i in range(5)}, **{f"c{i}": "c" for i in range(4)}}, "a", (), {"b", "c"}),
    ({"a1": "a", **{f"b{i}": "b" for i in range(5)}, **{f"c{i}": "c" for i in range(4)}}, "a", ("c",), {"b"}),
    ({"a1": "a", **{f"b{i}": "b" for i in range(8)}, "c1": "c"}, "a", (), {"b"}),  # a single one stays itself
    ({"a1": "a", **{f"p{i}": "" for i in range(9)}}, "a", (), {""}),  # placeholders fold too
    ({f"b{i}": "b" for i in range(9)}, "", (), {"b"}),  # the focus is a placeholder
])
def test_it_handles_folding_other_teams(team_of, home, expand, folded):
    assert view_rules.teams_folded(team_of, home, expand) == folded


@pytest.mark.parametrize(("ends", "lines"), [
    ([], {}),
    ([("t", "a", "b")], {"t": ("a", "b")}),
    ([("t", "a", "b"), ("t", "a", "b")], {"t": ("a", "b")}),  # two interactions, the same route
    ([("t", "a", "b"), ("t", "a", "c")], {}),  # two consumers
    ([("t", "a", "b"), ("t", "c", "b")], {}),  # two producers
    ([("t", "a", "a")], {}),  # a service reading its own messages keeps the node
    ([("t", "a", "b"), ("q", "b", "c"), ("q", "d", "c")], {"t": ("a", "b")}),
])
def test_it_handles_channels_with_one_producer_and_one_consumer(ends, lines):
    assert view_rules.channels_as_lines(ends) == lines


@pytest.mark.parametrize(("mode", "nodes", "wanted"), [
    ("", 30, False), ("", 31, True), ("nodes", 500, False), ("lines", 3, True),
])
def test_it_handles_when_channels_become_lines(mode, nodes, wanted):
    assert view_rules.channel_lines_wanted(mode, nodes) is wanted


@pytest.mark.parametrize(("nodes", "services", "anyway", "large"), [
    (60, 60, False, False), (61, 61, False, True), (40, 400, False, False), (40, 401, False, True),
    (500, 500, True, False),
])
def test_it_handles_views_too_large_to_draw(nodes, services, anyway, large):
    assert view_rules.too_large(nodes, services, anyway=anyway) is large


@pytest.mark.parametrize(("finding", "inside"), [
    (Finding("sync-cycle", "error", ("a", "b"), "§3.5", ""), True),
    (Finding("sync-cycle", "error", ("a", "x"), "§3.5", ""), False),  # a cycle through a service outside
    (Finding("sync-chain", "info", ("a", "b", "x"), "§3.5", ""), False),
    (Finding("latency-budget", "warning", ("a", "b"), "§3.5", ""), True),
    (Finding("fan-in", "warning", ("a", "x", "y"), "§3.5", ""), True),  # about a, which is in the view
    (Finding("sync-mesh", "info", ("x", "a", "b"), "§3.6", ""), False),  # about x, which is not
    (Finding("sync-fan-out", "info", ("b", "x"), "§5.3", ""), True),
])
def test_it_handles_findings_that_follow_the_view(finding, inside):
    found, outside = view_rules.findings_in_view([finding], {"a", "b"})
    assert (found == [finding], outside) == (inside, int(not inside))


@pytest.mark.parametrize(("finding", "inside"), [
    (Finding("fan-in", "warning", ("f1", "a", "f2"), "§3.5", ""), False),  # about a folded neighbour
    (Finding("fan-in", "warning", ("a", "f1", "f2"), "§3.5", ""), True),  # about a service drawn
    (Finding("sync-cycle", "error", ("f1", "f2"), "§3.5", ""), False),  # wholly inside folders
    (Finding("sync-cycle", "error", ("a", "f1"), "§3.5", ""), True),  # through the view's own service
    (Finding("sync-chain", "info", ("f1", "b", "f2"), "§3.5", ""), True),
])
def test_it_handles_findings_inside_the_folders_of_other_teams(finding, inside):
    found, outside = view_rules.findings_in_view([finding], {"a", "b", "f1", "f2"}, drawn={"a", "b"})
    assert (found == [finding], outside) == (inside, int(not inside))


# --- drawing -----------------------------------------------------------------------------------


def system() -> Topology:
    """Team home (h0..h2, h0 -> h1 -> h2), team far (f0..f9) called by h0 and calling h2, team lone
    (l0) called by h1, and a topic h1 -> h2 with one producer and one consumer."""
    nodes = {f"h{i}": Node(f"h{i}", "home") for i in range(3)}
    nodes |= {f"f{i}": Node(f"f{i}", "far") for i in range(10)}
    nodes["l0"] = Node("l0", "lone")
    links = [Link("h0", "h1", "call", "rest"), Link("h1", "h2", "call", "grpc"), Link("h1", "l0", "call", "rest"),
             Link("h1", "h2", "news", "pubsub", channel="home.news", broker="kafka")]
    links += [Link("h0", f"f{i}", f"c{i}", "rest") for i in range(10)]
    links += [Link(f"f{i}", "h2", "back", "rest") for i in range(10)]
    return Topology(nodes=nodes, links=links)


def test_it_handles_a_team_view_with_other_teams_folded():
    layout = view_layout(system(), View(team="home"))
    assert layout.collapsed == {"far"}  # lone has one service in the view: drawn as itself
    assert layout.places["f3"] == "team:far" and layout.places["l0"] == "l0"
    dot = dot_source(system(), View(team="home"))
    assert '"team:far" [label="far\\n10 services", shape="folder"' in dot
    assert '"h0" -> "team:far" [style="solid", label="10"' in dot and '"team:far" -> "h2"' in dot
    # the team in the middle of its neighbours' folders: on the inner ring around an invisible centre
    assert 'layout=twopi, root="centre:home"' in dot and '"centre:home" -> "h2" [style=invis]' in dot
    assert '"centre:home" -> "l0"' not in dot
    opened = dot_source(system(), View(team="home", expand=frozenset({"far"})))
    assert '"f3" [label="f3"' in opened and "team:far" not in opened


def test_it_handles_a_focus_view_with_the_focus_marked_in_the_middle():
    dot = dot_source(system(), View(focus="h1", hops=2))
    assert 'layout=twopi, root="h1"' in dot
    focus = next(line for line in dot.splitlines() if line.strip().startswith('"h1" ['))
    assert 'fillcolor="#1f5fd1"' in focus and 'fontcolor="#ffffff"' in focus and 'fontname="Helvetica-Bold"' in focus
    assert 'penwidth="3"' in focus and 'id="focus"' in focus
    assert '"team:far"' in dot  # the other team's ten services fold
    other = next(line for line in dot.splitlines() if line.strip().startswith('"h0" ['))
    assert "Helvetica-Bold" not in other and "#1f5fd1" not in other


def test_it_handles_a_channel_drawn_as_a_labelled_line_or_as_a_node():
    lines = dot_source(system(), View(focus="h1", channels="lines"))
    assert '"h1" -> "h2" [style="dashed", label="⬡ home.news"' in lines
    assert "channel:kafka:home.news" not in lines and "one producer and one consumer" in lines
    nodes = dot_source(system(), View(focus="h1", channels="nodes"))
    assert '"channel:kafka:home.news" [label="home.news\\ntopic on kafka"' in nodes
    assert view_layout(system(), View(focus="h1")).lines == {}  # a small view keeps its channel nodes


def test_it_handles_the_view_parameters_of_the_new_choices():
    view, errors = view_read({"team": "home", "alone": "1", "channels": "lines", "draw": "all"})
    assert errors == {} and (view.alone, view.channels, view.anyway) == (True, "lines", True)
    assert view_params(view) == {"team": "home", "alone": "1", "channels": "lines", "draw": "all"}
    _, errors = view_read({"alone": "yes", "channels": "edges", "draw": "some"})
    assert set(errors) == {"alone", "channels", "draw"}
    assert set(rendering.view_select(system(), View(team="home", alone=True)).nodes) == {"h0", "h1", "h2"}


def test_it_handles_narrower_views_with_their_sizes():
    options = narrower_views(system(), View(focus="h0", hops=3))
    assert [(option["label"], option["query"]) for option in options] == [
        ("2 hops around h0", "focus=h0&hops=2"), ("1 hop around h0", "focus=h0")]
    assert all(option["nodes"] > 0 and option["too_large"] is False for option in options)
    # a team: alone, or one of its busiest services (h0: 11 links, h1: 4, h2: 12) with its neighbours
    assert [option["query"] for option in narrower_views(system(), View(team="home"))] == [
        "team=home&alone=1", "focus=h2", "focus=h0", "focus=h1"]
    assert narrower_views(system(), View(team="home"))[1]["label"] == "h2 and its direct neighbours (12 links)"


def test_it_handles_a_budget_along_a_highlighted_chain():
    checks = [budgets.BudgetCheck("h0", "call", 100, "eu", (budgets.Hop("h1", 70), budgets.Hop("h2", 50))),
              budgets.BudgetCheck("h0", "call", 100, "us", (budgets.Hop("h1", 20), budgets.Hop("f1", 10)))]
    assert budgets.budget_along(checks, ("h0", "h1", "h2")) == checks[:1]
    bar = budgets.budget_bar(checks[0])
    assert [(s["x"], s["width"]) for s in bar["segments"]] == [(0, 58.33), (58.33, 41.67)]
    assert bar["limit_x"] == 83.33
    dot = dot_source(system(), View(chain=("h0", "h1", "h2")))
    assert '"h1" [label="h1", fillcolor="#ffffff", style="rounded,filled", color="#1f5fd1"' in dot


def test_it_handles_a_chain_drawn_beside_the_folders_of_its_teams():
    """Over the collapse limit a highlighted chain's services are drawn as themselves and the rest of
    their teams stay folded (opening the teams drew 200 nodes at 1,000 services)."""
    view = View(chain=("h0", "f3"), collapse_over=5)
    layout = view_layout(system(), view)
    assert layout.collapsed == {"home", "far", "lone"}
    assert (layout.places["h0"], layout.places["f3"], layout.places["f4"]) == ("h0", "f3", "team:far")
    dot = dot_source(system(), view)
    assert '"team:far" [label="far\\n9 services"' in dot and '"team:home" [label="home\\n2 services"' in dot
    assert '"h0" -> "f3" [style="solid", label="REST", color="#1f5fd1", penwidth="2.4"' in dot  # the hop, highlighted
    assert '"f3" [label="f3"' in dot and "layout=neato" in dot  # among the folders, laid out by force


def test_it_handles_a_radial_drawing_without_words_on_its_sync_lines():
    """Around a focus every line crosses the middle: REST/gRPC and publish/send words are left to the
    tooltips (they covered the neighbours' names); a layered drawing keeps them."""
    radial = dot_source(system(), View(focus="h1", channels="nodes"))
    assert '"h0" -> "h1" [style="solid", color=' in radial and 'label="REST"' not in radial
    assert 'label="publish"' not in radial and 'tooltip="h0/call: rest' in radial
    assert 'overlap=false, sep="+4"' in radial  # nodes kept close: the drawing shrinks less at fit
    layered = dot_source(system(), View(team="home", alone=True, channels="nodes"))
    assert '"h0" -> "h1" [style="solid", label="REST"' in layered and 'label="publish"' in layered


def test_it_handles_a_focus_whose_team_is_never_folded():
    """Over the collapse limit, the focus's own team stays open without being named in `expand` (it
    was opened as if asked, and the page said "teams opened" with a × that folded the focus away)."""
    view = View(focus="h1", hops=2, collapse_over=5)
    layout = view_layout(system(), view)
    assert "home" not in layout.collapsed and "far" in layout.collapsed
    assert layout.places["h0"] == "h0" and layout.places["f1"] == "team:far"
    assert 'layout=twopi, root="h1"' in dot_source(system(), view)


@pytest.mark.parametrize(("nodes", "team_view", "folders", "force"), [
    (31, True, False, True), (30, True, False, False), (31, True, True, False), (31, False, False, False),
])
def test_it_handles_when_a_view_is_laid_out_by_force(nodes, team_view, folders, force):
    assert view_rules.by_force(nodes, team_view=team_view, folders=folders) is force


def test_it_handles_a_large_team_alone_drawn_by_force():
    """A team of 40 services calling each other, alone: by force, stretched to the canvas, 14 pt labels,
    the legend below; a smaller one stays in layers."""
    nodes = {f"t{i}": Node(f"t{i}", "big") for i in range(40)}
    links = [Link(f"t{i}", f"t{(i * 7 + 3) % 40}", f"c{i}", "rest") for i in range(40)]
    dot = dot_source(Topology(nodes=nodes, links=links), View(team="big", alone=True))
    assert 'layout=neato, overlap=false, sep="+4", splines=false, outputorder=edgesfirst, ratio=0.9' in dot
    assert "fontsize=14, shape=box" in dot and 'labelloc="b"' in dot and "cluster_legend" not in dot
    small = dot_source(system(), View(team="home", alone=True))
    assert "layout=dot, rankdir=LR" in small
