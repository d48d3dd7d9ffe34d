"""Change plans, first part: evaluating proposed changes on the whole system without storing them —
findings before and after, what got better and worse, new recommendations and migration steps."""
import json

import pytest
from django.apps import apps

from plans.changes import changes_parse
from plans.steps import steps_for
from plans.whatif import blast_compared, findings_compared, topology_changed
from tests.factories import register, rest, service_doc
from topology import graph

URL = "/api/v1/plans/evaluate/"


def counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.parametrize("body, pointer", [
    ({}, "/changes"),
    ({"changes": []}, "/changes"),
    ({"changes": [{"interaction": "orders"}]}, "/changes/0/interaction"),
    ({"changes": [{"interaction": "orders/pay", "style": "carrier-pigeon"}]}, "/changes/0/style"),
    ({"changes": [{"interaction": "orders/pay", "broker": "kafkaesque"}]}, "/changes/0/broker"),
    ({"changes": [{"interaction": "orders/pay", "criteria": {"can_defer": "maybe"}}]}, "/changes/0/criteria/can_defer"),
    ({"changes": [{"interaction": "orders/pay", "criteria": {"mood": 1}}]}, "/changes/0/criteria/mood"),
    ({"changes": [{"interaction": "orders/pay", "colour": "red"}]}, "/changes/0/colour"),
    ({"changes": [{"interaction": "orders/pay"}, {"interaction": "orders/pay"}]}, "/changes"),
])
def test_it_rejects_malformed_changes_with_a_pointer(body, pointer):
    changes, errors = changes_parse(body)
    assert changes == [] and pointer in [error["pointer"] for error in errors], errors


LOOP = graph.Topology(nodes={n: graph.Node(n, team="t") for n in ("a", "b", "c", "d")}, links=[
    graph.Link("a", "b", "x", style="rest"), graph.Link("b", "a", "y", style="rest"),
    graph.Link("c", "b", "z", style="rest"), graph.Link("d", "c", "w", style="rest")])


def test_it_applies_changes_and_names_what_got_better():
    [change], _ = changes_parse({"changes": [{"interaction": "b/y", "style": "pubsub", "channel": "b.events",
                                              "broker": "kafka"}]})
    after = topology_changed(LOOP, [change])
    moved = next(link for link in after.links if link.interaction == "y")
    assert (moved.style, moved.channel, moved.broker) == ("pubsub", "b.events", "kafka")
    better, worse = findings_compared(graph.findings(LOOP), graph.findings(after))
    assert any(line.startswith("resolved: a → b → a") for line in better), better
    blast_better, blast_worse, radii = blast_compared(LOOP, after, {"a", "b"})
    assert radii["a"] == {"before": 3, "after": 0} and "blast radius of a: 3 services fail with it → 0" in blast_better
    assert radii["b"] == {"before": 3, "after": 3} and blast_worse == []


def test_it_gives_ordered_migration_steps_tied_to_the_document():
    [change], _ = changes_parse({"changes": [{"interaction": "orders/pay", "style": "queue", "channel": "payments",
                                              "broker": "rabbitmq"}]})
    steps = steps_for(change, before_style="rest", targets=["payment"])
    assert [s["order"] for s in steps] == list(range(1, len(steps) + 1))
    assert "outbox" in steps[1]["step"] and steps[1]["cites"] == "§4.10"
    assert steps[-1]["cites"] == "§4.7" and "consumer lag" in steps[-1]["step"]
    back = steps_for(change.__class__("orders", "pay", style="rest"), before_style="queue", targets=["payment"])
    assert "timeout" in back[0]["step"] and any("circuit breaker" in s["step"] for s in back)


@pytest.fixture
def loop(team):
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]),
             service_doc("c", interactions=[rest("z", "b")]))


def test_it_evaluates_a_plan_through_the_api_and_stores_nothing(loop, ci):
    before = counts()
    body = {"changes": [{"interaction": "b/y", "style": "pubsub", "channel": "b.events", "broker": "kafka",
                         "criteria": {"operation": "notification", "can_defer": True}}]}
    response = ci.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert any(f["kind"] == "sync-cycle" for f in result["before"]["findings"])
    assert not any(f["kind"] == "sync-cycle" for f in result["after"]["findings"])
    assert any("resolved" in line and "a → b → a" in line for line in result["better"])
    assert "new: b depends on the kafka broker (§4.8)" in result["worse"]
    [change] = result["changes"]
    assert change["before"]["style"] == "rest" and change["after"]["style"] == "pubsub"
    assert change["after"]["recommended"] == "pub-sub" and change["after"]["mismatch"] == ""
    assert result["steps"][0]["interaction"] == "b/y" and len(result["steps"][0]["steps"]) == 6
    assert counts() == before


def test_it_rejects_a_plan_naming_an_unknown_interaction(loop, ci):
    response = ci.post(URL, json.dumps({"changes": [{"interaction": "b/y"}, {"interaction": "b/nope"}]}),
                       content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"pointer": "/changes/1/interaction", "message": "no interaction b/nope"}]


def test_it_removes_an_interaction_in_a_plan(loop, ci):
    response = ci.post(URL, json.dumps({"changes": [{"interaction": "a/x", "remove": True}]}),
                       content_type="application/json")
    result = response.json()
    assert response.status_code == 200 and result["changes"][0]["after"] is None
    assert any("resolved" in line for line in result["better"])


def test_it_refuses_anonymous_callers(loop, client):
    assert client.post(URL, "{}", content_type="application/json").status_code in (401, 403)


def test_it_evaluates_a_plan_on_the_page(loop, client, maintainer):
    client.force_login(maintainer)
    page = client.get("/plans/?interaction=b/y")
    assert page.status_code == 200 and b'<option value="b/y" selected>' in page.content
    before = counts()
    response = client.post("/plans/", {"interaction_0": "b/y", "style_0": "pubsub", "channel_0": "b.events",
                                       "broker_0": "kafka"})
    html = response.content.decode()
    assert response.status_code == 200 and "resolved: a → b → a" in html and "outbox" in html
    assert "new: b depends on the kafka broker (§4.8)" in html
    refused = client.post("/plans/", {"interaction_0": ""})
    assert refused.status_code == 422 and "/changes" in refused.content.decode()
    assert counts() == before
