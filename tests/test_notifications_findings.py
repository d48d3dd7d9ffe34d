"""finding.new and decision.changed: a registration, an import or a decision that makes the
architecture worse is announced once, to the channels of the teams concerned that want it."""
import json

import pytest

from core.actors import actor_for_cli
from decisions.services import decision_create, decision_update
from notifications import events as outbox
from notifications.models import Event, KnownFinding
from tests.factories import pubsub, register, rest, service_doc
from tests.notification_helpers import webhook

FINDINGS = ("finding.new",)
MISMATCHED = rest("order-cancelled", "shipping", "invoicing", criteria={
    "can_defer": True, "operation": "notification", "eventual_consistency_ok": True, "requires_decoupling": True,
    "needs_immediate_response": False})


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(outbox, "deliveries_queue", lambda *, delivery_ids: None)


def findings_announced():
    return [(e.payload["finding"]["kind"], tuple(e.payload["finding"]["services"]))
            for e in Event.objects.filter(type="finding.new").order_by("occurred_at", "summary")]


def test_it_announces_a_new_sync_cycle_to_the_teams_concerned(team, other_team):
    mine = webhook(team, "http://127.0.0.1:9/a", events=FINDINGS)
    theirs = webhook(other_team, "http://127.0.0.1:9/b", events=FINDINGS)
    register(service_doc("orders", interactions=[rest("pay", "payment")]),
             service_doc("payment", interactions=[rest("check", "fraud")]))
    assert findings_announced() == []
    register(service_doc("fraud", interactions=[rest("settle", "orders")]))
    [event] = Event.objects.filter(type="finding.new")
    assert event.payload["finding"]["kind"] == "sync-cycle" and event.payload["finding"]["severity"] == "error"
    assert event.payload["finding"]["cites"] == "§3.5" and set(event.payload["finding"]["services"]) == {
        "orders", "payment", "fraud"}
    assert event.teams == ["commerce"] and event.payload["url"].endswith("/topology/?focus=fraud")
    assert list(event.deliveries.values_list("channel_id", flat=True)) == [mine.pk]
    assert theirs.deliveries.count() == 0


def test_it_announces_a_finding_once(team):
    webhook(team, "http://127.0.0.1:9/a", events=FINDINGS)
    cycle = [service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")])]
    register(*cycle)
    register(*cycle)
    register(service_doc("c", title="unrelated"))
    assert findings_announced() == [("sync-cycle", ("a", "b"))]


def test_it_takes_the_findings_present_when_the_first_channel_is_added_as_the_baseline(team):
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]))
    webhook(team, "http://127.0.0.1:9/a", events=FINDINGS)
    register(service_doc("c", title="unrelated"))
    assert findings_announced() == [] and KnownFinding.objects.filter(kind="sync-cycle").exists()


def test_it_sends_sync_chains_only_when_deeper_than_the_channel_says(team):
    deep = webhook(team, "http://127.0.0.1:9/a", name="deep", events=FINDINGS, chain_depth=4, min_severity="info")
    any_chain = webhook(team, "http://127.0.0.1:9/b", name="any", events=FINDINGS, chain_depth=2, min_severity="info")
    register(*[service_doc(f"s{n}", interactions=[rest("next", f"s{n + 1}")]) for n in range(3)])  # 3 hops
    chains = Event.objects.filter(type="finding.new", payload__finding__kind="sync-chain")
    assert [e.payload["finding"]["value"] for e in chains] == [3]
    assert list(chains.get().deliveries.values_list("channel_id", flat=True)) == [any_chain.pk]
    register(*[service_doc(f"s{n}", interactions=[rest("next", f"s{n + 1}")]) for n in range(3, 5)])  # 5 hops
    deepest = Event.objects.filter(type="finding.new", payload__finding__kind="sync-chain",
                                   payload__finding__value=5).get()
    assert set(deepest.deliveries.values_list("channel_id", flat=True)) == {deep.pk, any_chain.pk}


