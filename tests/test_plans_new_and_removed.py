"""Change plans that add new interactions or retire existing ones: the change format and its
errors, the what-if, the steps, saving, staleness, accepting and the Markdown export."""
import json

import pytest
from django.apps import apps

from decisions.models import Decision
from plans.changes import Change, changes_parse
from plans.models import Plan
from plans.steps import steps_for
from plans.whatif import topology_changed
from tests.factories import pubsub, register, rest, service_doc
from topology import graph

EVALUATE, PLANS = "/api/v1/plans/evaluate/", "/api/v1/plans/"
ASK_C = {"interaction": "a/ask-c", "add": True, "to": ["c"], "style": "rest"}


def counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("change, pointer", [
    ({"interaction": "a/new", "add": True}, "/changes/0/to"),
    ({"interaction": "a/new", "add": True, "to": []}, "/changes/0/to"),
    ({"interaction": "a/new", "add": True, "to": "c"}, "/changes/0/to"),
    ({"interaction": "a/new", "add": True, "to": ["c", "Not A Name"]}, "/changes/0/to/1"),
    ({"interaction": "a/new", "add": True, "to": ["c", "c"]}, "/changes/0/to/1"),
    ({"interaction": "a/x", "to": ["c"]}, "/changes/0/to"),
    ({"interaction": "a/new", "add": True, "remove": True, "to": ["c"]}, "/changes/0/add"),
    ({"interaction": "a/new", "add": "yes", "to": ["c"]}, "/changes/0/add"),
    ({"interaction": "a/New Thing", "add": True, "to": ["c"]}, "/changes/0/interaction"),
])
def test_it_rejects_malformed_new_interactions_with_a_pointer(change, pointer):
    changes, errors = changes_parse({"changes": [change]})
    assert changes == [] and pointer in [error["pointer"] for error in errors], errors


def test_it_reads_a_new_interaction():
    [change], errors = changes_parse({"changes": [{**ASK_C, "to": ["c", "d"]}]})
    assert errors == [] and change.add and change.targets == ("c", "d") and change.kind == "add"


LINE = graph.Topology(nodes={n: graph.Node(n, team="t") for n in ("a", "b", "c")}, links=[
    graph.Link("a", "b", "x", style="rest"), graph.Link("b", "c", "y", style="rest")])


def test_it_adds_and_removes_links_in_the_what_if():
    new = Change("c", "ask-a", style="rest", add=True, targets=("a", "z"))
    after = topology_changed(LINE, [new, Change("a", "x", remove=True)])
    assert [(l.source, l.target, l.interaction) for l in after.links] == [("b", "c", "y"), ("c", "a", "ask-a"),
                                                                          ("c", "z", "ask-a")]
    assert after.nodes["z"].placeholder and "z" not in LINE.nodes  # the topology it was given is untouched
    assert graph.sync_cycles(after) == [] and graph.sync_cycles(topology_changed(LINE, [new])) != []


def test_it_says_what_to_build_for_a_new_interaction():
    steps = steps_for(Change("a", "order-shipped", style="pubsub", channel="orders.shipped", broker="kafka", add=True,
                             targets=("b", "c")), before_style="", targets=["b", "c"])
    text = " ".join(s["step"] for s in steps)
    assert "orders.shipped on kafka" in steps[0]["step"] and steps[0]["cites"] == "§4.8"
    assert "outbox" in text and "idempotent" in text and "manifest" in steps[-1]["step"]
    assert {"§4.10", "§4.6", "§4.9", "§4.7"} <= {s["cites"] for s in steps}
    call = steps_for(Change("a", "ask", style="grpc", add=True, targets=("b",)), before_style="", targets=["b"])
    assert "Protocol Buffers" in call[0]["step"] and call[0]["cites"] == "§3.3"
    assert any("circuit breaker" in s["step"] and s["cites"] == "§3.5" for s in call)


def test_it_says_how_to_retire_a_call_and_a_subscription():
    call = steps_for(Change("a", "x", remove=True), before_style="rest", targets=["b"])
    assert any("fall to zero" in s["step"] for s in call) and any(s["cites"] == "§3.5" for s in call)
    topic = steps_for(Change("a", "x", remove=True), before_style="pubsub", targets=["b", "c"])
    assert topic[0]["cites"] == "§4.3" and "other publishers and subscribers" in topic[0]["step"]
    assert any("drain" in s["step"] and s["cites"] == "§4.6" for s in topic)
    assert any("lag reach zero" in s["step"] for s in topic)
    queue = steps_for(Change("a", "x", remove=True), before_style="queue", targets=["b"])
    assert queue[0]["cites"] == "§4.4"


