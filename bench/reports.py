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

PDF part (--pdf): the PDF report of the whole system as a worker renders it, for the demo data
(load_demo into the emptied throwaway database) and for the generated system above at --pdf-services
(default 300 services, --pdf-per-service 5 interactions each). Each run creates the Report row and calls
reports.services.report_render(report_id=...) in this process (what the Celery task does), timed from
the row's creation until the report is done. Prints for each run the seconds, the pages, the bytes, the
peak memory of Chromium (the summed RSS of every chromium process this process started, polled every
50 ms from /proc; the sum of their VmHWM too) and where the time went (report_data, report_html,
pdf_print and its steps, timed by wrappers around those three calls); then the median and the range of
--pdf-repeat runs, after one first run that is shown but not counted. The topology drawings and the
loaded topology are forgotten before each run (unless --pdf-cached), so each run draws anew; the
Graphviz process the drawing keeps running stays, as in a worker. Goals: demo <= 10 s, 300 services
<= 60 s end to end. --pdf runs the PDF part alone unless --bundle-services is given too.

    .venv/bin/python bench/reports.py --pdf [--pdf-services 300] [--pdf-repeat 3] [--pdf-cached]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is used and
cleared: point it at a scratch database; the PDF part flushes it, every table).
"""
import argparse
import functools
import importlib.util
import io
import os
import random
import statistics
import sys
import tempfile
import threading
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
    series = {(row.probe_id, row.location): row for row in ProbeStatus.objects.filter(probe__in=probes)}
    ProbeRollup.objects.bulk_create([
        ProbeRollup(series=series[probe.id, location], period="h", bucket=now - timedelta(hours=hour), count=120,
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


def bundle_services(args: argparse.Namespace) -> int:
    """The bundle's size: as given, else the default, except that --pdf alone asks for the PDF part only."""
    if args.bundle_services is not None:
        return args.bundle_services
    return 0 if getattr(args, "pdf", False) else BUNDLE_SERVICES


BUNDLE_SERVICES = 1000


def bundle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle-services", type=int, default=None,
                        help=f"services of the system (0: skip; default {BUNDLE_SERVICES}, or skip with --pdf)")
    parser.add_argument("--bundle-per-service", type=int, default=5, help="interactions per service")


def bundle_run(args: argparse.Namespace) -> None:
    from reports.bundle import bundle_markdown, bundle_zip
    from reports.scopes import ReportScope
    from reports.selectors import report_data

    services = bundle_services(args)
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


# --- the PDF part --------------------------------------------------------------------------------

PDF_GOALS = {"demo": 10.0, "generated": 60.0}  # seconds end to end: the demo, the 300-service system
MEMORY_POLL = 0.05  # seconds between two looks at /proc


