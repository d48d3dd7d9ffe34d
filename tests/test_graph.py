"""Graph analysis, DOT rendering and Mermaid text: pure code, no database."""
import subprocess

import pytest

from topology import graph, mermaid, rendering
from topology.graph import Link, Node, Topology


def topo(*links, teams=None, slo=None):
    names = {name for link in links for name in (link.source, link.target)}
    teams = teams or {}
    slo = slo or {}
    nodes = {name: Node(name=name, team=teams.get(name, "core"), availability=slo.get(name),
                        availability_source="slo" if name in slo else "") for name in names}
    return Topology(nodes=nodes, links=list(links))


def call(source, target, name=None, style="rest", **extra):
    return Link(source=source, target=target, interaction=name or f"to-{target}", style=style, **extra)


def event(source, target, channel="events", name="evt", style="pubsub", broker="kafka"):
    return Link(source=source, target=target, interaction=name, style=style, channel=channel, broker=broker)


def test_it_finds_the_longest_sync_chain_from_each_entry():
    t = topo(call("web", "checkout"), call("checkout", "payment"), call("payment", "fraud"),
             call("checkout", "stock"), event("checkout", "mailer"), call("admin", "stock"))
    assert graph.sync_chains(t, min_hops=1) == [("web", "checkout", "payment", "fraud"), ("admin", "stock")]
    assert graph.sync_chains(t) == [("web", "checkout", "payment", "fraud")]


def test_it_finds_one_shortest_cycle_per_loop_of_services():
    t = topo(call("a", "b"), call("b", "c"), call("c", "a"), call("c", "d"), call("d", "a"),
             call("x", "y"), call("y", "x"), call("y", "z"))
    assert graph.sync_cycles(t) == [("x", "y"), ("a", "b", "c")]
    kinds = [f.kind for f in graph.findings(t) if f.severity == "error"]
    assert kinds == ["sync-cycle", "sync-cycle"]


def test_it_finds_the_same_cycles_whatever_the_order_of_the_links():
    links = [call(f"s{i}", f"s{(i + 1) % 30}") for i in range(30)] + [call("s5", "s1"), call("s20", "s3")]
    first = graph.sync_cycles(topo(*links))
    assert graph.sync_cycles(topo(*reversed(links))) == first
    assert len(first) == 1 and first[0][0] == "s0" and len(first[0]) == 30


def test_it_shortens_long_chains_in_sentences():
    chain = [call(f"n{i:02d}", f"n{i + 1:02d}") for i in range(20)]
    (finding,) = [f for f in graph.findings(topo(*chain)) if f.kind == "sync-chain"]
    assert finding.text.startswith("n00 → n01 → n02 → … 15 more … → n18 → n19 → n20: 20 synchronous calls")
    assert "and 15 more all wait" in finding.text


def test_it_ignores_async_and_undecided_links_for_sync_analysis():
    t = topo(event("a", "b"), call("b", "c", style=""), call("c", "d"), call("d", "e"))
    assert graph.sync_chains(t, min_hops=1) == [("c", "d", "e")]


def test_it_computes_the_blast_radius():
    t = topo(call("web", "checkout"), call("checkout", "payment"), call("mobile", "payment"),
             event("checkout", "mailer"), event("payment", "ledger"), call("ledger", "audit"))
    failing, delayed = graph.blast_radius(t, "payment")
    assert failing == {"web", "checkout", "mobile"}
    assert delayed == {"mailer", "ledger"}


def test_it_multiplies_chain_availability():
    t = topo(call("checkout", "payment"), call("payment", "fraud"), call("fraud", "rules"),
             slo={"checkout": 0.995, "payment": 0.999, "fraud": 0.999, "rules": 0.9999})
    (finding,) = [f for f in graph.findings(t) if f.kind == "chain-availability"]
    assert finding.text.startswith("99.5% × 99.9% × 99.9% × 99.99% = 99.29% for checkout → payment → fraud → rules")
    assert finding.severity == "info" and finding.value == pytest.approx(0.992912, abs=1e-6)


def test_it_skips_availability_when_a_member_is_unknown():
    t = topo(call("a", "b"), call("b", "c"), call("c", "d"), slo={"a": 0.99})
    assert graph.chain_availability(t, ("a", "b", "c", "d"))[0] is None
    assert not [f for f in graph.findings(t) if f.kind == "chain-availability"]


def test_it_flags_sync_fan_out_and_fan_in():
    links = [call("orders", t, name="notify") for t in ("ship", "bill", "loyalty")]
    links += [call(c, "pricing") for c in ("web", "app", "orders", "quotes")]
    found = {f.kind: f for f in graph.findings(topo(*links))}
    assert found["sync-fan-out"].severity == "warning" and "§5.3" == found["sync-fan-out"].cites
    assert found["fan-in"].services[0] == "pricing" and found["fan-in"].value == 4


