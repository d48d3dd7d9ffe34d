"""Notifications: what the outbox costs the writes that feed it, and how fast deliveries go out.

Prints, in one run on a throwaway database (SQLite in a temporary folder, or DATABASE_URL):
  (a) the finding scan a registry write runs while some channel wants finding.new (the findings of
      the whole registry, computed in the write's transaction and compared with those known), at a
      generated system of N services / 5N interactions; and one registration of one service with
      and without such a channel (the difference is the scan);
  (b) recording 1,000 probe results (one batch, as a worker does) when no state changes, and when
      every probe's state is confirmed down (1,000 events, each with one pending delivery);
  (c) delivering M pending events, one at a time as a worker does, to an HTTP receiver on loopback
      (signed webhook): deliveries per second and milliseconds per delivery.

    .venv/bin/python bench/notifications.py [--services 1000] [--deliveries 500] [--repeat 3]
"""
import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generated import populate  # noqa: E402
from ingest import setup  # noqa: E402

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def median_range(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} ms (range {min(values):.1f}–{max(values):.1f}, {len(values)} runs)"


def timed(function, repeat: int, before=None) -> list[float]:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        function()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def channels(with_findings: bool) -> None:
    from core.actors import actor_for_cli
    from notifications.models import Channel, FindingBaseline
    from notifications.services import channel_create
    from topology.models import Team

    Channel.objects.all().delete()
    FindingBaseline.objects.all().delete()
    events = ["probe.down", "probe.up"] + (["finding.new"] if with_findings else [])
    channel_create(actor=actor_for_cli(), team=Team.objects.order_by("slug").first(),
                   values={"name": "bench", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "events": events})


def scan_and_registration(services: int, repeat: int) -> None:
    from django.db import transaction

    from core.actors import actor_for_cli
    from notifications import events as outbox
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.registration import registration_apply

    populate(services, services * 5)
    outbox.deliveries_queue = lambda *, delivery_ids: None
    channels(with_findings=True)

    def scan():
        with transaction.atomic():
            outbox.findings_scan()

    print(f"(a) {services} services / {services * 5} interactions")
    print(f"    finding scan: {median_range(timed(scan, repeat))}")
    counter = iter(range(10**6))

    def register():
        n = next(counter)
        spec = ServiceSpec(name="svc-0001", team="team-00", interactions=[
            InteractionSpec(name=f"bench-{n}", targets=("svc-0002",), style="rest")])
        registration_apply(specs=[spec], actor=actor_for_cli())

    for wanted in (False, True):
        channels(with_findings=wanted)
        register()  # untimed: the first write after a change of channels warms caches and the baseline
        runs = timed(register, repeat)
        label = "with a finding.new channel" if wanted else "without one          "
        print(f"    one registration {label}: {median_range(runs)}")


def probe_recording(repeat: int) -> None:
    from notifications.models import Delivery, Event
    from probes.engine.spec import Outcome, ProbeResult as RunResult
    from probes.models import Probe, ProbeResult, ProbeStatus
    from probes.services import probe_results_record
    from topology.models import Service

    owner = Service.objects.filter(team__isnull=False).order_by("name").first()
    Probe.objects.filter(service=owner).delete()
    probes = Probe.objects.bulk_create([Probe(service=owner, name=f"p{n}", kind="tcp", target="127.0.0.1:9", interval=30,
                                              timeout=2, locations=["default"], next_due_at=T0) for n in range(1000)])
    ProbeStatus.objects.bulk_create([ProbeStatus(probe=p, location="default") for p in probes])
    slots = iter(T0 + timedelta(seconds=30 * n) for n in range(10**6))

    def record(outcome):
        at = next(slots)
        probe_results_record(location="default", slot=at, results=[RunResult(
            key=str(p.id), outcome=outcome, latency_ms=1.0, started_at=at, finished_at=at, values={}, error="")
            for p in probes])

    def reset_up():
        ProbeStatus.objects.filter(probe__in=probes).update(outcome="up", confirmed="up", streak=5)
        Event.objects.all().delete()

    def one_down_left():
        ProbeStatus.objects.filter(probe__in=probes).update(outcome="down", confirmed="up", streak=1)
        Event.objects.all().delete()

    steady = timed(lambda: record(Outcome.UP), repeat, before=reset_up)
    flips = timed(lambda: record(Outcome.DOWN), repeat, before=one_down_left)
    print("(b) recording 1,000 probe results in one batch")
    print(f"    no state changes:                {median_range(steady)}")
    print(f"    1,000 confirmed down (1,000 events, {Delivery.objects.count()} deliveries): {median_range(flips)}")
    ProbeResult.objects.all().delete()


def delivering(count: int, repeat: int) -> None:
    from tests.http_receiver import Receiver

    from core.actors import actor_for_cli
    from notifications import events as outbox
    from notifications.services import channel_create
    from notifications.delivery import delivery_attempt
    from notifications.models import Channel, Delivery, Event
    from topology.models import Team

    team = Team.objects.order_by("slug").first()
    rates = []
    with Receiver() as receiver:
        for _ in range(repeat):
            Event.objects.all().delete()
            Channel.objects.all().delete()
            channel_create(actor=actor_for_cli(), team=team, values={
                "name": "bench", "kind": "webhook", "url": receiver.url, "secret": "bench-secret-0123456789",
                "events": ["probe.down"]})
            for n in range(count):
                outbox.event_write(type="probe.down", summary=f"svc/p{n} is down", url="", details={"n": n},
                                   teams=[team.slug])
            ids = list(Delivery.objects.values_list("pk", flat=True))
            started = time.perf_counter()
            for pk in ids:
                delivery_attempt(delivery_id=pk)
            elapsed = time.perf_counter() - started
            assert Delivery.objects.filter(status="sent").count() == count
            rates.append(count / elapsed)
    print(f"(c) {count} signed webhook deliveries to a loopback receiver, one worker process")
    print(f"    median {statistics.median(rates):.0f} deliveries/s (range {min(rates):.0f}–{max(rates):.0f}), "
          f"{1000 / statistics.median(rates):.2f} ms per delivery")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup(var_dir)
        from django.db import connection

        print(f"database: {connection.vendor}")
        scan_and_registration(args.services, args.repeat)
        probe_recording(args.repeat)
        delivering(args.deliveries, args.repeat)


if __name__ == "__main__":
    main()
