"""Backstage and AsyncAPI documents applied to the registry: created through the registration path,
owned by their import source, replaced by a newer version, never touching what a manifest declared."""
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from imports.models import ImportedObject, ImportSource
from tests.test_imports_parsers import ASYNC_DOCUMENTS, CATALOG
from topology.manifest import InteractionSpec, ServiceSpec
from topology.models import Interaction, Service, Team
from topology.registration import registration_apply
from topology.selectors import service_spec_of

BACKSTAGE = "/api/v1/imports/backstage/"


@pytest.fixture
def staff_api(db):
    Team.objects.create(slug="commerce", name="Commerce")
    Team.objects.create(slug="identity", name="Identity")
    client = APIClient()
    client.force_login(User.objects.create_user("root", is_staff=True))
    return client


def post_catalog(client, text=CATALOG, **params):
    query = "&".join(f"{key}={value}" for key, value in {"team": "commerce", "source": "catalog-info.yaml",
                                                          **params}.items())
    return client.post(f"{BACKSTAGE}?{query}", text, content_type="application/yaml")


def interactions() -> dict[str, tuple]:
    rows = Interaction.objects.select_related("source").prefetch_related("target_links__service")
    return {item.key: (item.style, item.channel, tuple(link.service.name for link in item.target_links.all()))
            for item in rows}


def test_it_imports_a_backstage_catalog_through_the_registration_path(staff_api):
    response = post_catalog(staff_api)
    assert response.status_code == 201, response.json()
    assert {"storefront", "orders", "payment-gateway", "catalog", "notifications"} <= set(
        Service.objects.exclude(team=None).values_list("name", flat=True))
    assert Service.objects.get(name="orders-db").is_placeholder
    assert interactions() == {
        "orders/order-events": ("pubsub", "order-events", ("catalog", "notifications")),
        "orders/orders-db": ("", "", ("orders-db",)),
        "orders/payments": ("grpc", "", ("payment-gateway",)),
        "storefront/catalog": ("", "", ("catalog",)),
        "storefront/orders-api": ("rest", "", ("orders",)),
    }
    assert Interaction.objects.exclude(recommended_pattern="").count() == 5  # evaluated like any other
    report = response.json()
    assert report["source"]["kind"] == "backstage" and report["registration"]["summary"]["services"]["created"] == 5
    assert any("its channel is 'order-events'" in warning["message"] for warning in report["warnings"])
    assert ImportedObject.objects.filter(interaction="").count() == 5


def test_it_changes_nothing_when_the_same_catalog_comes_again(staff_api):
    post_catalog(staff_api)
    again = post_catalog(staff_api)
    assert again.status_code == 200 and again.json()["unchanged"] and again.json()["registration"] is None


def test_it_replaces_what_the_earlier_version_created_and_nothing_else(staff_api):
    post_catalog(staff_api)
    orders = Service.objects.get(name="orders")
    manual = InteractionSpec(name="nightly-export", targets=("storefront",), style="rest")
    spec = service_spec_of(service=orders)
    registration_apply(specs=[ServiceSpec(**{**spec.__dict__, "interactions": (*spec.interactions, manual)})],
                       actor=actor_for_cli())
    newer = CATALOG.replace("  consumesApis: [api:default/payments]\n", "")
    assert post_catalog(staff_api, newer).status_code == 201
    found = interactions()
    assert "orders/payments" not in found and "orders/nightly-export" in found and "orders/order-events" in found


def test_it_leaves_the_fields_of_a_service_a_manifest_registered(staff_api):
    registration_apply(specs=[ServiceSpec(name="orders", team="commerce", title="Orders (manifest)")],
                       actor=actor_for_cli())
    post_catalog(staff_api)
    assert Service.objects.get(name="orders").title == "Orders (manifest)"
    assert "orders/payments" in interactions()


