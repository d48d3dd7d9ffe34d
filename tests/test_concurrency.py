"""Concurrent registrations against the live API: 50 clients post overlapping manifests at once.

Overlapping: every post names the same services (and the same interactions, some of which come and
go) with different values. Afterwards no service or interaction exists twice, each service is exactly
one of the states posted for it (its fields and its interactions with their targets, from one post),
and no post got a 5xx. A 409 that says "retry" is allowed only if the client's retry then succeeds; the
server retries by itself first (core.db.atomic_retried), so the test counts them and expects few.

On PostgreSQL (CI's second run) this is the real test; on SQLite writes are serialised by the
database's lock (transaction_mode IMMEDIATE) and it still checks the same promises.
"""
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.servers.basehttp import WSGIServer
from django.db import connection

from core.actors import actor_for_cli
from topology.models import Interaction, InteractionTarget, Service, Team
from topology.services import token_create

CLIENTS = 50
TEAMS = ("commerce", "identity")
# Each team owns three services; every post of a team names all three.
SERVICES = {"commerce": ("orders", "billing", "carts"), "identity": ("accounts", "sessions", "profiles")}
# Shared targets: placeholders for targets no team registers (created concurrently by every post).
SHARED = ("ledger", "mailer", "audit-log")

pytestmark = pytest.mark.django_db(transaction=True)

# The live server (pytest-django's, one per session, started at its first use: after collection) listens
# with Django's backlog of 10 connections; 50 clients connecting at once overflow it and get resets
# before any request is read. A backlog above CLIENTS lets every client in, as a real server would.
WSGIServer.request_queue_size = max(WSGIServer.request_queue_size, 2 * CLIENTS)


def service_doc(team: str, name: str, n: int) -> dict:
    """The state client n posts for `name`: every field and interaction differs between clients, and
    one interaction exists only in even posts (so concurrent posts create and remove it)."""
    others = [s for s in SERVICES[team] if s != name]
    interactions = [
        {"name": "read-peer", "to": [others[n % 2]], "style": "rest", "description": f"read by client {n}",
         "criteria": {"needs_immediate_response": True, "operation": "read"}},
        {"name": "publish", "to": [SHARED[n % 3], SHARED[(n + 1) % 3]], "style": "pubsub",
         "channel": f"{name}.events.v{n}", "broker": ("kafka", "nats")[n % 2],
         "criteria": {"can_defer": n % 2 == 0}},
    ]
    if n % 2 == 0:
        interactions.append({"name": "notify", "to": ["mailer"], "style": "queue", "channel": f"{name}.mail",
                             "broker": "rabbitmq", "description": f"only in even posts ({n})"})
    return {
        "apiVersion": "switchboard/v1", "kind": "Service",
        "metadata": {"name": name, "team": team, "title": f"{name} v{n}", "description": f"posted by client {n}",
                     "labels": {"client": str(n)}},
        "spec": {"language": ("python", "go", "java")[n % 3], "lifecycle": ("production", "experimental")[n % 2],
                 "repository": f"https://git.example.com/{name}/{n}", "interactions": interactions},
    }


def manifest(team: str, n: int) -> list[dict]:
    names = list(SERVICES[team])
    names = names[n % 3:] + names[:n % 3]  # the same services in different orders
    return [service_doc(team, name, n) for name in names]


def expected(doc: dict) -> dict:
    """A service's state as the test compares it: what the post said, defaults filled in."""
    meta, spec = doc["metadata"], doc["spec"]
    return {
        "team": meta["team"], "title": meta["title"], "description": meta["description"], "labels": meta["labels"],
        "language": spec["language"], "lifecycle": spec["lifecycle"], "repository": spec["repository"],
        "interactions": {item["name"]: {"to": item["to"], "style": item["style"], "channel": item.get("channel", ""),
                                        "broker": item.get("broker", ""), "description": item.get("description", ""),
                                        "criteria": item.get("criteria", {})}
                         for item in spec["interactions"]},
    }


