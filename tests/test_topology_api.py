"""Topology, findings, flows and Mermaid diagrams over the API."""
import hashlib

import pytest
from rest_framework.test import APIClient

from topology.models import AuditEvent, Flow
from topology.render import drawings_forget


@pytest.fixture
def maria(demo):
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.get(username="maria"))
    return client


def test_it_renders_the_topology_as_svg_and_serves_it_from_the_cache(admin, django_assert_max_num_queries):
    response = admin.get("/api/v1/topology/?format=svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "<svg" in svg and "storefront-web" in svg and "orders.placed" in svg
    assert admin.get("/api/v1/topology/?format=svg").content == response.content


@pytest.mark.parametrize("fmt,content_type,start", [
    ("dot", "text/vnd.graphviz; charset=utf-8", b"digraph topology {"),
    ("png", "image/png", b"\x89PNG"),
])
def test_it_offers_dot_and_png_downloads(admin, fmt, content_type, start):
    response = admin.get(f"/api/v1/topology/?format={fmt}")
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response.content.startswith(start)
    assert "filename=" in response["Content-Disposition"]


def test_it_returns_json_with_findings_for_a_view(admin):
    body = admin.get("/api/v1/topology/?format=json&focus=orders&hops=1").json()
    names = {node["name"] for node in body["nodes"]}
    assert "orders" in names and "client" not in names
    assert {"source", "target", "style", "mismatch"} <= set(body["links"][0])


def test_it_shows_the_blast_radius(admin):
    body = admin.get("/api/v1/topology/?format=json&blast=payment").json()
    assert {node["name"] for node in body["nodes"]} == {"payment", "orders", "storefront-web", "shipping",
                                                         "invoicing", "loyalty"}


@pytest.mark.parametrize("query,field", [
    ("format=gif", "format"), ("focus=nope", "focus"), ("blast=nope", "blast"), ("team=nope", "team"),
    ("focus=orders&hops=9", "hops"), ("hops=x", "hops"), ("chain=orders,nope", "chain"),
])
def test_it_rejects_bad_view_parameters_naming_them(admin, query, field):
    response = admin.get(f"/api/v1/topology/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_it_requires_authentication_for_the_topology(demo):
    assert APIClient().get("/api/v1/topology/").status_code == 401


def test_it_lists_findings_with_filters(admin):
    body = admin.get("/api/v1/topology/findings/").json()
    kinds = {f["kind"] for f in body["results"]}
    assert {"sync-chain", "chain-availability", "sync-fan-out"} <= kinds
    chain = next(f for f in body["results"] if f["kind"] == "sync-chain")
    assert chain["services"] == ["storefront-web", "orders", "payment", "fraud-screening"] and chain["cites"] == "§3.5"
    only = admin.get("/api/v1/topology/findings/?service=client").json()
    assert only["count"] == 0


def test_it_draws_the_reference_sync_flow_from_an_entry(admin):
    response = admin.get("/api/v1/diagrams/sequence/?entry=client")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vnd.mermaid")
    text = response.content.decode()
    assert "p1->>p2: request" in text and "p2->>p3: query-dependency" in text and "p2-->>p1: request (reply)" in text


@pytest.mark.parametrize("query,code", [("", 400), ("flow=a&entry=b", 400), ("flow=nope", 404),
                                        ("entry=nope", 400), ("entry=client&depth=99", 400)])
def test_it_rejects_bad_sequence_requests(admin, query, code):
    assert admin.get(f"/api/v1/diagrams/sequence/?{query}").status_code == code


def test_it_draws_a_flowchart_of_a_team(admin):
    text = admin.get("/api/v1/diagrams/flowchart/?team=identity").content.decode()
    assert text.startswith("flowchart LR") and "users.registered" in text and "storefront" not in text


FLOW = {"slug": "user-registration", "name": "User registration", "team": "identity",
        "steps": [{"interaction": "accounts/user-registered", "label": "UserRegistered"}]}


def test_it_creates_a_flow_and_draws_it(demo):
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.get(username="ivan"))
    response = client.post("/api/v1/flows/", FLOW, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["steps"][0]["to"] == ["welcome-mailer", "data-init"]
    text = client.get("/api/v1/diagrams/sequence/?flow=user-registration").content.decode()
    assert "title User registration" in text and 'publish #quot;UserRegistered#quot;' in text
    assert "participant p2 as NATS: users.registered" in text
    assert AuditEvent.objects.filter(object_type="flow", object_key="user-registration").exists()


def test_it_rejects_a_flow_with_unknown_steps_pointing_at_them(admin):
    body = {**FLOW, "steps": [{"interaction": "accounts/user-registered"}, {"interaction": "nope/nothing"},
                              {"interaction": "no-slash"}]}
    response = admin.post("/api/v1/flows/", body, format="json")
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/steps/1/interaction", "/steps/2/interaction"]
    assert Flow.objects.count() == 0


def test_it_rejects_a_flow_for_another_team(maria):
    assert maria.post("/api/v1/flows/", FLOW, format="json").status_code == 403
    assert Flow.objects.count() == 0


def test_it_updates_and_deletes_a_flow(admin):
    admin.post("/api/v1/flows/", FLOW, format="json")
    steps = [{"interaction": "client/request"}, {"interaction": "service-a/query-dependency"}]
    response = admin.patch("/api/v1/flows/user-registration/", {"steps": steps}, format="json")
    assert response.status_code == 200 and len(response.json()["steps"]) == 2
    assert admin.delete("/api/v1/flows/user-registration/").status_code == 204
    assert Flow.objects.count() == 0


def test_it_redraws_after_the_data_changes(admin):
    before = admin.get("/api/v1/topology/?format=dot").content.decode()
    assert "brand-new" not in before
    body = ("apiVersion: switchboard/v1\nkind: Service\nmetadata: {name: brand-new, team: commerce}\n"
            "spec: {interactions: [{name: x, to: [orders], style: rest}]}\n")
    assert admin.post("/api/v1/registrations/", data=body, content_type="application/yaml").status_code == 201
    assert '"brand-new"' in admin.get("/api/v1/topology/?format=dot").content.decode()


def test_it_redraws_after_a_re_evaluation(admin):
    from decisions.models import CustomRule, EvaluationRun
    from decisions.recommendations import recommendations_refresh

    mismatched = "orders/order-cancelled: rest; recommended pub-sub (error mismatch)"
    assert mismatched in admin.get("/api/v1/topology/?format=dot").content.decode()
    CustomRule.objects.create(slug="keep-rest", title="x", condition='operation == "notification"',
                              effects={"request-response": 50}, explanation="x")
    recommendations_refresh(run_id=EvaluationRun.objects.create(ruleset_version="?").id)
    after = admin.get("/api/v1/topology/?format=dot").content.decode()
    assert mismatched not in after and "orders/order-cancelled: rest; recommended request-response" in after


# --- the whole system at team level, from aggregates ------------------------------------------------


STYLES = [("rest", "", ""), ("grpc", "", ""), ("pubsub", "events", "kafka"), ("queue", "jobs", "rabbitmq"),
          ("", "", "")]


def generated(services: int, interactions: int, seed: int = 5, prefix: str = "svc") -> None:
    """A random system like bench/topology.py's: teams of about 25 services, interactions of every style
    with one to three targets (placeholders among them), mismatches of every severity, and accepted
    overrides on some of them (plus a proposed override and a general decision, which settle nothing)."""
    import random

    from decisions.models import Decision
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.models import Interaction, Team
    from topology.registration import registration_apply

    rng = random.Random(seed)
    teams = [f"{prefix}-team-{index:02d}" for index in range(max(1, services // 25))]
    Team.objects.bulk_create([Team(slug=slug, name=slug) for slug in teams], ignore_conflicts=True)
    names = [f"{prefix}-{index:04d}" for index in range(services)]
    pool = names + [f"{prefix}-ghost-{index}" for index in range(max(2, services // 50))]
    outgoing: dict[str, list] = {name: [] for name in names}
    for index in range(interactions):
        source = rng.choice(names)
        style, channel, broker = rng.choice(STYLES)
        count = rng.choice([1, 2, 3]) if style in ("pubsub", "") else 1
        targets = tuple(dict.fromkeys(t for t in rng.sample(pool, count + 1) if t != source))[:count]
        outgoing[source].append(InteractionSpec(name=f"i{index}", targets=targets, style=style,
                                                channel=f"{channel}.{index % 7}" if channel else "", broker=broker))
    specs = [ServiceSpec(name=name, team=teams[position % len(teams)], interactions=tuple(outgoing[name]))
             for position, name in enumerate(names)]
    registration_apply(specs=specs, actor=actor_for_cli())
    items = list(Interaction.objects.filter(source__name__startswith=f"{prefix}-").values_list("pk", flat=True))
    rng.shuffle(items)
    sixth = len(items) // 6
    for severity, part in (("error", items[:sixth]), ("warning", items[sixth:2 * sixth]),
                           ("info", items[2 * sixth:3 * sixth]), ("", items[3 * sixth:])):
        Interaction.objects.filter(pk__in=part).update(mismatch=severity)
    number = (Decision.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    decisions = [
        ("accepted", "override", items[:40:3] + items[sixth:sixth + 30:4]),  # errors and warnings
        ("accepted", "override", items[1:40:5]),  # overlaps the first
        ("proposed", "override", items[2:40:3]),
        ("accepted", "general", items[2 * sixth:2 * sixth + 30]),
    ]
    for offset, (status, kind, chosen) in enumerate(decisions):
        decision = Decision.objects.create(number=number + offset, title=f"d{offset}", status=status, kind=kind)
        decision.interactions.add(*chosen)
    drawings_forget()


def test_the_team_overview_from_aggregates_is_the_one_of_the_whole_topology(db):
    from topology import graph, rendering
    from topology.graph_selectors import topology_load, topology_overview

    generated(400, 1500)
    topology = topology_load()
    overview = topology_overview()
    assert overview.teams == graph.overview_of(topology).teams and overview.size == len(topology.nodes)
    assert overview.links == graph.overview_of(topology).links
    settled = {(topology.nodes[link.source].team, topology.nodes[link.target].team, link.kind)
               for link in topology.links if link.deliberate and link.mismatch}
    assert any(key in overview.links for key in settled)  # overrides took part
    assert {found.worst for found in overview.links.values()} == {"", "info", "warning", "error"}
    assert None in overview.teams  # the placeholders are a group of their own
    urls = rendering.Urls(expand="?x={team}")
    assert rendering.overview_dot(overview, urls) == rendering.dot_source(topology, rendering.View(), urls)
    assert topology_overview(over=len(topology.nodes)) is None  # not over the limit: drawn one by one


def test_the_whole_system_is_drawn_from_aggregates_in_as_many_queries_whatever_its_size(db, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from topology import graph_selectors as selectors
    from topology.rendering import dot_source

    client = APIClient()
    client.force_login(staff)

    def drawn() -> tuple[str, int]:
        drawings_forget()
        selectors._current.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/topology/?format=dot")
        assert response.status_code == 200
        assert not selectors._current  # the topology was not loaded
        return response.content.decode(), len(captured)

    generated(200, 500)
    unwell(("down", "degraded", "up"))
    small, queries = drawn()
    assert small == dot_source(selectors.topology_load()) and '"team:(placeholders)"' in small
    assert "1 down · 1 degraded" in small or ("1 down" in small and "1 degraded" in small)
    with CaptureQueriesContext(connection) as overview_queries:
        selectors.topology_overview()
    generated(600, 2500, seed=6, prefix="more")
    large, more_queries = drawn()
    assert large == dot_source(selectors.topology_load()) and large != small
    assert more_queries == queries
    with CaptureQueriesContext(connection) as captured:
        selectors.topology_overview()
    assert len(captured) == len(overview_queries) <= 5


def test_it_draws_the_overview_from_the_summary_stored_when_a_registration_commits(
        db, staff, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from topology import graph_selectors as selectors
    from topology.models import TopologySummary
    from topology.rendering import dot_source

    with django_capture_on_commit_callbacks(execute=True):
        generated(300, 900)
    summary = TopologySummary.objects.get()
    assert summary.stamp == selectors.topology_stamps().registry and summary.groups > len(summary.links) == 120
    unwell(("down", "up"))
    client = APIClient()
    client.force_login(staff)
    drawings_forget()
    with CaptureQueriesContext(connection) as captured:
        served = client.get("/api/v1/topology/?format=dot").content.decode()
    assert served == dot_source(selectors.topology_load()) and "1 down" in served
    assert not any("GROUP BY" in query["sql"] for query in captured)  # no link was aggregated
    assert TopologySummary.objects.get().computed_at == summary.computed_at


def test_it_never_draws_from_a_summary_of_another_registry_state(db, staff):
    from topology import graph_selectors as selectors
    from topology.models import Interaction, TopologySummary
    from topology.overview_services import topology_summary_refresh
    from topology.rendering import dot_source

    generated(300, 900)
    topology_summary_refresh()
    before = TopologySummary.objects.get()
    moved = Interaction.objects.filter(target_links__service__team__isnull=False).order_by("pk").first()
    moved.mismatch = "error"
    moved.save()  # a write whose summary refresh never ran
    client = APIClient()
    client.force_login(staff)
    served = client.get("/api/v1/topology/?format=dot").content.decode()
    assert served == dot_source(selectors.topology_load())
    after = TopologySummary.objects.get()
    assert after.stamp != before.stamp and after.stamp == selectors.topology_stamps().registry


def test_probe_health_moves_the_drawing_but_not_the_summary(db, staff, django_capture_on_commit_callbacks):
    from topology import graph_selectors as selectors
    from topology.models import TopologySummary

    with django_capture_on_commit_callbacks(execute=True):
        generated(300, 900)
    client = APIClient()
    client.force_login(staff)
    first = client.get("/api/v1/topology/?format=dot")
    stamps = selectors.topology_stamps()
    unwell(("degraded",))
    second = client.get("/api/v1/topology/?format=dot")
    assert selectors.topology_stamps().registry == stamps.registry and selectors.topology_stamps().full != stamps.full
    assert "1 degraded" in second.content.decode() and "1 degraded" not in first.content.decode()
    assert first["ETag"] != second["ETag"] and TopologySummary.objects.get().stamp == stamps.registry


def test_it_keeps_no_summary_when_the_registry_moved_while_it_was_aggregated(db, monkeypatch):
    from topology import overview_services
    from topology.models import Service, TopologySummary

    generated(60, 120)
    aggregate = overview_services.topology_overview

    def with_a_write_meanwhile():
        found = aggregate()
        Service.objects.filter(pk=Service.objects.order_by("pk").first().pk).update(title="moved")
        Service.objects.create(name="late-arrival")
        return found

    monkeypatch.setattr(overview_services, "topology_overview", with_a_write_meanwhile)
    overview = overview_services.topology_summary_refresh()
    assert overview.size == 60 + 2 and not TopologySummary.objects.exists()  # placeholders: 2 ghosts


def test_every_kind_of_registry_write_moves_the_registry_stamp_deletions_included(demo):
    from decisions.recommendations import evaluation_run_start, recommendations_refresh
    from decisions.services import decision_create, decision_delete
    from core.actors import actor_for_cli
    from topology.models import Interaction, Service
    from topology.graph_selectors import topology_stamps
    from topology.services import service_delete

    seen = [topology_stamps().registry]

    def moved() -> None:
        stamp = topology_stamps().registry
        assert stamp not in seen
        seen.append(stamp)

    actor = actor_for_cli()
    oldest = Service.objects.filter(target_links__isnull=True, team__isnull=False).order_by("updated_at").first()
    latest = Service.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    assert service_delete(actor=actor, service=oldest) == "deleted"
    assert Service.objects.order_by("-updated_at").values_list("updated_at", flat=True).first() == latest
    moved()  # no change time moved: the revision did
    decision = decision_create(actor=actor, title="Keep the queue", interactions=[Interaction.objects.first()])
    moved()
    decision_delete(actor=actor, decision=decision)
    moved()
    Interaction.objects.update(ruleset_version="older")
    recommendations_refresh(run_id=evaluation_run_start(reason="test").id)
    moved()


def sha(data: bytes) -> str:
    """Drawings are compared by digest: pytest's report of two unequal SVGs would take minutes."""
    return hashlib.sha256(data).hexdigest()


def test_each_view_is_drawn_as_a_fresh_dot_would_draw_it(db):
    import graphviz

    from topology import render
    from topology.rendering import View, dot_source
    from topology.graph_selectors import topology_load

    generated(300, 900)
    topology = topology_load()
    team = sorted(team for team in {node.team for node in topology.nodes.values()} if team)[0]
    focus = next(name for name, node in topology.nodes.items() if node.team == team)
    views = [View(), View(expand=frozenset({team})), View(focus=focus), View(), View(focus=focus, hops=2)]
    render.dot_processes_stop()
    for view in views:  # team folders, then in layers, then folders again
        dot = dot_source(topology, view)
        assert sha(render._svg(dot)) == sha(graphviz.pipe("dot", "svg", dot.encode(), quiet=True)), view
    assert render.dot_processes["neato"]._drawn == 2  # both overviews, from one long-lived dot


def test_a_layered_layout_that_takes_too_long_is_drawn_by_force_and_so_is_its_png(db, monkeypatch):
    """fdp does not draw a graph of clusters the same twice (Graphviz 2.43), so what is checked is the
    text each drawing was made from, not its bytes."""
    from topology import render
    from topology.rendering import View, dot_by_force, dot_source
    from topology.graph_selectors import topology_load

    generated(300, 900)
    topology = topology_load()
    team = sorted(team for team in {node.team for node in topology.nodes.values()} if team)[0]
    dot = dot_source(topology, View(expand=frozenset({team})))
    forced = dot_by_force(dot)
    assert forced != dot and "layout=fdp" in forced.splitlines()[1] and forced.count("subgraph") == dot.count("subgraph")
    drawings_forget()
    monkeypatch.setattr(render, "LAYERED_SECONDS", 0)  # every layered layout is now too slow
    drawn = []
    piped = render._piped

    def recorded(text, fmt, seconds=render.RENDER_SECONDS):
        found = piped(text, fmt, seconds)
        drawn.append((text, fmt))
        return found

    monkeypatch.setattr(render, "_piped", recorded)
    svg = render.diagram_render(dot=dot, fmt="svg")
    assert drawn == [(forced, "svg")]  # the layered try was stopped before it drew anything
    assert svg.startswith(b"<?xml") and b'class="cluster"' in svg  # fdp keeps the team clusters
    png = render.diagram_render(dot=dot, fmt="png")
    assert png.startswith(b"\x89PNG") and drawn == [(forced, "svg"), (forced, "png")]


def test_an_unchanged_manifest_posted_again_leaves_the_stamp_alone(demo):
    from core.actors import actor_for_cli
    from topology.models import Service
    from topology.registration import registration_apply
    from topology.selectors import service_spec_of
    from topology.graph_selectors import topology_stamps

    before = topology_stamps()
    spec = service_spec_of(service=Service.objects.get(name="orders"))
    assert registration_apply(specs=[spec], actor=actor_for_cli())["services"][0]["result"] == "unchanged"
    assert topology_stamps() == before
    registration_apply(specs=[service_spec_of(service=Service.objects.get(name="orders"), title="Orders!")],
                       actor=actor_for_cli())
    assert topology_stamps().registry != before.registry


def test_it_answers_an_unchanged_drawing_with_304(admin):
    first = admin.get("/api/v1/topology/?format=svg")
    etag = first["ETag"]
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache" and etag.startswith('"')
    again = admin.get("/api/v1/topology/?format=svg", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert admin.get("/api/v1/topology/?format=png", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert admin.get("/api/v1/topology/?format=svg&focus=orders", HTTP_IF_NONE_MATCH=etag).status_code == 200
    from topology.models import Service

    Service.objects.filter(name="orders").update(title="Orders, renamed")
    Service.objects.get(name="orders").save()  # bumps updated_at: the registry moved
    changed = admin.get("/api/v1/topology/?format=svg", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_it_serves_a_drawing_it_keeps_in_memory_without_the_shared_cache_or_graphviz(admin, request):
    from django.core.cache import caches

    from topology import render

    first = admin.get("/api/v1/topology/?format=svg")
    caches["diagrams"].clear()
    request.getfixturevalue("no_graphviz")
    assert admin.get("/api/v1/topology/?format=svg").content == first.content
    render.recent.clear()
    response = admin.get("/api/v1/topology/?format=svg")
    assert response.status_code == 503 and "Graphviz is not installed" in response.json()["detail"]
    assert admin.get("/api/v1/topology/?format=png").status_code == 503


def test_it_keeps_in_memory_only_as_many_bytes_as_it_may():
    from topology.render import Recent

    kept = Recent(10)
    kept.put("a", b"1234")
    kept.put("b", b"5678")
    assert kept.get("a") == b"1234"  # now the most recently used
    kept.put("c", b"90ab")
    assert kept.get("b") is None and kept.get("a") == b"1234" and kept.get("c") == b"90ab" and kept.size == 8
    kept.put("huge", b"x" * 11)
    assert kept.get("huge") is None and kept.size == 8
    kept.put("a", b"1")
    assert kept.size == 5


def unwell(outcomes) -> None:
    """Probe states on the first registered services, one outcome each."""
    from django.utils import timezone

    from topology.models import Service
    from probes.models import Probe, ProbeStatus

    services = Service.objects.filter(team__isnull=False).order_by("name")[:len(outcomes)]
    for service, outcome in zip(services, outcomes):
        probe = Probe.objects.create(service=service, name="port", kind="tcp", target="127.0.0.1:9", interval=30,
                                     timeout=5, locations=["default"], next_due_at=timezone.now())
        ProbeStatus.objects.create(probe=probe, location="default", outcome=outcome, since=timezone.now())