@pytest.fixture
def loop(team):
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]),
             service_doc("c", interactions=[rest("z", "b"), pubsub("news", "c.news", "a", "b")]))


def test_it_evaluates_a_new_interaction_and_stores_nothing(loop, ci):
    before = counts()
    response = post(ci, EVALUATE, {"changes": [ASK_C]})
    assert response.status_code == 200, response.json()
    result = response.json()
    [item] = result["changes"]
    assert item["kind"] == "add" and item["before"] is None and item["after"]["style"] == "rest"
    assert item["targets"] == ["c"] and "Write an OpenAPI description" in item["steps"][0]["step"]
    assert "blast radius of c: 0 services fail with it → 2" in result["worse"]  # a and b now wait on c
    assert counts() == before


def test_it_evaluates_a_removed_subscription(loop, ci):
    result = post(ci, EVALUATE, {"changes": [{"interaction": "c/news", "remove": True}]}).json()
    [item] = result["changes"]
    assert item["kind"] == "remove" and item["after"] is None and item["steps"][0]["cites"] == "§4.3"


@pytest.mark.parametrize("change, error", [
    ({**ASK_C, "interaction": "b/y"}, {"pointer": "/changes/0/interaction",
                                       "message": "b/y exists already: change it (or remove it) instead of adding it"}),
    ({**ASK_C, "to": ["c", "nobody"]}, {"pointer": "/changes/0/to/1", "message": "no service nobody"}),
    ({**ASK_C, "interaction": "nobody/ask"}, {"pointer": "/changes/0/interaction",
                                              "message": "no registered service nobody"}),
])
def test_it_rejects_a_new_interaction_that_cannot_be_added(loop, ci, change, error):
    before = counts()
    for url, body in ((EVALUATE, {"changes": [change]}), (PLANS, {"name": "p", "title": "P", "changes": [change]})):
        response = post(ci, url, body)
        assert response.status_code == 422 and error in response.json()["errors"], (url, response.json())
    assert counts() == before


def test_it_saves_accepts_and_exports_a_plan_with_a_new_and_a_removed_interaction(loop, ci):
    body = {"name": "reshape", "title": "Reshape a", "changes": [ASK_C, {"interaction": "a/x", "remove": True}]}
    assert post(ci, PLANS, body).status_code == 201
    assert Plan.objects.get().basis == {"a/x": {"style": "rest", "channel": "", "broker": "", "criteria": {}}}
    stored = ci.get(f"{PLANS}reshape/evaluation/").json()
    assert stored["applies"] and stored["evaluation"]["changes"][0]["before"] is None
    text = ci.get(f"{PLANS}reshape/markdown/").content.decode()
    assert "| `a/ask-c` | new | rest |" in text and "| `a/x` | rest | removed |" in text
    assert "New interactions: `a/ask-c` to `c`" in text
    accepted = post(ci, f"{PLANS}reshape/accept/", {})
    assert accepted.status_code == 201, accepted.json()
    new, removed = Decision.objects.filter(plans__name="reshape").order_by("number")
    assert [new.code, removed.code] == accepted.json()["decisions"]
    assert new.title == "Reshape a: a/ask-c → new, rest" and new.chosen_style == "rest"
    assert not new.interactions.exists() and new.team.slug == "commerce" and "once it is registered" in new.context
    assert removed.title == "Reshape a: a/x → removed" and [str(i) for i in removed.interactions.all()] != []
    assert "fall to zero" in removed.justification


def test_it_says_a_new_interaction_no_longer_applies_once_it_exists(loop, ci):
    assert post(ci, PLANS, {"name": "reshape", "title": "Reshape a", "changes": [ASK_C]}).status_code == 201
    register(service_doc("a", interactions=[rest("x", "b"), rest("ask-c", "c")]))
    stored = ci.get(f"{PLANS}reshape/evaluation/").json()
    assert not stored["applies"] and stored["evaluation"] is None
    assert stored["stale"] == ["a/ask-c exists now: it was added to the registry since the plan was made"]
    assert post(ci, f"{PLANS}reshape/accept/", {}).status_code == 409