def test_it_announces_a_new_mismatch_at_or_above_the_channel_severity(team):
    warn = webhook(team, "http://127.0.0.1:9/a", name="warn", events=FINDINGS, min_severity="warning")
    errors_only = webhook(team, "http://127.0.0.1:9/b", name="errors", events=FINDINGS, min_severity="error")
    register(service_doc("orders", interactions=[MISMATCHED]))
    event = Event.objects.get(type="finding.new", payload__finding__kind="mismatch")
    assert "orders/order-cancelled is declared rest" in event.summary and event.payload["finding"]["severity"] == "error"
    assert event.payload["finding"]["interaction"] == "orders/order-cancelled"
    assert event.payload["url"].endswith("/services/orders/interactions/order-cancelled/")
    assert set(event.deliveries.values_list("channel_id", flat=True)) == {warn.pk, errors_only.pk}


def test_it_leaves_a_mismatch_below_the_channel_severity_out(team):
    channel = webhook(team, "http://127.0.0.1:9/b", name="errors", events=FINDINGS, min_severity="error")
    register(service_doc("orders", interactions=[rest("maybe-later", "b", criteria={"can_defer": True})]))
    event = Event.objects.get(type="finding.new", payload__finding__kind="mismatch")
    assert event.payload["finding"]["severity"] != "error" and not channel.deliveries.exists()


def test_it_announces_new_drift_from_a_dependency_import(team, admin):
    register(service_doc("orders", interactions=[rest("pay", "payment")]), service_doc("payment"))
    webhook(team, "http://127.0.0.1:9/a", events=FINDINGS, min_severity="info")
    export = [{"parent": "orders", "child": "payment", "callCount": 10},
              {"parent": "orders", "child": "ledger", "callCount": 35}]
    response = admin.post("/api/v1/imports/dependencies/", json.dumps(export), content_type="application/json")
    assert response.status_code == 201, response.json()
    kinds = [kind for kind, services in findings_announced() if services[:2] == ("orders", "ledger")]
    assert kinds == ["undeclared-link"]


def test_it_skips_the_scan_when_no_channel_wants_findings(team, django_assert_max_num_queries):
    webhook(team, "http://127.0.0.1:9/a")  # probe events only
    with django_assert_max_num_queries(2):
        outbox.findings_scan()
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]))
    assert findings_announced() == [] and not KnownFinding.objects.exists()


def test_it_announces_decision_changes(team):
    channel = webhook(team, "http://127.0.0.1:9/a", events=["decision.changed"])
    decision = decision_create(actor=actor_for_cli(), title="Publish order events", team=team)
    decision_update(actor=actor_for_cli(), decision=decision, status="accepted")
    created, accepted = Event.objects.filter(type="decision.changed").order_by("occurred_at")
    assert created.payload["decision"]["change"] == "created" and created.payload["decision"]["code"] == "ADR-0001"
    assert accepted.payload["decision"]["changes"]["status"] == ["proposed", "accepted"]
    assert accepted.summary == "ADR-0001 updated: Publish order events (accepted)"
    assert accepted.payload["url"].endswith("/decisions/1/")
    assert accepted.deliveries.get().channel_id == channel.pk


def test_it_writes_no_event_when_the_change_is_rolled_back(team):
    webhook(team, "http://127.0.0.1:9/a", events=["decision.changed"])
    with pytest.raises(Exception):
        decision_create(actor=actor_for_cli(), title="", team=team)  # invalid: refused, nothing written
    assert not Event.objects.exists()


def test_it_announces_the_decision_a_new_one_supersedes(team):
    webhook(team, "http://127.0.0.1:9/a", events=["decision.changed"])
    old = decision_create(actor=actor_for_cli(), title="Call payment over REST", team=team, status="accepted")
    decision_create(actor=actor_for_cli(), title="Publish payment requests", team=team, supersedes=old)
    changes = [(e.payload["decision"]["code"], e.payload["decision"]["change"], e.payload["decision"]["status"])
               for e in Event.objects.order_by("occurred_at")]
    assert ("ADR-0001", "superseded", "superseded") in changes and ("ADR-0002", "created", "proposed") in changes
