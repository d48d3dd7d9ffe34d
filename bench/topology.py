"""Topology rendering speed: the SVG endpoint against raw `dot -Tsvg` on the same DOT text.

For a generated system of 300 services / 1,000 interactions and one of 1,000 / 5,000 (teams of about
25 services, sync and async interactions, a few placeholders), prints in one run:
  - raw `dot -Tsvg` on the DOT text the endpoint renders (the floor; checked to be the same text),
  - GET /api/v1/topology/?format=svg through Django's WSGI handler (as a server calls it, with a
    signed-in session), uncached and cached, as ratios to raw dot,
  - the same request uncached right after a registry write, before the team summary is refreshed,
    and in a process whose `dot` has not started yet,
  - the default topology page at that size, uncached and cached.
Goals: uncached <= 1.2x raw dot; cached <= 0.05x.

The endpoint draws SVG with a `dot` that its process keeps running (Graphviz takes about 20 ms to
start, which raw `dot -Tsvg` pays every time); a figure without it, as in a process that has drawn
nothing yet, is printed too. Cached requests are timed in the same turns (twenty per turn), so that their ratio too compares
figures taken under the same load. Uncached means no drawing kept anywhere (the diagram cache and this process's memory are cleared)
and no topology loaded in the process; the team summary of the registry, which each registry write
refreshes, is current: that is what every view meets after a probe state changes. Raw dot and the
uncached requests are timed in turns, so that all see the same load on the machine, after a few
untimed turns: a process's first requests pay for imports and a cold interpreter.
Above 150 services the default view is a graph of team folders, which the DOT text asks to be laid
out by neato (`dot -Tsvg` honours that, so raw dot times the same layout).

    .venv/bin/python bench/topology.py [--sizes 300:1000,1000:5000] [--repeat 3]
"""
import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import clear, setup  # noqa: E402

STYLES = [("rest", "", ""), ("grpc", "", ""), ("rest", "", ""), ("pubsub", "events", "kafka"), ("queue", "jobs", "rabbitmq")]


