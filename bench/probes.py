"""Probe speed and storage: the probe engine, the whole dispatch path, dispatch jitter, 30 days of history.

Prints, in one run:
  1. baseline: Prometheus blackbox_exporter (module http_2xx) probing the same nginx target, driven by
     wrk with as many connections as the engine's concurrency for --wrk-seconds. Only replies that say
     probe_success 1 count. The other speed figures are shown as ratios to it.
  2. engine alone: 1,000 HTTP probes through probes.engine.probes_run (a fresh TCP connection for
     each) against an nginx started by this script (`location = /health { return 200 "ok"; }`, access
     log off, 1 worker), --repeat runs at each --concurrency. The first value is the engine's default
     (PROBE_CONCURRENCY, 256) and is the one the goal uses.
     1 and 2 alternate for --rounds rounds, so both see the same load from whatever else the machine
     runs (the load average is printed). The figures are medians: of the rounds for the baseline,
     of all runs for the engine (the best run is shown too).
  3. whole path: 1,000 declared probes (10 services x 100, registered with registration_apply), all
     due. Timed from the start of probes_dispatch until the 1,000th result is stored:
       (a) in this process: Celery task_always_eager, so each apply_async made by runs_send runs the
           task body (topology.tasks.probes_run -> probe_batch_run, the specs in the message) at once,
           and the results it sends run probes.tasks.probe_results_record at once too, batch after
           batch, as a solo worker would; the time is split into its parts;
       (b) a real `celery -A webapp worker -Q probes.default,probes.results --concurrency 2` (prefork,
           two processes, as the Procfile of `make run` starts it) on --broker: runs and results both
           go through the broker.
  4. dispatch jitter: 1,000 probes due every 10 s (phases spread as registration spreads them).
     probes_dispatch is called once a second for --jitter-seconds, as beat calls it. Batches run in
     the worker of 3(b), or in a thread of this process if it did not start. Lag is the started_at of
     each stored result minus the due time in its task item; p50/p99 in ms. The lag from the
     dispatch call is shown too.
  5. storage after 30 days of 1,000 probes every 30 s. It stores what retention keeps: raw results
     for PROBE_RAW_RETENTION_HOURS, minute rollups for PROBE_MINUTE_ROLLUP_RETENTION_HOURS and hourly
     rollups for 30 days, plus one expired hour of raw results and minute rollups for retention to
     delete. The rows are bulk-copied into the models' tables in time order. Then one
     probe_rollups_update (one minute and one hour to roll up) and one probe_retention_apply are
     timed, VACUUM ANALYZE runs (as autovacuum would), and it prints the database size and the
     30-day uptime query (probe_uptimes, median) for one probe and for a page of 50, and one probe's
     raw history as the API pages it (probe_result_page: newest, and 40 h back). Raw rows are written
     as probes.results_store writes them (values only on each series' first result of an hour, as
     they never change here), batch by batch in slot order.
Goals: engine >= 3.0x baseline, with CPU per probe <= 0.2x blackbox_exporter's; whole path >= 2.0x
baseline in both forms (issue 15; it was 1.0x); database <= 1 GB; uptime query <= 50 ms.

    .venv/bin/python bench/probes.py [--quick] [--only baseline,engine,path,jitter,storage]
        [--database-url postgres://postgres@127.0.0.1:5432/switchboard_bench_probes]
        [--broker redis://127.0.0.1:6379/7] [--concurrency 256,64] [--repeat 5] [--rounds 5]
        [--wrk-seconds 10] [--jitter-seconds 35] [--storage-probes 1000] [--sqlite-storage]
        [--keep-database]

Needs nginx, wrk and prometheus-blackbox-exporter on PATH (Debian: apt-get install nginx wrk
prometheus-blackbox-exporter). The script starts its own nginx and blackbox_exporter on free loopback
ports, with configs in a temporary folder, and stops them at the end. The PostgreSQL database in
--database-url is dropped if it exists, then created, and dropped again at the end unless
--keep-database is given, so name a scratch database. --database-url sqlite:/// uses a SQLite file
in the temporary folder instead. When Redis at --broker does not answer, the filesystem broker is used instead.
--sqlite-storage also runs part 5 on SQLite (in a child process).
--quick makes the run smaller (1 round, 3 repeats, 5 s wrk, 15 s jitter, 100 probes for storage);
report only figures from a full run, which takes 6 to 8 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import math
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROBES = 1000
WORKER_PROCESSES = 2  # the Procfile worker of `make run`: prefork, --concurrency 2
SERVICES = 10
QUEUE = "probes.default"
LOCATION = "default"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/switchboard_bench_probes"
DEFAULT_BROKER = "redis://127.0.0.1:6379/7"
PATH_GOAL = 2.0  # the whole path, in one process and through a worker, against blackbox_exporter
PARTS = ("baseline", "engine", "path", "jitter", "storage", "kafka")
TEAM = "bench-probes"
INTERVAL_PATH = "30s"
INTERVAL_JITTER = "10s"
HISTORY_DAYS = 30
RAW_EVERY = 30  # seconds between runs of one probe in the stored history

NGINX_CONF = """worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {folder}/nginx-body;
    proxy_temp_path {folder}/nginx-proxy;
    fastcgi_temp_path {folder}/nginx-fastcgi;
    uwsgi_temp_path {folder}/nginx-uwsgi;
    scgi_temp_path {folder}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /health {{ return 200 "ok"; }}
    }}
}}
"""

BLACKBOX_CONF = """modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""

# Counts the replies whose body says probe_success 1 (per wrk thread, summed in done()).
WRK_SCRIPT = """local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; failed = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, "\\nprobe_success 1", 1, true) then ok = ok + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local o, f = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); f = f + t:get("failed") end
  io.write(string.format("probe_success_1 %d\\nprobe_failed %d\\n", o, f))
end
"""


# --- small helpers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    found = shutil.which(name) or next((f"{d}/{name}" for d in ("/usr/sbin", "/sbin") if os.path.exists(f"{d}/{name}")),
                                       None)
    if not found:
        raise SystemExit(f"{name} is not installed (Debian: apt-get install nginx wrk prometheus-blackbox-exporter)")
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]