class RendererMemory(threading.Thread):
    """The peak of the summed RSS of the chromium processes this process starts while it runs, polled
    every MEMORY_POLL s from /proc; also the sum of their VmHWM, and the peak of their summed RssAnon
    (RSS counts the pages they share, the Chromium binary among them, once per process). A process counts
    when its parents (/proc/PID/stat) lead back to this process and its command line names chromium,
    read again while it does not (a child shows its parent's command line until it execs). Only processes
    started after this thread are looked at, so a look reads little more than /proc's list."""

    def __init__(self) -> None:
        super().__init__(name="renderer-memory", daemon=True)
        self.root = os.getpid()
        self.known = set(self._pids())  # there before: never ours
        self.others: set[int] = set()  # our descendants whose command line does not name chromium (yet)
        self.chromium: set[int] = set()
        self.hwm: dict[int, int] = {}  # chromium pid -> its VmHWM in kB, as last read
        self.peak_kb = self.anon_peak_kb = self.driver_peak_kb = self.most = 0
        self.halt = threading.Event()

    @staticmethod
    def _pids() -> list[int]:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]

    @staticmethod
    def _read(pid: int, name: str) -> bytes:
        try:
            with open(f"/proc/{pid}/{name}", "rb") as file:
                return file.read()
        except OSError:
            return b""

    def _adopt(self, new: list[int]) -> None:
        """Note which of these new processes descend from this one."""
        parents = {}
        for pid in new:
            stat = self._read(pid, "stat")
            if stat:
                parents[pid] = int(stat[stat.rindex(b")") + 2:].split(b" ", 2)[1])
        ours, changed = self.chromium | self.others, True
        while changed:  # a child may be listed before its parent
            changed = False
            for pid, parent in list(parents.items()):
                if parent == self.root or parent in ours:
                    ours.add(pid)
                    self.others.add(pid)
                    del parents[pid]
                    changed = True
        self.known.update(new)

    def _status(self, pid: int) -> dict[bytes, int]:
        """VmRSS, VmHWM and RssAnon in kB; empty once the process is gone."""
        found = {}
        for line in self._read(pid, "status").splitlines():
            key = line.split(b":", 1)[0]
            if key in (b"VmRSS", b"VmHWM", b"RssAnon"):
                found[key] = int(line.split()[1])
        return found

    def sample(self) -> None:
        new = [pid for pid in self._pids() if pid not in self.known]
        if new:
            self._adopt(new)
        driver = 0
        for pid in list(self.others):
            cmdline = self._read(pid, "cmdline")
            if not cmdline:
                self.others.discard(pid)  # gone (or a zombie)
            elif b"chromium" in cmdline:
                self.others.discard(pid)
                self.chromium.add(pid)
            elif b"playwright" in cmdline:
                driver += self._status(pid).get(b"VmRSS", 0)
        total = anon = alive = 0
        for pid in self.chromium:
            found = self._status(pid)
            if found.get(b"VmRSS"):
                total, anon, alive = total + found[b"VmRSS"], anon + found.get(b"RssAnon", 0), alive + 1
                self.hwm[pid] = max(self.hwm.get(pid, 0), found.get(b"VmHWM", 0))
        self.peak_kb, self.anon_peak_kb = max(self.peak_kb, total), max(self.anon_peak_kb, anon)
        self.most, self.driver_peak_kb = max(self.most, alive), max(self.driver_peak_kb, driver)

    def run(self) -> None:
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(MEMORY_POLL)

    def stop(self) -> None:
        self.halt.set()
        self.join()


@dataclass
class PdfRun:
    seconds: float
    status: str
    error: str
    pages: int
    size: int
    peak_mb: float  # the peak of the summed RSS of the chromium processes
    hwm_mb: float  # the sum of their VmHWM
    anon_mb: float  # the peak of their summed RssAnon
    driver_mb: float
    processes: int  # chromium processes started
    most: int  # alive at once, at most
    split: dict[str, float]


class SplitTimer:
    """Times the three calls report_render makes (reports.services' report_data, report_html and
    pdf_print, replaced by timing wrappers while it is in use) and the steps pdf_print reports."""

    NAMES = ("report_data", "report_html", "pdf_print")

    def __init__(self) -> None:
        self.split: dict[str, float] = {}

    def __enter__(self) -> "SplitTimer":
        from reports import services

        self.originals = {name: getattr(services, name) for name in self.NAMES}
        for name, original in self.originals.items():
            setattr(services, name, self._wrapped(name, original))
        return self

    def __exit__(self, *exc) -> None:
        from reports import services

        for name, original in self.originals.items():
            setattr(services, name, original)

    def _wrapped(self, name: str, original: Callable) -> Callable:
        def timed_call(**kwargs):
            started = time.perf_counter()
            marks = [("launch", started)]
            if name == "pdf_print":  # each step it reports ends the one before
                on_step = kwargs["on_step"]

                def step(text: str) -> None:
                    marks.append((text, time.perf_counter()))
                    on_step(text)

                kwargs["on_step"] = step
            try:
                return original(**kwargs)
            finally:
                ended = time.perf_counter()
                self.split[name] = ended - started
                for (label, at), (_, until) in zip(marks, [*marks[1:], ("", ended)]):
                    if name == "pdf_print":
                        self.split[f"print:{label}"] = until - at

        return timed_call


