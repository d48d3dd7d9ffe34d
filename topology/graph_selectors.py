"""Reads of the whole graph, for drawing and analysis: the topology stamp (raw SQL, one round trip),
the topology loaded once per stamp in each process, and the team-level aggregates of large systems.
Registry reads (teams, services, interactions) are in selectors.py."""
import functools
import hashlib
import json
from collections import Counter
from typing import NamedTuple

from django.db import connection
from django.db.models import Case, Count, F, Q, Value, When

from core.severity import SEVERITIES

from . import budgets, graph
from .extensions import registered
from .models import InteractionTarget, Interaction, RegistryRevision, Service, TopologySummary
from .selectors import settled_links


def _slo(labels: dict) -> float | None:
    """A declared availability from the `slo` label ("99.9" or "99.9%"), as a fraction."""
    raw = str(labels.get("slo", "")).strip().rstrip("%")
    try:
        value = float(raw) / 100
    except ValueError:
        return None
    return value if 0 < value <= 1 else None


class Stamps(NamedTuple):
    """Fingerprints of what the topology shows, read from a few index lookups."""

    full: str  # everything: any registration, deletion, re-evaluation, decision or probe state changes it
    registry: str  # services, interactions, recommendations and decisions, without probe health


def topology_stamps() -> Stamps:
    sql, registry_parts = _stamp_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        parts = cursor.fetchone()
    return Stamps(_digest(parts), _digest(parts[:registry_parts]))


def _digest(parts) -> str:
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:32]


def topology_stamp() -> str:
    return topology_stamps().full


@functools.cache
def _stamp_sql() -> tuple[str, int]:
    """One statement of scalar subqueries, each a single index lookup, in one round trip: the registry
    revision, which every registry write raises (deletions included), and the latest change times,
    which also catch a write that did not (with those the apps above add: decisions); then the live
    parts (probe states and rollups). Counting rows would scan tables: on PostgreSQL that cost 5 ms at
    1,000 services. Returns the SQL and how many of its values are registry parts."""
    name = connection.ops.quote_name

    def latest(model, field: str) -> str:
        return f"(SELECT MAX({name(model._meta.get_field(field).column)}) FROM {name(model._meta.db_table)})"

    revision = f"(SELECT {name('number')} FROM {name(RegistryRevision._meta.db_table)} WHERE {name('key')} = 1)"
    registry = [revision] + [latest(model, field) for model, field in [
        (Service, "updated_at"), (Interaction, "updated_at"), (Interaction, "recommended_at"),
        *registered.stamp_registry]]
    live = [latest(model, field) for model, field in registered.stamp_live]
    return "SELECT " + ", ".join(registry + live), len(registry)


_current: dict = {}


def topology_current(stamp: str | None = None) -> tuple[str, "object"]:
    """(stamp, topology): loaded once per process for each stamp, so unchanged data is not re-read;
    `stamp` when the caller has just read it."""
    stamp = stamp or topology_stamp()
    if stamp not in _current:
        _current.clear()
        _current[stamp] = topology_load()
    return stamp, _current[stamp]


_findings: dict = {}


def findings_current() -> list:
    """The graph findings of the current topology, computed once per data stamp in each process."""
    stamp, topology = topology_current()
    if stamp not in _findings:
        _findings.clear()
        _findings[stamp] = findings_of(topology)
    return _findings[stamp]


def findings_of(topology) -> list:
    """The graph's findings of this topology and those of every registered source (drift, latency
    budgets), ranked together; computed now, never from a cache."""
    more = tuple(finding for provider in registered.findings for finding in provider(topology))
    return graph.findings(topology, more=more)


def interaction_budgets() -> dict[tuple[str, str], float]:
    """(source, interaction) -> the latency budget in ms its criteria declare, for sync interactions."""
    rows = (Interaction.objects.filter(style__in=graph.SYNC, criteria__has_key="latency_budget_ms")
            .values_list("source__name", "name", "criteria"))
    return {(source, name): float(criteria["latency_budget_ms"]) for source, name, criteria in rows
            if isinstance(criteria.get("latency_budget_ms"), (int, float)) and criteria["latency_budget_ms"] > 0}


def budget_checks_of(topology, *, only: tuple[str, str] | None = None) -> list[budgets.BudgetCheck]:
    """Each budgeted sync interaction against the measured p95 along the slowest sync path below it."""
    return budgets.budget_checks(topology, interaction_budgets(), registered.health.latency_p95(), only=only)


def budget_findings_of(topology) -> list[graph.Finding]:
    """The budgets that cannot fit, as findings (a provider of registered.findings)."""
    return budgets.budget_findings(budget_checks_of(topology))


def _availability(measured: float | None, declared: float | None) -> tuple[float | None, str]:
    """Measured uptime (30 days of probe runs) where there is some, else the declared SLO."""
    if measured is not None:
        return measured, "measured"
    return (declared, "slo") if declared is not None else (None, "")


