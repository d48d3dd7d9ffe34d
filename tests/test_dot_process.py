"""The long-lived `dot` (topology/dot_process.py): pure, no database.

Drawings are compared by digest: pytest's report of two unequal SVGs of 100 KB and more would take
longer than the whole suite."""
import hashlib
import os
import stat
import time

import graphviz
import pytest

from topology.dot_process import DotProcess, DotTimeout, layout_of


@pytest.fixture
def drawer():
    found = DotProcess(timeout=10)
    yield found
    found.stop()


def sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def graph(name: str, nodes: int = 3) -> bytes:
    edges = "\n".join(f'  "{name}-{index}" -> "{name}-{index + 1}" [tooltip="a \\"quoted\\" <tip> & more"];'
                      for index in range(nodes))
    return f'digraph "{name}" {{\n  node [shape=box];\n{edges}\n}}\n'.encode()


def test_it_draws_graph_after_graph_in_one_process_the_same_bytes_as_the_graphviz_package(drawer):
    drawings = [drawer.svg(graph(f"g{index}")) for index in range(3)]
    assert [sha(drawing) for drawing in drawings] == [
        sha(graphviz.pipe("dot", "svg", graph(f"g{index}"), quiet=True)) for index in range(3)]
    assert drawer._drawn == 3 and drawer._process.poll() is None


def test_it_handles_a_graph_larger_than_a_pipe_holds(drawer):
    big = graph("big", nodes=1500)
    assert len(big) > 65536
    drawing = drawer.svg(big)
    assert drawing.endswith(b"</svg>\n") and sha(drawing) == sha(graphviz.pipe("dot", "svg", big, quiet=True))


def test_it_handles_text_without_a_final_newline(drawer):
    assert drawer.svg(graph("bare").rstrip(b"\n")).endswith(b"</svg>\n")


def test_it_keeps_drawing_through_warnings(drawer):
    drawing = drawer.svg(b'digraph { a [shape=nosuchshape]; a -> b }\n')
    assert drawing is not None and b"<svg" in drawing
    assert drawer.svg(graph("next")) is not None


def test_it_rejects_a_broken_graph_at_once_and_starts_afresh(drawer):
    drawer.svg(graph("first"))
    first = drawer._process.pid
    started = time.monotonic()
    assert drawer.svg(b"digraph { a -> }\n") is None
    assert time.monotonic() - started < 5 and drawer._process is None
    assert drawer.svg(graph("after")) is not None and drawer._process.pid != first


def test_it_starts_afresh_when_its_dot_has_died(drawer):
    drawer.svg(graph("first"))
    drawer._process.kill()
    drawer._process.wait()
    assert drawer.svg(graph("after")) is not None


def test_it_starts_its_own_dot_in_a_forked_child(drawer):
    drawer.svg(graph("parent"))
    inherited = drawer._process
    drawer._pid = -1  # as seen from a child forked after the parent started its dot
    assert drawer.svg(graph("child")) is not None
    assert drawer._process is not inherited and inherited.poll() is None  # the parent's is left alone
    inherited.kill()
    inherited.wait()


def test_it_replaces_its_dot_after_so_many_drawings():
    drawer = DotProcess(recycle_after=2)
    drawer.svg(graph("one"))
    first = drawer._process
    drawer.svg(graph("two"))
    assert drawer._process is None and first.poll() is not None
    drawer.svg(graph("three"))
    assert drawer._process is not None
    drawer.stop()


def test_it_stops_a_dot_that_draws_nothing_in_time(tmp_path):
    sleeper = tmp_path / "slow-dot"
    sleeper.write_text("#!/bin/sh\nexec sleep 30\n")
    sleeper.chmod(sleeper.stat().st_mode | stat.S_IXUSR)
    drawer = DotProcess(command=(str(sleeper),), timeout=0.5)
    assert drawer._process is None
    started = time.monotonic()
    with pytest.raises(DotTimeout):
        drawer.svg(graph("slow"))
    assert time.monotonic() - started < 5 and drawer._process is None


def test_it_answers_none_when_there_is_no_dot(tmp_path):
    drawer = DotProcess(command=(os.fspath(tmp_path / "no-such-dot"),))
    assert drawer.svg(graph("none")) is None


def test_it_leaves_a_graph_to_the_caller_while_it_draws_for_another_thread(drawer):
    drawer._lock.acquire()
    try:
        assert drawer.svg(graph("busy")) is None
    finally:
        drawer._lock.release()
    assert drawer.svg(graph("free")) is not None


def test_it_leaves_a_graph_of_another_layout_engine_to_the_caller(drawer):
    folders = b'digraph "teams" {\n  graph [layout=neato, overlap=false];\n  a -> b; b -> c; c -> a;\n}\n'
    assert layout_of(folders) == "neato" and layout_of(graph("plain")) == "dot"
    assert drawer.svg(folders) is None and drawer._process is None
    by_force = DotProcess(layout="neato")
    try:
        assert sha(by_force.svg(folders)) == sha(graphviz.pipe("dot", "svg", folders, quiet=True))
        assert by_force.svg(graph("plain")) is None
    finally:
        by_force.stop()
