"""Stored recommendations, fail_on, the what-if endpoint, custom rules and re-evaluation."""
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from decisions.choices import DecisionKind, DecisionStatus
from decisions.models import CustomRule, Decision, EvaluationRun
from decisions.recommendations import evaluation_run_if_stale, recommendations_refresh, ruleset_current
from topology.models import AuditEvent, Interaction, Service

from .factories import as_yaml, pubsub, rest, service_doc

NOTIFY = rest("order-cancelled", "shipping", "invoicing",
              criteria={"can_defer": True, "operation": "notification", "eventual_consistency_ok": True})
PRICES = rest("read-prices", "pricing",
              criteria={"needs_immediate_response": True, "operation": "read", "external_clients": True})


@pytest.fixture
def staff_api(staff):
    """An API client signed in as a staff user, without the demo (unlike conftest's `admin`)."""
    client = APIClient()
    client.force_login(staff)
    return client


def register(client, *docs, query=""):
    return client.post("/api/v1/registrations/" + query, data=as_yaml(*docs), content_type="application/yaml")


def test_it_stores_a_recommendation_for_every_registered_interaction(ci):
    report = register(ci, service_doc("orders", interactions=[NOTIFY, PRICES])).json()
    summaries = {i["name"]: i["recommendation"] for i in report["services"][0]["interactions"]}
    assert summaries["order-cancelled"]["pattern"] == "pub-sub"
    assert summaries["order-cancelled"]["mismatch"]["severity"] in ("warning", "error")
    assert summaries["read-prices"]["mismatch"] is None
    stored = Interaction.objects.get(name="order-cancelled")
    assert stored.recommended_pattern == "pub-sub" and stored.mismatch in ("warning", "error")
    assert stored.ruleset_version == ruleset_current().version
    assert "tradeoffs" not in stored.recommendation  # derived again when read


def test_it_shows_the_full_recommendation_in_the_interactions_api(ci):
    register(ci, service_doc("orders", interactions=[NOTIFY]))
    item = ci.get("/api/v1/interactions/?service=orders").json()["results"][0]
    recommendation = item["recommendation"]
    assert recommendation["pattern"] == "pub-sub" and recommendation["tradeoffs"]
    assert all(reason["cites"].startswith("§") for reason in recommendation["reasons"])
    assert item["deliberate_deviation"] is None


@pytest.mark.parametrize("threshold", ["warning", "error"])
def test_it_fails_a_registration_on_mismatch_and_writes_nothing(ci, threshold):
    strong = rest("order-cancelled", "shipping", "invoicing", criteria={
        "can_defer": True, "operation": "notification", "eventual_consistency_ok": True,
        "requires_decoupling": True, "needs_immediate_response": False})
    response = register(ci, service_doc("orders", interactions=[PRICES, strong]), query=f"?fail_on={threshold}")
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["offending"] == [{
        "pointer": "/0/spec/interactions/1", "service": "orders", "interaction": "order-cancelled",
        "severity": "error", "reason": body["offending"][0]["reason"]}]
    assert "nothing was written" in body["detail"]
    assert Service.objects.count() == 0 and AuditEvent.objects.filter(object_type="service").count() == 0


def test_it_fails_a_dry_run_too(ci):
    response = register(ci, service_doc("orders", interactions=[NOTIFY]), query="?dry_run=true&fail_on=warning")
    assert response.status_code == 422


def test_it_passes_fail_on_below_the_threshold(ci):
    weak = rest("maybe-later", "b", criteria={"can_defer": True})
    report = register(ci, service_doc("orders", interactions=[weak]), query="?fail_on=error")
    assert report.status_code == 201
    assert report.json()["services"][0]["interactions"][0]["recommendation"]["mismatch"]["severity"] != "error"


def test_it_excepts_an_accepted_override_from_fail_on(ci, team):
    register(ci, service_doc("orders", interactions=[NOTIFY]))
    decision = Decision.objects.create(number=1, title="Keep REST", status=DecisionStatus.ACCEPTED,
                                       kind=DecisionKind.OVERRIDE, chosen_style="rest", team=team)
    decision.interactions.add(Interaction.objects.get(name="order-cancelled"))
    assert register(ci, service_doc("orders", interactions=[NOTIFY]), query="?fail_on=warning").status_code == 200
    assert ci.get("/api/v1/interactions/").json()["results"][0]["deliberate_deviation"] == "ADR-0001"
    decision.status = DecisionStatus.PROPOSED
    decision.save()
    assert register(ci, service_doc("orders", interactions=[NOTIFY]), query="?fail_on=warning").status_code == 422


def test_it_rejects_an_unknown_fail_on(ci):
    response = register(ci, service_doc("orders"), query="?fail_on=panic")
    assert response.status_code == 400 and "fail_on" in response.json()