def topology_load():
    """The whole topology as plain data for graph analysis and rendering (three queries)."""
    nodes = {}
    health, measured = registered.health.of_services(), registered.health.uptime()
    for name, team, title, lifecycle, labels in Service.objects.values_list("name", "team__slug", "title", "lifecycle",
                                                                             "labels"):
        availability, source = _availability(measured.get(name), _slo(labels))
        nodes[name] = graph.Node(name=name, team=team, title=title, lifecycle=lifecycle, availability=availability,
                                 availability_source=source, health=health.get(name, ""))
    links = settled_links()
    overridden = set(links.values_list("interaction_id", flat=True)) if links is not None else set()
    rows = list(InteractionTarget.objects.values_list(
        "interaction_id", "interaction__source__name", "service__name", "interaction__name", "interaction__style",
        "interaction__channel", "interaction__broker", "interaction__mismatch", "interaction__recommended_pattern",
    ).order_by("interaction__source__name", "interaction__name", "position"))
    counts = Counter(row[0] for row in rows)  # how many targets each interaction has
    links = [
        graph.Link(source=source, target=target, interaction=name, style=style, channel=channel, broker=broker,
                   mismatch=mismatch, recommended=recommended, deliberate=item_id in overridden,
                   targets=counts[item_id])
        for item_id, source, target, name, style, channel, broker, mismatch, recommended in rows
    ]
    observed = [graph.Observed(*row) for row in registered.undeclared() if row[0] in nodes and row[1] in nodes]
    return graph.Topology(nodes=nodes, links=links, observed=observed)


def topology_overview(*, over: int = -1):
    """The whole system at team level (graph.Overview) without health (team_health reads that), the
    same as graph.overview_of(topology_load()) but from aggregates, in as many queries whatever its
    size (three, four when accepted overrides exist); None when it has no more than `over` services
    (then it is drawn one by one, and the links are not counted here)."""
    teams = _team_sizes()
    overview = graph.Overview(teams={slug: size for slug, size in teams.values()})
    if overview.size <= over:
        return None
    overview.links = topology_team_links({team_id: slug for team_id, (slug, _) in teams.items()})
    return overview


def topology_summary(*, registry: str):
    """The stored team-level summary (graph.Overview without health) of this registry stamp; None
    when the one stored is of another stamp, or there is none. Read with one plain query: it is on
    the path of every overview drawn."""
    name = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {name('teams')}, {name('links')}, {name('groups')} "
                       f"FROM {name(TopologySummary._meta.db_table)} WHERE {name('key')} = 1 AND {name('stamp')} = %s",
                       [registry])
        row = cursor.fetchone()
    if row is None:
        return None
    teams, links = (json.loads(value) if isinstance(value, str) else value for value in row[:2])
    return graph.Overview(teams={slug: size for slug, size in teams}, groups=row[2],
                          links={(source, target, kind): graph.TeamLinks(*found)
                                 for source, target, kind, *found in links})


def team_health() -> dict[str | None, dict[str, int]]:
    """team slug -> how many of its services are down and degraded (a service: its worst probe). Only
    the statuses that are down or degraded are read."""
    worst: dict[int, tuple[str | None, str]] = {}
    for service, team, outcome in registered.health.unwell():
        if service not in worst or outcome == "down":
            worst[service] = (team, outcome)
    by_team: dict[str | None, list[str]] = {}
    for team, outcome in worst.values():
        by_team.setdefault(team, []).append(outcome)
    return {team: graph.health_counts(outcomes) for team, outcomes in by_team.items()}


def _team_sizes() -> dict[int | None, tuple[str | None, int]]:
    """team id -> (slug, how many services): teams without services are left out, None are the placeholders."""
    rows = Service.objects.order_by().values_list("team_id", "team__slug").annotate(n=Count("id"))
    return {team_id: (slug, size) for team_id, slug, size in rows}


def topology_team_links(slugs: dict[int | None, str | None]) -> dict:
    """(source team, target team, kind) -> graph.TeamLinks for the links between two different teams,
    given the slug of each team id (None: the placeholders): how many, how many with a mismatch that no
    accepted override settles, and the worst of those. One aggregate over all links, and one over the
    links of interactions an override settles when there are any."""
    kind = Case(*(When(interaction__style__in=sorted(styles), then=Value(name))
                  for name, styles in (("sync", graph.SYNC), ("async", graph.ASYNC))), default=Value("undecided"))
    links = (InteractionTarget.objects.order_by().exclude(interaction__source__team_id=F("service__team_id"))
             .annotate(kind=kind).values_list("interaction__source__team_id", "service__team_id", "kind"))
    per_severity = {f"n_{severity}": Count("id", filter=Q(interaction__mismatch=severity)) for severity in SEVERITIES}
    overrides = settled_links()
    settled = {}
    if overrides is not None and overrides.exists():
        settling = links.filter(interaction_id__in=overrides.values("interaction_id"),
                                interaction__mismatch__in=SEVERITIES)
        for source, target, kind, severity, n in _rows(settling.annotate(severity=F("interaction__mismatch"),
                                                                         n=Count("*"))):
            settled[source, target, kind, severity] = n
    found = {}
    for source, target, kind, n, *flagged in _rows(links.annotate(n=Count("*"), **per_severity)):
        if source == target:  # the placeholders among themselves (the query drops a team's own links)
            continue
        if settled:
            flagged = [count - settled.get((source, target, kind, severity), 0)
                       for severity, count in zip(SEVERITIES, flagged)]
        errors, warnings, infos = flagged
        found[slugs[source], slugs[target], kind] = graph.TeamLinks(
            n, errors + warnings + infos, "error" if errors else "warning" if warnings else "info" if infos else "")
    return found


def _rows(queryset) -> list[tuple]:
    """The rows of a query set as the database returns them: an aggregate over thousands of groups
    is read without Django's per-value conversions (counts and ids need none)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
