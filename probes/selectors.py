"""Probe reads: lists with current state, uptime from rollups, chart series and health per service."""
import functools
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from topology.graph import UNHEALTHY
from topology.models import Service

from .choices import ProbeKind, ProbeOutcome, RollupPeriod
from .engine.spec import OUTCOME_RANK, Outcome
from .models import Probe, ProbeResult, ProbeRollup, ProbeStatus, RollupMark
from .results_store import values_resolve

UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def probe_queryset() -> QuerySet[Probe]:
    statuses = Prefetch("statuses", queryset=ProbeStatus.objects.order_by("location"))
    return Probe.objects.select_related("service", "service__team").prefetch_related(statuses)


def probe_get(*, service_name: str, name: str) -> Probe | None:
    return probe_queryset().filter(service__name=service_name, name=name).first()


def probes_of_service(*, service: Service) -> list[Probe]:
    return list(probe_queryset().filter(service=service))


def outcome_worst(outcomes) -> str:
    """The worst of some outcomes ("" when none is known yet)."""
    known = [Outcome(outcome) for outcome in outcomes if outcome]
    return str(max(known, key=OUTCOME_RANK.__getitem__)) if known else ""


def probe_outcome(probe: Probe) -> str:
    return outcome_worst(status.outcome for status in probe.statuses.all())


def probe_uptimes(*, probe_ids: list[int], now: datetime | None = None) -> dict[int, dict[str, float | None]]:
    """Share of runs not down per probe over 24 h / 7 d / 30 d, read from the rollups."""
    now = now or timezone.now()
    totals = {pid: {name: [0, 0] for name in UPTIME_WINDOWS} for pid in probe_ids}
    for pid, name, count, down in _window_sums(probe_ids, now):
        totals[pid][name][0] += count or 0
        totals[pid][name][1] += down or 0
    return {pid: {name: (1 - down / count if count else None) for name, (count, down) in windows.items()}
            for pid, windows in totals.items()}


def _window_sums(probe_ids: list[int], now: datetime):
    """(probe, window, runs, down) from closed hours, plus minutes after the last closed hour: the
    probes' series first, then one query per period, each window a filtered sum over the series' own
    key range."""
    hour_mark = _mark(RollupPeriod.HOUR)
    if hour_mark is None:  # no hour has closed yet: the minutes are all there is
        parts = [(RollupPeriod.MINUTE, Q())]
    else:
        parts = [(RollupPeriod.HOUR, Q(bucket__lt=hour_mark)), (RollupPeriod.MINUTE, Q(bucket__gte=hour_mark))]
    oldest = now - max(UPTIME_WINDOWS.values())
    probe_of = dict(ProbeStatus.objects.filter(probe_id__in=probe_ids).values_list("pk", "probe_id"))
    for period, extra in parts:
        sums = {}
        for name, length in UPTIME_WINDOWS.items():
            inside = Q(bucket__gte=now - length)
            sums[f"runs_{name}"], sums[f"down_{name}"] = Sum("count", filter=inside), Sum("down", filter=inside)
        rows = (ProbeRollup.objects.filter(extra, series_id__in=list(probe_of), period=period, bucket__gte=oldest)
                .values("series_id").annotate(**sums).order_by())
        for row in rows:
            yield from ((probe_of[row["series_id"]], name, row[f"runs_{name}"], row[f"down_{name}"])
                        for name in UPTIME_WINDOWS)


def _mark(period: str) -> datetime | None:
    return RollupMark.objects.filter(period=period).values_list("through", flat=True).first()


def probe_results_recent(*, probe: Probe, limit: int = 50) -> list[dict]:
    return probe_result_page(probe=probe, location=None, before=None, limit=limit)


def probe_result_page(*, probe: Probe, location: str | None, before: datetime | None, limit: int) -> list[dict]:
    """Raw runs newest first (then by location), with their values filled in: the newest `limit` of
    each series, read backwards along its key, merged."""
    series = ProbeStatus.objects.filter(probe=probe)
    if location:
        series = series.filter(location=location)
    rows = []
    for series_id, series_location in series.values_list("pk", "location"):
        found = ProbeResult.objects.filter(series_id=series_id).order_by("-slot")
        if before:
            found = found.filter(slot__lt=before)
        rows += [{**row, "location": series_location}
                 for row in found.values("series_id", "slot", "started_ms", "latency_ms", "outcome", "values",
                                         "error")[:limit]]
    rows = sorted(rows, key=lambda row: (-row["slot"].timestamp(), row["location"]))[:limit]
    for row in values_resolve(rows):
        row["started_at"] = row["slot"] + timedelta(milliseconds=row.pop("started_ms"))
        del row["series_id"]
    return rows


