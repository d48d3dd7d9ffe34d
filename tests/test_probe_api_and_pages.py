"""Probes through the API and the pages: declare, read state and results, run now, permissions, secrets."""
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.factories import as_json, service_doc
from topology.models import Service
from probes.models import Probe, ProbeResult
from probes.services import probe_results_record
from probes.engine.spec import Outcome, ProbeResult as RunResult

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
QUEUE_PROBE = {"name": "jobs", "type": "rabbitmq-queue", "target": "amqp://guest:s3cret@127.0.0.1:5672/",
               "queue": "jobs", "expect": {"min_consumers": 1}}
HTTP_PROBE = {"name": "health", "type": "http", "target": "http://127.0.0.1:8000/healthz",
              "headers": {"Authorization": "Bearer abc", "Accept": "application/json"}}


def post(ci, *docs):
    return ci.post("/api/v1/registrations/", data=as_json(*docs), content_type="application/json")


@pytest.fixture
def declared(ci):
    response = post(ci, service_doc("orders", probes=[QUEUE_PROBE, HTTP_PROBE]))
    assert response.status_code in (200, 201), response.json()
    return {probe.name: probe for probe in Probe.objects.all()}


def test_it_registers_probes_from_a_manifest(declared):
    assert set(declared) == {"jobs", "health"}
    assert declared["jobs"].options == {"queue": "jobs"}


def test_it_rejects_a_bad_probe_with_a_pointer_and_writes_nothing(ci):
    bad = {**QUEUE_PROBE, "interval": "1s", "expect": {"max_ready": -1}}
    response = post(ci, service_doc("orders", probes=[bad]))
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert {"/0/spec/probes/0/interval", "/0/spec/probes/0/expect/max_ready"} <= pointers
    assert not Service.objects.filter(name="orders").exists()


def test_it_lists_probes_with_state_and_hides_secrets(ci, declared):
    probe_results_record(location="default", slot=T0, results=[RunResult(
        key=str(declared["jobs"].id), outcome=Outcome.DOWN, latency_ms=3.5, started_at=T0, finished_at=T0,
        values={"ready": 4, "consumers": 0}, error="consumers=0 below min_consumers=1")])
    body = ci.get("/api/v1/probes/").json()
    jobs = next(item for item in body["results"] if item["name"] == "jobs")
    assert jobs["state"] == "down"
    assert jobs["statuses"][0]["values"] == {"ready": 4, "consumers": 0}
    assert jobs["declaration"]["target"] == "amqp://guest:***@127.0.0.1:5672/"
    health = next(item for item in body["results"] if item["name"] == "health")
    assert health["declaration"]["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert "s3cret" not in str(body) and "Bearer abc" not in str(body)
    assert ci.get("/api/v1/probes/?state=down").json()["count"] == 1


def test_it_keeps_secrets_when_the_hidden_form_is_sent_back(ci, declared):
    shown = ci.get("/api/v1/services/orders/").json()["probes"]
    response = ci.patch("/api/v1/services/orders/", data={"probes": shown}, format="json")
    assert response.status_code == 200, response.json()
    stored = {item["name"]: item for item in Service.objects.get(name="orders").probes}
    assert stored["jobs"]["target"] == QUEUE_PROBE["target"]
    assert stored["health"]["headers"]["Authorization"] == "Bearer abc"


def test_it_rejects_a_bad_probe_sent_to_the_service_api(ci, declared):
    response = ci.patch("/api/v1/services/orders/", data={"probes": [{"name": "x", "type": "smtp"}]}, format="json")
    assert response.status_code == 400
    assert "/0/type" in str(response.json()["probes"])


def test_it_pages_results_newest_first(ci, declared):
    pid = declared["jobs"].id
    for index in range(5):
        at = T0 + timedelta(seconds=30 * index)
        probe_results_record(location="default", slot=at, results=[RunResult(
            key=str(pid), outcome=Outcome.UP, latency_ms=index, started_at=at, finished_at=at)])
    first = ci.get(f"/api/v1/probes/{pid}/results/?limit=2").json()
    assert [row["latency_ms"] for row in first] == [4, 3]
    more = ci.get(f"/api/v1/probes/{pid}/results/", {"limit": 10, "before": first[-1]["slot"]}).json()
    assert [row["latency_ms"] for row in more] == [2, 1, 0]


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "before=yesterday"])
def test_it_rejects_bad_result_queries(ci, declared, query):
    response = ci.get(f"/api/v1/probes/{declared['jobs'].id}/results/?{query}")
    assert response.status_code == 400