def populate(services: int, interactions: int, seed: int = 3) -> None:
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.models import Team
    from topology.registration import registration_apply

    rng = random.Random(seed)
    teams = [f"team-{index:02d}" for index in range(max(1, services // 25))]
    Team.objects.bulk_create([Team(slug=slug, name=slug) for slug in teams], ignore_conflicts=True)
    names = [f"svc-{index:04d}" for index in range(services)]
    per_service: dict[str, list] = {name: [] for name in names}
    for index in range(interactions):
        source = rng.choice(names)
        style, channel, broker = rng.choice(STYLES)
        count = 1 if style in ("rest", "grpc", "queue") else rng.choice([1, 2, 3])
        pool = names + [f"ghost-{g}" for g in range(services // 50)]
        targets = tuple(dict.fromkeys(t for t in rng.sample(pool, count + 1) if t != source))[:count]
        per_service[source].append(InteractionSpec(
            name=f"i{index}", targets=targets, style=style, channel=f"{channel}.{index % 40}" if channel else "",
            broker=broker))
    specs = [ServiceSpec(name=name, team=teams[position % len(teams)], interactions=tuple(per_service[name]))
             for position, name in enumerate(names)]
    for start in range(0, len(specs), 500):
        registration_apply(specs=specs[start:start + 500], actor=actor_for_cli())


WARM_UP = 3  # untimed rounds first: a process's first requests pay for imports and a cold interpreter
CACHED_SAMPLES = 20  # cached requests per turn: they are cheap, and many samples steady the median


def timed_in_turns(repeat: int, *runs) -> list[float]:
    """Median seconds of each (function, before) in `runs`, run in turns after WARM_UP untimed turns;
    `before` runs untimed."""
    for _ in range(WARM_UP):
        for function, before in runs:
            if before:
                before()
            function()
    timings = [[] for _ in runs]
    for _ in range(repeat):
        for (function, before), found in zip(runs, timings):
            if before:
                before()
            started = time.perf_counter()
            function()
            found.append(time.perf_counter() - started)
    return [statistics.median(found) for found in timings]


def timed(function, repeat: int, before=None) -> float:
    """Median seconds of `function`; `before` runs untimed ahead of each call."""
    return timed_in_turns(repeat, (function, before))[0]


def wsgi_client(session: str):
    """GET through Django's WSGI handler, as a server calls it, signed in with this session (the
    test client adds instrumentation of its own, and keeps the database connection across requests
    whatever the settings say)."""
    from io import BytesIO

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()

    def get(path: str, query: str = "") -> tuple[str, bytes]:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "testserver",
                   "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_COOKIE": f"sessionid={session}", "wsgi.input": BytesIO(), "wsgi.url_scheme": "http",
                   "wsgi.errors": sys.stderr}
        status = []
        response = handler(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            return status[0], b"".join(response)
        finally:
            response.close()

    return get


def measure(services: int, interactions: int, repeat: int) -> None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from topology import graph_selectors, render
    from topology.models import TopologySummary
    from topology.rendering import dot_source
    from topology.graph_selectors import topology_load

    clear()
    populate(services, interactions)
    from django.contrib.auth.models import User

    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench", is_staff=True)
    client = Client()
    client.force_login(user)
    get = wsgi_client(client.cookies["sessionid"].value)
    dot = dot_source(topology_load())

    def raw():
        done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True)
        assert done.stdout.startswith(b"<?xml")

    def endpoint():
        status, body = get("/api/v1/topology/", "format=svg")
        assert status == "200 OK" and body.startswith(b"<?xml"), status

    def forget():
        """Uncached: no rendered diagram, no DOT text, no topology loaded in this process. What each
        view after a probe state changes meets: the registry's team summary is current."""
        render.drawings_forget()
        graph_selectors._current.clear()

    def forget_registry():
        """As after a registry write whose summary refresh has not run: the links are aggregated."""
        forget()
        TopologySummary.objects.all().delete()

    def forget_dot():
        """As in a process that has drawn nothing yet: its `dot` must start first."""
        forget()
        render.dot_processes_stop()

    forget()
    served = get("/api/v1/topology/", "format=dot")[1].decode()
    assert served == dot, "the endpoint draws other DOT text than the one timed raw"
    def cached_many():
        for _ in range(CACHED_SAMPLES):
            started = time.perf_counter()
            endpoint()
            cached_samples.append(time.perf_counter() - started)

    cached_samples: list[float] = []
    raw_s, uncached, stale, cold, _ = timed_in_turns(
        repeat, (raw, None), (endpoint, forget), (endpoint, forget_registry), (endpoint, forget_dot),
        (cached_many, endpoint))
    cached = statistics.median(cached_samples[WARM_UP * CACHED_SAMPLES:])
    print(f"\n{services} services, {interactions} interactions: DOT {len(dot) / 1024:.0f} KiB, "
          f"{dot.count(' -> ')} edges drawn")
    print(f"raw dot -Tsvg:        {raw_s * 1000:8.1f} ms")
    print(f"SVG endpoint uncached: {uncached * 1000:7.1f} ms = {uncached / raw_s:.2f}x raw  (goal <= 1.2x)")
    print(f"SVG endpoint cached:   {cached * 1000:7.1f} ms = {cached / raw_s:.3f}x raw  (goal <= 0.05x)")
    print(f"  uncached, right after a registry write (team links aggregated): {stale * 1000:.1f} ms "
          f"= {stale / raw_s:.2f}x raw")
    print(f"  uncached, in a process whose dot has not started yet: {cold * 1000:.1f} ms = {cold / raw_s:.2f}x raw")
    try:
        page = reverse("topology")
    except NoReverseMatch:
        return
    first = timed(lambda: get(page), repeat, before=forget)
    again = timed(lambda: get(page), repeat * 3)
    print(f"topology page {page}: {first * 1000:.1f} ms uncached, {again * 1000:.1f} ms cached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="300:1000,1000:5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [tuple(int(part) for part in size.split(":")) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        setup(var_dir)
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        for services, interactions in sizes:
            measure(services, interactions, args.repeat)
        clear()


if __name__ == "__main__":
    main()
