"""Decision records: drafts, services (numbering, superseding, permissions, audit), API and pages."""
import json
from datetime import date

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from decisions import services
from decisions.choices import DecisionKind, DecisionStatus
from decisions.drafts import DraftError, DraftFacts, decision_draft, style_of_recommendation
from decisions.forms import options_format, options_parse
from decisions.models import Decision
from decisions.recommendations import interactions_overridden
from decisions.selectors import decision_draft_for, draft_facts_of
from decisions.services import (
    DecisionInvalid,
    DecisionNotDeletable,
    decision_create,
    decision_delete,
    decision_update,
)
from core.actors import actor_for_cli
from topology.models import AuditEvent, Interaction
from core.errors import Conflict
from topology.selectors import actor_for_user
from core.errors import Forbidden as PermissionDenied

from .factories import pubsub, register, rest, service_doc

SYNC_WRITE = {"needs_immediate_response": True, "operation": "write"}
QUEUE_WORK = {"can_defer": True, "bursty_traffic": True, "operation": "command"}


@pytest.fixture
def shop(team, other_team):
    register(
        service_doc("orders", description="Takes orders", interactions=[
            rest("authorize-payment", "payment", description="Charge the card before confirming.",
                 criteria=SYNC_WRITE),
            pubsub("order-placed", "orders.placed", "shipping", "accounts",
                   criteria={"can_defer": True, "requires_decoupling": True}),
            rest("charge-later", "billing", criteria=QUEUE_WORK),
            {"name": "stock-check", "to": ["inventory"]},
        ]),
        service_doc("accounts", team="identity", interactions=[rest("profile-sync", "orders")]),
    )


def interaction(key: str) -> Interaction:
    source, name = key.split("/")
    return Interaction.objects.select_related("source__team").get(source__name=source, name=name)


@pytest.fixture
def maria(maintainer):
    return actor_for_user(user=maintainer)


@pytest.fixture
def cli(db):
    return actor_for_cli(label="ops")


def make(actor, **fields):
    fields.setdefault("title", "Use REST for reads")
    return decision_create(actor=actor, **fields)


def pointers(exc) -> dict:
    return {error["pointer"]: error["message"] for error in exc.value.errors}


# --- drafts (pure) -----------------------------------------------------------------------------


def test_it_drafts_an_acceptance_from_the_stored_recommendation(shop):
    item = interaction("orders/authorize-payment")
    assert item.recommendation, "registration stores the recommendation"
    draft = decision_draft_for(interaction=item, kind=DecisionKind.ACCEPT)

    assert draft["title"] == "orders/authorize-payment: use request-response over REST"
    assert (draft["kind"], draft["status"]) == ("accept", "proposed")
    assert draft["outcome"] == "request-response over REST" and draft["chosen_style"] == "rest"
    assert draft["recommendation"] == item.recommendation
    assert draft["team"].slug == "commerce" and draft["interactions"] == [item]
    # Context: source, targets, description, the criteria answered.
    assert "orders → payment" in draft["context"] and "Charge the card" in draft["context"]
    assert "Does the caller need the answer before it can go on? yes (§5.1)" in draft["context"]
    # Drivers: the reasons with a positive effect, each with its § id.
    positive = [r for r in item.recommendation["reasons"] if r["effect"] > 0]
    assert len(draft["drivers"]) == len(positive) and all("(§" in text for text in draft["drivers"])
    # One option per pattern, the recommended first, with reasons for and against.
    names = [option["name"] for option in draft["options"]]
    assert names[0] == "request-response" and sorted(names) == sorted(item.recommendation["scores"]["pattern"])
    chosen = draft["options"][0]
    assert chosen["pros"] and "recommended" in chosen["description"]
    pubsub_option = next(option for option in draft["options"] if option["name"] == "pub-sub")
    assert any("§5.1" in con for con in pubsub_option["cons"])
    assert draft["consequences_good"].startswith("Good, because")
    assert "Temporal coupling" in draft["consequences_bad"] or "temporal coupling" in draft["consequences_bad"]
    assert "Mitigate:" in draft["consequences_bad"]
    assert draft["justification"]


