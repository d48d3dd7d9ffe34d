"""Probe history upkeep: per-minute and per-hour rollups from raw results, and retention.

A bucket is rolled up once it is closed and late results have had time to arrive (LATE_GRACE);
`RollupMark` remembers how far each period is done, so a run only reads new raw rows and a missed
run catches up (bounded per run). Upserts make a repeated run harmless.
"""
import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, OuterRef, Subquery, Sum
from django.utils import timezone

from .choices import ProbeOutcome, RollupPeriod
from .models import Probe, ProbeResult, ProbeRollup, ProbeStatus, RollupMark

LATE_GRACE = timedelta(seconds=90)
MONTH = timedelta(days=30)
PERIOD_LENGTH = {RollupPeriod.MINUTE: timedelta(minutes=1), RollupPeriod.HOUR: timedelta(hours=1)}
CATCH_UP = {RollupPeriod.MINUTE: timedelta(hours=6), RollupPeriod.HOUR: timedelta(days=3)}
ROLLUP_FIELDS = ["count", "down", "degraded", "latency_p50", "latency_p95", "last_outcome", "last_values"]


def bucket_floor(moment: datetime, period: str) -> datetime:
    if period == RollupPeriod.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(second=0, microsecond=0)


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def probe_rollups_update(*, now: datetime | None = None) -> dict[str, int]:
    """Roll up every closed bucket not yet done, for both periods. Returns rows written per period."""
    now = now or timezone.now()
    return {str(period): _period_update(period, now) for period in (RollupPeriod.MINUTE, RollupPeriod.HOUR)}


def _period_update(period: str, now: datetime) -> int:
    end = bucket_floor(now - LATE_GRACE, period)
    mark = RollupMark.objects.filter(period=period).first()
    start = mark.through if mark else _first_bucket(period, end)
    if start is None or start >= end:
        return 0
    end = min(end, start + CATCH_UP[period])
    rows = _rollup_rows(period, start, end)
    ProbeRollup.objects.bulk_create(rows, update_conflicts=True, batch_size=1000,
                                    unique_fields=["series", "period", "bucket"],
                                    update_fields=ROLLUP_FIELDS)
    RollupMark.objects.update_or_create(period=period, defaults={"through": end})
    if period == RollupPeriod.HOUR:
        probe_month_sums_update(now=end)
    return len(rows)


def probe_month_sums_update(*, now: datetime) -> None:
    """Each probe's runs and down runs over the 30 days before `now` (one scan of the hourly rollups)."""
    sums = (ProbeRollup.objects.filter(period=RollupPeriod.HOUR, bucket__gte=now - MONTH)
            .values("series__probe_id").annotate(runs=Sum("count"), failed=Sum("down")).order_by())
    rows = [Probe(id=row["series__probe_id"], runs_30d=row["runs"], down_30d=row["failed"]) for row in sums]
    Probe.objects.exclude(id__in=[row.id for row in rows]).exclude(runs_30d=0).update(runs_30d=0, down_30d=0)
    Probe.objects.bulk_update(rows, ["runs_30d", "down_30d"], batch_size=500)


def _every_series():
    """The ids of all series, as a subquery: raw rows are keyed series first, so a time range is read
    (or deleted) as one key range per series."""
    return ProbeStatus.objects.values("pk")


def _first_bucket(period: str, end: datetime) -> datetime | None:
    firsts = ProbeStatus.objects.annotate(first=Subquery(
        ProbeResult.objects.filter(series=OuterRef("pk"), slot__lt=end).order_by("slot").values("slot")[:1]))
    oldest = firsts.aggregate(oldest=Min("first"))["oldest"]
    return bucket_floor(oldest, period) if oldest else None


def _rollup_rows(period: str, start: datetime, end: datetime) -> list[ProbeRollup]:
    groups: dict[tuple, list] = defaultdict(list)
    raw = (ProbeResult.objects.filter(series__in=_every_series(), slot__gte=start, slot__lt=end)
           .order_by("series", "slot").values_list("series_id", "slot", "latency_ms", "outcome", "values"))
    for series_id, slot, latency, outcome, values in raw.iterator(chunk_size=5000):
        groups[(series_id, bucket_floor(slot, period))].append((latency, outcome, values))
    return [_rollup(period, key, runs) for key, runs in groups.items()]


def _rollup(period: str, key: tuple, runs: list[tuple]) -> ProbeRollup:
    series_id, bucket = key
    latencies = sorted(run[0] for run in runs)
    outcomes = [run[1] for run in runs]
    changed = [run[2] for run in runs if run[2] is not None]
    return ProbeRollup(
        series_id=series_id, period=period, bucket=bucket, count=len(runs),
        down=outcomes.count(ProbeOutcome.DOWN), degraded=outcomes.count(ProbeOutcome.DEGRADED),
        latency_p50=percentile(latencies, 0.5), latency_p95=percentile(latencies, 0.95),
        last_outcome=outcomes[-1], last_values=changed[-1] if changed else None)


def probe_retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Delete raw results and rollups older than their retention settings. Returns rows deleted.
    Raw results go by whole hours (a kept row may take its values from the first of its hour)."""
    now = now or timezone.now()
    raw = bucket_floor(now - timedelta(hours=settings.PROBE_RAW_RETENTION_HOURS), RollupPeriod.HOUR)
    minute = now - timedelta(hours=settings.PROBE_MINUTE_ROLLUP_RETENTION_HOURS)
    hour = now - timedelta(days=settings.PROBE_HOUR_ROLLUP_RETENTION_DAYS)
    return {
        "raw": ProbeResult.objects.filter(series__in=_every_series(), slot__lt=raw).delete()[0],
        "minute": _rollups_delete(RollupPeriod.MINUTE, minute),
        "hour": _rollups_delete(RollupPeriod.HOUR, hour),
    }


def _rollups_delete(period: str, before: datetime) -> int:
    return ProbeRollup.objects.filter(series__in=_every_series(), period=period, bucket__lt=before).delete()[0]
