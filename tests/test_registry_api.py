"""Teams, services and interactions through the API: reads, filters, edits, deletes, query counts."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from topology.models import AuditEvent, Service

from .factories import pubsub, register, rest, service_doc


@pytest.fixture
def shop(team, other_team):
    register(
        service_doc("orders", lifecycle="production", description="Takes orders", interactions=[
            rest("authorize-payment", "payment"),
            pubsub("order-placed", "orders.placed", "shipping", "accounts"),
        ]),
        service_doc("catalog", lifecycle="experimental", title="Product catalogue", interactions=[
            {"name": "thumbs", "to": ["thumbnailer"], "style": "queue", "channel": "thumbs", "broker": "rabbitmq"},
            {"name": "undecided-call", "to": ["payment"]},
        ]),
        service_doc("accounts", team="identity"),
    )


def names(response):
    assert response.status_code == 200, response.content
    return [item.get("slug") or item["name"] for item in response.json()["results"]]


def test_it_lists_teams_with_counts(ci, shop):
    response = ci.get("/api/v1/teams/")
    assert names(response) == ["commerce", "identity"]
    assert response.json()["results"][0]["service_count"] == 2


@pytest.mark.parametrize("query,expected", [
    ("", ["accounts", "catalog", "orders", "payment", "shipping", "thumbnailer"]),
    ("?team=commerce", ["catalog", "orders"]),
    ("?lifecycle=experimental", ["catalog"]),
    ("?placeholder=true", ["payment", "shipping", "thumbnailer"]),
    ("?placeholder=false", ["accounts", "catalog", "orders"]),
    ("?q=catalogue", ["catalog"]),
    ("?q=takes", ["orders"]),
])
def test_it_filters_services(ci, shop, query, expected):
    assert names(ci.get("/api/v1/services/" + query)) == expected


def test_it_rejects_an_unknown_filter_value(ci, shop):
    response = ci.get("/api/v1/services/?lifecycle=retired")
    assert response.status_code == 400
    assert "lifecycle" in response.json()


@pytest.mark.parametrize("query,expected", [
    ("?service=orders", ["authorize-payment", "order-placed"]),
    ("?target=payment", ["undecided-call", "authorize-payment"]),
    ("?style=pubsub", ["order-placed"]),
    ("?style=undecided", ["undecided-call"]),
    ("?broker=rabbitmq", ["thumbs"]),
])
def test_it_filters_interactions(ci, shop, query, expected):
    assert names(ci.get("/api/v1/interactions/" + query)) == expected


def test_it_shows_a_service_with_its_interactions(ci, shop):
    body = ci.get("/api/v1/services/orders/").json()
    assert body["team"] == "commerce" and body["placeholder"] is False
    assert [(i["name"], i["to"]) for i in body["interactions"]] == [
        ("authorize-payment", ["payment"]), ("order-placed", ["shipping", "accounts"])]
    assert ci.get("/api/v1/services/accounts/").json()["incoming"] == ["orders/order-placed"]
    assert ci.get("/api/v1/services/nope/").status_code == 404


def test_it_paginates(ci, shop):
    body = ci.get("/api/v1/services/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 6


def test_it_patches_a_service_through_the_registration_path(ci, shop):
    response = ci.patch("/api/v1/services/orders/", {"title": "Orders", "labels": {"tier": "critical"}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Orders"
    orders = Service.objects.get(name="orders")
    assert orders.labels == {"tier": "critical"} and orders.interactions.count() == 2
    event = AuditEvent.objects.filter(object_key="orders", action="update").get()
    assert event.changes == {"labels": [None, {"tier": "critical"}], "title": [None, "Orders"]}


def test_it_rejects_bad_fields_naming_the_field(ci, shop):
    response = ci.patch("/api/v1/services/orders/", {"repository": "ftp://x", "lifecycle": "gone"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"repository", "lifecycle"}
    assert Service.objects.get(name="orders").repository == ""


def test_it_rejects_a_token_editing_another_teams_service(ci, shop):
    response = ci.patch("/api/v1/services/accounts/", {"title": "Mine"}, format="json")
    assert response.status_code == 403
    assert Service.objects.get(name="accounts").title == ""


def test_it_rejects_moving_a_service_to_a_team_the_caller_cannot_write(ci, shop):
    response = ci.patch("/api/v1/services/orders/", {"team": "identity"}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["pointer"] == "/team"


def test_it_promotes_a_placeholder_with_put(ci, shop):
    response = ci.put("/api/v1/services/payment/", {"team": "commerce", "title": "Payment"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["placeholder"] is False


def test_it_asks_for_a_team_when_patching_a_placeholder(ci, shop):
    response = ci.patch("/api/v1/services/payment/", {"title": "Payment"}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()


def test_it_deletes_a_service_and_its_orphans(ci, shop):
    assert ci.delete("/api/v1/services/catalog/").status_code == 204
    remaining = set(Service.objects.values_list("name", flat=True))
    assert remaining == {"orders", "payment", "shipping", "accounts"}


def test_it_keeps_a_deleted_service_as_placeholder_while_targeted(staff, shop):
    client = APIClient()
    client.force_login(staff)
    assert client.delete("/api/v1/services/accounts/").status_code == 204
    assert Service.objects.get(name="accounts").is_placeholder


def test_it_rejects_a_viewer_deleting(viewer, shop):
    client = APIClient()
    client.force_login(viewer)
    assert client.delete("/api/v1/services/orders/").status_code == 403
    assert Service.objects.filter(name="orders").exists()


def test_it_serves_the_openapi_schema_and_docs(ci, maintainer):
    schema = ci.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/registrations/" in schema.content
    client = APIClient()
    client.force_login(maintainer)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert APIClient().get("/api/schema/").status_code == 401


def _queries(callable_):
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/services/", "/api/v1/interactions/", "/api/v1/teams/"])
def test_it_keeps_list_queries_constant(ci, team, url):
    register(*[service_doc(f"s{i}", interactions=[rest("call", f"t{i}", f"u{i}")]) for i in range(3)])
    ci.get(url)  # the first request records the token's last use
    small = _queries(lambda: ci.get(url))
    register(*[service_doc(f"s{i}", interactions=[rest("call", f"t{i}", f"u{i}")]) for i in range(3, 30)])
    assert _queries(lambda: ci.get(url)) == small


def test_it_generates_a_valid_schema_without_warnings(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/recommendations/evaluate/" in out.getvalue()
    assert "teamToken" in out.getvalue()
