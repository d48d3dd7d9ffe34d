"""Page speed at 10,000 services: the browser pages and API lists, through Django's full stack.

Registers N services (default 10,000) with 3 interactions each through the registration path,
then prints the median time and query count of each page over several requests.

    .venv/bin/python bench/pages.py [--services 10000] [--repeat 5]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is used and
cleared: point it at a scratch database).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import clear, setup  # noqa: E402

PAGES = [
    "/", "/services/", "/services/?page=150", "/services/?q=svc-09", "/services/svc-05000/",
    "/interactions/", "/interactions/?style=pubsub", "/teams/", "/teams/bench/",
    "/api/v1/services/", "/api/v1/interactions/?target=svc-05000",
]


def populate(services: int) -> None:
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.registration import registration_apply

    specs = [
        ServiceSpec(name=f"svc-{i:05d}", team="bench", title=f"Service {i}", interactions=(
            InteractionSpec(name="read", targets=(f"svc-{(i + 1) % services:05d}",), style="rest"),
            InteractionSpec(name="notify", targets=(f"svc-{(i + 7) % services:05d}", f"svc-{(i + 9) % services:05d}"),
                            style="pubsub", channel=f"events.{i}", broker="kafka"),
            InteractionSpec(name="job", targets=(f"worker-{i % 50}",), style="queue", channel="jobs", broker="rabbitmq"),
        ))
        for i in range(services)
    ]
    for start in range(0, services, 2000):
        registration_apply(specs=specs[start:start + 2000], actor=actor_for_cli())


def measure(client, url: str, repeat: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return statistics.median(timings), len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        setup(var_dir)
        run(args)


def run(args) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from topology.models import Interaction, Team

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clear()
    Team.objects.filter(slug="bench").exists() or Team.objects.create(slug="bench", name="Bench")
    started = time.perf_counter()
    populate(args.services)
    print(f"database: {connection.vendor}; {args.services} services, {Interaction.objects.count()} interactions "
          f"(registered in {time.perf_counter() - started:.1f} s)")
    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench", is_staff=True)
    client = Client()
    client.force_login(user)
    print(f"{'page':<42} {'median':>9} {'queries':>8}")
    for url in PAGES:
        seconds, queries = measure(client, url, args.repeat)
        print(f"{url:<42} {seconds * 1000:>7.1f}ms {queries:>8}")
    clear()


if __name__ == "__main__":
    main()
