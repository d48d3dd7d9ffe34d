"""Extension points of the registry and its drawing, for the apps built on top of topology.

topology sits low in the app graph (core < topology < probes < decisions < ...) and imports none of
the apps above it. Yet a registration checks the probes a manifest declares, keeps their rows in
step and evaluates every interaction it writes, and the drawing fills services by probe health and
lets accepted overrides settle mismatches. The apps that own those things plug in here from their
AppConfig.ready(); topology calls what they registered. With nothing plugged in, a manifest may
declare no probes, interactions are stored unevaluated and the drawing shows no health.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Errors = list[tuple[str, str]]


def _no_probes(value: object, *, base: str = "") -> tuple[list, Errors]:
    return [], ([(base, "probes cannot be declared here: the probes app is not installed")] if value else [])


@dataclass
class ProbeDeclarations:
    """How the probes a service declares (Service.probes) are checked, shown and kept."""

    check: Callable[..., tuple[list, Errors]] = _no_probes  # (value, base=pointer) -> (manifest form, errors)
    redacted: Callable[[dict], dict] = lambda item: item  # secrets hidden, for reading
    unredacted: Callable[[dict, dict | None], dict] = lambda item, stored: item  # hidden secrets sent back keep theirs
    synced: Callable[..., None] = lambda *, services, now: None  # make the probe rows match the declarations
    schema: dict | None = None  # one declared probe as JSON Schema, the probes part of the manifest schema


@dataclass
class Health:
    """Probe health, as the drawing shows it."""

    of_services: Callable[[], dict[str, str]] = dict  # service name -> worst current outcome
    uptime: Callable[[], dict[str, float]] = dict  # service name -> measured 30-day availability
    unwell: Callable[[], Iterable[tuple[int, str | None, str]]] = tuple  # (service id, team, outcome), down or degraded
    latency_p95: Callable[[], dict[str, dict[str, float]]] = dict  # service name -> location -> p95 ms, last 24 h


class Assessment:
    """What an assessor returns for one registration: evaluates its interactions under one ruleset."""

    version: str = ""

    def assess(self, *, source: str, targets: tuple[str, ...], criteria: dict, declared_style: str) -> dict:
        return {}


@dataclass
class Assessor:
    """How interactions are evaluated when they are written, and which mismatches are settled."""

    begin: Callable[[], Assessment] = Assessment  # one per registration (the current ruleset)
    columns: Callable[[dict], dict] = lambda result: {}  # Interaction columns that store one result
    summary: Callable[[dict], dict] = lambda result: {}  # the short form a registration report shows
    expanded: Callable[..., dict] = lambda stored, *, criteria: stored  # a stored result with what it omits put back
    settled_links: Callable[[], Any] | None = None  # query set of (interaction_id) links an accepted override settles
    settled_prefetch: Callable[[], Any] | None = None  # Prefetch of those decisions onto interactions


@dataclass
class Extensions:
    probes: ProbeDeclarations = field(default_factory=ProbeDeclarations)
    health: Health = field(default_factory=Health)
    assessor: Assessor = field(default_factory=Assessor)
    # (model, field) whose latest value moves the topology stamp: registry parts, then live parts (health).
    stamp_registry: list[tuple[Any, str]] = field(default_factory=list)
    stamp_live: list[tuple[Any, str]] = field(default_factory=list)
    # () -> (source, target, calls) of the calls tracing saw that no interaction declares (drawn dashed).
    undeclared: Callable[[], Iterable[tuple[str, str, int]]] = tuple
    # (topology) -> findings of another source, listed and ranked with the graph's (drift, by imports).
    findings: list[Callable[[Any], list]] = field(default_factory=list)
    # (service) -> extra context for the service page; (interaction) -> for the interaction page.
    service_page: list[Callable[[Any], dict]] = field(default_factory=list)
    interaction_page: list[Callable[[Any], dict]] = field(default_factory=list)
    # (name) -> a change plan drawn over the topology page (`?plan=<name>`): {"template": partial to
    # include, ...its context}, or None when there is no such plan. Without it `plan` is refused.
    plan_overlay: Callable[[str], dict | None] | None = None


registered = Extensions()


def page_context(providers: list[Callable[[Any], dict]], item) -> dict:
    """The extra page context every registered provider gives for one object."""
    context: dict = {}
    for provider in providers:
        context.update(provider(item))
    return context
