"""Browser pages without a browser: permissions, form validation, writes and query counts."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from topology.models import AuditEvent, Interaction, Service

from .factories import pubsub, register, rest, service_doc


@pytest.fixture
def shop(team, other_team):
    register(
        service_doc("orders", interactions=[rest("authorize-payment", "payment"),
                                            pubsub("order-placed", "orders.placed", "shipping", "accounts")]),
        service_doc("accounts", team="identity"),
    )


PAGES = ["/", "/services/", "/services/orders/", "/services/payment/", "/interactions/",
         "/services/orders/interactions/order-placed/", "/teams/", "/teams/commerce/", "/criteria/"]


@pytest.mark.parametrize("url", PAGES)
def test_it_redirects_anonymous_visitors_to_sign_in(client, shop, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_it_renders_every_page_for_a_viewer(as_viewer, shop, url):
    assert as_viewer.get(url).status_code == 200


def test_it_marks_placeholders(as_viewer, shop):
    page = as_viewer.get("/services/payment/").content.decode()
    assert "placeholder" in page.lower()
    assert "/register/?name=payment" in page


@pytest.mark.parametrize("url", ["/register/", "/services/orders/edit/", "/services/orders/delete/",
                                 "/services/orders/interactions/new/",
                                 "/services/orders/interactions/order-placed/edit/",
                                 "/services/orders/interactions/order-placed/delete/"])
def test_it_rejects_a_viewer_on_write_pages(as_viewer, shop, url):
    assert as_viewer.get(url).status_code == 403
    assert as_viewer.post(url, {"name": "x"}).status_code == 403
    assert Service.objects.count() == 4


def test_it_rejects_a_maintainer_editing_another_teams_service(as_maintainer, shop):
    assert as_maintainer.post("/services/accounts/edit/", {"team": "commerce"}).status_code == 403


def test_it_registers_a_service_from_the_form(as_maintainer, shop):
    response = as_maintainer.post("/register/", {
        "name": "catalog", "team": "commerce", "title": "Catalogue", "lifecycle": "production",
        "labels": "tier=gold\nowner=web", "repository": "https://git.example.com/catalog",
    })
    assert response.status_code == 302 and response["Location"] == "/services/catalog/"
    catalog = Service.objects.get(name="catalog")
    assert catalog.labels == {"tier": "gold", "owner": "web"} and catalog.written_via == "ui"
    assert catalog.written_by == "maria"


def test_it_promotes_a_placeholder_from_the_form(as_maintainer, shop):
    response = as_maintainer.post("/register/", {"name": "payment", "team": "commerce", "lifecycle": "production"})
    assert response.status_code == 302
    assert not Service.objects.get(name="payment").is_placeholder


@pytest.mark.parametrize("data,field", [
    ({"name": "Bad Name"}, "name"),
    ({"name": "orders"}, "name"),
    ({"name": "ok", "repository": "ftp://x"}, "repository"),
    ({"name": "ok", "labels": "no equals sign"}, "labels"),
    ({"name": "ok", "team": "identity"}, "team"),
])
def test_it_shows_service_form_errors_next_to_the_field(as_maintainer, shop, data, field):
    response = as_maintainer.post("/register/", {"team": "commerce", "lifecycle": "production", **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Service.objects.count() == 4


def test_it_adds_an_interaction_with_criteria(as_maintainer, shop):
    response = as_maintainer.post("/services/orders/interactions/new/", {
        "name": "reserve-stock", "to": "inventory, warehouse", "style": "grpc",
        "criteria_needs_immediate_response": "yes", "criteria_can_defer": "no", "criteria_operation": "command",
        "criteria_latency_budget_ms": "50",
    })
    assert response.status_code == 302, response.context["form"].errors
    item = Interaction.objects.get(name="reserve-stock")
    assert item.criteria == {"needs_immediate_response": True, "can_defer": False, "operation": "command",
                             "latency_budget_ms": 50}
    assert list(item.targets.order_by("target_links__position").values_list("name", flat=True)) == ["inventory", "warehouse"]
    assert Service.objects.get(name="inventory").is_placeholder
    assert Interaction.objects.filter(source__name="orders").count() == 3


@pytest.mark.parametrize("data,field", [
    ({"name": "authorize-payment", "to": "x"}, "name"),
    ({"name": "new", "to": "orders"}, "to"),
    ({"name": "new", "to": "Bad Target"}, "to"),
    ({"name": "new", "to": "x", "style": "pubsub"}, "channel"),
    ({"name": "new", "to": "x", "style": "rest", "broker": "kafka"}, "broker"),
    ({"name": "new", "to": "x", "criteria_latency_budget_ms": "-5"}, "criteria_latency_budget_ms"),
])
def test_it_shows_interaction_form_errors_next_to_the_field(as_maintainer, shop, data, field):
    before = AuditEvent.objects.count()
    response = as_maintainer.post("/services/orders/interactions/new/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert AuditEvent.objects.count() == before


def test_it_edits_an_interaction_and_prunes_the_placeholder_it_left(as_maintainer, shop):
    response = as_maintainer.post("/services/orders/interactions/authorize-payment/edit/", {
        "name": "authorize-payment", "to": "payments-v2", "style": "rest",
    })
    assert response.status_code == 302
    assert not Service.objects.filter(name="payment").exists()
    assert Service.objects.get(name="payments-v2").is_placeholder


def test_it_deletes_an_interaction(as_maintainer, shop):
    assert as_maintainer.post("/services/orders/interactions/order-placed/delete/").status_code == 302
    assert set(Interaction.objects.values_list("name", flat=True)) == {"authorize-payment"}
    assert not Service.objects.filter(name="shipping").exists()
    assert Service.objects.filter(name="accounts").exists()


def test_it_deletes_a_service(as_maintainer, shop):
    assert as_maintainer.post("/services/orders/delete/").status_code == 302
    assert set(Service.objects.values_list("name", flat=True)) == {"accounts"}


def test_it_shows_history_on_the_service_page(as_maintainer, shop):
    as_maintainer.post("/services/orders/edit/", {"team": "commerce", "title": "Order service", "lifecycle": "production"})
    page = as_maintainer.get("/services/orders/").content.decode()
    assert "Order service" in page and "maria" in page


def test_it_shows_a_new_token_once_and_revokes_it(as_maintainer, team):
    response = as_maintainer.post("/teams/commerce/tokens/", {"name": "deploy"})
    assert response.status_code == 302
    first = as_maintainer.get("/teams/commerce/").context["new_token"]
    assert first["value"].startswith("sb_")
    assert as_maintainer.get("/teams/commerce/").context["new_token"] is None
    token = team.tokens.get()
    assert as_maintainer.post(f"/teams/commerce/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_hides_tokens_from_viewers(as_viewer, team, token):
    response = as_viewer.get("/teams/commerce/")
    assert response.context["tokens"] is None
    assert as_viewer.post("/teams/commerce/tokens/", {"name": "x"}).status_code == 403
    assert as_viewer.post(f"/teams/commerce/tokens/{team.tokens.get().pk}/revoke/").status_code == 403


def test_it_serves_the_htmx_partial_for_live_search(as_viewer, shop):
    response = as_viewer.get("/services/?q=ord", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "orders" in body and "accounts" not in body


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/", "/services/", "/services/orders/", "/interactions/", "/teams/",
                                 "/teams/commerce/"])
def test_it_keeps_page_queries_constant(as_maintainer, team, url):
    def grow(start, stop):
        register(*[service_doc(f"s{i}", interactions=[rest("call", "orders", f"t{i}")]) for i in range(start, stop)],
                 service_doc("orders", interactions=[rest(f"c{i}", f"s{i}") for i in range(stop)]))

    grow(0, 3)
    small = _queries(as_maintainer, url)
    grow(3, 40)
    assert _queries(as_maintainer, url) == small
