"""Drift: a tracing system's dependency export against the declared topology, through the API, the
page and the topology findings."""
import json

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from imports.drift import MATCHED, UNDECLARED, UNOBSERVED, UNTRACED, drift_compare
from imports.models import DependencySnapshot, ObservedLink
from topology.graph_selectors import findings_current

JAEGER = [
    {"parent": "storefront-web", "child": "orders", "callCount": 1200},
    {"parent": "orders", "child": "payment", "callCount": 800},
    {"parent": "orders", "child": "fraud-screening", "callCount": 35},  # nobody declares it
    {"parent": "Orders", "child": "Payment", "callCount": 10},  # the same pair, other spelling: summed
]
URL = "/api/v1/imports/dependencies/"


def post(client, body, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return client.post(f"{URL}?{query}", json.dumps(body), content_type="application/json")


def test_it_classifies_every_pair():
    declared = {("a", "b"): ("a/call-b",), ("a", "c"): ("a/call-c",), ("x", "y"): ("x/call-y",)}
    observed = {("a", "b"): (10, 1), ("b", "d"): (7, 0), ("a", "z"): (99, 0)}
    drift = drift_compare(declared=declared, observed=observed)
    assert [(row.source, row.target, row.status) for row in drift.rows] == [
        ("a", "z", UNDECLARED), ("b", "d", UNDECLARED), ("a", "c", UNOBSERVED), ("x", "y", UNTRACED),
        ("a", "b", MATCHED)]
    assert drift.counts == {UNDECLARED: 2, UNOBSERVED: 1, UNTRACED: 1, MATCHED: 1}
    assert drift.of(MATCHED)[0].calls == 10 and drift.of(MATCHED)[0].interactions == ("a/call-b",)


def test_it_previews_then_imports_then_ignores_the_same_export(admin):
    preview = post(admin, JAEGER, dry_run="true")
    assert preview.status_code == 200 and preview.json()["dry_run"] and not DependencySnapshot.objects.exists()
    counts = preview.json()["drift"]["counts"]
    assert counts[UNDECLARED] == 1 and counts[MATCHED] == 2
    created = post(admin, JAEGER)
    assert created.status_code == 201 and created.json()["created"]
    assert created.json()["snapshot"]["links"] == 3 and created.json()["snapshot"]["format"] == "jaeger"
    assert ObservedLink.objects.get(parent="orders", child="payment").calls == 810
    again = post(admin, JAEGER)
    assert again.status_code == 200 and again.json()["unchanged"] and DependencySnapshot.objects.count() == 1


def test_it_lists_the_drift(admin):
    post(admin, JAEGER)
    body = admin.get("/api/v1/drift/").json()
    undeclared = [row for row in body["results"] if row["status"] == UNDECLARED]
    assert undeclared == [{"source": "orders", "target": "fraud-screening", "status": UNDECLARED, "calls": 35,
                           "errors": 0, "interactions": []}]
    assert body["counts"][UNOBSERVED] >= 1 and body["counts"][UNTRACED] >= 1
    only = admin.get("/api/v1/drift/?status=matched&service=payment").json()["results"]
    assert [(row["source"], row["target"]) for row in only] == [("orders", "payment")]
    assert admin.get("/api/v1/drift/?status=sideways").status_code == 400


def test_it_answers_drift_before_any_import(admin):
    assert admin.get("/api/v1/drift/").json() == {"snapshot": None, "counts": {}, "results": []}


@pytest.mark.parametrize(("body", "pointer"), [
    ([{"parent": "a", "child": "b", "callCount": -1}], "/0/callCount"),
    ([{"parent": "a", "callCount": 3}], "/0/child"),
    ({"links": "nope"}, "/links"),
])
def test_it_rejects_a_malformed_export_with_a_pointer_and_writes_nothing(admin, body, pointer):
    response = post(admin, body)
    assert response.status_code == 422, response.json()
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not DependencySnapshot.objects.exists()


def test_it_rejects_text_that_is_not_json(admin):
    response = admin.post(URL, "not json at all", content_type="application/json")
    assert response.status_code == 422 and not DependencySnapshot.objects.exists()


def test_it_takes_the_export_as_a_multipart_file(admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("deps.json", json.dumps(JAEGER).encode(), content_type="application/json")
    response = admin.post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 201


def test_it_refuses_viewers_and_anonymous_callers(demo):
    viewer = User.objects.create_user("vicky")
    client = APIClient()
    client.force_login(viewer)
    assert post(client, JAEGER).status_code == 403
    assert post(APIClient(), JAEGER).status_code in (401, 403)
    assert not DependencySnapshot.objects.exists()


def test_it_lets_a_team_token_import(demo):
    from core.actors import actor_for_cli
    from topology.models import Team
    from topology.services import token_create

    _, raw = token_create(actor=actor_for_cli(), team=Team.objects.get(slug="commerce"), name="tracing")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert post(client, JAEGER).status_code == 201


def test_it_shows_drift_as_topology_findings(admin):
    before = {finding.kind for finding in findings_current()}
    post(admin, JAEGER)
    found = [finding for finding in findings_current() if finding.kind == "undeclared-link"]
    assert "undeclared-link" not in before
    assert [(f.services, f.severity) for f in found] == [(("orders", "fraud-screening"), "warning")]
    assert any(finding.kind == "unobserved-link" for finding in findings_current())


def test_it_uploads_previews_and_confirms_on_the_page(admin, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(User.objects.get(username="maria"))
    page = client.get("/drift/").content.decode()
    assert "No dependency export has been imported yet" in page and 'name="file"' in page
    upload = SimpleUploadedFile("deps.json", json.dumps(JAEGER).encode(), content_type="application/json")
    preview = client.post("/drift/preview/", {"file": upload}).content.decode()
    assert "Preview of deps.json" in preview and not DependencySnapshot.objects.exists()
    key = preview.split('name="key" value="')[1].split('"')[0]
    response = client.post("/drift/confirm/", {"key": key})
    assert response.status_code == 302 and DependencySnapshot.objects.count() == 1
    page = client.get("/drift/").content.decode()
    assert "Observed but not declared" in page and "fraud-screening" in page
    assert client.post("/drift/confirm/", {"key": key}).status_code == 302  # used up: says it expired
    assert DependencySnapshot.objects.count() == 1


def test_it_puts_a_bad_upload_back_on_the_page(admin, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(User.objects.get(username="maria"))
    upload = SimpleUploadedFile("deps.json", b'[{"parent": "a"}]', content_type="application/json")
    response = client.post("/drift/preview/", {"file": upload})
    assert response.status_code == 422 and "Nothing was imported" in response.content.decode()


def test_it_shows_viewers_the_drift_but_not_the_upload(admin, client):
    viewer = User.objects.create_user("vicky")
    client.force_login(viewer)
    page = client.get("/drift/").content.decode()
    assert 'name="file"' not in page and "team maintainers import" in page
    assert client.post("/drift/preview/").status_code == 403


def test_it_draws_undeclared_calls_on_the_topology(admin):
    before = admin.get("/api/v1/topology/?format=dot").content.decode()
    assert "observed, not declared" not in before
    post(admin, JAEGER)
    dot = admin.get("/api/v1/topology/?format=dot").content.decode()
    assert '"orders" -> "fraud-screening"' in dot and "observed 35×" in dot and "observed, not declared" in dot
    assert '"orders" -> "payment"' in dot and "observed 810×" not in dot  # declared: drawn as it was