def stored(service: Service) -> dict:
    interactions = {}
    for item in Interaction.objects.filter(source=service):
        targets = [link.service.name for link in
                   InteractionTarget.objects.filter(interaction=item).select_related("service").order_by("position")]
        interactions[item.name] = {"to": targets, "style": item.style, "channel": item.channel,
                                   "broker": item.broker, "description": item.description, "criteria": item.criteria}
    return {"team": service.team.slug, "title": service.title, "description": service.description,
            "labels": service.labels, "language": service.language, "lifecycle": service.lifecycle,
            "repository": service.repository, "interactions": interactions}


def post(url: str, token: str, body: list[dict]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps({"items": body}).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw[:500].decode(errors="replace")}


def test_fifty_concurrent_overlapping_registrations_lose_nothing_and_double_nothing(live_server):
    teams = {slug: Team.objects.create(slug=slug, name=slug.title()) for slug in TEAMS}
    # One token per client, as 50 CI jobs of two teams would have.
    tokens = [token_create(actor=actor_for_cli(), team=teams[TEAMS[n % 2]], name=f"ci-{n}")[1] for n in range(CLIENTS)]
    url = live_server.url + "/api/v1/registrations/"
    start = threading.Barrier(CLIENTS)
    answers: dict[int, list[int]] = {}

    def client(n: int) -> tuple[int, int, dict]:
        body, statuses = manifest(TEAMS[n % 2], n), []
        start.wait(timeout=60)
        for _ in range(5):
            status, reply = post(url, tokens[n], body)
            statuses.append(status)
            if status != 409 or "retry" not in reply.get("detail", ""):
                break
            time.sleep(0.05 * len(statuses))
        answers[n] = statuses
        return n, status, reply

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    elapsed = time.monotonic() - began

    all_statuses = [status for statuses in answers.values() for status in statuses]
    assert not [s for s in all_statuses if s >= 500], f"5xx answers: {Counter(all_statuses)}"
    failed = {n: (status, reply) for n, status, reply in results if status not in (200, 201)}
    assert not failed, f"posts that did not end in 200/201 after client retries: {failed}"
    retried = sum(1 for statuses in answers.values() if len(statuses) > 1)
    # The server retries conflicts itself; a client retry is tolerated, not expected.
    assert retried <= CLIENTS // 10, f"{retried} clients had to retry: {answers}"

    # No duplicates.
    names = Counter(Service.objects.values_list("name", flat=True))
    assert all(count == 1 for count in names.values()), names
    keys = Counter(Interaction.objects.values_list("source__name", "name"))
    assert all(count == 1 for count in keys.values()), keys
    links = Counter(InteractionTarget.objects.values_list("interaction_id", "position"))
    assert all(count == 1 for count in links.values()), links
    owned = {name for names_ in SERVICES.values() for name in names_}
    # Placeholders are exactly the shared targets the final states point at (the others were pruned).
    targeted = set(InteractionTarget.objects.values_list("service__name", flat=True))
    assert set(names) == owned | (targeted & set(SHARED))
    assert all(service.is_placeholder for service in Service.objects.filter(name__in=SHARED))

    # No lost update: each service is one posted state, whole (fields and interactions from one post).
    for team, service_names in SERVICES.items():
        posted = {name: [expected(doc) for n in range(CLIENTS) if TEAMS[n % 2] == team
                         for doc in manifest(team, n) if doc["metadata"]["name"] == name] for name in service_names}
        for name in service_names:
            state = stored(Service.objects.select_related("team").get(name=name))
            assert state in posted[name], f"{name} is no posted state: {state}"

    print(f"\n{CLIENTS} concurrent registrations on {connection.vendor}: {elapsed:.2f}s, "
          f"answers {dict(Counter(all_statuses))}, client retries {retried}, pid {os.getpid()}")