def drawings_forget() -> None:
    """Each run draws anew: no drawing kept (this process's memory and the diagram cache), no topology
    or findings loaded in this process. The Graphviz process the drawing keeps running stays."""
    from topology import render

    render.drawings_forget()
    forget_topology()


def pdf_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pdf", action="store_true", help="time the PDF report (alone, unless --bundle-services)")
    parser.add_argument("--pdf-services", type=int, default=300, help="services of the generated system (0: demo only)")
    parser.add_argument("--pdf-per-service", type=int, default=5, help="interactions per service")
    parser.add_argument("--pdf-repeat", type=int, default=3, help="timed runs of each report, after a first one")
    parser.add_argument("--pdf-cached", action="store_true", help="keep the drawings between runs")


def pdf_once() -> PdfRun:
    """One report of the whole system, from the Report row's creation (as report_request writes it, without
    queueing a task) to its status done, rendered here as the Celery task does."""
    from core.actors import actor_for_cli
    from reports import services
    from reports.models import Report

    actor = actor_for_cli(label="bench")
    memory = RendererMemory()
    memory.start()
    with SplitTimer() as timer:
        started = time.perf_counter()
        report = Report.objects.create(scope_kind="system", requested_by=actor.label, requested_via=actor.via,
                                       step="Waiting for a worker")
        services.report_render(report_id=report.pk)
        report.refresh_from_db()
        seconds = time.perf_counter() - started
    memory.stop()
    return PdfRun(seconds=seconds, status=report.status, error=report.error, pages=report.pages or 0,
                  size=report.size or 0, peak_mb=memory.peak_kb / 1024, hwm_mb=sum(memory.hwm.values()) / 1024,
                  anon_mb=memory.anon_peak_kb / 1024,
                  driver_mb=memory.driver_peak_kb / 1024, processes=len(memory.chromium), most=memory.most,
                  split=timer.split)


def pdf_line(run: PdfRun) -> str:
    split = run.split
    steps = {"launch": "launch", "Drawing the diagrams and charts": "draw", "Laying out the pages": "print 1",
             "Numbering the contents": "number+print 2"}
    printing = ", ".join(f"{short} {split[f'print:{step}']:.2f}" for step, short in steps.items()
                         if f"print:{step}" in split)
    other = run.seconds - sum(split.get(name, 0.0) for name in SplitTimer.NAMES)
    return (f"{run.seconds:6.2f} s  {run.pages:3d} pages  {run.size:>10,} bytes  "
            f"chromium peak {run.peak_mb:5.0f} MB RSS (anon {run.anon_mb:.0f} MB; sum of VmHWM {run.hwm_mb:.0f} MB; "
            f"{run.processes} processes, {run.most} at once; Playwright driver {run.driver_mb:.0f} MB)\n"
            f"{'':21}split: report_data {split.get('report_data', 0):.2f} s, report_html "
            f"{split.get('report_html', 0):.2f} s, pdf_print {split.get('pdf_print', 0):.2f} s ({printing}), "
            f"other {other:.2f} s")