def test_it_evaluates_what_if_without_storing(ci):
    before = Interaction.objects.count()
    response = ci.post("/api/v1/recommendations/evaluate/", {
        "criteria": {"needs_immediate_response": True, "latency_budget_ms": 20, "external_clients": False},
        "targets": ["pricing"], "declared_style": "rest", "source": "orders"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["style"], body["protocol"]) == ("sync", "grpc")
    assert body["mismatch"]["severity"] == "info"
    assert any("orders" in r["text"] for r in body["reasons"])
    assert Interaction.objects.count() == before


@pytest.mark.parametrize("payload,field", [
    ({"criteria": {"colour": "red"}}, "criteria"),
    ({"criteria": {"can_defer": "yes"}}, "criteria"),
    ({"targets": 0}, "targets"),
    ({"targets": ["Bad Name"]}, "targets"),
    ({"declared_style": "carrier-pigeon"}, "declared_style"),
])
def test_it_rejects_bad_what_if_input_naming_the_field(ci, payload, field):
    response = ci.post("/api/v1/recommendations/evaluate/", payload, format="json")
    assert response.status_code == 400 and field in response.json()


def test_it_requires_authentication_for_what_if(db):
    assert APIClient().post("/api/v1/recommendations/evaluate/", {}, format="json").status_code == 401


RULE = {"slug": "pci-stays-sync", "title": "Payment calls stay synchronous", "decides": "pattern",
        "condition": 'operation == "notification" and targets > 1', "effects": {"request-response": 20},
        "cites": "§5.1", "explanation": "House rule: {source} keeps calling {targets} directly.", "enabled": True}


def test_it_previews_a_custom_rule_without_saving(staff_api, ci):
    register(ci, service_doc("orders", interactions=[NOTIFY, PRICES]))
    response = staff_api.post("/api/v1/rules/preview/", RULE, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["changed"] == 1
    change = body["changes"][0]
    assert change["interaction"] == "orders/order-cancelled"
    assert (change["before"]["pattern"], change["after"]["pattern"]) == ("pub-sub", "request-response")
    assert CustomRule.objects.count() == 0


def test_it_saves_a_custom_rule_and_reevaluates_every_interaction(staff_api, ci, django_capture_on_commit_callbacks):
    register(ci, service_doc("orders", interactions=[NOTIFY, PRICES]))
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post("/api/v1/rules/", RULE, format="json")
    assert response.status_code == 201, response.json()
    assert len(callbacks) == 1  # the re-evaluation task is queued after commit
    run = EvaluationRun.objects.get(pk=response.json()["evaluation"])
    run = recommendations_refresh(run_id=run.id)
    assert (run.status, run.total, run.done, run.changed) == ("done", 2, 2, 1)
    item = Interaction.objects.get(name="order-cancelled")
    assert item.recommended_pattern == "request-response" and item.ruleset_version == ruleset_current().version
    assert item.recommendation["reasons"][0]["text"] == "House rule: orders keeps calling shipping and invoicing directly."
    assert recommendations_refresh(run_id=run.id).done == 2  # a redelivered task changes nothing
    assert AuditEvent.objects.filter(object_type="rule", object_key="pci-stays-sync", action="create").exists()
    assert staff_api.get(f"/api/v1/evaluations/{run.id}/").json()["percent"] == 100


@pytest.mark.parametrize("condition,position", [('operation == and', 13), ("colour == 1", 0)])
def test_it_rejects_an_invalid_condition_with_its_position(staff_api, condition, position):
    response = staff_api.post("/api/v1/rules/", {**RULE, "condition": condition}, format="json")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["pointer"] == "/condition" and error["position"] == position
    assert CustomRule.objects.count() == 0


def test_it_rejects_an_effect_on_an_unknown_option(staff_api):
    response = staff_api.post("/api/v1/rules/", {**RULE, "effects": {"kafka": 2}}, format="json")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/effects"


def test_it_lets_only_administrators_change_rules(ci, maintainer):
    client = APIClient()
    client.force_login(maintainer)
    assert client.post("/api/v1/rules/", RULE, format="json").status_code == 403
    assert ci.post("/api/v1/rules/", RULE, format="json").status_code == 403
    assert client.get("/api/v1/rules/").status_code == 200
    assert client.get("/api/v1/rules/builtin/").json()["rules"]


def test_it_updates_and_deletes_a_rule_with_reevaluation(staff_api):
    staff_api.post("/api/v1/rules/", RULE, format="json")
    response = staff_api.patch("/api/v1/rules/pci-stays-sync/", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert staff_api.delete("/api/v1/rules/pci-stays-sync/").status_code == 204
    assert EvaluationRun.objects.count() == 3


def test_it_refreshes_interactions_left_on_an_older_ruleset(ci):
    register(ci, service_doc("orders", interactions=[NOTIFY, PRICES]))
    Interaction.objects.update(ruleset_version="b0", recommendation={}, mismatch="")
    run = evaluation_run_if_stale(reason="test")
    assert run is not None and evaluation_run_if_stale(reason="again") is None  # one at a time
    recommendations_refresh(run_id=run.id)
    assert not Interaction.objects.exclude(ruleset_version=ruleset_current().version).exists()
    assert Interaction.objects.get(name="order-cancelled").mismatch in ("warning", "error")
    assert evaluation_run_if_stale(reason="done") is None


def test_it_refreshes_stale_interactions_when_reregistered_unchanged(ci):
    register(ci, service_doc("orders", interactions=[NOTIFY]))
    Interaction.objects.update(ruleset_version="b0", recommendation={})
    report = register(ci, service_doc("orders", interactions=[NOTIFY])).json()
    assert report["summary"]["interactions"]["unchanged"] == 1
    assert Interaction.objects.get().ruleset_version == ruleset_current().version


def test_it_refreshes_from_the_command_line(ci):
    register(ci, service_doc("orders", interactions=[NOTIFY]))
    Interaction.objects.update(ruleset_version="b0")
    out = StringIO()
    call_command("refresh_recommendations", stdout=out)
    assert "1 interactions re-evaluated" in out.getvalue()


def test_it_keeps_interaction_list_queries_constant_with_overrides(ci, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert ci.get("/api/v1/interactions/").status_code == 200
        return len(captured)

    register(ci, service_doc("orders", interactions=[NOTIFY]))
    ci.get("/api/v1/interactions/")
    small = count()
    register(ci, *[service_doc(f"s{i}", interactions=[pubsub("e", "t", "x", "y"), NOTIFY]) for i in range(20)])
    decision = Decision.objects.create(number=1, title="x", status=DecisionStatus.ACCEPTED, kind=DecisionKind.OVERRIDE)
    decision.interactions.set(Interaction.objects.all())
    assert count() == small
