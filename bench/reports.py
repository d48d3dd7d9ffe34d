"""Report speed on a generated system, one part per kind of report.

Bundle part (--bundle-services, default 1,000 services with 5 interactions each): the Mermaid bundle
of the whole system, as GET /api/v1/exports/mermaid/ and .zip build it: report_data + bundle_markdown,
and report_data + bundle_zip. Timed warm (the topology and its findings already loaded in this process,
as after any other page) and cold (both read again), then for one team and for one service within
2 hops. Prints the median and the range of --repeat runs, after one untimed run. Goal: <= 2 s at
1,000 services.

The system is bench/topology.py's (teams of about 25 services, sync and async interactions, a few
placeholders, every interaction evaluated by the rules), with a probe per service (two locations,
hourly rollups over two days), ten saved flows and twenty decisions linked to interactions.

    .venv/bin/python bench/reports.py [--bundle-services 1000] [--repeat 5]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is used and
cleared: point it at a scratch database).
"""
import argparse
import functools
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from ingest import clear, setup  # noqa: E402


def _bench_module(name: str):
    """A module of bench/ loaded by its path: bench/topology.py would shadow the topology app by name."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the system ----------------------------------------------------------------------------------


@functools.cache
def system(services: int, interactions: int) -> None:
    """The generated registry with probes, flows and decisions (built once per size in a run)."""
    clear()
    _bench_module("topology").populate(services, interactions)
    _probes()
    _flows(10)
    _decisions(20)


def _probes(seed: int = 5) -> None:
    """A probe per registered service, its state at two locations and two days of hourly rollups."""
    from datetime import timedelta

    from django.utils import timezone

    from probes.models import Probe, ProbeRollup, ProbeStatus, RollupMark
    from topology.models import Service

    rng, now = random.Random(seed), timezone.now().replace(minute=0, second=0, microsecond=0)
    probes = Probe.objects.bulk_create([
        Probe(service_id=service_id, name="health", kind="http", target="http://127.0.0.1:8000/healthz",
              interval=30, timeout=5, locations=["eu", "us"], next_due_at=now)
        for service_id in Service.objects.filter(team__isnull=False).values_list("id", flat=True)])
    ProbeStatus.objects.bulk_create([
        ProbeStatus(probe=probe, location=location, outcome=rng.choice(["up"] * 8 + ["degraded", "down"]),
                    latency_ms=rng.uniform(5, 400), checked_at=now) for probe in probes for location in ("eu", "us")])
    ProbeRollup.objects.bulk_create([
        ProbeRollup(probe=probe, location=location, period="h", bucket=now - timedelta(hours=hour), count=120,
                    down=rng.choice([0] * 9 + [3]), degraded=0, latency_p50=40, latency_p95=90, last_outcome="up")
        for probe in probes for location in ("eu", "us") for hour in range(1, 49)], batch_size=5000)
    RollupMark.objects.update_or_create(period="h", defaults={"through": now})


def _flows(count: int) -> None:
    from core.actors import actor_for_cli
    from topology.flows import flow_save
    from topology.models import Interaction

    keys = [item.key for item in Interaction.objects.select_related("source").order_by("id")[:count * 5]]
    for index in range(count):
        flow_save(actor=actor_for_cli(), flow=None, slug=f"flow-{index}", name=f"Flow {index}", team=None,
                  steps=[{"interaction": key} for key in keys[index * 5:index * 5 + 5]])


def _decisions(count: int) -> None:
    from core.actors import actor_for_cli
    from decisions.services import decision_create
    from topology.models import Interaction

    items = list(Interaction.objects.order_by("id")[:count * 3])
    for index in range(count):
        decision_create(actor=actor_for_cli(), title=f"Decision {index}", interactions=items[index * 3:index * 3 + 3])


# --- timing --------------------------------------------------------------------------------------


def timed(function: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> list[float]:
    """Seconds of each of `repeat` runs of `function`, after one untimed run; `before` runs untimed."""
    timings = []
    for turn in range(repeat + 1):
        if before:
            before()
        started = time.perf_counter()
        function()
        if turn:
            timings.append(time.perf_counter() - started)
    return timings


def figure(timings: list[float]) -> str:
    return (f"median {statistics.median(timings) * 1000:7.1f} ms  "
            f"(range {min(timings) * 1000:.1f}-{max(timings) * 1000:.1f} ms, {len(timings)} runs)")


def forget_topology() -> None:
    """Cold: the topology and its findings are read again, as after a registry change."""
    from topology import graph_selectors

    graph_selectors._current.clear()
    graph_selectors._findings.clear()


# --- parts ---------------------------------------------------------------------------------------


def bundle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle-services", type=int, default=1000, help="services of the system (0: skip)")
    parser.add_argument("--bundle-per-service", type=int, default=5, help="interactions per service")


def bundle_run(args: argparse.Namespace) -> None:
    from reports.bundle import bundle_markdown, bundle_zip
    from reports.scopes import ReportScope
    from reports.selectors import report_data

    services = args.bundle_services
    system(services, services * args.bundle_per_service)
    whole = ReportScope()
    markdown = bundle_markdown(report_data(scope=whole))
    print(f"\nMermaid bundle, {services} services, {services * args.bundle_per_service} interactions: "
          f"{len(markdown) / 1024:.0f} KiB of Markdown, {markdown.count('```mermaid')} Mermaid blocks")
    cases = [("whole system, Markdown", lambda: bundle_markdown(report_data(scope=whole))),
             ("whole system, zip", lambda: bundle_zip(report_data(scope=whole))),
             ("team team-03, Markdown", lambda: bundle_markdown(report_data(scope=ReportScope(kind="team",
                                                                                              team="team-03")))),
             ("svc-0042 within 2 hops", lambda: bundle_markdown(report_data(scope=ReportScope(
                 kind="service", service="svc-0042", hops=2))))]
    for label, function in cases:
        print(f"  {label:<24} warm {figure(timed(function, args.repeat))}")
        print(f"  {'':<24} cold {figure(timed(function, args.repeat, before=forget_topology))}")
    print("  goal: <= 2000 ms at 1,000 services")


@dataclass(frozen=True)
class Part:
    """One kind of report timed: its options, whether the arguments ask for it, and the run."""

    name: str
    options: Callable[[argparse.ArgumentParser], None]
    wanted: Callable[[argparse.Namespace], bool]
    run: Callable[[argparse.Namespace], None]


# Each part adds its options and runs when they ask for it; a PDF part (--pdf) goes after this one.
PARTS = [Part("bundle", bundle_options, lambda args: args.bundle_services > 0, bundle_run)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each case")
    for part in PARTS:
        part.options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        setup(var_dir)
        from django.db import connection

        print(f"database: {connection.vendor}")
        for part in PARTS:
            if part.wanted(args):
                part.run(args)
        clear()


if __name__ == "__main__":
    main()