def test_it_rejects_an_interaction_named_like_one_a_manifest_declared(staff_api):
    registration_apply(specs=[ServiceSpec(name="storefront", team="commerce", interactions=(
        InteractionSpec(name="catalog", targets=("orders",), style="rest"),))], actor=actor_for_cli())
    response = post_catalog(staff_api)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/3/spec/dependsOn/0"
    assert not ImportSource.objects.exists() and not Service.objects.filter(name="payment-gateway").exists()


def test_it_previews_with_dry_run_and_writes_nothing(staff_api):
    response = post_catalog(staff_api, dry_run="true")
    assert response.status_code == 200 and response.json()["dry_run"]
    assert response.json()["registration"]["summary"]["services"]["created"] == 5
    assert not Service.objects.exists() and not ImportSource.objects.exists()


def test_it_rejects_a_malformed_catalog_with_pointers_and_writes_nothing(staff_api):
    response = post_catalog(staff_api, "kind: Component\nmetadata: {name: '???'}\nspec: {owner: commerce}\n")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"].startswith("/0")
    assert not Service.objects.exists()


def test_it_names_a_team_that_does_not_exist(staff_api):
    response = post_catalog(staff_api, CATALOG.replace("owner: identity, lifecycle: deprecated",
                                                       "owner: marketing, lifecycle: deprecated"))
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == ["/7"]
    assert "marketing" in response.json()["errors"][0]["message"] and not Service.objects.exists()


