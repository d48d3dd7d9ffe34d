"""Observed dependencies: Jaeger or Zipkin dependency links -> service-to-service edges. Pure.

Accepted JSON shapes:
- a list of links [{"parent", "child", "callCount"[, "errorCount"]}] (Jaeger, Zipkin /api/v2/dependencies);
- {"data": [...]} as Jaeger's HTTP API wraps it;
- {"links": [...], "start": ISO time, "end": ISO time} or {"links"|"data": [...], "endTs": ms, "lookback": ms}
  for the window the links were observed in (a time without an offset is UTC).

The format is zipkin when a link has errorCount (Jaeger never writes one) or {"format": "zipkin"}
says so, jaeger otherwise (Zipkin omits errorCount when it is 0, so a bare list is ambiguous).
Service names become Switchboard names (the raw ones are kept); self-edges are dropped; links of
the same pair are summed. Pointers: "/3/callCount", or "/data/3/callCount" inside a wrapper.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from core.inputs import shown

from .catalog import Findings, json_value, name_at

FORMAT_JAEGER = "jaeger"
FORMAT_ZIPKIN = "zipkin"
FORMATS = (FORMAT_JAEGER, FORMAT_ZIPKIN)
MAX_EDGES = 100_000
MAX_COUNT = 2 ** 63 - 1  # what the database keeps (a 64-bit integer), for one link and for a pair summed

PARENT = "parent"
CHILD = "child"
CALLS = "callCount"
ERRORS = "errorCount"
LINK_LISTS = ("data", "links")
FORMAT = "format"
START = "start"
END = "end"
END_TS = "endTs"
LOOKBACK = "lookback"

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SHAPE = 'a list of links, {"data": [...]} or {"links": [...]}'
_REQUIRED = object()


@dataclass(frozen=True)
class ObservedEdge:
    """Calls seen from one service to another; parent and child are Switchboard names."""

    parent: str
    child: str
    calls: int
    errors: int = 0
    raw_parent: str = ""
    raw_child: str = ""


@dataclass(frozen=True)
class DependencySet:
    """Edges by (parent, child), the observation window if known; empty when there is any error."""

    edges: tuple[ObservedEdge, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None
    format: str = FORMAT_JAEGER
    warnings: tuple[dict, ...] = ()
    errors: tuple[dict, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the edges may be used."""
        return not self.errors


def dependencies_parse(text: str) -> DependencySet:
    """A Jaeger or Zipkin dependencies JSON text -> edges and window, or every error found."""
    findings = Findings()
    data = json_value(text, findings)
    if findings.errors:
        return _result(findings, (), (None, None), FORMAT_JAEGER)
    links, base = _links(data, findings)
    window = _window(data, findings) if isinstance(data, dict) else (None, None)
    edges = _edges(links, base, findings)
    return _result(findings, edges, window, _format(data, links, findings))


def _result(findings: Findings, edges: tuple[ObservedEdge, ...], window: tuple, form: str) -> DependencySet:
    """The set, or only the findings when there is any error."""
    if findings.errors:
        return DependencySet(format=form, warnings=tuple(findings.warnings), errors=tuple(findings.errors))
    return DependencySet(edges=edges, window_start=window[0], window_end=window[1], format=form,
                         warnings=tuple(findings.warnings))


def _links(data: object, findings: Findings) -> tuple[list, str]:
    """The list of links and the pointer it sits at."""
    if isinstance(data, list):
        return data, ""
    key = next((key for key in LINK_LISTS if isinstance(data, dict) and key in data), None)
    if key and isinstance(data[key], list):
        return data[key], f"/{key}"
    findings.error(f"/{key}" if key else "", f"expected {SHAPE}, not {shown(data[key] if key else data)}")
    return [], ""


def _format(data: object, links: list, findings: Findings) -> str:
    """zipkin or jaeger: as declared, else by errorCount."""
    declared = data.get(FORMAT) if isinstance(data, dict) else None
    if declared is not None and declared not in FORMATS:
        findings.error(f"/{FORMAT}", f"format must be {' or '.join(FORMATS)}, not {shown(declared)}")
    if declared in FORMATS:
        return declared
    return FORMAT_ZIPKIN if any(isinstance(link, dict) and ERRORS in link for link in links) else FORMAT_JAEGER


# --- The window ----------------------------------------------------------------------------------


