"""POST /api/v1/registrations/: the manifest contract CI relies on."""
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from topology.models import AuditEvent, Interaction, InteractionTarget, Service

from .factories import as_json, as_yaml, pubsub, rest, service_doc

URL = "/api/v1/registrations/"


@pytest.fixture
def client_for(db):
    def make(raw_token=None, keyword="Bearer"):
        client = APIClient()
        if raw_token:
            client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw_token}")
        return client
    return make


def post(client, *docs, query="", as_format="yaml"):
    body, content_type = (as_yaml(*docs), "application/yaml") if as_format == "yaml" else (as_json(*docs), "application/json")
    return client.post(URL + query, data=body, content_type=content_type)


def counts():
    return (Service.objects.count(), Interaction.objects.count(), InteractionTarget.objects.count(),
            AuditEvent.objects.count())


ORDERS = service_doc("orders", title="Orders", interactions=[
    rest("authorize-payment", "payment", criteria={"needs_immediate_response": True}),
    pubsub("order-placed", "orders.placed", "shipping", "invoicing"),
])


def test_it_creates_services_interactions_and_placeholders(ci):
    response = post(ci, ORDERS)
    assert response.status_code == 201, response.json()
    report = response.json()
    assert report["summary"]["services"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert report["summary"]["interactions"]["created"] == 2
    assert report["placeholders"]["created"] == ["invoicing", "payment", "shipping"]
    assert [i["result"] for i in report["services"][0]["interactions"]] == ["created", "created"]
    orders = Service.objects.get(name="orders")
    assert orders.team.slug == "commerce" and orders.written_via == "api" and orders.written_by == "token commerce/ci"
    placed = orders.interactions.get(name="order-placed")
    assert [link.service.name for link in placed.target_links.order_by("position")] == ["shipping", "invoicing"]
    assert Service.objects.get(name="payment").is_placeholder


def test_it_reports_unchanged_and_writes_nothing_on_a_second_post(ci):
    post(ci, ORDERS)
    before = counts()
    response = post(ci, ORDERS, as_format="json")
    assert response.status_code == 200
    assert response.json()["summary"]["services"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert response.json()["summary"]["interactions"]["unchanged"] == 2
    assert counts() == before


def test_it_updates_changed_fields_and_lists_them(ci):
    post(ci, ORDERS)
    changed = service_doc("orders", title="Order service", interactions=[
        rest("authorize-payment", "payment", criteria={"needs_immediate_response": False}),
        pubsub("order-placed", "orders.placed", "shipping", "invoicing"),
    ])
    report = post(ci, changed).json()
    service = report["services"][0]
    assert service["result"] == "updated" and service["changes"] == ["title"]
    first = service["interactions"][0]
    assert (first["name"], first["result"], first["changes"]) == ("authorize-payment", "updated", ["criteria"])
    assert first["recommendation"]["ruleset_version"]
    event = AuditEvent.objects.filter(object_key="orders/authorize-payment", action="update").get()
    assert event.changes == {"criteria": [{"needs_immediate_response": True}, {"needs_immediate_response": False}]}
    assert event.actor == "token commerce/ci" and event.via == "api"


def test_it_removes_unlisted_interactions_and_orphaned_placeholders(ci):
    post(ci, ORDERS)
    report = post(ci, service_doc("orders", title="Orders", interactions=[rest("authorize-payment", "payment")])).json()
    results = {i["name"]: i["result"] for i in report["services"][0]["interactions"]}
    assert results == {"authorize-payment": "updated", "order-placed": "removed"}
    assert report["placeholders"]["removed"] == ["invoicing", "shipping"]
    assert set(Service.objects.values_list("name", flat=True)) == {"orders", "payment"}


def test_it_keeps_a_placeholder_that_is_still_referenced(ci):
    post(ci, ORDERS, service_doc("billing", interactions=[rest("ship", "shipping")]))
    post(ci, service_doc("orders", interactions=[rest("authorize-payment", "payment")]))
    assert Service.objects.get(name="shipping").is_placeholder


def test_it_promotes_a_placeholder_when_its_owner_registers_it(ci):
    post(ci, ORDERS)
    response = post(ci, service_doc("payment", title="Payment"))
    assert response.status_code == 201
    service = response.json()["services"][0]
    assert service["result"] == "created" and service["promoted_from_placeholder"] is True
    payment = Service.objects.get(name="payment")
    assert not payment.is_placeholder and payment.title == "Payment"
    assert payment.target_links.count() == 1


def test_it_dry_runs_without_writing(ci):
    post(ci, ORDERS)
    before = counts()
    smaller = service_doc("orders", interactions=[rest("authorize-payment", "payment")])
    response = post(ci, smaller, service_doc("catalog"), query="?dry_run=true")
    assert response.status_code == 200
    report = response.json()
    assert report["dry_run"] is True
    assert [s["result"] for s in report["services"]] == ["would be updated", "would be created"]
    assert report["services"][0]["interactions"][1]["result"] == "would be removed"
    assert report["placeholders"]["removed"] == ["invoicing", "shipping"]
    assert counts() == before


def test_it_rejects_a_service_of_another_team(ci, other_team, client_for):
    from core.actors import actor_for_cli
    from topology.services import token_create

    other = client_for(token_create(actor=actor_for_cli(), team=other_team, name="ci")[1])
    post(other, service_doc("accounts", team="identity"))
    before = counts()
    response = post(ci, service_doc("accounts", team="commerce"), ORDERS)
    assert response.status_code == 403
    assert response.json()["errors"] == [{
        "pointer": "/0/metadata/name",
        "message": "service 'accounts' belongs to another team; only that team or an administrator can change or move it",
    }]
    assert post(ci, service_doc("x", team="identity")).status_code == 403
    assert counts() == before


def test_it_lets_staff_write_any_team(staff, other_team):
    client = APIClient()
    client.force_login(staff)
    response = post(client, service_doc("accounts", team="identity"))
    assert response.status_code == 201
    assert Service.objects.get(name="accounts").written_by == "root"


def test_it_rejects_invalid_manifests_with_pointers_and_writes_nothing(ci):
    post(ci, ORDERS)
    before = counts()
    bad = service_doc("orders", interactions=[rest("a", "payment"), rest("b", "payment"),
                                              {"name": "c", "to": ["Bad"], "style": "rest"}])
    response = post(ci, ORDERS, bad, service_doc("x", team="nope"))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"pointer": "/1/spec/interactions/2/to/0",
            "message": "target 'Bad' must be 1-63 lower-case letters, digits or dashes, "
                       "starting and ending with a letter or digit"} in errors
    assert "/1/metadata/name" in [e["pointer"] for e in errors]
    assert counts() == before


def test_it_rejects_an_unknown_team_with_a_pointer(ci):
    response = post(ci, ORDERS, service_doc("x", team="nope"))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"pointer": "/1/metadata/team", "message": "team 'nope' does not exist"}]
    assert counts()[:3] == (0, 0, 0)