def test_it_drafts_the_recommended_style_when_the_declared_one_disagrees(shop):
    item = interaction("orders/charge-later")  # declared rest, recommended queue
    draft = decision_draft_for(interaction=item, kind=DecisionKind.ACCEPT)
    assert draft["outcome"] == "queue on RabbitMQ" and draft["chosen_style"] == "queue"
    assert draft["title"] == "orders/charge-later: use queue on RabbitMQ"


def test_it_drafts_an_override_keeping_the_declared_style(shop):
    item = interaction("orders/charge-later")
    draft = decision_draft_for(interaction=item, kind=DecisionKind.OVERRIDE)
    assert draft["kind"] == "override" and draft["chosen_style"] == "rest"
    assert draft["outcome"] == "request-response over REST"
    assert draft["justification"] == ""  # the person must write it
    assert draft["title"].startswith("orders/charge-later: keep REST instead of queue")
    assert "departs from the recommendation" in draft["consequences_bad"]
    assert draft["options"] and draft["drivers"]


def test_it_refuses_an_override_draft_without_a_declared_style(shop):
    with pytest.raises(DraftError, match="no declared style"):
        decision_draft_for(interaction=interaction("orders/stock-check"), kind=DecisionKind.OVERRIDE)


def test_it_drafts_without_options_when_there_is_no_recommendation_yet():
    draft = decision_draft(DraftFacts(key="a/b", source="a", targets=("b",), declared_style="grpc"),
                           kind=DecisionKind.ACCEPT)
    assert draft["options"] == [] and draft["drivers"] == [] and draft["outcome"] == ""
    assert "no recommendation yet" in draft["context"]
    assert draft["chosen_style"] == "grpc" and draft["recommendation"] == {}


def test_it_drafts_purely_from_plain_data(shop, django_assert_num_queries):
    facts = draft_facts_of(interaction=interaction("orders/order-placed"))
    with django_assert_num_queries(0):
        draft = decision_draft(facts, kind=DecisionKind.ACCEPT)
    assert draft["outcome"] == "pub-sub on Kafka" and draft["chosen_style"] == "pubsub"


@pytest.mark.parametrize("recommendation, style", [
    ({}, ""),
    ({"style": "sync", "pattern": "request-response", "protocol": "grpc"}, "grpc"),
    ({"style": "sync", "pattern": "hybrid", "protocol": "rest"}, "rest"),
    ({"style": "async", "pattern": "pub-sub"}, "pubsub"),
    ({"style": "async", "pattern": "queue"}, "queue"),
])
def test_it_maps_a_recommendation_to_a_declared_style(recommendation, style):
    assert style_of_recommendation(recommendation) == style


def test_it_parses_and_formats_the_options_text():
    text = "request-response\nA synchronous call.\n+ simple (§3.4)\n- couples in time\n\n\npub-sub\n+ decoupled"
    options = options_parse(text)
    assert options == [
        {"name": "request-response", "description": "A synchronous call.", "pros": ["simple (§3.4)"],
         "cons": ["couples in time"]},
        {"name": "pub-sub", "description": "", "pros": ["decoupled"], "cons": []},
    ]
    assert options_parse(options_format(options)) == options


def test_it_names_the_line_of_a_bad_options_text():
    from django.forms import ValidationError

    with pytest.raises(ValidationError, match="line 3: an option starts with its name"):
        options_parse("queue\n\n+ a pro without an option")


# --- services ----------------------------------------------------------------------------------


def test_it_numbers_decisions_one_after_another(shop, maria, team):
    first, second = make(maria, team=team), make(maria, team=team, title="Second")
    assert (first.number, second.number) == (1, 2)
    assert (first.code, second.code) == ("ADR-0001", "ADR-0002")
    assert first.created_by == "maria"


def test_it_retries_once_when_another_write_takes_the_number(shop, maria, team, monkeypatch):
    make(maria, team=team)
    taken = iter([1, 2])  # the first attempt sees a stale maximum
    monkeypatch.setattr(services, "_next_number", lambda: next(taken))
    decision = make(maria, team=team, title="Raced")
    assert decision.number == 2
    assert Decision.objects.count() == 2
    assert AuditEvent.objects.filter(object_type="decision", object_key="ADR-0002").count() == 1


def test_it_gives_up_after_the_second_collision(shop, maria, team, monkeypatch):
    make(maria, team=team)
    monkeypatch.setattr(services, "_next_number", lambda: 1)
    with pytest.raises(Conflict):
        make(maria, team=team, title="Raced twice")
    assert Decision.objects.count() == 1