def _window(data: dict, findings: Findings) -> tuple[datetime | None, datetime | None]:
    """(start, end) from endTs/lookback or from start/end; (None, None) when not given."""
    if END_TS in data or LOOKBACK in data:
        return _millis_window(data, findings)
    start, end = _moment_at(data, START, findings), _moment_at(data, END, findings)
    if start and end and start > end:
        findings.error(f"/{START}", f"the window starts ({start.isoformat()}) after it ends ({end.isoformat()})")
    return start, end


def _moment_at(data: dict, key: str, findings: Findings) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset), or None."""
    value = data.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        findings.error(f"/{key}", f"{key} must be an ISO 8601 time such as 2024-05-01T10:00:00Z, not {shown(value)}")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _millis_window(data: dict, findings: Findings) -> tuple[datetime | None, datetime | None]:
    """endTs (ms since the epoch) and lookback (ms before it), as Jaeger's and Zipkin's APIs take them."""
    end_ms = _whole_at(data, END_TS, "", findings)
    lookback = _whole_at(data, LOOKBACK, "", findings, default=None)
    end = _shifted(EPOCH, end_ms, f"/{END_TS}", findings) if end_ms is not None else None
    start = _shifted(end, -lookback, f"/{LOOKBACK}", findings) if end and lookback is not None else None
    return start, end


def _shifted(moment: datetime, millis: int, pointer: str, findings: Findings) -> datetime | None:
    """moment + millis, or an error when that is out of range."""
    try:
        return moment + timedelta(milliseconds=millis)
    except OverflowError:
        findings.error(pointer, f"{millis} ms is out of range")
        return None


# --- The links -----------------------------------------------------------------------------------


def _edges(links: list, base: str, findings: Findings) -> tuple[ObservedEdge, ...]:
    """Every link read, self-edges dropped, links of a pair summed, by (parent, child)."""
    if len(links) > MAX_EDGES:
        findings.error(base, f"at most {MAX_EDGES:,} links are allowed; got {len(links):,}")
        return ()
    edges = [edge for index, link in enumerate(links) if (edge := _edge(link, f"{base}/{index}", findings))]
    between = [edge for edge in edges if edge.parent != edge.child]
    if len(between) < len(edges):
        findings.warning(base, f"{len(edges) - len(between)} self-edges dropped (a service calling itself)")
    if edges and not between:  # links were given, yet every one was a service calling itself
        findings.error(base, "every link is a service calling itself: the export holds no call between services")
    return _summed(between, base, findings)


def _summed(edges: list[ObservedEdge], base: str, findings: Findings) -> tuple[ObservedEdge, ...]:
    """One edge a (parent, child) pair, calls and errors summed; the first raw names are kept."""
    merged: dict[tuple[str, str], ObservedEdge] = {}
    for edge in edges:
        key = (edge.parent, edge.child)
        earlier = merged.get(key)
        merged[key] = edge if earlier is None else replace(
            earlier, calls=earlier.calls + edge.calls, errors=earlier.errors + edge.errors)
    if len(merged) < len(edges):
        findings.warning(base, f"{len(edges) - len(merged)} links repeat a pair; their counts are summed")
    for (parent, child), edge in merged.items():
        if max(edge.calls, edge.errors) > MAX_COUNT:
            findings.error(base, f"the links from {parent} to {child} count more than {MAX_COUNT:,} calls together")
    return tuple(merged[key] for key in sorted(merged))


def _edge(link: object, pointer: str, findings: Findings) -> ObservedEdge | None:
    """One link, or None after its errors."""
    if not isinstance(link, dict):
        findings.error(pointer, f"a link must be an object with {PARENT}, {CHILD} and {CALLS}, not {shown(link)}")
        return None
    parent = name_at(link.get(PARENT), f"{pointer}/{PARENT}", findings, what=PARENT)
    child = name_at(link.get(CHILD), f"{pointer}/{CHILD}", findings, what=CHILD)
    calls = _whole_at(link, CALLS, pointer, findings)
    errors = _whole_at(link, ERRORS, pointer, findings, default=0)
    if parent is None or child is None or calls is None or errors is None:
        return None
    return ObservedEdge(parent, child, calls, errors, raw_parent=link[PARENT], raw_child=link[CHILD])


def _whole_at(holder: dict, key: str, pointer: str, findings: Findings, *, default: object = _REQUIRED) -> int | None:
    """holder[key] as a whole number >= 0; default when absent (an error when it is required)."""
    value = holder.get(key)
    if value is None and default is not _REQUIRED:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    problem = "is required" if value is None else f"must be a whole number from 0 to {MAX_COUNT:,}, not {shown(value)}"
    findings.error(f"{pointer}/{key}", f"{key} {problem}")
    return None