def probe_latency_series(*, probe: Probe, hours: int = 24, now: datetime | None = None) -> dict[str, list]:
    """Per location: (time, p50, p95) points — minute rollups, then raw runs not yet rolled up."""
    now = now or timezone.now()
    period = RollupPeriod.MINUTE if hours <= 48 else RollupPeriod.HOUR
    series: dict[str, list] = defaultdict(list)
    rollups = (ProbeRollup.objects.filter(series__probe=probe, period=period, bucket__gte=now - timedelta(hours=hours))
               .order_by("bucket").values_list("series__location", "bucket", "latency_p50", "latency_p95"))
    for location, bucket, p50, p95 in rollups:
        series[location].append((bucket, p50, p95))
    mark = _mark(period) or now - timedelta(hours=hours)
    raw = (ProbeResult.objects.filter(series__probe=probe, slot__gte=mark).order_by("slot")
           .values_list("series__location", "slot", "latency_ms"))
    for location, slot, latency in raw:
        series[location].append((slot, latency, latency))
    return dict(series)


def probe_uptime_grid(*, probe: Probe, days: int = 30, now: datetime | None = None) -> dict:
    """Uptime per day and hour of day over the last `days`, from hourly rollups (None = no runs)."""
    now = now or timezone.now()
    first_day = (now - timedelta(days=days - 1)).date()
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0])
    rows = (ProbeRollup.objects.filter(series__probe=probe, period=RollupPeriod.HOUR, bucket__date__gte=first_day)
            .values_list("bucket", "count", "down"))
    for bucket, count, down in rows:
        cell = sums[(bucket.date(), bucket.hour)]
        cell[0] += count
        cell[1] += down
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]
    grid = [[(1 - sums[(day, hour)][1] / sums[(day, hour)][0]) if (day, hour) in sums else None
             for hour in range(24)] for day in day_list]
    return {"days": day_list, "grid": grid}


def service_health_map() -> dict[str, str]:
    """Service name -> the worst current outcome of its probes (services without probes are absent)."""
    return {service: health for _, service, health in service_health_rows()}


def service_health_rows() -> list[tuple[str | None, str, str]]:
    """(team slug, service name, worst current outcome of its probes) for every probed service."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    rows = ProbeStatus.objects.exclude(outcome="").values_list("probe__service__team__slug", "probe__service__name",
                                                                "outcome")
    for team, service, outcome in rows:
        found.setdefault(service, (team, []))[1].append(outcome)
    return [(team, service, outcome_worst(outcomes)) for service, (team, outcomes) in found.items()]


def service_uptime_map() -> dict[str, float]:
    """Service name -> measured availability over 30 days (all its probes' runs), from the sums the
    hourly rollup keeps on each probe."""
    rows = (Probe.objects.filter(runs_30d__gt=0).values("service__name")
            .annotate(runs=Sum("runs_30d"), failed=Sum("down_30d")).order_by())
    return {row["service__name"]: 1 - row["failed"] / row["runs"] for row in rows}


SERVICE_LATENCY_KINDS = (ProbeKind.HTTP, ProbeKind.GRPC, ProbeKind.TCP)  # a broker probe times the broker


def service_latency_map(*, now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Service name -> location -> p95 latency in ms over the last 24 hours: per probe, the minute
    rollups' p95 weighted by their runs; per service, its slowest probe of its own endpoints."""
    since = (now or timezone.now()) - timedelta(hours=24)
    rows = (ProbeRollup.objects.filter(period=RollupPeriod.MINUTE, bucket__gte=since, count__gt=0,
                                       series__probe__kind__in=SERVICE_LATENCY_KINDS)
            .values_list("series__probe__service__name", "series_id", "series__location")
            .annotate(weighted=Sum(F("latency_p95") * F("count")), runs=Sum("count")).order_by())
    found: dict[str, dict[str, float]] = {}
    for service, _, location, weighted, runs in rows:
        p95 = round(weighted / runs, 1)
        found.setdefault(service, {})[location] = max(p95, found.get(service, {}).get(location, 0))
    return found


def services_unwell() -> list[tuple[int, str | None, str]]:
    """(service id, team slug, outcome) of the probe statuses that are down or degraded: read for every
    overview drawn, so the SQL is compiled once."""
    with connection.cursor() as cursor:
        cursor.execute(*_unwell_sql())
        return cursor.fetchall()


@functools.cache
def _unwell_sql() -> tuple[str, tuple]:
    rows = (ProbeStatus.objects.filter(outcome__in=UNHEALTHY).order_by()
            .values_list("probe__service_id", "probe__service__team__slug", "outcome"))
    return rows.query.sql_with_params()


def probe_counts() -> dict[str, int]:
    """How many probe statuses are up, degraded, down or not yet run (dashboard cards)."""
    counts = dict.fromkeys([*ProbeOutcome.values, "unknown"], 0)
    for row in ProbeStatus.objects.values("outcome").annotate(n=Count("id")).order_by():
        counts[row["outcome"] or "unknown"] = row["n"]
    return counts
