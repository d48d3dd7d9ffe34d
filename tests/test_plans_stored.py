"""Named plans: saved with the interactions as they were, re-evaluated against the registry of now
(and told when they no longer apply), accepted into linked decision records, exported as Markdown."""
import json

import pytest

from decisions.models import Decision
from plans.models import Plan
from tests.conftest import member
from tests.factories import register, rest, service_doc
from topology.choices import TeamRole

URL = "/api/v1/plans/"
BODY = {"name": "decouple-b", "title": "Decouple b from a",
        "changes": [{"interaction": "b/y", "style": "pubsub", "channel": "b.events", "broker": "kafka"}]}


@pytest.fixture
def loop(team):
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]))


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_it_saves_lists_and_evaluates_a_plan(loop, ci):
    created = post(ci, URL, BODY)
    assert created.status_code == 201, created.json()
    assert created.json()["basis"]["b/y"]["style"] == "rest"
    assert [p["name"] for p in ci.get(URL).json()["results"]] == ["decouple-b"]
    stored = ci.get(f"{URL}decouple-b/evaluation/").json()
    assert stored["applies"] and stored["stale"] == []
    assert any("resolved" in line for line in stored["evaluation"]["better"])


def test_it_says_when_a_stored_plan_no_longer_applies(loop, ci):
    post(ci, URL, BODY)
    register(service_doc("b", interactions=[rest("y", "a", description="now with a description")]))
    changed = ci.get(f"{URL}decouple-b/evaluation/").json()
    assert changed["applies"] and changed["stale"] == []  # a description is not part of what the plan changes
    register(service_doc("b", interactions=[{"name": "y", "to": ["a"], "style": "grpc"}]))
    stale = ci.get(f"{URL}decouple-b/evaluation/").json()
    assert not stale["applies"] and stale["stale"] == ["b/y changed since the plan was made: style rest → grpc"]
    assert stale["evaluation"] is not None
    assert post(ci, f"{URL}decouple-b/accept/", {}).status_code == 409
    register(service_doc("b"))  # b/y removed
    gone = ci.get(f"{URL}decouple-b/evaluation/").json()
    assert gone["stale"] == ["b/y no longer exists"] and gone["evaluation"] is None


def test_it_accepts_a_plan_into_linked_proposed_decisions(loop, ci):
    body = {**BODY, "changes": [*BODY["changes"], {"interaction": "a/x", "style": "queue", "channel": "a.jobs",
                                                   "broker": "rabbitmq"}]}
    post(ci, URL, body)
    accepted = post(ci, f"{URL}decouple-b/accept/", {})
    assert accepted.status_code == 201, accepted.json()
    codes = accepted.json()["decisions"]
    assert len(codes) == 2 and Decision.objects.filter(status="proposed").count() == 2
    first = Decision.objects.get(number=1)
    assert "change plan decouple-b" in first.context and "a/x" in first.context
    assert "outbox" in first.justification and first.chosen_style == "pubsub"
    assert ci.get(f"{URL}decouple-b/").json()["decisions"] == codes
    assert post(ci, f"{URL}decouple-b/accept/", {}).status_code == 409  # once


def test_it_exports_a_plan_as_markdown_with_before_and_after_flowcharts(loop, ci):
    post(ci, URL, BODY)
    response = ci.get(f"{URL}decouple-b/markdown/")
    text = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert text.startswith("# Change plan: Decouple b from a (`decouple-b`)")
    assert text.count("```mermaid") == 2 and "## Migration steps" in text and "| `b/y` | rest | pubsub |" in text


@pytest.mark.parametrize("change, pointer", [
    ({"name": "Not A Slug"}, "/name"), ({"name": "evaluate"}, "/name"), ({"title": ""}, "/title"),
    ({"changes": [{"interaction": "b/nope", "style": "queue"}]}, None), ({"changes": "all"}, "/changes"),
])
def test_it_rejects_bad_plans_and_saves_nothing(loop, ci, change, pointer):
    response = post(ci, URL, {**BODY, **change})
    assert response.status_code == 422, response.json()
    if pointer:
        assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert not Plan.objects.exists()


def test_it_lets_only_maintainers_of_the_changed_interactions_save_and_remove(loop, ci, other_team, viewer, client):
    client.force_login(viewer)
    assert post(client, URL, BODY).status_code == 403
    client.force_login(member(other_team, "olga", TeamRole.MAINTAINER))
    assert post(client, URL, BODY).status_code == 403
    assert post(ci, URL, BODY).status_code == 201
    assert client.delete(f"{URL}decouple-b/").status_code == 403 and Plan.objects.exists()
    assert ci.delete(f"{URL}decouple-b/").status_code == 204 and not Plan.objects.exists()


def test_it_lists_plans_with_whether_they_apply_and_their_teams(loop, ci, django_assert_max_num_queries):
    post(ci, URL, BODY)
    post(ci, URL, {**BODY, "name": "call-a", "title": "Another",
                   "changes": [{"interaction": "a/x", "style": "grpc"}]})
    register(service_doc("a"))  # a/x removed: call-a no longer applies
    with django_assert_max_num_queries(12):  # the registry is read once for the page, not once a plan
        listed = {p["name"]: p for p in ci.get(URL).json()["results"]}
    assert listed["decouple-b"]["applies"] is True and listed["decouple-b"]["stale"] == []
    assert listed["call-a"]["applies"] is False and listed["call-a"]["stale"] == ["a/x no longer exists"]
    assert listed["decouple-b"]["teams"] == ["commerce"]
    one = ci.get(f"{URL}call-a/").json()
    assert one["applies"] is False and one["stale"] == listed["call-a"]["stale"]


def test_it_filters_plans_like_the_page_does(loop, ci):
    post(ci, URL, BODY)
    post(ci, URL, {**BODY, "name": "call-a", "title": "Another", "changes": [{"interaction": "a/x", "style": "grpc"}]})
    ci.post(f"{URL}call-a/accept/")
    assert [p["name"] for p in ci.get(URL, {"q": "decouple"}).json()["results"]] == ["decouple-b"]
    assert [p["name"] for p in ci.get(URL, {"status": "accepted"}).json()["results"]] == ["call-a"]
    assert [p["name"] for p in ci.get(URL, {"status": "open"}).json()["results"]] == ["decouple-b"]


def test_it_rejects_an_unknown_plan_status_filter(loop, ci):
    response = ci.get(URL, {"status": "maybe"})
    assert response.status_code == 400
    assert "status" in json.dumps(response.json())