def test_it_orders_findings_worst_first():
    t = topo(call("a", "b"), call("b", "a"), call("x", "y"), call("y", "z"), call("z", "w"))
    assert [f.severity for f in graph.findings(t)] == sorted(
        [f.severity for f in graph.findings(t)], key=graph.SEVERITY_ORDER.get)


SAMPLE = topo(call("web", "checkout"), call("checkout", "payment", mismatch="error", recommended="pub-sub"),
              event("checkout", "mailer", channel="orders.placed"), event("checkout", "ledger", channel="orders.placed"),
              Link(source="checkout", target="ghost", interaction="later"),
              teams={"web": "edge", "mailer": "comms", "ghost": None})


def dot_ok(source: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_it_renders_clusters_channels_styles_and_links():
    source = rendering.dot_source(SAMPLE)
    svg = dot_ok(source)
    assert "cluster_" in source and '"channel:kafka:orders.placed"' in source and "hexagon" in source
    assert 'style="dashed"' in source and 'style="dotted"' in source
    assert rendering.EDGE_COLOUR["error"] in source
    assert 'href="/services/checkout/"' in svg or "xlink:href=\"/services/checkout/\"" in svg
    assert "Legend" in svg


def test_it_shows_a_placeholder_dashed():
    assert '"ghost" [label="ghost"' in rendering.dot_source(SAMPLE)
    assert "rounded,filled,dashed" in rendering.dot_source(SAMPLE)


def test_it_selects_a_team_focus_and_blast_radius():
    assert set(rendering.view_select(SAMPLE, rendering.View(team="edge")).nodes) == {"web", "checkout"}
    focus = rendering.view_select(SAMPLE, rendering.View(focus="payment", hops=1))
    assert set(focus.nodes) == {"payment", "checkout"}
    blast = rendering.view_select(SAMPLE, rendering.View(blast="payment"))
    assert set(blast.nodes) == {"payment", "checkout", "web", "mailer", "ledger"}
    assert rendering.BLAST_FILL in rendering.dot_source(SAMPLE, rendering.View(blast="payment"))


def test_it_collapses_teams_above_the_limit_and_expands_on_request():
    links = [call(f"a{i}", f"b{i}") for i in range(30)] + [call("a0", "x0")]
    teams = {**{f"a{i}": "alpha" for i in range(30)}, **{f"b{i}": "beta" for i in range(30)}, "x0": "gamma"}
    t = topo(*links, teams=teams)
    collapsed = rendering.dot_source(t, rendering.View(collapse_over=20))
    assert '"team:alpha"' in collapsed and '"a1"' not in collapsed and "?expand=alpha" in collapsed
    expanded = rendering.dot_source(t, rendering.View(collapse_over=20, expand=frozenset({"alpha"})))
    assert '"a1"' in expanded and '"team:beta"' in expanded
    dot_ok(collapsed)


@pytest.mark.parametrize("name", ['say "hi"', "back\\slash", "new\nline", "ünïcødé 服务"])
def test_it_quotes_awkward_names_for_dot(name):
    t = Topology(nodes={name: Node(name=name, team="t"), "b": Node(name="b", team="t")},
                 links=[Link(source=name, target="b", interaction="x", style="rest")])
    dot_ok(rendering.dot_source(t))


def test_it_writes_the_reference_sync_diagram():
    steps = mermaid.flow_from_entry(topo(call("Client", "ServiceA", "request"),
                                         call("ServiceA", "ServiceB", "query")), "Client")
    assert mermaid.sequence_diagram(steps).splitlines()[2:] == [
        "    participant p1 as Client", "    participant p2 as ServiceA", "    participant p3 as ServiceB",
        "    p1->>p2: request", "    activate p2", "    p2->>p3: query", "    activate p3",
        "    p3-->>p2: query (reply)", "    deactivate p3", "    p2-->>p1: request (reply)", "    deactivate p2",
    ]


def test_it_writes_the_reference_async_diagram():
    steps = [mermaid.Step(source="Service A", targets=("Service B", "Service C"), interaction="Event X",
                          style="pubsub", channel="events", broker="kafka")]
    assert mermaid.sequence_diagram(steps).splitlines()[2:] == [
        "    participant p1 as Service A", "    participant p2 as Kafka: events",
        "    participant p3 as Service B", "    participant p4 as Service C",
        "    p1->>p2: publish #quot;Event X#quot;", "    p2-->>p1: ack",
        "    p2->>p3: push #quot;Event X#quot;", "    p2->>p4: push #quot;Event X#quot;",
    ]


def test_it_escapes_statement_breakers_in_mermaid_text():
    assert mermaid.text('a;b #c "d" 50%\nnext') == "a#59;b #35;c #quot;d#quot; 50#37; next"


def test_it_bounds_derived_flows_and_survives_cycles():
    t = topo(call("a", "b"), call("b", "a"), *[call("a", f"t{i}", name=f"n{i}") for i in range(100)])
    steps = mermaid.flow_from_entry(t, "a", max_steps=20)
    assert len(steps) == 20


def test_it_writes_a_flowchart_with_teams_and_channels():
    chart = mermaid.flowchart(SAMPLE)
    assert chart.startswith("flowchart LR\n") and 'subgraph' in chart and "{{" in chart and "-.->" in chart


def test_it_collapses_placeholders_too_and_expands_them_by_name():
    links = [call(f"a{i}", f"ghost{i}") for i in range(30)]
    t = topo(*links, teams={**{f"a{i}": "alpha" for i in range(30)}, **{f"ghost{i}": None for i in range(30)}})
    collapsed = rendering.dot_source(t, rendering.View(collapse_over=20))
    assert '"team:(placeholders)"' in collapsed and "?expand=(placeholders)" in collapsed and '"ghost1"' not in collapsed
    opened = rendering.dot_source(t, rendering.View(collapse_over=20, expand=frozenset({"(placeholders)"})))
    assert '"ghost1"' in opened and '"team:alpha"' in opened


# --- the team-level overview -----------------------------------------------------------------------


def teams_system():
    """alpha, beta, gamma and two placeholders: links of every kind between them, and inside alpha."""
    teams = {"a1": "alpha", "a2": "alpha", "b1": "beta", "b2": "beta", "g1": "gamma", "ghost": None, "ghost2": None}
    links = [
        call("a1", "a2"),  # inside alpha: not in the overview
        call("a1", "b1", mismatch="info"), call("a2", "b2", name="x", style="grpc", mismatch="warning"),
        call("a1", "b2", name="y", mismatch="error", deliberate=True),  # settled: counted, not mismatched
        event("a1", "b1", channel="orders"), event("a2", "b1", channel="orders", name="e2"),
        Link(source="b1", target="g1", interaction="later"),  # undecided
        call("g1", "ghost", mismatch="error"), call("b1", "ghost2"),
        call("ghost", "ghost2"),  # placeholders among themselves: not in the overview
    ]
    return topo(*links, teams=teams)


def test_the_overview_counts_links_between_teams_by_kind_with_the_worst_unsettled_mismatch():
    overview = graph.overview_of(teams_system())
    assert overview.teams == {"alpha": 2, "beta": 2, "gamma": 1, None: 2} and overview.size == 7
    assert overview.links == {
        ("alpha", "beta", "sync"): graph.TeamLinks(count=3, mismatched=2, worst="warning"),
        ("alpha", "beta", "async"): graph.TeamLinks(count=2),
        ("beta", "gamma", "undecided"): graph.TeamLinks(count=1),
        ("gamma", None, "sync"): graph.TeamLinks(count=1, mismatched=1, worst="error"),
        ("beta", None, "sync"): graph.TeamLinks(count=1),
    }


def test_the_overview_is_drawn_as_the_collapsed_whole_system():
    t = teams_system()
    collapsed = rendering.dot_source(t, rendering.View(collapse_over=5))
    assert collapsed == rendering.overview_dot(graph.overview_of(t))
    assert '"team:(placeholders)" [label="placeholders\\n2 services"' in collapsed
    assert 'label="3", penwidth="2.2", color="#e07b00"' in collapsed  # alpha -> beta sync: worst a warning
    svg = dot_ok(collapsed)
    assert "?expand=gamma" in svg


def test_a_graph_of_team_folders_is_laid_out_by_force_and_a_view_with_services_left_to_right():
    t = teams_system()
    folders = rendering.dot_source(t, rendering.View(collapse_over=5))
    opened = rendering.dot_source(t, rendering.View(collapse_over=5, expand=frozenset({"alpha"})))
    small = rendering.dot_source(t)
    assert "layout=neato" in folders and "splines=false" in folders and "rankdir=LR" not in folders
    assert "rankdir=LR" in opened and "layout=neato" not in opened and '"a1"' in opened
    assert "rankdir=LR" in small and "layout=neato" not in small
    dot_ok(opened)


def test_only_the_strongest_team_links_are_drawn_ties_broken_by_name():
    import random

    rng = random.Random(7)
    teams = [f"t{index:02d}" for index in range(30)]
    groups = {(f"team:{a}", f"team:{b}", kind): graph.TeamLinks(rng.choice([1, 2, 3, 5, 8]))
              for a in teams for b in teams if a != b for kind in ("sync", "async") if rng.random() < 0.2}
    assert len(groups) > rendering.GROUP_EDGE_BUDGET
    expected = sorted(sorted(groups.items(), key=lambda item: (-item[1].count, item[0]))[:rendering.GROUP_EDGE_BUDGET])
    assert rendering._strongest(groups) == expected
    overview = graph.Overview(teams=dict.fromkeys(teams, 1),
                              links={(a.removeprefix("team:"), b.removeprefix("team:"), kind): found
                                     for (a, b, kind), found in groups.items()})
    source = rendering.overview_dot(overview)
    assert source.count(" -> ") == rendering.GROUP_EDGE_BUDGET
    assert f"{len(groups) - rendering.GROUP_EDGE_BUDGET} weaker team links not drawn" in source
