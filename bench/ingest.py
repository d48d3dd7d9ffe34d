"""Registration speed: 1,000 services with 5,000 interactions in one manifest.

Prints, in one run on one scratch database:
  - seconds for the first POST /api/v1/registrations/ (through the whole API code path),
  - seconds for re-posting it unchanged,
  - a raw bulk_create of the same rows, and both posts as ratios to it.
Goals: first post <= 3x raw; unchanged re-post <= 0.5x the first post.

    .venv/bin/python bench/ingest.py [--services 1000] [--per-service 5] [--format json|yaml]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is used and
cleared: point it at a scratch database).
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(var_dir: str) -> None:
    os.environ.setdefault("SWITCHBOARD_VAR_DIR", var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def manifest(services: int, per_service: int) -> list[dict]:
    styles = [("rest", None, None), ("grpc", None, None), ("pubsub", "events", "kafka"), ("queue", "jobs", "rabbitmq")]
    documents = []
    for i in range(services):
        interactions = []
        for j in range(per_service):
            style, channel, broker = styles[j % len(styles)]
            interactions.append({
                "name": f"call-{j}", "to": [f"svc-{(i + j + 1) % services:04d}"], "style": style,
                "channel": f"{channel}.{i}.{j}" if channel else None, "broker": broker,
                "description": f"Interaction {j} of service {i}",
                "criteria": {"needs_immediate_response": style in ("rest", "grpc"), "peak_rps": 10 * j},
            })
        documents.append({
            "apiVersion": "switchboard/v1", "kind": "Service",
            "metadata": {"name": f"svc-{i:04d}", "team": "bench", "title": f"Service {i}", "labels": {"tier": "bench"}},
            "spec": {"lifecycle": "production", "language": "go", "interactions": interactions},
        })
    return documents


def encode(documents: list[dict], fmt: str) -> tuple[bytes, str]:
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump_all(documents, sort_keys=False).encode(), "application/yaml"
    return json.dumps({"items": documents}).encode(), "application/json"


def clear() -> None:
    from topology.models import AuditEvent, Interaction, InteractionTarget, Service

    InteractionTarget.objects.all().delete()
    Interaction.objects.all().delete()
    Service.objects.all().delete()
    AuditEvent.objects.all().delete()


def timed_post(client, body: bytes, content_type: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post("/api/v1/registrations/", data=body, content_type=content_type)
    elapsed = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise SystemExit(f"registration failed: {response.status_code} {response.content[:500]!r}")
    return elapsed, response.json()


def stored_recommendations(documents: list[dict]) -> list[dict]:
    """The recommendation columns of every interaction, computed outside the timed part."""
    from decisions.recommendations import question_of, recommendation_fields, ruleset_current
    from decisions.rules import evaluate

    ruleset = ruleset_current()
    return [
        recommendation_fields(evaluate(ruleset, question_of(
            source=d["metadata"]["name"], targets=tuple(item["to"]), criteria=item["criteria"],
            declared_style=item["style"])))
        for d in documents for item in d["spec"]["interactions"]
    ]


def raw_bulk_create(documents: list[dict], team) -> float:
    """The same rows with plain bulk_create: the floor any registration path is compared to.

    The rows include each interaction's stored recommendation, computed before the clock starts.
    """
    from topology.models import Interaction, InteractionTarget, Service

    recommendations = iter(stored_recommendations(documents))
    started = time.perf_counter()
    services = Service.objects.bulk_create([
        Service(name=d["metadata"]["name"], team=team, title=d["metadata"]["title"], labels=d["metadata"]["labels"],
                lifecycle=d["spec"]["lifecycle"], language=d["spec"]["language"])
        for d in documents
    ])
    by_name = {service.name: service for service in services}
    rows, targets = [], []
    for d in documents:
        for item in d["spec"]["interactions"]:
            rows.append(Interaction(source=by_name[d["metadata"]["name"]], name=item["name"], style=item["style"],
                                    channel=item["channel"] or "", broker=item["broker"] or "",
                                    description=item["description"], criteria=item["criteria"],
                                    **next(recommendations)))
            targets.append(item["to"])
    Interaction.objects.bulk_create(rows)
    InteractionTarget.objects.bulk_create([
        InteractionTarget(interaction=row, service=by_name[name], position=position)
        for row, names in zip(rows, targets) for position, name in enumerate(names)
    ])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--per-service", type=int, default=5)
    parser.add_argument("--format", choices=["json", "yaml"], default="json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        setup(var_dir)
        run(args)


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from core.actors import actor_for_cli
    from topology.models import Team
    from topology.services import token_create

    settings.REGISTRATION_MAX_BYTES = 64 * 1024 * 1024
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clear()
    team = Team.objects.filter(slug="bench").first() or Team.objects.create(slug="bench", name="Bench")
    team.tokens.all().delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=actor_for_cli(), team=team, name='bench')[1]}")
    documents = manifest(args.services, args.per_service)
    body, content_type = encode(documents, args.format)

    first, report = timed_post(client, body, content_type)
    assert report["summary"]["services"]["created"] == args.services
    again, report = timed_post(client, body, content_type)
    assert report["summary"]["services"]["unchanged"] == args.services
    clear()
    raw = raw_bulk_create(documents, team)
    clear()

    interactions = args.services * args.per_service
    print(f"database: {connection.vendor}; manifest: {args.services} services, {interactions} interactions, "
          f"{len(body) / 1e6:.1f} MB {args.format}")
    print(f"raw bulk_create of the same rows: {raw:.3f} s")
    print(f"first post:     {first:.3f} s  = {first / raw:.2f}x raw  (goal <= 3x)")
    print(f"unchanged post: {again:.3f} s  = {again / first:.2f}x the first post  (goal <= 0.5x)")


if __name__ == "__main__":
    main()
