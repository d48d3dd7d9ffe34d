"""Graphviz rendering of DOT text (the system `dot`, through the graphviz package), cached by content."""
import hashlib

import graphviz
from django.conf import settings
from django.core.cache import cache

from .graph import Topology, overview_of
from .rendering import Urls, View, dot_source, overview_dot
from .selectors import topology_current, topology_overview

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


class RenderError(Exception):
    """Graphviz is missing or refused the graph (HTTP 503)."""


def diagram_key(dot: str, fmt: str) -> str:
    return "diagram:" + hashlib.sha256(f"{fmt}\n{dot}".encode()).hexdigest()


def diagram_render(*, dot: str, fmt: str) -> bytes:
    """DOT -> SVG or PNG bytes; the same text is rendered once and then served from the cache."""
    key = diagram_key(dot, fmt)
    found = cache.get(key)
    if found is not None:
        return found
    try:
        rendered = graphviz.pipe("dot", fmt, dot.encode(), quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError("Graphviz is not installed: install the graphviz package (it provides `dot`).") from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz could not render the graph: {exc.stderr.decode(errors='replace')[:300]}") from None
    cache.set(key, rendered, settings.DIAGRAM_CACHE_SECONDS)
    return rendered


def view_dot(stamp: str, view: View, urls: Urls = Urls(), topology: Topology | None = None) -> str:
    """The DOT text of a view, kept per data stamp so that an unchanged topology is not rebuilt.

    Without `topology`, the whole-system view of a system over the collapse limit is drawn from
    team-level aggregates, without loading every service and link; any other view loads the
    topology of the stamp (once per process) when its text is not cached yet."""
    key = "topology-dot:" + hashlib.sha256(f"{stamp}|{view!r}|{urls!r}".encode()).hexdigest()
    dot = cache.get(key)
    if dot is None:
        dot = _dot_of(stamp, view, urls, topology)
        cache.set(key, dot, settings.DIAGRAM_CACHE_SECONDS)
    return dot


def _dot_of(stamp: str, view: View, urls: Urls, topology: Topology | None) -> str:
    if view.whole:
        if topology is None:
            overview = topology_overview(over=view.collapse_over)
        else:
            overview = overview_of(topology) if len(topology.nodes) > view.collapse_over else None
        if overview is not None:
            return overview_dot(overview, urls)
    if topology is None:
        topology = topology_current(stamp)[1]
    return dot_source(topology, view, urls)
