"""Graphviz drawings of DOT text (the system `dot`), kept by what they show.

Three layers, nearest first: the drawings this process served lately (memory), the shared cache
(rendered diagrams by a hash of their DOT text, DOT texts by data stamp and view), then Graphviz:
the team-folder overview's SVG from a `dot` this process keeps running (dot_process.py), every
other drawing from a fresh `dot` through the graphviz package, with a time limit.
"""
import atexit
import hashlib
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

import graphviz
import graphviz.backend
from django.conf import settings
from django.core.cache import caches
from django.utils.safestring import mark_safe

from .dot_process import DotProcess, DotTimeout, layout_of
from .graph import Overview, Topology, overview_of
from .overview_services import topology_summary_refresh
from .rendering import Urls, View, dot_by_force, dot_source, overview_dot
from .graph_selectors import team_health, topology_current, topology_stamps, topology_summary

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


RECENT_BYTES = 32 * 1024 * 1024
RENDER_SECONDS = 20
LAYERED_SECONDS = 8  # a layered layout still running after this is drawn by force instead
FORCED = "forced:"  # cache key prefix: this graph's layered layout took too long


class RenderError(Exception):
    """Graphviz is missing or refused the graph (HTTP 503)."""


class Recent:
    """The values of the keys used last, up to `limit` bytes in all, in this process's memory."""

    def __init__(self, limit: int):
        self.limit, self.size, self.items, self.lock = limit, 0, OrderedDict(), threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            if key in self.items:
                self.size -= len(self.items.pop(key))
            if len(value) <= self.limit:
                self.items[key] = value
                self.size += len(value)
            while self.size > self.limit:
                self.size -= len(self.items.popitem(last=False)[1])

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


recent = Recent(RECENT_BYTES)
# Only the team-folder overview (neato) is drawn by a long-lived `dot`: it is the drawing every probe
# change renews, and a `dot` process drawing graphs of clusters one after another numbers and orders
# them differently from a fresh one (Graphviz 2.43), so layered and fdp graphs get a fresh process.
dot_processes = {"neato": DotProcess(layout="neato", timeout=RENDER_SECONDS)}


@atexit.register
def dot_processes_stop() -> None:
    for process in dot_processes.values():
        process.stop()


def drawings_forget() -> None:
    """Drop every drawing kept, in this process and in the shared diagram cache (for tests and
    benchmarks; with a Redis cache this clears the whole Redis database)."""
    recent.clear()
    caches["diagrams"].clear()


def _code_stamp() -> str:
    """A fingerprint of the code that turns data into drawings: a new release draws anew."""
    here = Path(__file__).resolve().parent
    sources = b"".join((here / name).read_bytes()
                       for name in ("graph.py", "rendering.py", "view_rules.py", "render.py", "selectors.py",
                                    "dot_process.py"))
    return hashlib.sha256(sources).hexdigest()[:16]


CODE_STAMP = _code_stamp()


def view_key(stamp: str, view: View, urls: Urls, fmt: str) -> str:
    """The name of one view of one state of the data in one format, as this code draws it (also its ETag)."""
    canonical = (view.team, view.focus, view.hops, view.blast, view.chain, sorted(view.expand), view.collapse_over,
                 view.alone, view.channels, view.anyway)
    return hashlib.sha256(f"{CODE_STAMP}|{stamp}|{canonical!r}|{urls!r}|{fmt}".encode()).hexdigest()[:40]


def view_drawing(stamp: str, view: View, fmt: str, urls: Urls = Urls(), topology: Topology | None = None, *,
                 registry: str = "") -> bytes:
    """A view as DOT text ("dot"), SVG or PNG: kept in memory once drawn or read from the shared cache."""
    key = view_key(stamp, view, urls, fmt)
    found = recent.get(key)
    if found is None:
        dot = view_dot(stamp, view, urls, topology, registry=registry)
        found = dot.encode() if fmt == "dot" else diagram_render(dot=dot, fmt=fmt)
        recent.put(key, found)
    return found


def diagram_key(dot: str, fmt: str) -> str:
    return "diagram:" + hashlib.sha256(f"{CODE_STAMP}\n{fmt}\n{dot}".encode()).hexdigest()


def svg_inline(svg: bytes | str) -> str:
    """Graphviz's SVG ready to sit inside a page: without the XML prolog, doctype and comments
    before the <svg> element, marked safe (Graphviz escapes every label and attribute)."""
    text = svg.decode() if isinstance(svg, bytes) else svg
    return mark_safe(text[text.index("<svg"):])  # noqa: S308


