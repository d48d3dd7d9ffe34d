"""The plan drawn (plans/drawing.py): pure, no database. The touched services and their direct
neighbours, changed edges in their new style, removed ones struck, new ones marked, the numbers beside."""
import re
import shutil
import subprocess

import pytest

from plans.changes import Change
from plans.drawing import MAX_NODES, plan_dot
from plans.whatif import topology_changed
from topology import graph

TOPOLOGY = graph.Topology(nodes={n: graph.Node(n, team="t") for n in ("a", "b", "c", "d", "far", "farther")}, links=[
    graph.Link("a", "b", "x", style="rest"), graph.Link("b", "a", "y", style="rest"),
    graph.Link("c", "b", "z", style="rest"), graph.Link("d", "c", "w", style="rest"),
    graph.Link("far", "d", "v", style="grpc"), graph.Link("farther", "far", "u", style="rest")])
CHANGES = [Change("b", "y", style="pubsub", channel="b.events", broker="kafka"), Change("c", "z", remove=True)]
RESULT = {"before": {"findings": [{}, {}], "mismatches": [{}]}, "after": {"findings": [{}], "mismatches": []},
          "better": ["resolved: a → b → a", "mismatch of b/y (error) resolved"],
          "worse": ["new: b depends on the kafka broker (§4.8)"]}


def drawn(changes=CHANGES, topology=TOPOLOGY, result=RESULT) -> str:
    return plan_dot(before=topology, after=topology_changed(topology, changes), changes=changes, result=result)


def edge(dot: str, source: str, target: str) -> str:
    [line] = [line for line in dot.splitlines() if line.strip().startswith(f'"{source}" -> "{target}" [')]
    return line


def test_it_draws_the_touched_services_and_their_direct_neighbours_only():
    dot = drawn()
    nodes = set(re.findall(r'^  "([^"]+)" \[label=', dot, re.MULTILINE))
    assert nodes == {"a", "b", "c", "d"}  # b, a (y), c (z), and d next to c; far is two hops away
    assert 'fillcolor="#dbe7ff"' in dot.split('"b" [', 1)[1].split("\n")[0]
    assert 'fillcolor="#ffffff"' in dot.split('"d" [', 1)[1].split("\n")[0]


def test_it_highlights_a_changed_edge_in_its_new_style():
    line = edge(drawn(), "b", "a")
    assert 'label="y\\nrest → pubsub\\nb.events (kafka)"' in line
    assert 'penwidth="3"' in line and 'color="#1f5fd1"' in line and 'style="dashed"' in line


def test_it_strikes_a_removed_edge_and_marks_a_new_one():
    changes = CHANGES + [Change("a", "ask-d", style="grpc", add=True, targets=("d",))]
    dot = drawn(changes)
    removed = edge(dot, "c", "b")
    assert 'style="dashed"' in removed and 'color="#c62828"' in removed and 'label="removed: z"' in removed
    new = edge(dot, "a", "d")
    assert 'label="new: ask-d\\ngrpc"' in new and 'color="#2e7d32"' in new and 'style="solid"' in new
    unchanged = edge(dot, "a", "b")
    assert "label=" not in unchanged and 'color="#a3abb9"' in unchanged


def test_it_puts_the_before_and_after_numbers_beside_the_drawing():
    dot = drawn()
    summary = dot.split('"plan:summary" [', 1)[1].split("\n")[0]
    assert "findings" in summary and "2 → 1" in summary and "1 → 0" in summary
    assert "+ resolved: a → b → a" in summary and "− new: b depends on the kafka broker (§4.8)" in summary


def test_it_escapes_hostile_names_and_sentences():
    topology = graph.Topology(nodes={'a"b': graph.Node('a"b', team="t"), "c": graph.Node("c", team="t")},
                              links=[graph.Link('a"b', "c", "x\\y", style="rest")])
    result = {**RESULT, "better": ["<b>bold</b> & </TABLE>"]}
    dot = drawn([Change('a"b', "x\\y", style="grpc")], topology, result)
    assert '"a\\"b" -> "c"' in dot and "x\\\\y" in dot
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;/TABLE&gt;" in dot and "<b>bold" not in dot


def test_it_draws_at_most_max_nodes_and_says_how_many_were_left_out():
    hub = graph.Topology(nodes={f"s{n}": graph.Node(f"s{n}", team="t") for n in range(MAX_NODES + 10)},
                         links=[graph.Link(f"s{n}", "s0", f"call{n}", style="rest") for n in range(1, MAX_NODES + 10)])
    dot = drawn([Change("s1", "call1", style="queue")], hub)
    assert len(re.findall(r'^  "s\d+" \[label=', dot, re.MULTILINE)) == MAX_NODES
    assert "10 neighbouring services not drawn" in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_it_is_valid_graphviz():
    dot = drawn(CHANGES + [Change("a", "ask-d", style="queue", channel="q", add=True, targets=("d",))])
    done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"rest \xe2\x86\x92 pubsub" in done.stdout and b"removed: z" in done.stdout
