"""Probe writes: materialise declarations, dispatch due runs, record results, roll up and prune.

The flow of a run: beat -> `probes_dispatch` picks due probes (skipping rows another dispatcher holds)
and queues one task per location and batch -> the worker's `probe_batch_run` claims the slot
(conditional UPDATE, so a redelivered task never runs a probe twice for one slot), runs the specs
through `probes.engine` and `probe_results_record` writes the results in bulk and moves each
status forward only (a late result never overwrites a newer one).
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

from topology.models import Service

from .engine.policy import TargetPolicy, policy_build
from .engine.runner import probes_run
from .engine.spec import Kind, ProbeDeclaration, ProbeResult as RunResult, ProbeSpec, probe_declaration_check
from .choices import ProbeOutcome
from .models import Probe, ProbeStatus
from .results_store import probe_results_store
from .signals import StateChange, probe_states_confirmed

RUN_TASK = "topology.tasks.probes_run"  # probes.tasks.probes_run, sent by name: that module imports this one
DISPATCH_LIMIT = 20000
# Beat dispatches once a second; probes due within the next second go now and wait in the worker
# for their own due time, so they start on time rather than up to a second late.
LOOKAHEAD = timedelta(seconds=1)
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
    """Queue every due probe once per location; returns how many runs were queued."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(Probe.objects.select_for_update(skip_locked=True).filter(next_due_at__lte=now + LOOKAHEAD)
                   .order_by("next_due_at").values_list("id", "interval", "locations", "next_due_at")[:limit])
        if not due:
            return 0
        _schedule_advance(due, now)
        batches = _batches(due)
        slot = now.replace(microsecond=0)
        transaction.on_commit(lambda: runs_send(slot=slot, batches=batches))
    return sum(len(items) for items in batches.values())


def _schedule_advance(due: list[tuple], now: datetime) -> None:
    """Next due = the old due time plus the interval, or a fresh start when that is already past:
    one UPDATE per distinct interval (there are few), computed by the database."""
    by_interval: dict[float, list[int]] = {}
    for pid, interval, _, _ in due:
        by_interval.setdefault(interval, []).append(pid)
    for interval, ids in by_interval.items():
        step = timedelta(seconds=interval)
        Probe.objects.filter(id__in=ids).update(next_due_at=Case(
            When(next_due_at__gt=now - step, then=F("next_due_at") + step), default=Value(now + step)))


def _batches(due: list[tuple]) -> dict[str, list[list]]:
    by_location: dict[str, list[list]] = {}
    for pid, _, locations, due_at in due:
        for location in locations:
            by_location.setdefault(location, []).append([pid, due_at.isoformat()])
    return by_location


def runs_send(*, slot: datetime, batches: dict[str, list[list]], retake: bool = False) -> None:
    """Queue the runs of each location on its own queue, in batches of PROBE_BATCH_SIZE."""
    task = current_app.tasks[RUN_TASK]
    size = settings.PROBE_BATCH_SIZE
    extra = {"retake": True} if retake else {}
    for location, items in batches.items():
        for start in range(0, len(items), size):
            task.apply_async(args=[location, slot.isoformat(), items[start:start + size]], kwargs=extra,
                             queue=probe_queue(location))


# --- runs whose worker died --------------------------------------------------------------------

# A claim with no result this long after its slot (beyond the probe's timeout) lost its worker.
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
    """Queue again, with `retake`, the runs a worker claimed and never recorded (killed mid-batch;
    on the filesystem broker its message is gone, on Redis it would come back only after the
    visibility timeout). Each lost claim is recovered once: its token is swapped by a conditional
    UPDATE, so two dispatchers never both send it. Returns how many runs were queued again."""
    now = now or timezone.now()
    lost = (ProbeStatus.objects.filter(claimed_slot__gte=now - RECOVER_HORIZON, claimed_slot__lt=now - RECOVER_AFTER)
            .filter(Q(last_slot__isnull=True) | Q(last_slot__lt=F("claimed_slot")))
            .exclude(claim_token__startswith=RECOVER_TOKEN)
            .values_list("pk", "probe_id", "location", "claimed_slot", "claim_token", "probe__timeout"))
    batches: dict[datetime, dict[str, list[list]]] = {}
    for pk, probe_id, location, slot, token, timeout in lost:
        if slot + RECOVER_AFTER + timedelta(seconds=timeout) > now:
            continue
        mark = RECOVER_TOKEN + uuid.uuid4().hex[:32 - len(RECOVER_TOKEN)]
        if ProbeStatus.objects.filter(pk=pk, claimed_slot=slot, claim_token=token).update(claim_token=mark):
            batches.setdefault(slot, {}).setdefault(location, []).append([probe_id, slot.isoformat()])
    for slot, by_location in batches.items():
        runs_send(slot=slot, batches=by_location, retake=True)
    return sum(len(items) for by_location in batches.values() for items in by_location.values())


def probe_run_now(*, probe: Probe) -> datetime:
    """Queue one run of this probe at every location now (nothing is written, so no need to wait for
    a commit; a broker that does not answer raises kombu's OperationalError). Returns the slot."""
    slot = timezone.now()
    items = [[probe.id, slot.isoformat()]]
    runs_send(slot=slot, batches={location: items for location in probe.locations})
    return slot


# --- run and record ----------------------------------------------------------------------------