def median_ms(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def section(title: str) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n== {title}  [load average {load}]", flush=True)


def goal(value: float, bound: float, above: bool) -> str:
    met = value >= bound if above else value <= bound
    return "met" if met else "NOT met"


PROBE_CODE = ["probes/engine", "probes/services.py", "probes/rollups.py",
              "probes/selectors.py", "probes/tasks.py", "probes/models.py"]


def code_state() -> str:
    """Which probe code ran: the commit, uncommitted changes to it, and a hash of its files as they are."""
    import hashlib

    def git(*command):
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.rstrip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--", *PROBE_CODE).splitlines()]
    digest = hashlib.sha1()
    for path in sorted(p for item in PROBE_CODE for p in ([ROOT / item] if item.endswith(".py")
                                                          else (ROOT / item).glob("*.py"))):
        digest.update(path.read_bytes())
    return (f"commit {head}; probe code sha1 {digest.hexdigest()[:10]}"
            + (f" (uncommitted changes in {', '.join(changed)})" if changed else ""))


@contextlib.contextmanager
def process(name: str, command: list[str], folder: str, port: int | None = None, env: dict | None = None):
    """Run a command for the duration of the block (output in folder/name.log); stop it by its pid after."""
    log = open(Path(folder) / f"{name}.log", "w")  # noqa: SIM115 - closed below
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        if port is not None:
            listening(name, child, port, folder)
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()


def listening(name: str, child: subprocess.Popen, port: int, folder: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"{name} exited: {(Path(folder) / f'{name}.log').read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{name} did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


def nginx(folder: str):
    port = free_port()
    conf = Path(folder) / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, port=port))
    command = [tool("nginx"), "-p", folder, "-c", str(conf), "-e", f"{folder}/nginx-error.log"]
    return port, process("nginx", command, folder, port)


def blackbox(folder: str):
    port = free_port()
    conf = Path(folder) / "blackbox.yml"
    conf.write_text(BLACKBOX_CONF)
    command = [tool("prometheus-blackbox-exporter"), f"--config.file={conf}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    return port, process("blackbox", command, folder, port)


# --- database -----------------------------------------------------------------------------------


def postgres_admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
                         password=parts.password, dbname="postgres", autocommit=True) as admin:
        admin.execute(statement)


@contextlib.contextmanager
def scratch_database(url: str, keep: bool):
    """Create the scratch PostgreSQL database (dropping a leftover one first) and drop it afterwards."""
    if not url.startswith(("postgres://", "postgresql://")):
        yield
        return
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"scratch database name {name!r}: use lower-case letters, digits and _")
    postgres_admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    postgres_admin(url, f"CREATE DATABASE {name}")
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            postgres_admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def broker_usable(url: str) -> str:
    """The broker URL to use: --broker when Redis answers there, else the filesystem broker."""
    if not url.startswith("redis://"):
        return url
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return url
    except OSError:
        pass
    print(f"note: Redis at {url} does not answer; using the filesystem broker")
    return "filesystem://"


# --- registered probes --------------------------------------------------------------------------


def team_get():
    from topology.models import Team

    return Team.objects.get_or_create(slug=TEAM, defaults={"name": "Bench probes"})[0]


def probes_register(prefix: str, target: str, interval: str, count: int = PROBES) -> list[int]:
    """`count` HTTP probes on SERVICES services, declared and registered as a manifest would be."""
    from core.actors import actor_for_cli
    from topology.manifest import ServiceSpec
    from probes.models import Probe
    from probes.engine.spec import probe_declaration_check
    from topology.registration import registration_apply

    team = team_get()
    per_service = count // SERVICES
    specs = []
    for s in range(SERVICES):
        declared = []
        for p in range(per_service):
            declaration, errors = probe_declaration_check({
                "name": f"health-{p:03d}", "type": "http", "target": f"{target}?probe={s}-{p}",
                "interval": interval, "timeout": "5s", "expect": {"status": [200]}})
            assert not errors, errors
            declared.append(declaration.as_manifest())
        specs.append(ServiceSpec(name=f"bench-{prefix}-{s:02d}", team=team.slug, probes=declared))
    registration_apply(specs=specs, actor=actor_for_cli())
    ids = list(Probe.objects.filter(service__name__startswith=f"bench-{prefix}-").values_list("id", flat=True))
    assert len(ids) == per_service * SERVICES, len(ids)
    return ids


def services_delete(prefix: str) -> None:
    from topology.models import Service

    Service.objects.filter(name__startswith=f"bench-{prefix}-").delete()