@override_settings(REGISTRATION_MAX_BYTES=2048)
def test_it_rejects_a_body_over_the_limit(ci):
    big = service_doc("orders", description="x" * 3000)
    response = post(ci, big)
    assert response.status_code == 413
    assert "2048" in response.json()["detail"]
    assert Service.objects.count() == 0


@pytest.mark.parametrize("body,content_type,code", [
    ("apiVersion: [", "application/yaml", 400),
    ("{not json", "application/json", 400),
    ("name: x", "text/plain", 415),
])
def test_it_rejects_unparseable_bodies(ci, body, content_type, code):
    response = ci.post(URL, data=body, content_type=content_type)
    assert response.status_code == code
    assert response.json()["detail"]


def test_it_rejects_a_bad_dry_run_flag(ci):
    response = post(ci, ORDERS, query="?dry_run=maybe")
    assert response.status_code == 400
    assert "dry_run" in response.json()
    assert Service.objects.count() == 0


def test_it_requires_authentication(client_for, team):
    assert post(client_for(), ORDERS).status_code == 401
    response = post(client_for("sb_not-a-real-token"), ORDERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_accepts_the_token_keyword(client_for, token):
    assert post(client_for(token, keyword="Token"), ORDERS).status_code == 201


def test_it_rejects_a_session_post_without_csrf(maintainer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(maintainer)
    assert post(client, ORDERS).status_code == 403
    assert Service.objects.count() == 0


def test_it_lets_a_maintainer_session_register(maintainer):
    client = APIClient()
    client.force_login(maintainer)
    assert post(client, ORDERS).status_code == 201
    assert Service.objects.get(name="orders").written_by == "maria"


def test_it_rejects_a_viewer_session(viewer):
    client = APIClient()
    client.force_login(viewer)
    assert post(client, ORDERS).status_code == 403


def _registration_queries(client, docs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert post(client, *docs).status_code in (200, 201)
    return len(captured)


@pytest.mark.parametrize("repeat", [False, True], ids=["first-post", "unchanged-post"])
def test_it_keeps_registration_queries_independent_of_size(ci, repeat):
    def docs(start, stop):
        return [service_doc(f"s{i}", interactions=[rest("a", f"s{i + 1}"), pubsub("b", "t", f"p{i}")])
                for i in range(start, stop)]

    small, large = docs(0, 3), docs(100, 130)
    ci.get("/api/v1/teams/")  # records the token's last use before counting
    if repeat:
        post(ci, *small), post(ci, *large)
    assert _registration_queries(ci, large) == _registration_queries(ci, small)
