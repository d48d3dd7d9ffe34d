"""Topology rendering speed: the SVG endpoint against raw `dot -Tsvg` on the same DOT text.

For a generated system of 300 services / 1,000 interactions and one of 1,000 / 5,000 (teams of about
25 services, sync and async interactions, a few placeholders), prints in one run:
  - raw `dot -Tsvg` on the DOT text the endpoint renders (the floor; checked to be the same text),
  - GET /api/v1/topology/?format=svg uncached (cache cleared) and cached, as ratios to raw dot,
  - the default topology page at that size, when the page exists.
Goals: uncached <= 1.2x raw dot; cached <= 0.05x.

Raw dot and the uncached request are timed in turns, so that both see the same load on the machine.
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
    from topology.actors import actor_for_cli
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


def timed_in_turns(repeat: int, *runs) -> list[float]:
    """Median seconds of each (function, before) in `runs`, run in turns; `before` runs untimed."""
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
    timings = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def measure(services: int, interactions: int, repeat: int) -> None:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from topology import selectors
    from topology.rendering import dot_source
    from topology.selectors import topology_load

    clear()
    populate(services, interactions)
    from django.contrib.auth.models import User

    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench", is_staff=True)
    client = Client()
    client.force_login(user)
    dot = dot_source(topology_load())

    def raw():
        done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True)
        assert done.stdout.startswith(b"<?xml")

    def endpoint():
        response = client.get("/api/v1/topology/?format=svg")
        assert response.status_code == 200, response.status_code

    def forget():
        """Uncached: no rendered diagram, no DOT text, no topology loaded in this process."""
        cache.clear()
        selectors._current.clear()

    forget()
    served = client.get("/api/v1/topology/?format=dot").content.decode()
    assert served == dot, "the endpoint draws other DOT text than the one timed raw"
    raw_s, uncached = timed_in_turns(repeat, (raw, None), (endpoint, forget))
    endpoint()
    cached = timed(endpoint, repeat)
    print(f"\n{services} services, {interactions} interactions: DOT {len(dot) / 1024:.0f} KiB, "
          f"{dot.count(' -> ')} edges drawn")
    print(f"raw dot -Tsvg:        {raw_s * 1000:8.1f} ms")
    print(f"SVG endpoint uncached: {uncached * 1000:7.1f} ms = {uncached / raw_s:.2f}x raw  (goal <= 1.2x)")
    print(f"SVG endpoint cached:   {cached * 1000:7.1f} ms = {cached / raw_s:.3f}x raw  (goal <= 0.05x)")
    try:
        page = reverse("topology")
    except NoReverseMatch:
        return
    first = timed(lambda: client.get(page), 1, before=forget)
    again = timed(lambda: client.get(page), repeat)
    print(f"topology page {page}: {first * 1000:.1f} ms first, {again * 1000:.1f} ms cached")


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
