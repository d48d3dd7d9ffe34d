"""A long-lived system `dot` that draws SVG for one graph after another (pure: no Django).

Graphviz spends about 20 ms starting (loading its plugins, pango, cairo and fontconfig) before it
reads a byte: more than it takes to lay out and draw a team overview. `dot -Tsvg` reads graphs from
its input one after another and writes each drawing as soon as it is done, so one process kept per
Python process, fed one graph at a time, draws the same bytes without paying that again.

A `dot` (Graphviz 2.43) keeps some state from one graph to the next: the layout engine of a graph
that named one stays for the next graph that does not, and clusters are numbered and ordered on from
the graphs before. So a DotProcess draws only graphs of its own layout engine (`layout_of`), and the
caller uses one only for graphs without clusters (the team-folder overview).

Any trouble ends that `dot`: an error on its stderr, the process gone, a write refused. `svg()` then
answers None, and the caller draws with a fresh `dot`, which reports the error in full; the next
drawing starts a new long-lived one. No whole drawing within the time limit raises DotTimeout. A
process is also replaced after `recycle_after` drawings, and in a forked child (a web worker forked
from a master that had one) a new one is started: the parent's pipes are never shared.
"""
import os
import re
import selectors
import subprocess
import threading
import time

END = b"</svg>\n"  # labels are escaped in SVG, so a drawing holds this only at its end
CHUNK = 1 << 16
# From its second graph on, a `dot` names the drawing's top group and its tooltip anchor as a page's
# ("page0,1_graph0", "a_page0,1_graph0"); they are given back the names a fresh `dot` gives them, so
# the bytes do not depend on the process.
PAGED_ID = re.compile(rb'id="(a_)?page\d+,\d+_')
# The engine a graph names in its first attribute statement, as topology/rendering.py writes it.
LAYOUT = re.compile(rb'^\s*graph \[layout=(\w+)', re.MULTILINE)
HEAD = 400  # bytes: the graph statement and its attributes come first


def layout_of(dot: bytes) -> str:
    """The layout engine a graph names (`graph [layout=...` in its first lines), else "dot"."""
    found = LAYOUT.search(dot[:HEAD])
    return found.group(1).decode() if found else "dot"


class DotTimeout(Exception):
    """`dot` drew nothing whole within the time limit; it was stopped."""


class DotProcess:
    def __init__(self, *, layout: str = "dot", command: tuple[str, ...] = ("dot", "-Tsvg"), timeout: float = 30.0,
                 recycle_after: int = 1000):
        self.layout, self.command, self.timeout, self.recycle_after = layout, command, timeout, recycle_after
        self._process: subprocess.Popen | None = None
        self._pid = 0  # the Python process that started it
        self._drawn = 0
        self._lock = threading.Lock()

    def svg(self, dot: bytes, timeout: float | None = None) -> bytes | None:
        """The SVG drawing of one graph (DOT text holding one graph), or None when it is not of this
        process's layout engine, when this `dot` could not draw it (then it is stopped) or when it is
        drawing for another thread (then the caller draws otherwise rather than wait)."""
        if layout_of(dot) != self.layout or not self._lock.acquire(blocking=False):
            return None
        try:
            return self._draw(dot, self.timeout if timeout is None else timeout)
        finally:
            self._lock.release()

    def _draw(self, dot: bytes, timeout: float) -> bytes | None:
        process = self._current()
        if process is None:
            return None
        try:
            drawing = _exchange(process, dot, time.monotonic() + timeout)
        except DotTimeout:
            self.stop()
            raise
        self._drawn += 1
        if drawing is None or self._drawn >= self.recycle_after:
            self.stop()
        return drawing

    def stop(self) -> None:
        """End the `dot` of this Python process, if there is one (a forked child's inherited one is left
        to its parent)."""
        process, self._process = self._process, None
        if process is None or self._pid != os.getpid():
            return
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
        process.kill()
        process.wait()

    def _current(self) -> subprocess.Popen | None:
        if self._process is not None and (self._pid != os.getpid() or self._process.poll() is not None):
            self.stop()
        if self._process is None:
            try:
                self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE)
            except OSError:  # no Graphviz: the caller's fallback says so
                return None
            os.set_blocking(self._process.stdin.fileno(), False)
            self._pid, self._drawn = os.getpid(), 0
        return self._process


def _exchange(process: subprocess.Popen, dot: bytes, deadline: float) -> bytes | None:
    """Write one graph and read its drawing, never blocking on a full pipe: the input is written as
    `dot` takes it while its output and warnings are drained."""
    pending, drawing, complaints = memoryview(dot if dot.endswith(b"\n") else dot + b"\n"), bytearray(), bytearray()
    with selectors.DefaultSelector() as watch:
        watch.register(process.stdin, selectors.EVENT_WRITE)
        watch.register(process.stdout, selectors.EVENT_READ, drawing)
        watch.register(process.stderr, selectors.EVENT_READ, complaints)
        while not drawing.endswith(END):
            left = deadline - time.monotonic()
            events = watch.select(left) if left > 0 else []
            if not events:
                raise DotTimeout(f"Graphviz drew nothing within the time limit ({complaints.decode(errors='replace')[:200]})")
            if b"Error:" in complaints:
                return None
            for key, _ in events:
                if key.fileobj is process.stdin:
                    pending = _write_some(process, pending)
                    if pending is None:
                        return None
                    if not pending:
                        watch.unregister(process.stdin)
                elif not _read_some(key.fileobj, key.data):
                    return None  # the output ended: `dot` is gone
    return PAGED_ID.sub(rb'id="\1', bytes(drawing))


def _write_some(process: subprocess.Popen, pending: memoryview) -> memoryview | None:
    try:
        written = os.write(process.stdin.fileno(), pending[:CHUNK])
    except BlockingIOError:
        return pending
    except OSError:  # the process went away
        return None
    return pending[written:]


def _read_some(stream, into: bytearray) -> bool:
    chunk = os.read(stream.fileno(), CHUNK)
    into += chunk
    return bool(chunk)
