"""The plan pages: the form with new interactions and removals, evaluated and drawn; saving without
accepting; the list of saved plans with filters; a saved plan's page against the registry of now,
with its actions checked as plans.services checks them."""
from html import unescape

import pytest
from django.apps import apps

from decisions.models import Decision
from plans.models import Plan
from plans.services import plan_save
from tests.conftest import member
from tests.factories import register, rest, service_doc
from topology.choices import TeamRole
from core.actors import actor_for_cli

FORM = {"interaction_0": "b/y", "style_0": "pubsub", "channel_0": "b.events", "broker_0": "kafka"}


def counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture
def loop(team):
    register(service_doc("a", interactions=[rest("x", "b")]), service_doc("b", interactions=[rest("y", "a")]),
             service_doc("c", interactions=[rest("z", "b")]))


def saved(name="decouple-b", title="Decouple b", changes=None):
    return plan_save(actor=actor_for_cli(), name=name, title=title,
                     body={"changes": changes or [{"interaction": "b/y", "style": "pubsub", "channel": "b.events"}]})


def test_it_evaluates_and_draws_a_plan_with_a_new_and_a_removed_interaction(loop, client, maintainer):
    client.force_login(maintainer)
    before = counts()
    response = client.post("/plans/", {**FORM, "interaction_1": "c/z", "remove_1": "on", "new_source_0": "a",
                                       "new_name_0": "ask-c", "new_to_0": "c", "new_style_0": "grpc"})
    html = unescape(response.content.decode())  # Graphviz writes "-" as &#45;
    assert response.status_code == 200, html
    assert 'class="plan-drawing"><svg' in html and "rest → pubsub" in html
    assert "removed: z" in html and "new: ask-c" in html and "What to build" in html and "How to retire it" in html
    assert "Protocol Buffers" in html and counts() == before