def diagram_render(*, dot: str, fmt: str) -> bytes:
    """DOT -> SVG or PNG bytes; the same text is rendered once and then served from the cache."""
    key = diagram_key(dot, fmt)
    found = caches["diagrams"].get(key)
    if found is None:
        found = _svg(dot) if fmt == "svg" else _png(dot)
        caches["diagrams"].set(key, found, settings.DIAGRAM_CACHE_SECONDS)
    return found


def _png(dot: str) -> bytes:
    try:
        return _piped(_laid_out(dot), "png")
    except DotTimeout:
        raise _too_slow() from None


def _too_slow() -> RenderError:
    return RenderError(f"Graphviz took more than {RENDER_SECONDS} s to draw the graph.")


def _svg(dot: str) -> bytes:
    """SVG. A layered layout still running after LAYERED_SECONDS is drawn by force instead
    (rendering.dot_by_force), and that is remembered so that the PNG of the graph is laid out by
    force too."""
    forced = dot_by_force(dot)
    try:
        return _svg_drawn(dot, LAYERED_SECONDS if forced != dot else RENDER_SECONDS)
    except DotTimeout:
        if forced == dot:
            raise _too_slow() from None
    caches["diagrams"].set(FORCED + diagram_key(dot, "svg"), True, settings.DIAGRAM_CACHE_SECONDS)
    try:
        return _svg_drawn(forced, RENDER_SECONDS)
    except DotTimeout:
        raise _too_slow() from None


def _svg_drawn(dot: str, seconds: float) -> bytes:
    """From the long-lived `dot` of the graph's layout engine when there is one and it is free, else
    from a fresh `dot`. Raises DotTimeout after `seconds`."""
    data = dot.encode()
    process = dot_processes.get(layout_of(data))
    found = process.svg(data, seconds) if process is not None else None
    return found if found is not None else _piped(dot, "svg", seconds)


def _laid_out(dot: str) -> str:
    """The DOT text as its SVG was drawn: laid out by force when the layered layout took too long."""
    diagram_render(dot=dot, fmt="svg")
    return dot_by_force(dot) if caches["diagrams"].get(FORCED + diagram_key(dot, "svg")) else dot


def _piped(dot: str, fmt: str, seconds: float = RENDER_SECONDS) -> bytes:
    """A fresh `dot` through the graphviz package (its command, run with a time limit): PNG, layered
    graphs, and any graph a long-lived `dot` could not draw; it says what went wrong."""
    try:
        done = graphviz.backend.execute.run_check(graphviz.backend.dot_command.command("dot", fmt), input=dot.encode(),
                                                 capture_output=True, quiet=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise DotTimeout(f"Graphviz drew nothing within {seconds} s") from None
    except graphviz.ExecutableNotFound:
        raise RenderError("Graphviz is not installed: install the graphviz package (it provides `dot`).") from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz could not render the graph: {exc.stderr.decode(errors='replace')[:300]}") from None
    return done.stdout


def view_dot(stamp: str, view: View, urls: Urls = Urls(), topology: Topology | None = None, *,
             registry: str = "") -> str:
    """The DOT text of a view, kept per data stamp so that an unchanged topology is not rebuilt.

    Without `topology`, the whole-system view of a system over the collapse limit is drawn from the
    stored team-level summary of the `registry` stamp, without loading every service and link; any
    other view loads the topology of the stamp (once per process) when its text is not cached yet."""
    key = "topology-dot:" + view_key(stamp, view, urls, "dot")
    dot = caches["diagrams"].get(key)
    if dot is None:
        dot, loaded = _dot_of(stamp, view, urls, topology, registry)
        if loaded:  # from the team summary it is quicker drawn again than read back
            caches["diagrams"].set(key, dot, settings.DIAGRAM_CACHE_SECONDS)
    return dot


def _dot_of(stamp: str, view: View, urls: Urls, topology: Topology | None, registry: str) -> tuple[str, bool]:
    """The DOT text, and whether it was drawn from a whole topology (costly) rather than the summary."""
    if view.whole:
        if topology is None:
            overview = _overview(registry or topology_stamps().registry, over=view.collapse_over)
        else:
            overview = overview_of(topology) if len(topology.nodes) > view.collapse_over else None
        if overview is not None:
            return overview_dot(overview, urls), topology is not None
    if topology is None:
        topology = topology_current(stamp)[1]
    return dot_source(topology, view, urls), True


def _overview(registry: str, *, over: int) -> Overview | None:
    """The team-level overview with live health, when the system has more than `over` services."""
    overview = topology_summary(registry=registry) or topology_summary_refresh()
    if overview.size <= over:
        return None
    overview.health = team_health()
    return overview