def test_it_refuses_a_token_the_services_of_another_team(staff_api):
    from topology.services import token_create

    _, raw = token_create(actor=actor_for_cli(), team=Team.objects.get(slug="commerce"), name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = post_catalog(client)
    assert response.status_code == 403 and not Service.objects.exists()


def test_it_imports_asyncapi_documents_as_producers_and_consumers(staff_api):
    Team.objects.create(slug="logistics", name="Logistics")
    files = [SimpleUploadedFile(name, text.encode(), content_type="application/yaml") for name, text in ASYNC_DOCUMENTS]
    response = staff_api.post("/api/v1/imports/asyncapi/?team=commerce&source=events", {"file": files},
                              format="multipart")
    assert response.status_code == 201, response.json()
    placed = Interaction.objects.get(source__name="orders", channel="orders.placed")
    assert placed.style == "pubsub" and placed.broker == "kafka"
    assert placed.criteria == {"needs_immediate_response": False} and placed.recommended_pattern
    assert ImportSource.objects.get().name == "events"


def test_it_previews_and_confirms_a_catalog_on_the_page(staff_api, client):
    client.force_login(User.objects.get(username="root"))
    upload = SimpleUploadedFile("catalog-info.yaml", CATALOG.encode(), content_type="application/yaml")
    page = client.post("/imports/preview/", {"kind": "backstage", "team": "commerce", "file": upload}).content.decode()
    assert "Preview of catalog-info.yaml" in page and "would create <strong>5</strong>" in page
    assert not Service.objects.exists()
    key = page.split('name="key" value="')[1].split('"')[0]
    assert client.post("/imports/confirm/", {"key": key}).status_code == 302
    assert Service.objects.filter(name="storefront").exists()
    listing = client.get("/imports/").content.decode()
    assert "catalog-info.yaml" in listing and "Backstage catalog" in listing


def test_it_shows_the_refusals_of_a_bad_catalog_on_the_page(staff_api, client):
    client.force_login(User.objects.get(username="root"))
    upload = SimpleUploadedFile("c.yaml", b"kind: Component\nmetadata: {name: '???'}\n", content_type="application/yaml")
    response = client.post("/imports/preview/", {"kind": "backstage", "file": upload})
    assert response.status_code == 422 and "Nothing was imported" in response.content.decode()
    assert not Service.objects.exists()


def test_it_says_on_the_service_page_which_import_it_came_from(staff_api, client):
    post_catalog(staff_api)
    client.force_login(User.objects.get(username="root"))
    page = client.get("/services/storefront/").content.decode()
    assert "Imported from" in page and "catalog-info.yaml" in page


def test_it_applies_a_large_catalog_as_a_job(staff_api, settings, monkeypatch, django_capture_on_commit_callbacks):
    from celery import current_app

    from imports import jobs

    settings.IMPORT_INLINE_MAX_BYTES = 100
    sent = []
    monkeypatch.setattr(current_app.tasks[jobs.RUN_TASK], "apply_async", lambda args, **kw: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_catalog(staff_api)
    assert response.status_code == 202 and not Service.objects.exists()
    job = response.json()["job"]
    assert job["status"] == "queued" and sent == [job["id"]]
    jobs.import_job_run(job_id=job["id"])  # what the worker does
    done = staff_api.get(response.json()["url"]).json()
    assert done["status"] == "done" and done["progress"] == 100
    assert done["report"]["registration"]["summary"]["services"]["created"] == 5
    assert Service.objects.filter(name="storefront").exists()
    jobs.import_job_run(job_id=job["id"])  # redelivered: nothing more
    assert ImportSource.objects.count() == 1


def test_it_fails_a_job_whose_token_was_revoked_meanwhile(staff_api, settings, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    from celery import current_app

    from imports import jobs
    from topology.services import token_create, token_revoke

    settings.IMPORT_INLINE_MAX_BYTES = 100
    token, raw = token_create(actor=actor_for_cli(), team=Team.objects.get(slug="commerce"), name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    monkeypatch.setattr(current_app.tasks[jobs.RUN_TASK], "apply_async", lambda *args, **kwargs: None)
    commerce_only = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: basket, "
                     "description: Holds what a shopper is about to buy}\n"
                     "spec: {type: service, lifecycle: production, owner: commerce}\n")
    with django_capture_on_commit_callbacks(execute=True):
        job = post_catalog(client, commerce_only).json()["job"]
    token_revoke(actor=actor_for_cli(), token=token)
    jobs.import_job_run(job_id=job["id"])
    failed = staff_api.get(f"/api/v1/imports/jobs/{job['id']}/").json()
    assert failed["status"] == "failed" and "revoked" in failed["errors"][0]["message"]
    assert not Service.objects.exists()


def test_it_follows_a_large_import_on_the_page(staff_api, client, settings, monkeypatch):
    from celery import current_app

    from imports import jobs

    settings.IMPORT_INLINE_MAX_BYTES = 100
    monkeypatch.setattr(current_app.tasks[jobs.RUN_TASK], "apply_async", lambda *args, **kwargs: None)
    client.force_login(User.objects.get(username="root"))
    upload = SimpleUploadedFile("catalog-info.yaml", CATALOG.encode(), content_type="application/yaml")
    page = client.post("/imports/preview/", {"kind": "backstage", "team": "commerce", "file": upload}).content.decode()
    key = page.split('name="key" value="')[1].split('"')[0]
    response = client.post("/imports/confirm/", {"key": key})
    job_id = int(response["Location"].rsplit("=", 1)[1])
    assert 'hx-trigger="every 1s"' in client.get(response["Location"]).content.decode()
    jobs.import_job_run(job_id=job_id)
    progress = client.get(f"/imports/jobs/{job_id}/progress/").content.decode()
    assert "done" in progress and "Created 5" in progress



def test_it_refuses_a_large_import_of_another_teams_services_before_queueing_it(staff_api, settings):
    """A job is refused when asked (403, nothing queued), as the import itself would be."""
    from imports.models import ImportJob
    from topology.services import token_create

    settings.IMPORT_INLINE_MAX_BYTES = 100
    raw = token_create(actor=actor_for_cli(), team=Team.objects.get(slug="commerce"), name="ci")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = post_catalog(client)  # the catalog names identity's services too
    assert response.status_code == 403 and "may not write" in response.json()["detail"]
    assert not ImportJob.objects.exists()