def pdf_case(label: str, goal: float, goal_of: str, args: argparse.Namespace) -> None:
    from reports.models import Report
    from topology.models import Interaction, Service

    services = Service.objects.count()
    placeholders = Service.objects.filter(team__isnull=True).count()
    print(f"\nPDF report, {label}: {services} services ({placeholders} placeholders), "
          f"{Interaction.objects.count()} interactions; whole system")
    print("  drawings: " + ("kept between runs (cached after the first run)" if args.pdf_cached else
                            "forgotten before each run (Graphviz draws anew; topology and findings read again)"))
    runs = []
    for turn in range(args.pdf_repeat + 1):
        if not args.pdf_cached:
            drawings_forget()
        run = pdf_once()
        name = "first, not counted" if turn == 0 else f"run {turn}"
        if run.status != "done":
            print(f"  {name:<19}{run.seconds:6.2f} s  FAILED ({run.status}): {run.error}")
            return
        print(f"  {name:<19}{pdf_line(run)}")
        if run.error:
            print(f"{'':21}problems the page reported: {run.error[:300]}")
        if turn:
            runs.append(run)
    seconds = [run.seconds for run in runs]
    median = statistics.median(seconds)
    peaks = [run.peak_mb for run in runs]
    print(f"  seconds end to end: median {median:.2f} s (range {min(seconds):.2f}-{max(seconds):.2f} s, "
          f"{len(runs)} runs); pages {'/'.join(sorted({str(run.pages) for run in runs}))}, bytes "
          f"{statistics.median(run.size for run in runs):,.0f} (median)")
    print(f"  chromium peak memory (summed RSS): median {statistics.median(peaks):.0f} MB "
          f"(range {min(peaks):.0f}-{max(peaks):.0f} MB); summed RssAnon up to "
          f"{max(run.anon_mb for run in runs):.0f} MB, sum of VmHWM up to {max(run.hwm_mb for run in runs):.0f} MB")
    print(f"  goal ({goal_of}): <= {goal:.0f} s end to end: {'met' if median <= goal else 'NOT met'} "
          f"(median {median:.2f} s, slowest {max(seconds):.2f} s)")
    Report.objects.all().delete()  # the PDFs are kept in the database: do not let them pile up


def database_emptied(args: argparse.Namespace) -> None:
    """Every table emptied, as a freshly migrated database (flush); only the throwaway one."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    name = str(connection.settings_dict.get("NAME") or "")
    if not (os.environ.get("DATABASE_URL") or name.startswith(str(Path(args.var_dir).resolve()))):
        raise SystemExit(f"the PDF part flushes its database, and {name} is not the throwaway one "
                         f"(SWITCHBOARD_VAR_DIR={settings.VAR_DIR} is set?): unset it, or set DATABASE_URL "
                         "to a scratch database")
    call_command("flush", interactive=False, verbosity=0)
    system.cache_clear()


def pdf_run(args: argparse.Namespace) -> None:
    import subprocess

    from django.conf import settings
    from django.core.management import call_command

    version = subprocess.run([settings.CHROMIUM_PATH, "--version"], capture_output=True, text=True, timeout=30)
    print(f"\nPDF reports: {version.stdout.strip() or settings.CHROMIUM_PATH}; {os.cpu_count()} CPUs; "
          f"memory polled every {MEMORY_POLL * 1000:.0f} ms")
    database_emptied(args)
    call_command("load_demo", stdout=io.StringIO())
    pdf_case("demo data (load_demo)", PDF_GOALS["demo"], "demo", args)
    if args.pdf_services > 0:
        database_emptied(args)
        services = args.pdf_services
        system(services, services * args.pdf_per_service)
        pdf_case(f"generated system of {services} services", PDF_GOALS["generated"],
                 "300 services" + ("" if services == 300 else f", here {services}"), args)
    print(f"  goals: demo <= {PDF_GOALS['demo']:.0f} s, 300 services <= {PDF_GOALS['generated']:.0f} s end to end")


@dataclass(frozen=True)
class Part:
    """One kind of report timed: its options, whether the arguments ask for it, and the run."""

    name: str
    options: Callable[[argparse.ArgumentParser], None]
    wanted: Callable[[argparse.Namespace], bool]
    run: Callable[[argparse.Namespace], None]


# Each part adds its options and runs when they ask for it.
PARTS = [Part("bundle", bundle_options, lambda args: bundle_services(args) > 0, bundle_run),
         Part("pdf", pdf_options, lambda args: args.pdf, pdf_run)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each case")
    for part in PARTS:
        part.options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        args.var_dir = var_dir
        setup(var_dir)
        from django.db import connection

        print(f"database: {connection.vendor}")
        for part in PARTS:
            if part.wanted(args):
                part.run(args)
        clear()


if __name__ == "__main__":
    main()
