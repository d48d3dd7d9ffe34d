"""Probe writes: materialise declarations, dispatch due runs, record results, roll up and prune.

The flow of a run: beat -> `probes_dispatch` picks due probes (skipping rows another dispatcher holds),
marks their statuses claimed for the slot (one UPDATE) and queues one task per location and batch,
with everything a run needs in the message (probes.engine.wire: spec, due time) -> a worker at that
location, which needs only the broker, runs the specs through `probes.engine` (`probe_batch_run`) and
sends the results to the queue PROBE_RESULTS_QUEUE -> a central worker's `probe_results_receive`
writes them in bulk and moves each status forward only (`probe_results_record`). The results' key
(slot, probe, location) keeps one result however often a run executes or its result is delivered,
and a late result is still stored without overwriting a newer status. Runs dispatched but with no
result are sent again once by `probe_claims_recover`.
"""
import json
import ssl
import time
import uuid
import zlib
from datetime import datetime, timedelta
from functools import lru_cache, reduce
from operator import or_

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.db import rows_source

from topology.models import Service

from .engine.policy import TargetPolicy, policy_build
from .engine.runner import probes_run
from .engine.spec import Kind, ProbeDeclaration, ProbeResult as RunResult, ProbeSpec, probe_declaration_check
from .engine.wire import result_encode, results_decode, run_encode, runs_decode
from .choices import ProbeOutcome
from .models import Probe, ProbeStatus
from .results_store import probe_results_store
from .signals import StateChange, probe_states_confirmed

RUN_TASK = "topology.tasks.probes_run"  # probes.tasks.probes_run, sent by name: that module imports this one
RECORD_TASK = "probes.tasks.probe_results_record"  # runs only on central workers (PROBE_RESULTS_QUEUE)
DISPATCH_LIMIT = 20000
# Beat dispatches once a second; probes due within the next second go now and wait in the worker
# for their own due time, so they start on time rather than up to a second late.
LOOKAHEAD = timedelta(seconds=1)
SPEC_FIELDS = ("kind", "target", "timeout", "options", "expect")
PROBE_FIELDS = ["kind", "target", "interval", "timeout", "options", "expect", "locations", "description",
                "next_due_at", "updated_at"]


def probe_queue(location: str) -> str:
    return f"probes.{location}"


# --- declarations -> rows ----------------------------------------------------------------------


def probes_sync(*, services: list[Service], now: datetime) -> None:
    """Make the Probe and ProbeStatus rows of these services match their declared `probes`."""
    current = {(p.service_id, p.name): p for p in Probe.objects.filter(service__in=services)}
    wanted = {(s.id, item["name"]): (s, _declared(item)) for s in services for item in s.probes}
    Probe.objects.filter(id__in=[p.id for key, p in current.items() if key not in wanted]).delete()
    planned = [_probe_row(current.get(key), service, declared, now) for key, (service, declared) in wanted.items()]
    Probe.objects.bulk_create([row for row, change in planned if change == "new"])
    Probe.objects.bulk_update([row for row, change in planned if change == "changed"], PROBE_FIELDS)
    _statuses_sync([row for row, _ in planned])


def _declared(item: dict) -> ProbeDeclaration:
    declaration, errors = probe_declaration_check(item)
    if declaration is None:  # stored declarations were checked on the way in
        raise ValueError(f"stored probe declaration is invalid: {errors}")
    return declaration


def _probe_row(row: Probe | None, service: Service, declared: ProbeDeclaration, now: datetime) -> tuple[Probe, str]:
    """The row for a declaration, and whether it is "new", "changed" or "same"."""
    fields = {"kind": str(declared.kind), "target": declared.target, "interval": declared.interval,
              "timeout": declared.timeout, "options": declared.options, "expect": declared.expect,
              "locations": list(declared.locations), "description": declared.description}
    if row is None:
        row = Probe(service=service, name=declared.name, created_at=now, **fields)
        row.next_due_at = now + timedelta(seconds=_phase(f"{service.name}/{declared.name}", declared.interval))
        return row, "new"
    if all(getattr(row, name) == value for name, value in fields.items()):
        return row, "same"
    row.next_due_at = min(row.next_due_at, now + timedelta(seconds=declared.interval))
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = now
    return row, "changed"


def _phase(key: str, interval: float) -> float:
    """A stable offset within the interval, so probes declared together do not all run at once."""
    return zlib.crc32(key.encode()) % max(1, int(interval * 1000)) / 1000