def test_it_supersedes_in_the_same_transaction(shop, maria, team):
    old = make(maria, team=team, status=DecisionStatus.ACCEPTED)
    new = make(maria, team=team, title="Use gRPC for reads", supersedes=old)
    old.refresh_from_db()
    assert old.status == DecisionStatus.SUPERSEDED and old.superseded_by == new
    event = AuditEvent.objects.get(object_key=old.code, action="update")
    assert event.changes == {"status": ["accepted", "superseded"], "superseded_by": [None, new.code]}
    created = AuditEvent.objects.get(object_key=new.code)
    assert created.action == "create" and created.changes["supersedes"] == [None, old.code]
    assert created.team_slug == "commerce"


def test_it_writes_nothing_when_the_supersede_is_refused(shop, maria, team, other_team, cli):
    theirs = make(cli, team=other_team, status=DecisionStatus.ACCEPTED)
    with pytest.raises(PermissionDenied, match="supersede ADR-0001"):
        make(maria, team=team, supersedes=theirs)
    theirs.refresh_from_db()
    assert theirs.status == DecisionStatus.ACCEPTED
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="decision").count() == 1


def test_it_refuses_superseding_a_decision_twice(shop, maria, team):
    old = make(maria, team=team, status=DecisionStatus.ACCEPTED)
    make(maria, team=team, supersedes=old)
    with pytest.raises(DecisionInvalid) as exc:
        make(maria, team=team, supersedes=old)
    assert pointers(exc) == {"/supersedes": "ADR-0001 is already superseded by ADR-0002"}
    assert Decision.objects.count() == 2


def test_it_refuses_a_decision_superseding_itself_or_a_loop(shop, maria, team):
    first = make(maria, team=team)
    with pytest.raises(DecisionInvalid) as exc:
        decision_update(actor=maria, decision=first, supersedes=first)
    assert pointers(exc) == {"/supersedes": "a decision cannot supersede itself"}
    second = make(maria, team=team, supersedes=first)
    third = make(maria, team=team, supersedes=second)
    with pytest.raises(DecisionInvalid, match="loop"):
        decision_update(actor=maria, decision=first, supersedes=third)


def test_it_releases_a_superseded_decision_when_its_successor_changes_or_goes(shop, maria, team):
    old = make(maria, team=team, status=DecisionStatus.DEPRECATED)
    other = make(maria, team=team, status=DecisionStatus.ACCEPTED)
    new = make(maria, team=team, supersedes=old)
    decision_update(actor=maria, decision=new, supersedes=other)
    old.refresh_from_db(), other.refresh_from_db()
    assert (old.status, other.status) == (DecisionStatus.DEPRECATED, DecisionStatus.SUPERSEDED)
    decision_delete(actor=maria, decision=new)
    other.refresh_from_db()
    assert other.status == DecisionStatus.ACCEPTED
    assert AuditEvent.objects.filter(object_key=new.code, action="delete").exists()


def test_it_refuses_setting_superseded_by_hand_and_keeps_it_once_superseded(shop, maria, team):
    with pytest.raises(DecisionInvalid, match="becomes superseded when a later decision"):
        make(maria, team=team, status=DecisionStatus.SUPERSEDED)
    old = make(maria, team=team, status=DecisionStatus.ACCEPTED)
    make(maria, team=team, supersedes=old)
    with pytest.raises(DecisionInvalid, match="stays superseded"):
        decision_update(actor=maria, decision=old, status=DecisionStatus.ACCEPTED)
    decision_update(actor=maria, decision=old, title="Typo fixed")  # other fields can still change
    old.refresh_from_db()
    assert old.title == "Typo fixed" and old.status == DecisionStatus.SUPERSEDED


def test_it_requires_a_justification_and_a_style_for_an_override(shop, maria, team):
    item = interaction("orders/charge-later")
    with pytest.raises(DecisionInvalid) as exc:
        make(maria, team=team, kind=DecisionKind.OVERRIDE, interactions=[item], justification="  ")
    assert set(pointers(exc)) == {"/justification", "/chosen_style"}
    decision = make(maria, team=team, kind=DecisionKind.OVERRIDE, interactions=[item], chosen_style="rest",
                    justification="The billing provider only offers a synchronous API.")
    assert decision.recommendation == item.recommendation  # the snapshot, taken from the interaction


