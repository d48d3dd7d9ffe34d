"""Topology, findings, flows and Mermaid diagrams over the API."""
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from topology.models import AuditEvent, Flow


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    cache.clear()


@pytest.fixture
def admin(demo):
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.get(username="admin"))
    return client


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
