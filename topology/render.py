"""Graphviz drawings of DOT text (the system `dot`), kept by what they show.

Three layers, nearest first: the drawings this process served lately (memory), the shared cache
(rendered diagrams by a hash of their DOT text, DOT texts by data stamp and view), then Graphviz:
SVG from a `dot` kept running by this process (dot_process.py), PNG and fallbacks through the
graphviz package.
"""
import atexit
import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import graphviz
from django.conf import settings
from django.core.cache import caches

from .dot_process import DotProcess, DotTimeout
from .graph import Overview, Topology, overview_of
from .overview_services import topology_summary_refresh
from .rendering import Urls, View, dot_source, overview_dot
from .selectors import team_health, topology_current, topology_stamps, topology_summary

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


RECENT_BYTES = 32 * 1024 * 1024
RENDER_SECONDS = 20


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
dot_process = DotProcess(timeout=RENDER_SECONDS)
atexit.register(dot_process.stop)


def drawings_forget() -> None:
    """Drop every drawing kept, in this process and in the shared diagram cache (for tests and
    benchmarks; with a Redis cache this clears the whole Redis database)."""
    recent.clear()
    caches["diagrams"].clear()


def _code_stamp() -> str:
    """A fingerprint of the code that turns data into drawings: a new release draws anew."""
    here = Path(__file__).resolve().parent
    sources = b"".join((here / name).read_bytes()
                       for name in ("graph.py", "rendering.py", "render.py", "selectors.py", "dot_process.py"))
    return hashlib.sha256(sources).hexdigest()[:16]


CODE_STAMP = _code_stamp()


def view_key(stamp: str, view: View, urls: Urls, fmt: str) -> str:
    """The name of one view of one state of the data in one format, as this code draws it (also its ETag)."""
    canonical = (view.team, view.focus, view.hops, view.blast, view.chain, sorted(view.expand), view.collapse_over)
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


def diagram_render(*, dot: str, fmt: str) -> bytes:
    """DOT -> SVG or PNG bytes; the same text is rendered once and then served from the cache."""
    key = diagram_key(dot, fmt)
    found = caches["diagrams"].get(key)
    if found is not None:
        return found
    rendered = _drawn(dot.encode(), fmt)
    caches["diagrams"].set(key, rendered, settings.DIAGRAM_CACHE_SECONDS)
    return rendered


def _drawn(dot: bytes, fmt: str) -> bytes:
    """SVG from this process's long-lived `dot` when it can; PNG, and any graph it could not draw,
    through the graphviz package (which says what went wrong)."""
    if fmt == "svg":
        try:
            found = dot_process.svg(dot)
        except DotTimeout:
            raise RenderError(f"Graphviz took more than {RENDER_SECONDS} s to draw the graph.") from None
        if found is not None:
            return found
    try:
        return graphviz.pipe("dot", fmt, dot, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError("Graphviz is not installed: install the graphviz package (it provides `dot`).") from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz could not render the graph: {exc.stderr.decode(errors='replace')[:300]}") from None


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