def test_it_names_the_form_row_of_an_error(loop, client, maintainer):
    client.force_login(maintainer)
    response = client.post("/plans/", {**FORM, "new_source_0": "a", "new_name_0": "x", "new_to_0": "c"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "New interaction 1: <code>/changes/1/interaction</code>: a/x exists already" in html


def test_it_saves_a_plan_without_accepting_it(loop, client, maintainer):
    client.force_login(maintainer)
    response = client.post("/plans/save/", {**FORM, "name": "decouple-b", "title": "Decouple b"})
    assert response.status_code == 302 and response["Location"] == "/plans/decouple-b/"
    plan = Plan.objects.get()
    assert plan.accepted_at is None and not Decision.objects.exists() and plan.created_by == maintainer.username
    refused = client.post("/plans/save/", {**FORM, "name": "decouple-b", "title": "Again"})
    assert refused.status_code == 422 and "a plan named decouple-b exists" in refused.content.decode()


def test_it_lists_saved_plans_with_whether_they_apply_and_filters(loop, client, viewer):
    saved()
    saved("retire-z", "Retire z", [{"interaction": "c/z", "remove": True}])
    register(service_doc("c", interactions=[rest("z", "a")]))  # c/z now reaches a: its basis is unchanged
    register(service_doc("b", interactions=[{"name": "y", "to": ["a"], "style": "grpc"}]))
    client.force_login(viewer)
    html = client.get("/plans/").content.decode()
    listed = html.split('id="plan-saved"', 1)[1]
    assert listed.index("Retire z") < listed.index("Decouple b")  # newest first
    assert "no longer applies" in listed and listed.count('badge-plan-applies">applies') == 1
    assert 'title="b/y changed since the plan was made: style rest → grpc"' in listed
    only = client.get("/plans/?q=retire").content.decode().split('id="plan-saved"', 1)[1]
    assert "Retire z" in only and "Decouple b" not in only
    assert "No saved plan matches" in client.get("/plans/?status=accepted").content.decode()


def test_it_pages_the_saved_plans(loop, client, viewer):
    for n in range(23):
        saved(f"plan-{n}", f"Plan {n}")
    client.force_login(viewer)
    first = client.get("/plans/").content.decode()
    assert first.count('class="row-title"') == 20 and "Page 1 of 2" in first
    assert client.get("/plans/?page=2").content.decode().count('class="row-title"') == 3


def test_it_shows_a_saved_plan_against_the_registry_of_now(loop, client, maintainer):
    saved()
    client.force_login(maintainer)
    html = client.get("/plans/decouple-b/").content.decode()
    assert "applies" in html and 'class="plan-drawing"><svg' in html and "rest → pubsub" in html
    assert 'href="/api/v1/plans/decouple-b/markdown/"' in html and ">Accept</button>" in html
    register(service_doc("b"))  # b/y removed
    gone = client.get("/plans/decouple-b/").content.decode()
    assert "No longer applies" in gone and "b/y no longer exists" in gone and "plan-drawing" not in gone
    assert ">Accept</button>" not in gone and "/markdown/" not in gone
    assert client.get("/plans/nope/").status_code == 404


def test_it_accepts_and_deletes_a_saved_plan_from_its_page(loop, client, maintainer):
    saved()
    client.force_login(maintainer)
    accepted = client.post("/plans/decouple-b/accept/", follow=True)
    assert accepted.status_code == 200 and "Plan decouple-b accepted" in accepted.content.decode()
    assert Plan.objects.get().accepted_at is not None and Decision.objects.count() == 1
    again = client.post("/plans/decouple-b/accept/", follow=True).content.decode()
    assert "Not accepted: plan decouple-b was accepted on" in again and Decision.objects.count() == 1
    deleted = client.post("/plans/decouple-b/delete/")
    assert deleted.status_code == 302 and not Plan.objects.exists() and Decision.objects.count() == 1


def test_it_refuses_actions_to_those_the_services_refuse(loop, client, viewer, other_team):
    saved()
    for user in (viewer, member(other_team, "olga", TeamRole.MAINTAINER)):
        client.force_login(user)
        html = client.get("/plans/decouple-b/").content.decode()
        assert ">Accept</button>" not in html and "Delete this plan" not in html
        before = counts()
        assert client.post("/plans/decouple-b/accept/").status_code == 403
        assert client.post("/plans/decouple-b/delete/").status_code == 403
        assert client.post("/plans/save/", {**FORM, "name": "mine", "title": "Mine"}).status_code == 403
        assert counts() == before


def test_it_reserves_the_names_of_the_pages(loop, ci):
    for name in ("save", "accept", "evaluate"):
        response = ci.post("/api/v1/plans/", {"name": name, "title": "T", "changes": [{"interaction": "b/y"}]},
                           content_type="application/json")
        assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/name"


def test_it_names_a_field_the_form_refuses(loop, client, maintainer):
    client.force_login(maintainer)
    for url in ("/plans/", "/plans/save/"):
        response = client.post(url, {"interaction_0": "b/nope", "new_source_1": "zzz", "name": "p", "title": "P"})
        html = response.content.decode()
        assert response.status_code == 422 and "Change 1: Interaction: Select a valid choice." in html, url
        assert "New interaction 2: From service: Select a valid choice." in html
    assert not Plan.objects.exists()


def test_it_draws_a_saved_plan_on_the_topology_page(loop, client, viewer):
    saved()
    client.force_login(viewer)
    html = unescape(client.get("/topology/?plan=decouple-b").content.decode())
    assert 'class="plan-drawing"><svg' in html and "rest → pubsub" in html
    assert 'href="/plans/decouple-b/"' in html and "Findings " in html and "Before → after" in html
    plan_page = client.get("/plans/decouple-b/").content.decode()
    assert 'href="/topology/?plan=decouple-b"' in plan_page


def test_it_says_when_a_plan_drawn_on_the_topology_no_longer_applies(loop, client, viewer):
    saved()
    register(service_doc("b"))  # b/y removed
    client.force_login(viewer)
    html = client.get("/topology/?plan=decouple-b").content.decode()
    assert "This plan no longer applies" in html and "b/y no longer exists" in html and "plan-drawing" not in html


def test_it_rejects_a_plan_the_topology_page_does_not_know(loop, client, viewer):
    client.force_login(viewer)
    response = client.get("/topology/?plan=%3Cscript%3Enope")
    html = response.content.decode()
    assert response.status_code == 404
    assert "there is no saved plan named &#x27;&lt;script&gt;nope&#x27;" in html and "<script>nope" not in html