def test_it_queues_probe_now_for_maintainers_only(ci, declared, client, viewer, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("probes.services.runs_send", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = ci.post(f"/api/v1/probes/{declared['jobs'].id}/run/")
    assert response.status_code == 202 and response.json()["locations"] == ["default"]
    assert list(sent[0]["batches"]) == ["default"]
    client.force_login(viewer)
    assert client.post(f"/api/v1/probes/{declared['jobs'].id}/run/").status_code == 403


def test_it_answers_503_when_the_broker_is_down(ci, declared, monkeypatch):
    from kombu.exceptions import OperationalError

    def refuse(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("probes.services.runs_send", refuse)
    response = ci.post(f"/api/v1/probes/{declared['jobs'].id}/run/")
    assert response.status_code == 503
    assert "broker" in response.json()["detail"]


# --- pages ---------------------------------------------------------------------------------------


def test_it_shows_probes_on_the_service_page_and_the_probe_page(client, maintainer, declared):
    client.force_login(maintainer)
    page = client.get("/services/orders/").content.decode()
    assert "jobs" in page and reverse("probe-create", args=["orders"]) in page
    detail = client.get("/services/orders/probes/jobs/").content.decode()
    assert "amqp://guest:***@127.0.0.1:5672/" in detail and "s3cret" not in detail
    assert "latency-data" in detail and "uptime-data" in detail
    assert client.get("/probes/").status_code == 200
    assert client.get("/services/orders/probes/nope/").status_code == 404


def test_it_adds_a_probe_from_the_form(client, maintainer, declared):
    client.force_login(maintainer)
    data = {"name": "ping", "type": "redis", "target": "redis://127.0.0.1:6379/0", "interval": "1m",
            "timeout": "3s", "locations": ["default"], "details": "expect:\n  max_latency_ms: 50"}
    response = client.post("/services/orders/probes/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Probe.objects.get(name="ping")
    assert (row.interval, row.timeout, row.expect) == (60, 3, {"max_latency_ms": 50})
    assert Service.objects.get(name="orders").probes[-1]["name"] == "ping"


def test_it_puts_form_errors_next_to_their_fields(client, maintainer, declared):
    client.force_login(maintainer)
    data = {"name": "jobs", "type": "rabbitmq-queue", "target": "http://x", "interval": "5s", "timeout": "1s",
            "locations": ["default"], "details": "expect: {max_ready: many}"}
    response = client.post("/services/orders/probes/new/", data)
    form = response.context["form"]
    assert set(form.errors) == {"name"}  # a taken name stops before the deeper checks
    data["name"] = "jobs2"
    form = client.post("/services/orders/probes/new/", data).context["form"]
    assert {"target", "interval", "details"} <= set(form.errors)
    assert "queue is required" in str(form.errors["details"])
    assert Probe.objects.count() == 2


def test_it_edits_a_probe_and_keeps_its_password(client, maintainer, declared):
    client.force_login(maintainer)
    form = client.get("/services/orders/probes/jobs/edit/").context["form"]
    assert form.initial["target"] == "amqp://guest:***@127.0.0.1:5672/"
    data = {**form.initial, "interval": "2m", "locations": ["default"]}
    assert client.post("/services/orders/probes/jobs/edit/", data).status_code == 302
    row = Probe.objects.get(name="jobs")
    assert (row.interval, row.target) == (120, QUEUE_PROBE["target"])


def test_it_deletes_a_probe_with_its_history(client, maintainer, declared):
    client.force_login(maintainer)
    probe_results_record(location="default", slot=T0, results=[RunResult(
        key=str(declared["jobs"].id), outcome=Outcome.UP, latency_ms=1, started_at=T0, finished_at=T0)])
    assert client.post("/services/orders/probes/jobs/delete/").status_code == 302
    assert not Probe.objects.filter(name="jobs").exists() and not ProbeResult.objects.exists()


def test_it_refuses_probe_changes_to_viewers(client, viewer, declared):
    client.force_login(viewer)
    assert client.get("/services/orders/probes/new/").status_code == 403
    assert client.post("/services/orders/probes/jobs/delete/").status_code == 403
    assert client.post("/services/orders/probes/jobs/run/").status_code == 403


def test_it_reports_progress_and_a_missing_worker(client, maintainer, declared, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    client.force_login(maintainer)
    monkeypatch.setattr("probes.services.runs_send", lambda **kw: None)
    page = client.post("/services/orders/probes/jobs/run/").content.decode()
    assert "Running jobs" in page and "hx-get" in page
    old = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    late = client.get("/services/orders/probes/jobs/run/status/", {"slot": old}).content.decode()
    assert "No result after 30 s" in late and "probes.default" in late
    assert client.get("/services/orders/probes/jobs/run/status/?slot=soon").status_code == 400


def test_it_answers_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_it_counts_probe_states_on_the_dashboard(client, maintainer, declared):
    client.force_login(maintainer)
    probe_results_record(location="default", slot=T0, results=[RunResult(
        key=str(declared["jobs"].id), outcome=Outcome.DOWN, latency_ms=1, started_at=T0, finished_at=T0)])
    page = client.get("/").content.decode()
    assert "1 down" in page and "1 not run" in page and "?state=down" in page


def test_it_keeps_probe_secrets_out_of_the_history(client, maintainer, declared, ci):
    from topology.models import AuditEvent

    changed = {**QUEUE_PROBE, "target": "amqp://guest:n3w-s3cret@127.0.0.1:5672/"}
    assert post(ci, service_doc("orders", probes=[changed, HTTP_PROBE])).status_code == 200
    stored = str(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert "s3cret" not in stored and "Bearer abc" not in stored and "guest:***@" in stored
    client.force_login(maintainer)
    assert "s3cret" not in client.get("/services/orders/").content.decode()


def test_it_refreshes_the_probe_list_in_place(client, maintainer, declared):
    client.force_login(maintainer)
    page = client.get("/probes/").content.decode()
    assert 'id="probe-results"' in page and "every 15s" in page and "<html" in page
    part = client.get("/probes/?state=unknown", HTTP_HX_REQUEST="true")
    body = part.content.decode()
    assert "<html" not in body and 'hx-get="/probes/?state=unknown"' in body and "jobs" in body
    assert "HX-Request" in part["Vary"]