def _statuses_sync(rows: list[Probe]) -> None:
    wanted = {(row.id, location) for row in rows for location in row.locations}
    have = set(ProbeStatus.objects.filter(probe__in=rows).values_list("probe_id", "location"))
    stale = have - wanted
    if stale:
        ProbeStatus.objects.filter(reduce(or_, (Q(probe_id=pid, location=loc) for pid, loc in stale))).delete()
    ProbeStatus.objects.bulk_create([ProbeStatus(probe_id=pid, location=loc) for pid, loc in wanted - have])


# --- dispatch ----------------------------------------------------------------------------------


def probes_dispatch(*, now: datetime | None = None, limit: int = DISPATCH_LIMIT) -> int:
    """Queue every due probe once per location, with its spec; returns how many runs were queued."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(Probe.objects.select_for_update(skip_locked=True).filter(next_due_at__lte=now + LOOKAHEAD)
                   .order_by("next_due_at").values_list("id", "interval", "locations", "next_due_at", *SPEC_FIELDS)
                   [:limit])
        if not due:
            return 0
        _schedule_advance(due, now)
        slot = now.replace(microsecond=0)
        _claims_mark(probe_ids=[row[0] for row in due], slot=slot)
        batches = _batches(due)
        transaction.on_commit(lambda: runs_send(slot=slot, batches=batches))
    return sum(len(items) for items in batches.values())


def _schedule_advance(due: list[tuple], now: datetime) -> None:
    """Next due = the old due time plus the interval, or a fresh start when that is already past:
    one UPDATE per distinct interval (there are few), computed by the database."""
    by_interval: dict[float, list[int]] = {}
    for pid, interval, *_ in due:
        by_interval.setdefault(interval, []).append(pid)
    for interval, ids in by_interval.items():
        step = timedelta(seconds=interval)
        Probe.objects.filter(id__in=ids).update(next_due_at=Case(
            When(next_due_at__gt=now - step, then=F("next_due_at") + step), default=Value(now + step)))


def _claims_mark(*, probe_ids: list[int], slot: datetime) -> None:
    """Every location of these probes is sent a run of this slot: one UPDATE marks them all, so
    probe_claims_recover can find the runs whose result never came."""
    ProbeStatus.objects.filter(probe_id__in=probe_ids).update(claimed_slot=slot, claim_token=uuid.uuid4().hex)


def _batches(due: list[tuple]) -> dict[str, list[list]]:
    by_location: dict[str, list[list]] = {}
    for pid, _, locations, due_at, *spec in due:
        item = run_encode(_spec(pid, *spec), due_at)
        for location in locations:
            by_location.setdefault(location, []).append(item)
    return by_location


def _spec(pid: int, kind: str, target: str, timeout: float, options: dict | None, expect: dict | None) -> ProbeSpec:
    return ProbeSpec(key=str(pid), kind=Kind(kind), target=target, timeout=timeout, options=options or {},
                     expect=expect or {})


def runs_send(*, slot: datetime, batches: dict[str, list[list]]) -> None:
    """Queue the runs of each location on its own queue, in batches of PROBE_BATCH_SIZE. The message
    holds the targets (and any secret in them): the task's shown arguments (argsrepr, what monitoring
    tools display) name only the location, the slot and how many runs."""
    task = current_app.tasks[RUN_TASK]
    size = settings.PROBE_BATCH_SIZE
    for location, items in batches.items():
        for start in range(0, len(items), size):
            chunk = items[start:start + size]
            task.apply_async(args=[location, slot.isoformat(), chunk], queue=probe_queue(location),
                             argsrepr=f"({location!r}, {slot.isoformat()!r}, <{len(chunk)} runs>)")


# --- runs whose result never came ---------------------------------------------------------------

# A run sent this long after its slot (beyond the probe's timeout) with no result was lost: its
# worker died, or the central worker writing its result did, or a message went missing.
RECOVER_AFTER = timedelta(seconds=30)
# Older claims are left alone: the probe has run again since, or will, and a result that late says nothing.
RECOVER_HORIZON = timedelta(minutes=10)
PROBE_RECOVER_EVERY = 10.0  # seconds between two looks, in each dispatching process
RECOVER_TOKEN = "recover"
_recover_next = 0.0


def probe_claims_recover_due() -> int:
    """probe_claims_recover, at most every PROBE_RECOVER_EVERY seconds in this process."""
    global _recover_next
    if time.monotonic() < _recover_next:
        return 0
    _recover_next = time.monotonic() + PROBE_RECOVER_EVERY
    return probe_claims_recover()


def probe_claims_recover(*, now: datetime | None = None) -> int:
    """Queue again, with their specs, the runs dispatched and never recorded (a site worker killed
    mid-batch, a central writer killed mid-write: on the filesystem broker a fetched message is gone,
    on Redis it comes back only after the visibility timeout). Each lost run is sent again once: one
    UPDATE swaps the claims' token for a recovery mark under the same conditions, so two dispatchers
    never both send it. Returns how many runs were queued again."""
    now = now or timezone.now()
    lost = _claims_lost(now)
    candidates = [pk for pk, slot, timeout in lost.values_list("pk", "claimed_slot", "probe__timeout")
                  if slot + RECOVER_AFTER + timedelta(seconds=timeout) <= now]
    if not candidates:
        return 0
    mark = RECOVER_TOKEN + uuid.uuid4().hex[:32 - len(RECOVER_TOKEN)]
    _claims_lost(now).filter(pk__in=candidates).update(claim_token=mark)
    taken = (ProbeStatus.objects.filter(claim_token=mark)
             .values_list("location", "claimed_slot", "probe_id", *(f"probe__{name}" for name in SPEC_FIELDS)))
    batches: dict[datetime, dict[str, list[list]]] = {}
    for location, slot, pid, *spec in taken:
        batches.setdefault(slot, {}).setdefault(location, []).append(run_encode(_spec(pid, *spec), slot))
    for slot, by_location in batches.items():
        runs_send(slot=slot, batches=by_location)
    return sum(len(items) for by_location in batches.values() for items in by_location.values())


def _claims_lost(now: datetime):
    return (ProbeStatus.objects.filter(claimed_slot__gte=now - RECOVER_HORIZON, claimed_slot__lt=now - RECOVER_AFTER)
            .filter(Q(last_slot__isnull=True) | Q(last_slot__lt=F("claimed_slot")))
            .exclude(claim_token__startswith=RECOVER_TOKEN))


def probe_run_now(*, probe: Probe) -> datetime:
    """Queue one run of this probe at every location now (nothing is written, so no need to wait for
    a commit; a broker that does not answer raises kombu's OperationalError). Returns the slot."""
    slot = timezone.now()
    item = run_encode(_spec(probe.id, probe.kind, probe.target, probe.timeout, probe.options, probe.expect), slot)
    runs_send(slot=slot, batches={location: [item] for location in probe.locations})
    return slot


# --- run and record ----------------------------------------------------------------------------


def probe_batch_run(*, location: str, slot: datetime, items: list[list]) -> int:
    """Run one batch from its message alone (no database: this runs at any site) and send the results
    to the central workers; returns how many probes ran. A redelivered or re-sent batch runs again,
    and its results are stored once (their key is (slot, probe, location))."""
    specs, dues = runs_decode(items)
    if not specs:
        return 0
    results = probes_execute(specs=specs, location=location, not_before=[due.timestamp() for due in dues])
    results_send(location=location, slot=slot, results=results)
    return len(results)


def results_send(*, location: str, slot: datetime, results: list[RunResult]) -> None:
    """Queue a batch's results for a central worker (the queue PROBE_RESULTS_QUEUE)."""
    current_app.tasks[RECORD_TASK].apply_async(
        args=[location, slot.isoformat(), [result_encode(result) for result in results]],
        queue=settings.PROBE_RESULTS_QUEUE, argsrepr=f"({location!r}, {slot.isoformat()!r}, <{len(results)} results>)")


def probe_results_receive(*, location: str, slot: datetime, items: list) -> int:
    """Write a batch of results that came through the broker; returns how many were kept. Only
    results for a probe that has this location are kept (probe_results_store drops the others): a
    probe deleted (or moved off the location) since its run was sent is skipped rather than failing
    the batch on its foreign key."""
    results = [r for r in results_decode(items) if r.key.isdigit()]
    return probe_results_record(location=location, slot=slot, results=results) if results else 0


def probes_execute(*, specs: list[ProbeSpec], location: str, not_before: list[float] | None = None) -> list[RunResult]:
    return probes_run(specs, policy=probe_policy(), concurrency=settings.PROBE_CONCURRENCY, location=location,
                      not_before=not_before)


@lru_cache(maxsize=1)
def _policy_cached(allowed: tuple, denied: tuple, ca_bundle: str) -> TargetPolicy:
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return policy_build(allowed=allowed, denied=denied, ssl_context=context)


def probe_policy() -> TargetPolicy:
    """The target policy from settings (built once per process: one shared TLS context)."""
    return _policy_cached(tuple(settings.PROBE_ALLOWED_NETWORKS), tuple(settings.PROBE_DENIED_NETWORKS),
                          settings.PROBE_CA_BUNDLE)


@transaction.atomic
def probe_results_record(*, location: str, slot: datetime, results: list[RunResult]) -> int:
    """Store raw results (one per probe, location and slot), move the statuses forward and confirm
    the states that held long enough, all in one transaction; receivers of `probe_states_confirmed`
    write what a confirmed change causes (an outbox event) in it too. Returns how many results were
    of a probe that has this location (the others are dropped)."""
    kept = probe_results_store(location=location, slot=slot, results=results)
    changes = []
    for start in range(0, len(results), 500):
        batch = results[start:start + 500]
        _statuses_advance(location=location, slot=slot, results=batch)
        changes += _states_confirm(location=location, probe_ids=[int(r.key) for r in batch])
    if changes:
        probe_states_confirmed.send(sender=ProbeStatus, changes=changes)
    return kept


def _states_confirm(*, location: str, probe_ids: list[int]) -> list[StateChange]:
    """Confirm the states that held PROBE_DOWN_AFTER (down, degraded) or PROBE_UP_AFTER (up) results
    in a row: one UPDATE for all of them (a mass outage flips a thousand at once). The rows are read
    FOR UPDATE (probe_results_store has locked this batch's rows already, in id order), so when two
    workers record results of one probe at once, the second reads the state the first confirmed and
    announces nothing again."""
    ready = (Q(outcome=ProbeOutcome.UP, streak__gte=settings.PROBE_UP_AFTER)
             | Q(outcome__in=[ProbeOutcome.DOWN, ProbeOutcome.DEGRADED], streak__gte=settings.PROBE_DOWN_AFTER))
    candidates = list(ProbeStatus.objects.select_for_update().order_by("pk")
                      .filter(ready, location=location, probe_id__in=probe_ids).exclude(confirmed=F("outcome"))
                      .values_list("pk", "probe_id", "confirmed", "outcome", "checked_at", "latency_ms", "values",
                                   "error"))
    if not candidates:
        return []
    ProbeStatus.objects.filter(pk__in=[row[0] for row in candidates]).update(confirmed=F("outcome"),
                                                                            confirmed_at=F("checked_at"))
    return [StateChange(probe_id, location, previous, state, at, latency, values or {}, error)
            for _, probe_id, previous, state, at, latency, values, error in candidates]


def _statuses_advance(*, location: str, slot: datetime, results: list[RunResult]) -> None:
    """One conditional UPDATE from a list of values: only statuses older than this slot move, and
    `since` changes only on a flip. (Per-row CASE expressions cost ~1 ms of Python per row.)"""
    ops, quote = connection.ops, connection.ops.quote_name
    rows = [(int(r.key), str(r.outcome), ops.adapt_datetimefield_value(r.finished_at), float(r.latency_ms),
             r.error, json.dumps(r.values or {})) for r in results]
    source, params = rows_source(rows, STATUS_TYPES)
    sql = _STATUS_SQL.format(table=quote(ProbeStatus._meta.db_table), source=source, vals=quote("values"))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ops.adapt_datetimefield_value(slot), location,
                             ops.adapt_datetimefield_value(slot)])


STATUS_TYPES = ("integer", "varchar", "timestamptz", "double precision", "varchar", "jsonb")
_STATUS_SQL = (
    "WITH v(probe_id, outcome, finished, latency, error, vals) AS ({source}) "
    "UPDATE {table} AS s SET "
    "since = CASE WHEN s.outcome = v.outcome THEN s.since ELSE v.finished END, "
    "streak = CASE WHEN s.outcome = v.outcome THEN s.streak + 1 ELSE 1 END, "
    "outcome = v.outcome, checked_at = v.finished, latency_ms = v.latency, error = v.error, "
    "{vals} = v.vals, last_slot = %s "
    "FROM v WHERE s.probe_id = v.probe_id AND s.location = %s AND (s.last_slot IS NULL OR s.last_slot < %s)"
)