# --- 1 and 2. baseline and engine -------------------------------------------------------------


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used so far by a process (this one when pid is None)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_run(url: str, script: Path, concurrency: int, seconds: int) -> tuple[float, int, str]:
    """blackbox_exporter probes/s under wrk (only replies with probe_success 1 count), their number, a note."""
    command = [tool("wrk"), "-t2", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    ok = int(re.search(r"probe_success_1 (\d+)", out).group(1))
    failed = int(re.search(r"probe_failed (\d+)", out).group(1))
    took = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    elapsed = float(took.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[took.group(2)]
    errors = re.search(r"Socket errors:.*", out)
    note = f"{ok} with probe_success 1, {failed} other in {elapsed:.1f} s{'; ' + errors.group(0) if errors else ''}"
    return ok / elapsed, ok, note


def engine_specs(target: str):
    from probes.engine.spec import Kind, ProbeSpec

    return [ProbeSpec(key=str(i), kind=Kind.HTTP, target=f"{target}?probe={i}", timeout=5.0, expect={"status": [200]})
            for i in range(PROBES)]


def engine_runs(specs, concurrency: int, repeat: int) -> list[float]:
    """Probes/s of `repeat` runs of probes_run on all specs (the engine's own event loop each time)."""
    from probes.services import probe_policy
    from probes.engine import probes_run
    from probes.engine.spec import Outcome

    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        results = probes_run(specs, policy=probe_policy(), concurrency=concurrency)
        elapsed = time.perf_counter() - started
        bad = [r for r in results if r.outcome != Outcome.UP]
        if bad:
            raise SystemExit(f"engine: {len(bad)} probes not up, e.g. {bad[0].error}")
        rates.append(PROBES / elapsed)
    return rates


def speed(target: str, folder: str, concurrencies: list[int], seconds: int, repeat: int, rounds: int,
          parts: list[str]) -> tuple[dict[int, float], dict[int, float]]:
    """Baseline and engine in alternation (so both see the same machine load); medians per concurrency."""
    from probes.services import probe_policy
    from probes.engine import probes_run

    baseline_rates = {c: [] for c in concurrencies}
    engine_rates = {c: [] for c in concurrencies}
    cpu = {(side, c): [0.0, 0] for side in ("baseline", "engine") for c in concurrencies}  # seconds, probes
    full_collections = {c: 0 for c in concurrencies}  # the garbage collector's passes over the whole heap
    specs = engine_specs(target)
    # Imports, the TLS context and each target's framed request, outside the timing: a worker sees
    # the same targets run after run, so it frames each request once.
    probes_run(specs, policy=probe_policy())
    if sys.flags.dev_mode or os.environ.get("PYTHONASYNCIODEBUG"):
        print("WARNING: asyncio debug mode is on (python -X dev or PYTHONASYNCIODEBUG): the engine runs several "
              "times slower; do not report these figures")
    with contextlib.ExitStack() as stack:
        url = ""
        if "baseline" in parts:
            port, running = blackbox(folder)
            exporter = stack.enter_context(running)
            url = f"http://127.0.0.1:{port}/probe?module=http_2xx&target={quote(target, safe='')}"
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            if "\nprobe_success 1" not in body:
                raise SystemExit(f"blackbox_exporter does not succeed on {target}:\n{body}")
            status = re.search(r"\nprobe_http_status_code (\d+)", body)
            print(f"blackbox_exporter check on the target: probe_success 1, probe_http_status_code "
                  f"{status and status.group(1)}")
            script = Path(folder) / "count.lua"
            script.write_text(WRK_SCRIPT)
        for index in range(rounds):
            for concurrency in concurrencies:
                notes = {}
                # Every other round the engine goes first, so neither side always follows the other.
                for side in (("baseline", "engine") if index % 2 == 0 else ("engine", "baseline")):
                    if side == "baseline" and url:
                        used = cpu_seconds(exporter.pid)
                        rate, ok, note = wrk_run(url, script, concurrency, seconds)
                        cpu["baseline", concurrency][0] += cpu_seconds(exporter.pid) - used
                        cpu["baseline", concurrency][1] += ok
                        baseline_rates[concurrency].append(rate)
                        notes[side] = f" blackbox {rate:6.0f} probes/s ({note});"
                    elif side == "engine" and "engine" in parts:
                        used, passes = cpu_seconds(), gc.get_stats()[2]["collections"]
                        rates = engine_runs(specs, concurrency, repeat)
                        cpu["engine", concurrency][0] += cpu_seconds() - used
                        full_collections[concurrency] += gc.get_stats()[2]["collections"] - passes
                        cpu["engine", concurrency][1] += repeat * PROBES
                        engine_rates[concurrency].extend(rates)
                        notes[side] = f" engine {statistics.median(rates):6.0f} probes/s (median of {repeat} runs)"
                print(f"round {index + 1}, concurrency {concurrency:3d}:" + notes.get("baseline", "")
                      + notes.get("engine", "") + f"  [load {os.getloadavg()[0]:.1f}]", flush=True)
    baseline_median = {c: statistics.median(v) for c, v in baseline_rates.items() if v}
    engine_median = {c: statistics.median(v) for c, v in engine_rates.items() if v}
    for concurrency in concurrencies:
        line = f"concurrency {concurrency:3d}:"
        if concurrency in baseline_median:
            line += f" blackbox {baseline_median[concurrency]:6.0f} probes/s (median of {rounds} x {seconds} s);"
        if concurrency in engine_median:
            runs = engine_rates[concurrency]
            line += (f" engine {engine_median[concurrency]:6.0f} probes/s (median of {len(runs)} runs of 1,000, "
                     f"best {max(runs):.0f})")
            if concurrency in baseline_median:
                line += f" = {engine_median[concurrency] / baseline_median[concurrency]:.2f}x blackbox"
        print(line)
        used = {side: seconds / probes * 1e6 for (side, c), (seconds, probes) in cpu.items()
                if c == concurrency and probes}
        if used:
            print("    CPU per probe: " + ", ".join(
                f"{'blackbox_exporter process' if side == 'baseline' else 'engine (this process)'} {micros:.0f} us"
                for side, micros in used.items()) + " (nginx and wrk not counted)")
        if concurrency in engine_median:
            print(f"    full garbage collections during the engine's runs: {full_collections[concurrency]}, over "
                  f"{len(gc.get_objects()):,} tracked objects (the process's heap; each pass is paid by the probes)")
    return baseline_median, engine_median


# --- 3. whole path ------------------------------------------------------------------------------


class PartTimer:
    """Wraps module functions of probe_services to add up the seconds spent in each."""

    NAMES = ("probes_dispatch", "runs_send", "_schedule_advance", "_claims_mark", "probes_execute", "results_send",
             "probe_results_receive", "probe_results_record")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.NAMES, 0.0)

    @contextlib.contextmanager
    def installed(self):
        from probes import services as probe_services

        originals = {name: getattr(probe_services, name) for name in self.NAMES}

        def timed(name, function):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    self.seconds[name] += time.perf_counter() - started
            return wrapper

        for name, function in originals.items():
            setattr(probe_services, name, timed(name, function))
        try:
            yield self
        finally:
            for name, function in originals.items():
                setattr(probe_services, name, function)


def next_second() -> None:
    """Sleep to just past the next whole second, so each round gets a slot of its own."""
    time.sleep(1.02 - (time.time() % 1.0))


def path_round(ids: list[int], wait) -> tuple[float, datetime]:
    """Make every probe due, then time dispatch + execution + recording of all of them."""
    from django.utils import timezone

    from probes.models import Probe, ProbeResult
    from probes.services import probes_dispatch

    next_second()
    Probe.objects.filter(id__in=ids).update(next_due_at=timezone.now() - timedelta(seconds=1))
    started = time.perf_counter()
    now = timezone.now()
    queued = probes_dispatch(now=now)
    slot = now.replace(microsecond=0)
    wait(slot, len(ids))
    elapsed = time.perf_counter() - started
    assert queued == len(ids), queued
    stored = ProbeResult.objects.filter(slot=slot, series__location=LOCATION)
    up = stored.filter(outcome="up").count()
    if up != len(ids):
        raise SystemExit(f"whole path: {up} of {len(ids)} results up in slot {slot}: "
                         f"{list(stored.exclude(outcome='up').values_list('error', flat=True)[:3])}")
    return elapsed, slot


def eager_rounds(ids: list[int], repeat: int) -> tuple[list[float], dict[str, float]]:
    from webapp.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # no "Task ... succeeded" line per batch
    try:
        path_round(ids, lambda slot, count: None)  # warm-up
        timer = PartTimer()
        rates = []
        with timer.installed():
            for _ in range(repeat):
                elapsed, _ = path_round(ids, lambda slot, count: None)
                rates.append(elapsed)
        parts = {name: seconds / repeat for name, seconds in timer.seconds.items()}
        return rates, parts
    finally:
        app.conf.task_always_eager = False


def results_wait(slot: datetime, count: int, seconds: float = 60.0, worker: subprocess.Popen | None = None,
                 log: Path | None = None) -> None:
    from probes.models import ProbeResult

    deadline = time.monotonic() + seconds
    while ProbeResult.objects.filter(slot=slot, series__location=LOCATION).count() < count:
        if worker is not None and worker.poll() is not None:
            raise RuntimeError(f"the worker exited: {log.read_text()[-2000:] if log else ''}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"results of slot {slot} not all stored within {seconds:.0f} s")
        time.sleep(0.01)


def queue_purge() -> None:
    """Drop leftover tasks of an earlier, interrupted run from the probe and results queues."""
    from django.conf import settings

    from webapp.celery import app

    with app.connection_for_write() as conn:
        for queue in (QUEUE, settings.PROBE_RESULTS_QUEUE):
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


@contextlib.contextmanager
def celery_worker(folder: str):
    from django.conf import settings

    queue_purge()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    queues = f"{QUEUE},{settings.PROBE_RESULTS_QUEUE}"  # runs and the results they send, as `make run`'s worker
    command = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", queues, "--pool", "prefork",
               "--concurrency", str(WORKER_PROCESSES), "--loglevel", "WARNING", "-n", f"bench-probes-{os.getpid()}@%h", "--without-gossip",
               "--without-mingle", "--without-heartbeat"]
    with process("celery-worker", command, folder, env=env) as worker:
        try:
            yield worker
        finally:
            queue_purge()


def worker_rounds(ids: list[int], repeat: int, worker: subprocess.Popen, folder: str) -> list[float]:
    log = Path(folder) / "celery-worker.log"

    def wait(slot, count, seconds=60.0):
        results_wait(slot, count, seconds, worker, log)

    path_round(ids, lambda slot, count: wait(slot, count, 120.0))  # warm-up: start-up, imports, connections
    return [path_round(ids, wait)[0] for _ in range(repeat)]


# --- 4. dispatch jitter -------------------------------------------------------------------------


class ThreadWorker:
    """A worker in a thread of this process: runs each batch runs_send would queue from its message,
    as a site worker does, and records its results as the central worker does."""

    def __init__(self) -> None:
        import queue

        self.tasks = queue.Queue()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        from django.db import connection

        from probes.engine.wire import result_encode, runs_decode
        from probes.services import probe_results_receive, probes_execute

        try:
            while (task := self.tasks.get()) is not None:
                location, slot, items = task
                specs, dues = runs_decode(items)
                results = probes_execute(specs=specs, location=location, not_before=[due.timestamp() for due in dues])
                probe_results_receive(location=location, slot=datetime.fromisoformat(slot),
                                      items=[result_encode(result) for result in results])
        finally:
            connection.close()

    def send(self, *, slot: datetime, batches: dict[str, list[list]]) -> None:
        from django.conf import settings

        size = settings.PROBE_BATCH_SIZE
        for location, items in batches.items():
            for start in range(0, len(items), size):
                self.tasks.put((location, slot.isoformat(), items[start:start + size]))

    def stop(self) -> None:
        self.tasks.put(None)
        self.thread.join(timeout=60)


def jitter(target: str, seconds: int, worker: subprocess.Popen | None, count: int) -> None:
    from django.db.models import F
    from django.utils import timezone

    from probes import services as probe_services
    from probes.models import Probe, ProbeResult

    before = timezone.now()
    ids = probes_register("jitter", target, INTERVAL_JITTER, count)
    # Registration spread the first due times over the interval from `before`; start that spread at
    # the first beat tick, so no probe is overdue before the loop runs.
    first_tick = time.monotonic() + 1.0
    shift = timezone.now() + timedelta(seconds=1.0) - before
    Probe.objects.filter(id__in=ids).update(next_due_at=F("next_due_at") + shift)

    sent: list[tuple[datetime, float, dict]] = []
    original = probe_services.runs_send
    thread = None if worker is not None else ThreadWorker()

    def send(*, slot, batches):
        sent.append((slot, called_at, batches))
        (original if thread is None else thread.send)(slot=slot, batches=batches)

    dispatch_ms = []
    probe_services.runs_send = send
    try:
        for tick in range(seconds):
            time.sleep(max(0.0, first_tick + tick - time.monotonic()))
            called_at = time.time()
            started = time.perf_counter()
            probe_services.probes_dispatch()
            dispatch_ms.append((time.perf_counter() - started) * 1000)
    finally:
        probe_services.runs_send = original
    wanted = {(int(pid), slot) for slot, _, batches in sent for items in batches.values() for pid, *_ in items}
    deadline = time.monotonic() + 30
    stored = {}
    while time.monotonic() < deadline:
        first = min((slot for slot, _, _ in sent), default=timezone.now())
        stored = {(pid, slot): slot + timedelta(milliseconds=started) for pid, slot, started in
                  ProbeResult.objects.filter(series__probe_id__in=ids, slot__gte=first)
                  .values_list("series__probe_id", "slot", "started_ms")}
        if wanted <= stored.keys():
            break
        time.sleep(0.2)
    if thread is not None:
        thread.stop()
    lags, from_dispatch = [], []
    for slot, called_at, batches in sent:
        for items in batches.values():
            for pid, due, *_ in items:
                started = stored.get((int(pid), slot))
                if started is not None:
                    lags.append((started - datetime.fromisoformat(due)).total_seconds() * 1000)
                    from_dispatch.append((started.timestamp() - called_at) * 1000)
    runner = "the real Celery worker of 3(b)" if worker is not None else "a thread of this process (task body)"
    print(f"{count} probes every {INTERVAL_JITTER}, probes_dispatch every 1 s for {seconds} s; batches run by {runner}")
    print(f"runs queued: {len(wanted)} (expected about {count * seconds // 10}); results stored: "
          f"{len(lags)}; missing: {len(wanted) - len(lags)}")
    if lags:
        print(f"due -> started:      p50 {percentile(lags, 0.5):7.1f} ms   p99 {percentile(lags, 0.99):7.1f} ms   "
              f"max {max(lags):7.1f} ms  (batches go out up to 1 s early and each probe waits for its due time)")
        print(f"dispatch -> started: p50 {percentile(from_dispatch, 0.5):7.1f} ms   "
              f"p99 {percentile(from_dispatch, 0.99):7.1f} ms   max {max(from_dispatch):7.1f} ms")
    print(f"probes_dispatch call: p50 {percentile(dispatch_ms, 0.5):.1f} ms, max {max(dispatch_ms):.1f} ms "
          f"(about {count // 10} due per call)")


# --- 5. storage ---------------------------------------------------------------------------------


class Stamps:
    """Timestamps as the database takes them in text, cached by whole second."""

    def __init__(self, vendor: str) -> None:
        self.suffix = "+00:00" if vendor == "postgresql" else ""
        self.cache: dict[int, str] = {}

    def base(self, second: int) -> str:
        text = self.cache.get(second)
        if text is None:
            text = self.cache[second] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return text

    def whole(self, second: int) -> str:
        return self.base(second) + self.suffix


class Writer:
    """Bulk insert into a model's table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, model, fields: list[str]) -> None:
        from django.db import connection

        self.connection = connection
        self.table = model._meta.db_table
        self.columns = [model._meta.get_field(name).column for name in fields]
        self.rows = 0

    @contextlib.contextmanager
    def open(self):
        from django.db import transaction

        quoted = ", ".join(self.connection.ops.quote_name(column) for column in self.columns)
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.table} ({quoted}) FROM STDIN") as copy:
                    def write(rows):
                        for row in rows:
                            copy.write_row(row)
                        self.rows += len(rows)
                    yield write
            else:
                sql = f"INSERT INTO {self.table} ({quoted}) VALUES ({', '.join('?' * len(self.columns))})"

                def write(rows):
                    self.connection.connection.executemany(sql, rows)
                    self.rows += len(rows)
                yield write


STATUS_200 = '{"status": 200}'


RAW_FIELDS = ["slot", "series", "started_ms", "latency_ms", "outcome", "values", "error"]
ROLLUP_FIELDS = ["bucket", "series", "latency_p50", "latency_p95", "count", "down", "degraded", "period",
                 "last_outcome", "last_values"]


def raw_rows(series, phases, start: int, end: int, stamps: Stamps, rng: random.Random):
    """ProbeResult rows for runs every RAW_EVERY s in [start, end), one batch per RAW_EVERY step, time
    order, as probes.results_store writes them: the values ({"status": 200}, never changing) only on
    each series' first result of an hour, NULL otherwise; an empty error NULL."""
    last_hour: dict[int, int] = {}
    for step in range(start, end, RAW_EVERY):
        rows = []
        for sid, phase in zip(series, phases):
            due = step + phase
            slot = int(due + rng.random())  # beat dispatches within the second after due
            if slot >= end:
                continue
            values = STATUS_200 if last_hour.get(sid) != slot // 3600 else None
            last_hour[sid] = slot // 3600
            roll = rng.random()
            if roll < 0.002:
                rows.append((stamps.whole(slot), sid, rng.randrange(5, 90), 5000.0 + round(rng.random(), 3), "down",
                             values, "timed out after 5s"))
                continue
            latency = round(rng.lognormvariate(2.0, 0.5), 3)
            outcome, error = "up", None
            if roll < 0.005:
                latency = round(latency + 1000, 3)
                outcome, error = "degraded", f"latency_ms={latency} above max_latency_ms=1000"
            rows.append((stamps.whole(slot), sid, rng.randrange(5, 90), latency, outcome, values, error))
        yield sorted(rows, key=lambda row: (row[0], row[1]))  # as recorded: batch by batch, slot by slot


def rollup_rows(series, period: str, start: int, end: int, length: int, stamps: Stamps, rng: random.Random):
    """ProbeRollup rows for buckets of `length` s in [start, end), time order; last_values as the
    rollup writes them: the bucket's last stored values (only a bucket holding an hour's first run)."""
    runs = length // RAW_EVERY
    for bucket in range(start, end, length):
        rows = []
        text = stamps.whole(bucket)
        values = STATUS_200 if bucket % 3600 < length else None
        for sid in series:
            roll = rng.random()
            down = 1 if roll < runs * 0.002 else 0
            degraded = 1 if 0.5 < roll < 0.5 + runs * 0.003 else 0
            p50 = round(rng.lognormvariate(2.0, 0.3), 3)
            rows.append((text, sid, p50, round(p50 * 1.8, 3), runs, down, degraded, period, "up", values))
        yield rows


def copy_all(writer: Writer, batches) -> float:
    started = time.perf_counter()
    with writer.open() as write:
        chunk = []
        for rows in batches:
            chunk.extend(rows)
            if len(chunk) >= 20000:
                write(chunk)
                chunk = []
        if chunk:
            write(chunk)
    return time.perf_counter() - started


def database_size() -> tuple[int, dict[str, int]]:
    from django.db import connection

    from probes.models import ProbeResult, ProbeRollup

    tables = [ProbeResult._meta.db_table, ProbeRollup._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            total = cursor.fetchone()[0]
            sizes = {}
            for table in tables:
                cursor.execute("SELECT pg_table_size(%s), pg_indexes_size(%s)", [table, table])
                heap, indexes = cursor.fetchone()
                sizes[f"{table} table"] = heap
                sizes[f"{table} indexes"] = indexes
            cursor.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                           "WHERE indrelid = ANY(%s::regclass[])", [tables])
            for name, size in cursor.fetchall():
                sizes[f"  index {name}"] = size
            return total, sizes
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        name = Path(connection.settings_dict["NAME"])
        total = sum(p.stat().st_size for p in name.parent.glob(name.name + "*"))
        sizes = {}
        with contextlib.suppress(Exception):
            for table in tables:
                cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = %s", [table])
                sizes[f"{table} table"] = cursor.fetchone()[0] or 0
        return total, sizes


def storage(target: str, count: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from probes.choices import RollupPeriod
    from probes.models import Probe, ProbeResult, ProbeRollup, ProbeStatus, RollupMark
    from probes.rollups import LATE_GRACE, bucket_floor, probe_retention_apply, probe_rollups_update
    from probes.selectors import (probe_latency_series, probe_result_page, probe_uptime_grid, probe_uptimes,
                                  service_uptime_map)

    ids = probes_register("store", target, INTERVAL_PATH, count)
    series_of = dict(ProbeStatus.objects.filter(probe_id__in=ids, location=LOCATION).values_list("probe_id", "pk"))
    series = [series_of[pid] for pid in ids]
    ProbeResult.objects.all().delete()
    ProbeRollup.objects.all().delete()
    RollupMark.objects.all().delete()
    rng = random.Random(7)
    phases = [rng.randrange(RAW_EVERY * 1000) / 1000 for _ in ids]
    stamps = Stamps(connection.vendor)
    anchor = timezone.now().replace(microsecond=0)
    now_s = int(anchor.timestamp())
    raw_hours = settings.PROBE_RAW_RETENTION_HOURS
    minute_hours = settings.PROBE_MINUTE_ROLLUP_RETENTION_HOURS
    minute_mark = bucket_floor(anchor - LATE_GRACE, RollupPeriod.MINUTE) - timedelta(minutes=1)
    hour_mark = bucket_floor(anchor - LATE_GRACE, RollupPeriod.HOUR) - timedelta(hours=1)
    minute_start = int(bucket_floor(anchor - timedelta(hours=minute_hours + 1), RollupPeriod.MINUTE).timestamp())
    hour_start = int(bucket_floor(anchor - timedelta(days=HISTORY_DAYS), RollupPeriod.HOUR).timestamp())

    print(f"database: {connection.vendor}; {len(ids)} probes every {RAW_EVERY} s; raw kept "
          f"{raw_hours} h, minute rollups {minute_hours} h, hourly rollups {HISTORY_DAYS} d "
          f"(+1 expired hour of raw and minute rows)")
    raw = Writer(ProbeResult, RAW_FIELDS)
    rollup_fields = ROLLUP_FIELDS
    took = copy_all(raw, raw_rows(series, phases, now_s - (raw_hours + 1) * 3600, now_s, stamps, rng))
    print(f"inserted {raw.rows:>10,} raw results      in {took:6.1f} s ({raw.rows / took:,.0f} rows/s)")
    minutes = Writer(ProbeRollup, rollup_fields)
    took = copy_all(minutes, rollup_rows(series, RollupPeriod.MINUTE, minute_start, int(minute_mark.timestamp()), 60,
                                         stamps, rng))
    print(f"inserted {minutes.rows:>10,} minute rollups   in {took:6.1f} s ({minutes.rows / took:,.0f} rows/s)")
    hours = Writer(ProbeRollup, rollup_fields)
    took = copy_all(hours, rollup_rows(series, RollupPeriod.HOUR, hour_start, int(hour_mark.timestamp()), 3600,
                                       stamps, rng))
    print(f"inserted {hours.rows:>10,} hourly rollups   in {took:6.1f} s ({hours.rows / took:,.0f} rows/s)")
    RollupMark.objects.create(period=RollupPeriod.MINUTE, through=minute_mark)
    RollupMark.objects.create(period=RollupPeriod.HOUR, through=hour_mark)
    analyse(vacuum=False)

    started = time.perf_counter()
    written = probe_rollups_update(now=anchor)
    took = time.perf_counter() - started
    print(f"probe_rollups_update (1 minute + 1 hour due): {took * 1000:8.0f} ms, rows written {written}")
    # The every-minute call in steady state: one new minute, no hour.
    minute_cost = []
    for _ in range(3):
        RollupMark.objects.filter(period=RollupPeriod.MINUTE).update(through=minute_mark)
        started = time.perf_counter()
        written = probe_rollups_update(now=anchor)
        minute_cost.append(time.perf_counter() - started)
    window = ProbeResult.objects.filter(series__in=ProbeStatus.objects.values("pk"), slot__gte=minute_mark,
                                        slot__lt=minute_mark + timedelta(minutes=1))
    plan = window.explain().splitlines()
    scans = [line for line in plan if re.search(r"SCAN|SEARCH", line.upper())]
    scan = next((line for line in scans if "proberesult" in line), scans[0] if scans else "?")
    print(f"probe_rollups_update (1 minute due, steady state): {statistics.median(minute_cost) * 1000:6.0f} ms "
          f"median of 3, rows written {written}; reads raw rows with: {scan.split('(cost')[0].strip(' ->')}")
    started = time.perf_counter()
    deleted = probe_retention_apply(now=anchor)
    took = time.perf_counter() - started
    print(f"probe_retention_apply: {took * 1000:8.0f} ms, rows deleted {deleted}")
    analyse()

    total, sizes = database_size()
    kept = ProbeResult.objects.count(), ProbeRollup.objects.filter(period=RollupPeriod.MINUTE).count(), \
        ProbeRollup.objects.filter(period=RollupPeriod.HOUR).count()
    print(f"rows kept: raw {kept[0]:,}, minute rollups {kept[1]:,}, hourly rollups {kept[2]:,}")
    if connection.vendor == "postgresql":
        per_raw = (sizes[f"{raw.table} table"] + sizes[f"{raw.table} indexes"]) / max(1, kept[0])
        per_rollup = (sizes[f"{minutes.table} table"] + sizes[f"{minutes.table} indexes"]) / max(1, kept[1] + kept[2])
        print(f"bytes per row, table + indexes: raw {per_raw:.0f}, rollup {per_rollup:.0f}; so about "
              f"{per_raw * kept[0] / 2**20:,.0f} MiB raw, {per_rollup * kept[1] / 2**20:,.0f} MiB minute rollups, "
              f"{per_rollup * kept[2] / 2**20:,.0f} MiB hourly rollups")
    print(f"database size: {total / 1e9:.3f} GB ({total / 2**20:,.0f} MiB)  (goal <= 1 GB: "
          f"{goal(total / 1e9, 1.0, above=False)})")
    for name, size in sizes.items():
        print(f"    {name}: {size / 2**20:,.0f} MiB")

    probe_uptimes(probe_ids=ids[:1])
    picks = iter(rng.sample(ids, min(len(ids), 40)))
    one = median_ms(lambda: probe_uptimes(probe_ids=[next(picks)]), min(len(ids), 40))
    pages = [ids[start:start + 50] for start in range(0, len(ids), 50)] * 2
    page_iter = iter(pages)
    page = median_ms(lambda: probe_uptimes(probe_ids=next(page_iter)), len(pages))
    sample = probe_uptimes(probe_ids=[ids[0]])[ids[0]]
    print(f"probe_uptimes, 1 probe:   {one:6.1f} ms median of {min(len(ids), 40)}  (goal <= 50 ms: "
          f"{goal(one, 50, above=False)}); e.g. "
          + ", ".join(f"{name} {value:.4f}" for name, value in sample.items() if value is not None))
    print(f"probe_uptimes, 50 probes: {page:6.1f} ms median of {len(pages)}  (goal <= 50 ms: "
          f"{goal(page, 50, above=False)})")
    probe = Probe.objects.get(id=ids[0])
    grid = median_ms(lambda: probe_uptime_grid(probe=probe), 10)
    series = median_ms(lambda: probe_latency_series(probe=probe, hours=24), 10)
    services = median_ms(lambda: service_uptime_map(), 3)
    print(f"probe page parts: probe_uptime_grid (30 d) {grid:.1f} ms, probe_latency_series (24 h) {series:.1f} ms; "
          f"service_uptime_map (all services, 30 d) {services:.0f} ms")
    picks = iter(rng.sample(ids, min(len(ids), 20)) * 2)
    newest = median_ms(lambda: probe_result_page(probe=Probe(id=next(picks)), location=None, before=None,
                                                 limit=100), min(len(ids), 20))
    deep = median_ms(lambda: probe_result_page(probe=Probe(id=next(picks)), location=None,
                                               before=anchor - timedelta(hours=40), limit=100), min(len(ids), 20))
    print(f"raw history of one probe (API results, 100 rows with values): newest {newest:.1f} ms, "
          f"40 h back {deep:.1f} ms (median of {min(len(ids), 20)} probes)")


def analyse(vacuum: bool = True) -> None:
    """Statistics (and on PostgreSQL with `vacuum`, free space and visibility) as autovacuum keeps them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum and connection.vendor == "postgresql" else "ANALYZE")


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    parser.add_argument("--concurrency", default="256,64")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--wrk-seconds", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--jitter-seconds", type=int)
    parser.add_argument("--storage-probes", type=int)
    parser.add_argument("--sqlite-storage", action="store_true")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    args.repeat = args.repeat or (3 if args.quick else 5)
    args.wrk_seconds = args.wrk_seconds or (5 if args.quick else 10)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.jitter_seconds = min(60, args.jitter_seconds or (15 if args.quick else 35))
    args.storage_probes = args.storage_probes or (100 if args.quick else PROBES)
    args.parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"--only: unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    args.concurrencies = [int(value) for value in args.concurrency.split(",")]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-probes-") as folder:
        os.chmod(folder, 0o755)  # nginx workers (another user when run as root) read nothing here, but may stat it
        if args.database_url == "sqlite:///":
            args.database_url = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["DATABASE_URL"] = args.database_url
        # As in production (DEBUG on keeps every query's SQL text, which costs time here); the
        # worker started below inherits these.
        os.environ.setdefault("DEBUG", "false")
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
        os.environ["CELERY_BROKER_URL"] = broker_usable(args.broker)
        with scratch_database(args.database_url, args.keep_database):
            from ingest import setup

            setup(folder)
            run(args, folder)
        if args.sqlite_storage:
            section("5b. storage after 30 days on SQLite (child process)")
            command = [sys.executable, __file__, "--only", "storage", "--database-url", "sqlite:///",
                       "--storage-probes", str(args.storage_probes)]
            subprocess.run(command, check=True)
    print(f"\ntotal run time {time.monotonic() - started:.0f} s")


def run(args, folder: str) -> None:
    from django.conf import settings
    from django.db import connection

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; database {connection.vendor}; "
          f"broker {settings.CELERY_BROKER_URL.split('://')[0]}; PROBE_CONCURRENCY {settings.PROBE_CONCURRENCY}, "
          f"PROBE_BATCH_SIZE {settings.PROBE_BATCH_SIZE}, DEBUG {settings.DEBUG}")
    print(f"code: {code_state()}")
    needs_target = bool({"baseline", "engine", "path", "jitter"} & set(args.parts))
    with contextlib.ExitStack() as stack:
        if needs_target:
            port, running = nginx(folder)
            stack.enter_context(running)
        target = f"http://127.0.0.1:{port}/health" if needs_target else "http://127.0.0.1:9/health"
        baseline_rates, engine_rates = {}, {}
        if {"baseline", "engine"} & set(args.parts):
            section("1-2. baseline (blackbox_exporter driven by wrk) and engine alone (probes_run), alternating")
            print(f"target {target}: nginx, 1 worker process, access log off; engine: 1,000 HTTP probes, a fresh "
                  f"TCP connection each; blackbox: wrk -t2 with as many connections as the concurrency")
            baseline_rates, engine_rates = speed(target, folder, args.concurrencies, args.wrk_seconds, args.repeat,
                                                 args.rounds, args.parts)
        reference = baseline_rates.get(args.concurrencies[0])
        if reference and args.concurrencies[0] in engine_rates:
            ratio = engine_rates[args.concurrencies[0]] / reference
            print(f"engine at concurrency {args.concurrencies[0]}: {ratio:.2f}x baseline  "
                  f"(goal >= 3.0x: {goal(ratio, 3.0, above=True)}; and CPU per probe <= 0.2x blackbox_exporter's)")
        worker = None
        if {"path", "jitter"} & set(args.parts):
            services_delete("path")
            ids = probes_register("path", target, INTERVAL_PATH)
        if "path" in args.parts:
            section("3. whole path: probes_dispatch -> batches run as a worker runs them -> results stored")
            rounds, parts = eager_rounds(ids, args.repeat)
            rate = PROBES / statistics.median(rounds)
            ratio = f" = {rate / reference:.2f}x baseline" if reference else ""
            print(f"(a) in-process, Celery task_always_eager (runs_send's apply_async runs topology.tasks.probes_run"
                  f" -> probe_batch_run -> results_send -> probes.tasks.probe_results_record, "
                  f"{math.ceil(PROBES / settings.PROBE_BATCH_SIZE)} batches one after another):")
            print(f"    {statistics.median(rounds) * 1000:7.0f} ms median of {args.repeat} "
                  f"(best {min(rounds) * 1000:.0f}) = {rate:.0f} probes/s{ratio}"
                  + (f"  (goal >= {PATH_GOAL}x: {goal(rate / reference, PATH_GOAL, above=True)})" if reference else ""))
            total = parts["probes_dispatch"]
            send = parts["runs_send"]
            inner = {"run (probes_execute)": parts["probes_execute"],
                     "receive (decode)": parts["probe_results_receive"] - parts["probe_results_record"],
                     "record (probe_results_record)": parts["probe_results_record"]}
            print(f"    per round (mean {total * 1000:.0f} ms): dispatch up to the commit "
                  f"{(total - send) * 1000:.0f} ms (of which _schedule_advance {parts['_schedule_advance'] * 1000:.0f}"
                  f" ms, claims _claims_mark {parts['_claims_mark'] * 1000:.0f} ms); Celery, messages and other "
                  f"{(send - sum(inner.values())) * 1000:.0f} ms;")
            print("    " + "; ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in inner.items()))
            try:
                worker = stack.enter_context(celery_worker(folder))
                rounds = worker_rounds(ids, args.repeat, worker, folder)
                rate = PROBES / statistics.median(rounds)
                ratio = f" = {rate / reference:.2f}x baseline" if reference else ""
                print(f"(b) real worker (celery worker -Q {QUEUE},{settings.PROBE_RESULTS_QUEUE} --concurrency "
                      f"{WORKER_PROCESSES}, prefork, broker "
                      f"{settings.CELERY_BROKER_URL.split('://')[0]}), time until the 1,000th result is in the "
                      f"database (polled every 10 ms):")
                print(f"    {statistics.median(rounds) * 1000:7.0f} ms median of {args.repeat} "
                      f"(best {min(rounds) * 1000:.0f}) = {rate:.0f} probes/s{ratio}"
                      + (f"  (goal >= {PATH_GOAL}x: {goal(rate / reference, PATH_GOAL, above=True)})" if reference else ""))
            except (RuntimeError, OSError) as exc:
                worker = None
                print(f"(b) real worker process: not measured: {exc}")
        if "jitter" in args.parts:
            section("4. dispatch jitter")
            services_delete("path")
            jitter(target, args.jitter_seconds, worker, PROBES)
            services_delete("jitter")
    if "kafka" in args.parts:
        section("6. Kafka consumer lag probe against a Kafka-protocol broker (tansu, memory storage)")
        kafka_checks(args.repeat)
    if "storage" in args.parts:
        section("5. storage after 30 days")
        services_delete("path")
        services_delete("jitter")
        storage("http://127.0.0.1:9/health", args.storage_probes)
        connection.close()


def kafka_checks(repeat: int, checks: int = 50) -> None:
    """Time per check of one kafka-consumer probe (2 partitions), each a full run of the engine:
    metadata, the group's offsets and state, the partitions' ends."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.kafka_broker import Broker

    from probes.engine import policy_build, probes_run
    from probes.engine.spec import Kind, Outcome, ProbeSpec

    with Broker() as broker:
        broker.topic_fill("orders", [50, 60])
        broker.offsets_commit("billing", "orders", [20, 7])
        spec = ProbeSpec("lag", Kind.KAFKA_CONSUMER, broker.bootstrap, timeout=5.0, options={"group": "billing"})
        policy = policy_build()
        [first] = probes_run([spec], policy=policy)
        if first.outcome != Outcome.UP:
            print(f"    not measured: {first.error}")
            return
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            results = probes_run([spec] * checks, policy=policy, concurrency=1)
            runs.append((time.perf_counter() - started) / checks * 1000)
            assert all(result.outcome == Outcome.UP for result in results)
    print(f"    {checks} checks one after another, {repeat} runs: median {statistics.median(runs):.1f} ms per check "
          f"(range {min(runs):.1f}-{max(runs):.1f}); values {first.values}")


if __name__ == "__main__":
    main()
