"""Raw probe results as stored: one dense row per series (probe at a location) and slot.

`probe_results_store` writes a batch in one INSERT; a result delivered twice is written once (the
key is (series, slot)) and a late one is still written. `values` are stored only when they differ
from the series' previous result, or when the result is the series' first of an hour, or late: so
a reader finds the values of any row within its own hour (`values_resolve`), and retention, which
deletes whole hours, never removes the row that a kept one leans on.
"""
import json
from datetime import datetime, timedelta

from django.db import connection, transaction

from core.db import rows_source

from .choices import RollupPeriod
from .engine.spec import ProbeResult as RunResult
from .models import ProbeResult, ProbeStatus
from .rollups import bucket_floor


def hour_floor(moment: datetime) -> datetime:
    return bucket_floor(moment, RollupPeriod.HOUR)


@transaction.atomic
def probe_results_store(*, location: str, slot: datetime, results: list[RunResult]) -> int:
    """Write the raw rows of one batch (results of probes without a status at `location` are dropped:
    the probe or the location is gone). The status rows are locked while the values are compared
    with theirs (in id order, as every batch does), so two batches recording the same series at
    once, a retaken run, compare one after the other; the caller moves the statuses on before its
    transaction ends. Returns how many results had a series here."""
    if not results:
        return 0
    series = {probe_id: (pk, last_slot, values) for pk, probe_id, last_slot, values in
              ProbeStatus.objects.select_for_update().order_by("pk")
              .filter(location=location, probe_id__in=[int(r.key) for r in results])
              .values_list("pk", "probe_id", "last_slot", "values")}
    at = connection.ops.adapt_datetimefield_value(slot)
    hour = hour_floor(slot)
    rows = []
    for result in results:
        found = series.get(int(result.key))
        if found is None:
            continue
        pk, last_slot, previous = found
        values = result.values or {}
        same = last_slot is not None and hour <= last_slot < slot and values == (previous or {})
        if last_slot is not None and slot < last_slot:
            _later_rows_pinned(series_id=pk, slot=slot)
        rows.append((at, pk, round((result.started_at - slot) / MILLISECOND), round(result.latency_ms, 3),
                     str(result.outcome), None if same else json.dumps(values),
                     result.error or None))
    _rows_insert(rows)
    return len(rows)


def _later_rows_pinned(*, series_id: int, slot: datetime) -> None:
    """Before a late row is written with its own values: the rows after it in its hour that hold
    NULL ("the same as before") and lean on a row before it get those values written out, so
    that they do not read the late row's values instead. Late rows are rare (a run re-sent after
    a lost result); this is one query and at most one UPDATE."""
    hour_end = hour_floor(slot) + timedelta(hours=1)
    later = ProbeResult.objects.filter(series_id=series_id, slot__gt=slot, slot__lt=hour_end)
    next_with_values = later.filter(values__isnull=False).order_by("slot").values_list("slot", flat=True).first()
    leaning = later.filter(values__isnull=True, slot__lt=next_with_values or hour_end)
    before = (ProbeResult.objects.filter(series_id=series_id, slot__gte=hour_floor(slot), slot__lt=slot,
                                         values__isnull=False).order_by("-slot").values_list("values", flat=True)
              .first())
    if before is not None:
        leaning.update(values=before)


MILLISECOND = timedelta(milliseconds=1)
COLUMNS = ["slot", "series", "started_ms", "latency_ms", "outcome", "values", "error"]
COLUMN_TYPES = ("timestamptz", "integer", "integer", "real", "varchar", "jsonb", "varchar")


def _rows_insert(rows: list[tuple]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (both databases speak it), 1,000 rows a statement; `rows`
    hold database values in COLUMNS order (core.db.rows_source: arrays on PostgreSQL)."""
    meta, ops = ProbeResult._meta, connection.ops
    columns = ", ".join(ops.quote_name(meta.get_field(name).column) for name in COLUMNS)
    for start in range(0, len(rows), 1000):
        source, params = rows_source(rows[start:start + 1000], COLUMN_TYPES)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) {source} ON CONFLICT DO NOTHING",
                           params)


def values_resolve(rows: list[dict]) -> list[dict]:
    """Fill in `values` (stored NULL when unchanged) and `error` (NULL when empty) of result rows that
    hold `series_id`, `slot`, `values` and `error`: each NULL takes the values of the same series'
    latest earlier row with values, which is in the same hour (one query per series that needs it)."""
    needed: dict[int, list[datetime]] = {}
    for row in rows:
        row["error"] = row["error"] or ""
        if row["values"] is None:
            needed.setdefault(row["series_id"], []).append(row["slot"])
    earlier: dict[int, list[tuple]] = {}
    for series_id, slots in needed.items():
        found = (ProbeResult.objects.filter(series_id=series_id, slot__gte=hour_floor(min(slots)),
                                            slot__lt=max(slots), values__isnull=False)
                 .order_by("slot").values_list("slot", "values"))
        earlier[series_id] = list(found)
    for row in rows:
        if row["values"] is None:
            known = [values for slot, values in earlier.get(row["series_id"], []) if slot < row["slot"]]
            row["values"] = known[-1] if known else None
    return rows