def test_it_requires_an_interaction_for_an_acceptance(shop, maria, team):
    with pytest.raises(DecisionInvalid) as exc:
        make(maria, team=team, kind=DecisionKind.ACCEPT)
    assert "/interactions" in pointers(exc)


@pytest.mark.parametrize("options, pointer", [
    ([{"name": ""}], "/options/0/name"),
    ([{"name": "queue"}, {"name": "Queue"}], "/options/1/name"),
    ([{"name": "queue", "pros": ["ok", ""]}], "/options/0/pros/1"),
    ([{"name": "queue", "colour": "red"}], "/options/0"),
])
def test_it_points_at_the_bad_option(shop, maria, team, options, pointer):
    with pytest.raises(DecisionInvalid) as exc:
        make(maria, team=team, options=options)
    assert pointer in pointers(exc)


def test_it_dates_a_decision_when_it_is_accepted(shop, maria, team):
    decision = make(maria, team=team)
    assert decision.decided_on is None
    decision = decision_update(actor=maria, decision=decision, status=DecisionStatus.ACCEPTED)
    assert decision.decided_on == timezone.localdate()
    given = make(maria, team=team, status=DecisionStatus.ACCEPTED, decided_on=date(2024, 5, 1))
    assert given.decided_on == date(2024, 5, 1)


def test_it_audits_only_the_fields_that_changed(shop, maria, team):
    decision = make(maria, team=team, drivers=["Speed (§3.3)"])
    decision_update(actor=maria, decision=decision, title="Use REST for all reads", drivers=["Speed (§3.3)"])
    event = AuditEvent.objects.get(object_key=decision.code, action="update")
    assert event.changes == {"title": ["Use REST for reads", "Use REST for all reads"]}
    assert (event.actor, event.via, event.team_slug) == ("maria", "ui", "commerce")


def test_it_deletes_only_proposed_decisions(shop, maria, team):
    accepted = make(maria, team=team, status=DecisionStatus.ACCEPTED)
    with pytest.raises(DecisionNotDeletable):
        decision_delete(actor=maria, decision=accepted)
    assert Decision.objects.filter(pk=accepted.pk).exists()


def test_it_checks_the_team_and_every_linked_interactions_team(shop, maria, team, other_team, viewer):
    with pytest.raises(PermissionDenied):
        make(actor_for_user(user=viewer), team=team)
    with pytest.raises(PermissionDenied, match="decisions of team 'identity'"):
        make(maria, team=other_team)
    with pytest.raises(PermissionDenied, match="accounts/profile-sync"):
        make(maria, team=team, interactions=[interaction("accounts/profile-sync")])
    with pytest.raises(PermissionDenied, match="staff only"):
        make(maria)
    assert not Decision.objects.exists()
    decision = make(maria, team=team, interactions=[interaction("orders/authorize-payment")])
    with pytest.raises(PermissionDenied):  # moving it to a team maria cannot write
        decision_update(actor=maria, decision=decision, team=other_team)
    staff_made = make(actor_for_cli(), interactions=[interaction("accounts/profile-sync")])
    assert staff_made.team is None


def test_it_reports_accepted_overrides_as_deliberate(shop, maria, team):
    item = interaction("orders/charge-later")
    decision = make(maria, team=team, kind=DecisionKind.OVERRIDE, interactions=[item], chosen_style="rest",
                    justification="Billing is synchronous only.")
    assert interactions_overridden(interaction_ids=[item.pk]) == set()
    decision_update(actor=maria, decision=decision, status=DecisionStatus.ACCEPTED)
    assert interactions_overridden(interaction_ids=[item.pk]) == {item.pk}


# --- API ---------------------------------------------------------------------------------------