def probe_batch_run(*, location: str, slot: datetime, items: list[list], retake: bool = False) -> int:
    """Claim, run and record one batch; returns how many probes ran (0 for an already-run slot).

    With `retake` (a retried, redelivered or recovered run) the claims of this very slot that have no
    result yet are taken back too: the run that took them died or failed before recording. Should it
    still be alive, both record and the results' key (slot, probe, location) keeps one."""
    due = {int(pid): datetime.fromisoformat(when).timestamp() for pid, when in items}
    claimed = _slot_claim(location=location, slot=slot, probe_ids=list(due), retake=retake)
    specs = sorted(probe_specs(probe_ids=claimed), key=lambda spec: due[int(spec.key)])
    if not specs:
        return 0
    results = probes_execute(specs=specs, location=location, not_before=[due[int(spec.key)] for spec in specs])
    probe_results_record(location=location, slot=slot, results=results)
    return len(results)


def _slot_claim(*, location: str, slot: datetime, probe_ids: list[int], retake: bool = False) -> list[int]:
    token = uuid.uuid4().hex
    free = Q(claimed_slot__isnull=True) | Q(claimed_slot__lt=slot)
    if retake:
        free |= Q(claimed_slot=slot) & (Q(last_slot__isnull=True) | Q(last_slot__lt=slot))
    ProbeStatus.objects.filter(free, probe_id__in=probe_ids, location=location).update(
        claimed_slot=slot, claim_token=token)
    taken = ProbeStatus.objects.filter(claim_token=token, probe_id__in=probe_ids, location=location)
    return list(taken.values_list("probe_id", flat=True))


def probe_specs(*, probe_ids: list[int]) -> list[ProbeSpec]:
    rows = Probe.objects.filter(id__in=probe_ids).values_list("id", "kind", "target", "timeout", "options", "expect")
    return [ProbeSpec(key=str(pid), kind=Kind(kind), target=target, timeout=timeout, options=options or {},
                      expect=expect or {}) for pid, kind, target, timeout, options, expect in rows]


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
def probe_results_record(*, location: str, slot: datetime, results: list[RunResult]) -> None:
    """Store raw results (one per probe, location and slot), move the statuses forward and confirm
    the states that held long enough, all in one transaction; receivers of `probe_states_confirmed`
    write what a confirmed change causes (an outbox event) in it too."""
    probe_results_store(location=location, slot=slot, results=results)
    changes = []
    for start in range(0, len(results), 500):
        batch = results[start:start + 500]
        _statuses_advance(location=location, slot=slot, results=batch)
        changes += _states_confirm(location=location, probe_ids=[int(r.key) for r in batch])
    if changes:
        probe_states_confirmed.send(sender=ProbeStatus, changes=changes)


def _states_confirm(*, location: str, probe_ids: list[int]) -> list[StateChange]:
    """Confirm the states that held PROBE_DOWN_AFTER (down, degraded) or PROBE_UP_AFTER (up) results
    in a row. Each confirmation is a conditional UPDATE from the state read, so when two workers
    record results of one probe at once, only one of them confirms (and announces) a change."""
    ready = (Q(outcome=ProbeOutcome.UP, streak__gte=settings.PROBE_UP_AFTER)
             | Q(outcome__in=[ProbeOutcome.DOWN, ProbeOutcome.DEGRADED], streak__gte=settings.PROBE_DOWN_AFTER))
    candidates = (ProbeStatus.objects.filter(ready, location=location, probe_id__in=probe_ids)
                  .exclude(confirmed=F("outcome")).values_list("pk", "probe_id", "confirmed", "outcome", "checked_at",
                                                              "latency_ms", "values", "error"))
    changes = []
    for pk, probe_id, previous, state, at, latency, values, error in candidates:
        won = ProbeStatus.objects.filter(pk=pk, confirmed=previous, outcome=state).update(confirmed=state,
                                                                                         confirmed_at=at)
        if won:
            changes.append(StateChange(probe_id, location, previous, state, at, latency, values or {}, error))
    return changes


def _statuses_advance(*, location: str, slot: datetime, results: list[RunResult]) -> None:
    """One conditional UPDATE from a list of values: only statuses older than this slot move, and
    `since` changes only on a flip. (Per-row CASE expressions cost ~1 ms of Python per row.)"""
    ops, quote = connection.ops, connection.ops.quote_name
    rows = [(int(r.key), str(r.outcome), ops.adapt_datetimefield_value(r.finished_at), float(r.latency_ms),
             r.error, json.dumps(r.values or {})) for r in results]
    first, rest = _VALUES_FIRST[connection.vendor], "(%s, %s, %s, %s, %s, %s)"
    values = ", ".join([first] + [rest] * (len(rows) - 1))
    sql = _STATUS_SQL.format(table=quote(ProbeStatus._meta.db_table), values=values, vals=quote("values"))
    params = [item for row in rows for item in row] + [ops.adapt_datetimefield_value(slot), location,
                                                        ops.adapt_datetimefield_value(slot)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# PostgreSQL types a VALUES list from its first row; SQLite needs no casts.
_VALUES_FIRST = {
    "postgresql": "(%s::integer, %s::varchar, %s::timestamptz, %s::double precision, %s::varchar, %s::jsonb)",
    "sqlite": "(%s, %s, %s, %s, %s, %s)",
}
_STATUS_SQL = (
    "WITH v(probe_id, outcome, finished, latency, error, vals) AS (VALUES {values}) "
    "UPDATE {table} AS s SET "
    "since = CASE WHEN s.outcome = v.outcome THEN s.since ELSE v.finished END, "
    "streak = CASE WHEN s.outcome = v.outcome THEN s.streak + 1 ELSE 1 END, "
    "outcome = v.outcome, checked_at = v.finished, latency_ms = v.latency, error = v.error, "
    "{vals} = v.vals, last_slot = %s "
    "FROM v WHERE s.probe_id = v.probe_id AND s.location = %s AND (s.last_slot IS NULL OR s.last_slot < %s)"
)
