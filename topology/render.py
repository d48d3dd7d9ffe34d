"""Graphviz rendering of DOT text (the system `dot`, through the graphviz package), cached by content."""
import hashlib

import graphviz
from django.conf import settings
from django.core.cache import cache

from .graph import Topology
from .rendering import Urls, View, dot_source

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


def view_dot(stamp: str, topology: Topology, view: View, urls: Urls = Urls()) -> str:
    """The DOT text of a view, kept per data stamp so that an unchanged topology is not rebuilt."""
    key = "topology-dot:" + hashlib.sha256(f"{stamp}|{view!r}|{urls!r}".encode()).hexdigest()
    dot = cache.get(key)
    if dot is None:
        dot = dot_source(topology, view, urls)
        cache.set(key, dot, settings.DIAGRAM_CACHE_SECONDS)
    return dot