def test_it_creates_a_decision_with_a_team_token(ci, shop):
    item = interaction("orders/authorize-payment")
    response = ci.post("/api/v1/decisions/", {
        "title": "Authorise payments over REST", "kind": "accept", "team": "commerce", "interactions": [item.pk],
        "drivers": ["The caller needs the answer (§5.1)"], "status": "accepted",
        "options": [{"name": "request-response", "pros": ["simple"], "cons": []}, {"name": "pub-sub"}],
        "outcome": "request-response", "chosen_style": "rest",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "ADR-0001" and body["number"] == 1
    assert body["created_by"] == "token commerce/ci" and body["decided_on"] == timezone.localdate().isoformat()
    assert body["linked"][0]["key"] == "orders/authorize-payment" and body["interactions"] == [item.pk]
    assert body["options"][1] == {"name": "pub-sub", "description": "", "pros": [], "cons": []}
    assert body["recommendation"] == item.recommendation
    assert body["url"].endswith("/api/v1/decisions/1/")
    assert AuditEvent.objects.get(object_key="ADR-0001").via == "api"


def test_it_refuses_a_token_writing_another_teams_decision(ci, shop):
    response = ci.post("/api/v1/decisions/", {"title": "Not ours", "team": "identity"}, format="json")
    assert response.status_code == 403
    response = ci.post("/api/v1/decisions/", {
        "title": "Not ours either", "team": "commerce", "interactions": [interaction("accounts/profile-sync").pk],
    }, format="json")
    assert response.status_code == 403 and "accounts/profile-sync" in response.json()["detail"]
    assert not Decision.objects.exists()


def test_it_answers_422_with_pointers_for_an_override_without_justification(ci, shop):
    response = ci.post("/api/v1/decisions/", {
        "title": "Keep REST", "kind": "override", "team": "commerce", "chosen_style": "rest",
        "interactions": [interaction("orders/charge-later").pk],
    }, format="json")
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == ["/justification"]


def test_it_answers_400_for_a_malformed_body(ci, shop):
    response = ci.post("/api/v1/decisions/", {"title": "x", "status": "maybe", "options": "queue"}, format="json")
    assert response.status_code == 400 and {"status", "options"} <= set(response.json())


def test_it_supersedes_and_patches_through_the_api(ci, shop):
    first = ci.post("/api/v1/decisions/", {"title": "REST everywhere", "team": "commerce", "status": "accepted"},
                    format="json").json()
    second = ci.post("/api/v1/decisions/", {"title": "gRPC inside", "team": "commerce",
                                            "supersedes": first["number"]}, format="json")
    assert second.status_code == 201 and second.json()["supersedes"] == 1
    again = ci.get("/api/v1/decisions/1/").json()
    assert again["status"] == "superseded" and again["superseded_by"] == 2
    patched = ci.patch("/api/v1/decisions/2/", {"status": "accepted"}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "accepted"
    assert patched.json()["title"] == "gRPC inside" and patched.json()["supersedes"] == 1
    twice = ci.post("/api/v1/decisions/", {"title": "Third", "team": "commerce", "supersedes": 1}, format="json")
    assert twice.status_code == 422 and "already superseded by ADR-0002" in twice.content.decode()


def test_it_deletes_only_proposals_through_the_api(ci, shop):
    ci.post("/api/v1/decisions/", {"title": "Idea", "team": "commerce"}, format="json")
    ci.post("/api/v1/decisions/", {"title": "Done", "team": "commerce", "status": "accepted"}, format="json")
    assert ci.delete("/api/v1/decisions/2/").status_code == 409
    assert ci.delete("/api/v1/decisions/1/").status_code == 204
    assert list(Decision.objects.values_list("number", flat=True)) == [2]


@pytest.mark.parametrize("query, expected", [
    ("", [4, 3, 2, 1]),
    ("?status=accepted", [2]),
    ("?team=identity", [4]),
    ("?service=orders", [3, 2]),
    ("?service=payment", [2]),
    ("?service=shipping", [3]),
    ("?q=grpc", [1]),
    ("?q=ADR-0003", [3]),
])
def test_it_filters_decisions(ci, shop, cli, team, other_team, query, expected):
    make(cli, title="gRPC inside", team=team)
    make(cli, title="Payments", team=team, status=DecisionStatus.ACCEPTED,
         interactions=[interaction("orders/authorize-payment")])
    make(cli, title="Events", team=team, interactions=[interaction("orders/order-placed")])
    make(cli, title="Profiles", team=other_team)
    response = ci.get(f"/api/v1/decisions/{query}")
    assert response.status_code == 200
    assert [item["number"] for item in response.json()["results"]] == expected


def test_it_serves_a_draft_without_saving(ci, shop):
    item = interaction("orders/charge-later")
    response = ci.get(f"/api/v1/decisions/draft/?interaction={item.pk}&kind=override")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "override" and body["chosen_style"] == "rest" and body["justification"] == ""
    assert body["team"] == "commerce" and body["interactions"] == [item.pk]
    assert body["options"] and body["recommendation"] == item.recommendation
    assert ci.get(f"/api/v1/decisions/draft/?interaction={item.pk}").json()["kind"] == "accept"
    assert not Decision.objects.exists()
    # The draft, completed, saves as it is.
    body.update(justification="Billing only has a synchronous API.")
    assert ci.post("/api/v1/decisions/", body, format="json").status_code == 201


def test_it_explains_why_no_draft_can_be_made(ci, shop):
    stock = interaction("orders/stock-check")
    assert ci.get(f"/api/v1/decisions/draft/?interaction={stock.pk}&kind=override").status_code == 422
    assert ci.get("/api/v1/decisions/draft/?interaction=99999").status_code == 404
    assert ci.get("/api/v1/decisions/draft/?interaction=x").status_code == 400
    assert ci.get(f"/api/v1/decisions/draft/?interaction={stock.pk}&kind=general").status_code == 400
    assert APIClient().get(f"/api/v1/decisions/draft/?interaction={stock.pk}").status_code == 401


def test_it_lists_the_decisions_in_the_openapi_schema(ci, shop):
    schema = ci.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/decisions/draft/" in schema.content and b"/api/v1/decisions/{number}/" in schema.content


def _decisions(count: int, start: int = 0):
    actor = actor_for_cli()
    items = list(Interaction.objects.select_related("source__team"))
    from topology.models import Team

    team = Team.objects.get(slug="commerce")
    previous = None
    for index in range(start, start + count):
        decision = decision_create(actor=actor, title=f"Decision {index}", team=team,
                                   interactions=items[index % len(items): index % len(items) + 2],
                                   status=DecisionStatus.ACCEPTED, supersedes=previous if index % 3 == 2 else None)
        previous = decision


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/decisions/", "/api/v1/decisions/?service=orders"])
def test_it_keeps_api_list_queries_constant(ci, shop, url):
    _decisions(3)
    ci.get(url)  # records the token's last use
    small = _query_count(ci, url)
    _decisions(25, start=3)
    assert _query_count(ci, url) == small


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/decisions/", "/decisions/new/", "/decisions/1/", "/decisions/1/edit/"])
def test_it_redirects_anonymous_visitors_to_sign_in(client, shop, cli, team, url):
    make(cli, team=team)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_lists_decisions_with_codes_badges_and_filters(as_viewer, shop, cli, team, other_team):
    old = make(cli, title="REST for payments", team=team, status=DecisionStatus.ACCEPTED,
               interactions=[interaction("orders/authorize-payment")])
    make(cli, title="gRPC for payments", team=team, supersedes=old)
    make(cli, title="Profiles", team=other_team)
    page = as_viewer.get("/decisions/").content.decode()
    assert "ADR-0001" in page and "ADR-0003" in page and 'badge-status-superseded' in page
    assert 'aria-current="page">Decisions' in page.replace("\n", "")
    filtered = as_viewer.get("/decisions/?team=commerce&status=superseded&service=orders").content.decode()
    assert "REST for payments" in filtered and "gRPC for payments" not in filtered and "Profiles" not in filtered
    assert "No decisions match" in as_viewer.get("/decisions/?q=nothing-like-this").content.decode()
    assert "Record a decision" not in page  # a viewer cannot write


def test_it_pages_the_decision_list(as_viewer, shop, cli, team):
    Decision.objects.bulk_create([Decision(number=n, title=f"D{n}", team=team) for n in range(1, 61)])
    response = as_viewer.get("/decisions/?page=2")
    assert len(response.context["page"].object_list) == 10
    assert "51–60 of 60" in response.content.decode()


def test_it_shows_every_madr_section_and_the_history(as_viewer, shop, cli, team):
    item = interaction("orders/charge-later")
    old = make(cli, title="REST for billing", team=team, status=DecisionStatus.ACCEPTED)
    decision = decision_create(actor=cli, supersedes=old,
                               **{**decision_draft_for(interaction=item, kind=DecisionKind.OVERRIDE),
                                  "justification": "Billing's provider offers only a synchronous API (§3.2).",
                                  "status": DecisionStatus.ACCEPTED})
    decision_update(actor=cli, decision=decision, title="Keep REST for billing")
    page = as_viewer.get(f"/decisions/{decision.number}/").content.decode()
    for section in ("Context and problem statement", "Decision drivers", "Considered options",
                    "Decision outcome", "Consequences", "Linked interactions", "History", "Recommendation then"):
        assert section in page
    assert "Keep REST for billing" in page and "orders/charge-later" in page
    assert 'href="/criteria/#s3-2"' in page  # § references link to the criteria digest
    assert "deliberate (accepted override)" in page
    assert "Chosen option: <strong>request-response over REST</strong>" in page
    assert 'href="/decisions/1/"' in page and "ADR-0001" in page
    assert "ops" in page  # the history names the CLI actor
    assert "REST for billing" in page and "Keep REST for billing" in page  # the title change in the history
    superseded = as_viewer.get("/decisions/1/").content.decode()
    assert "Superseded." in superseded and f'href="/decisions/{decision.number}/"' in superseded
    assert "marked decision" in superseded and "superseded by ADR-0002" in superseded
    assert as_viewer.get("/decisions/999/").status_code == 404


def test_it_prefills_the_form_from_an_interaction(as_maintainer, shop):
    item = interaction("orders/charge-later")
    response = as_maintainer.get(f"/decisions/new/?interaction={item.pk}&kind=override")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["kind"] == "override" and form.initial["chosen_style"] == "rest"
    assert form.initial["interactions"] == "orders/charge-later" and form.initial["team"] == "commerce"
    assert form.initial["options"].startswith("queue\n")
    assert json.loads(form.initial["recommendation"]) == item.recommendation
    page = response.content.decode()
    assert "Override the recommendation" in page and "error" in page  # the mismatch in the sidebar


def test_it_saves_a_draft_from_the_form_and_shows_it(as_maintainer, shop):
    item = interaction("orders/authorize-payment")
    initial = as_maintainer.get(f"/decisions/new/?interaction={item.pk}&kind=accept").context["form"].initial
    data = {key: value for key, value in initial.items() if value is not None}
    data["status"] = "accepted"
    response = as_maintainer.post(f"/decisions/new/?interaction={item.pk}&kind=accept", data)
    assert response.status_code == 302 and response["Location"] == "/decisions/1/"
    decision = Decision.objects.get()
    assert decision.kind == "accept" and decision.status == "accepted" and decision.chosen_style == "rest"
    assert list(decision.interactions.all()) == [item] and decision.recommendation == item.recommendation
    assert len(decision.options) == 4 and decision.options[0]["pros"]
    assert decision.drivers and decision.created_by == "maria"
    page = as_maintainer.get("/decisions/1/").content.decode()
    assert "ADR-0001 recorded." in page and "maria" in page


def test_it_puts_errors_next_to_the_fields(as_maintainer, shop):
    item = interaction("orders/charge-later")
    response = as_maintainer.post("/decisions/new/", {
        "title": "Keep REST", "status": "proposed", "kind": "override", "team": "commerce",
        "interactions": "orders/charge-later\norders/nope", "options": "+ a pro first",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "orders/nope" in errors["interactions"][0]
    assert "line 1" in errors["options"][0]
    response = as_maintainer.post("/decisions/new/", {
        "title": "Keep REST", "status": "proposed", "kind": "override", "team": "commerce",
        "interactions": item.key, "options": "queue\n\nqueue",
    })
    errors = response.context["form"].errors
    assert set(errors) == {"justification", "chosen_style", "options"}
    assert "option 2" in errors["options"][0]
    assert not Decision.objects.exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_it_edits_a_decision_from_the_form(as_maintainer, shop, cli, team):
    decision = make(cli, team=team, drivers=["One"], options=[{"name": "a", "description": "", "pros": ["p"],
                                                               "cons": []}])
    initial = as_maintainer.get("/decisions/1/edit/").context["form"].initial
    data = {key: value for key, value in initial.items() if value is not None}
    data.update(title="Renamed", drivers="One\nTwo")
    assert as_maintainer.post("/decisions/1/edit/", data).status_code == 302
    decision.refresh_from_db()
    assert decision.title == "Renamed" and decision.drivers == ["One", "Two"]
    assert decision.options == [{"name": "a", "description": "", "pros": ["p"], "cons": []}]
    event = AuditEvent.objects.get(object_key="ADR-0001", action="update")
    assert set(event.changes) == {"title", "drivers"} and event.actor == "maria"


def test_it_refuses_write_pages_to_viewers_and_other_teams(as_viewer, client, shop, cli, team, other_team,
                                                          maintainer):
    make(cli, team=other_team)
    item = interaction("orders/authorize-payment")
    assert as_viewer.get("/decisions/new/").status_code == 403
    assert as_viewer.get(f"/decisions/new/?interaction={item.pk}").status_code == 403
    assert as_viewer.post("/decisions/new/", {"title": "x", "team": "commerce"}).status_code == 403
    client.force_login(maintainer)
    assert client.get("/decisions/1/edit/").status_code == 403
    assert client.get(f"/decisions/new/?interaction={interaction('accounts/profile-sync').pk}").status_code == 403
    assert client.get("/decisions/new/?interaction=99999").status_code == 404
    response = client.get(f"/decisions/new/?interaction={interaction('orders/stock-check').pk}&kind=override",
                          follow=True)
    assert "no declared style" in response.content.decode()
    assert Decision.objects.count() == 1


def test_it_prefills_a_successor(as_maintainer, shop, cli, team):
    make(cli, team=team, title="REST everywhere", interactions=[interaction("orders/authorize-payment")])
    form = as_maintainer.get("/decisions/new/?supersedes=1").context["form"]
    assert form.initial["supersedes"] == "ADR-0001" and form.initial["interactions"] == "orders/authorize-payment"


@pytest.mark.parametrize("url", ["/decisions/", "/decisions/?service=orders&status=accepted"])
def test_it_keeps_list_page_queries_constant(as_maintainer, shop, url):
    _decisions(3)
    small = _query_count(as_maintainer, url)
    _decisions(25, start=3)
    assert _query_count(as_maintainer, url) == small


def test_it_keeps_detail_page_queries_constant(as_maintainer, shop, cli, team):
    few = decision_create(actor=cli, title="Few", team=team, interactions=[interaction("orders/authorize-payment")])
    many = decision_create(actor=cli, title="Many", team=team, interactions=list(Interaction.objects.all()))
    for index in range(5):
        decision_update(actor=cli, decision=many, title=f"Many {index}")
    assert _query_count(as_maintainer, f"/decisions/{many.number}/") == _query_count(
        as_maintainer, f"/decisions/{few.number}/")


# --- the decisions box of an interaction's page --------------------------------------------------


def _box(item, *, can_write, decisions=()):
    request = RequestFactory().get("/")
    return render_to_string("decisions/_interaction_decisions.html",
                            {"interaction": item, "decisions": list(decisions), "can_write": can_write},
                            request=request)


def test_it_offers_the_override_only_when_the_declared_style_differs(shop, cli, team):
    differs, agrees, undecided = (interaction("orders/charge-later"), interaction("orders/authorize-payment"),
                                  interaction("orders/stock-check"))
    html = _box(differs, can_write=True)
    assert "Accept recommendation" in html and "Override with rationale" in html
    assert f"?interaction={differs.pk}&amp;kind=override" in html
    assert "Override with rationale" not in _box(agrees, can_write=True)
    assert "Override with rationale" not in _box(undecided, can_write=True)
    assert "Accept recommendation" not in _box(differs, can_write=False)
    assert "No decision recorded" in html


def test_it_lists_the_linked_decisions_and_marks_a_deliberate_mismatch(shop, cli, team):
    from decisions.selectors import decisions_for_interaction

    item = interaction("orders/charge-later")
    decision_create(actor=cli, team=team, title="Keep REST", kind=DecisionKind.OVERRIDE, chosen_style="rest",
                    justification="Provider constraint.", status=DecisionStatus.ACCEPTED, interactions=[item])
    html = _box(item, can_write=False, decisions=decisions_for_interaction(interaction=item))
    assert "ADR-0001" in html and "badge-status-accepted" in html and "The mismatch is deliberate" in html
