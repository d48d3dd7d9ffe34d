"""What a new user ran into: files refused (406) when asked for by their own media type, and probe
targets that can never be reached accepted until they ran."""
import socket

import pytest
from django.utils.html import escape

from core.actors import actor_for_cli
from decisions.services import decision_create
from probes.forms import ProbeForm
from probes.models import Probe
from reports.models import Report, ReportFile
from tests.factories import as_json, register, service_doc
from topology.models import Service

REGISTRATIONS = "/api/v1/registrations/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PDF = b"%PDF-1.7\n%a report\n"
# Every endpoint that answers with a file, in each of its formats: (path, content type, how the body starts).
FILES = [
    ("/api/v1/topology/", "image/svg+xml", b"<?xml"),
    ("/api/v1/topology/?format=svg", "image/svg+xml", b"<?xml"),
    ("/api/v1/topology/?format=png", "image/png", b"\x89PNG"),
    ("/api/v1/topology/?format=dot", "text/vnd.graphviz; charset=utf-8", b"digraph topology {"),
    ("/api/v1/topology/?format=json", "application/json", b'{"nodes":'),
    ("/api/v1/topology/?format=svg&focus=orders", "image/svg+xml", b"<?xml"),
    ("/api/v1/diagrams/sequence/?entry=client", "text/vnd.mermaid; charset=utf-8", b"sequenceDiagram"),
    ("/api/v1/diagrams/sequence/?flow=checkout", "text/vnd.mermaid; charset=utf-8", b"sequenceDiagram"),
    ("/api/v1/diagrams/flowchart/", "text/vnd.mermaid; charset=utf-8", b"flowchart"),
    ("/api/v1/exports/mermaid/", "text/markdown; charset=utf-8", b"# Switchboard report"),
    ("/api/v1/exports/mermaid.zip", "application/zip", b"PK"),
    ("/api/v1/decisions/1/madr/", "text/markdown; charset=utf-8", b"---"),
    ("/api/v1/exports/decisions.zip", "application/zip", b"PK"),
    ("/api/v1/reports/{report}/download/", "application/pdf", PDF),
]
FILE_IDS = [path.split("/api/v1/")[1].replace("/", " ").strip() for path, _, _ in FILES]


def register_json(client, *docs):
    return client.post(REGISTRATIONS, data=as_json(*docs), content_type="application/json")


@pytest.fixture
def files(admin):
    """The demo with a flow, a decision and a finished report: something behind every file endpoint."""
    flow = {"slug": "checkout", "name": "Checkout", "steps": [{"interaction": "storefront-web/place-order"}]}
    assert admin.post("/api/v1/flows/", flow, format="json").status_code == 201
    decision_create(actor=actor_for_cli(), title="Use REST for reads", status="accepted")
    report = Report.objects.create(status="done", requested_by="tester", requested_via="cli", pages=1, size=len(PDF))
    ReportFile.objects.create(report=report, content=PDF)

    def get(path, accept=None):
        headers = {} if accept is None else {"HTTP_ACCEPT": accept}
        return admin.get(path.format(report=report.pk), **headers)
    return get


def accepts_of(content_type: str) -> list[str]:
    """Accept headers that each admit `content_type`."""
    media_type = content_type.split(";")[0]
    return [media_type, content_type, f"{media_type.split('/')[0]}/*", "*/*", BROWSER,
            f"application/x-nothing, {media_type};q=0.5"]


# Files are negotiated by the media type they are


@pytest.mark.parametrize("path, content_type, start", FILES, ids=FILE_IDS)
def test_it_handles_every_accept_that_admits_the_file(files, path, content_type, start):
    for accept in [None, *accepts_of(content_type)]:
        response = files(path, accept)
        assert response.status_code == 200, (accept, response.content[:300])
        assert response["Content-Type"] == content_type, accept
        assert response.content.startswith(start), (accept, response.content[:60])


@pytest.mark.parametrize("path, content_type, start", FILES, ids=FILE_IDS)
def test_it_rejects_an_accept_that_admits_nothing_it_returns_with_a_json_406(files, path, content_type, start):
    response = files(path, "application/x-nothing")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json" and "detail" in response.json()


@pytest.mark.parametrize("path, accept", [
    ("/api/v1/topology/?format=json", "image/svg+xml"),
    ("/api/v1/topology/?format=png", "image/svg+xml"),
    ("/api/v1/topology/?format=svg", "application/json"),
    ("/api/v1/diagrams/flowchart/", "application/json"),
    ("/api/v1/exports/mermaid.zip", "text/markdown"),
])
def test_it_rejects_an_accept_of_another_format_than_the_one_asked_for(files, path, accept):
    assert files(path, accept).status_code == 406


@pytest.mark.parametrize("path, accept, status", [
    ("/api/v1/topology/?format=gif", "image/svg+xml", 400),
    ("/api/v1/topology/?format=svg&focus=nope", "image/svg+xml", 400),
    ("/api/v1/topology/?format=dot&hops=x", "text/vnd.graphviz", 400),
    ("/api/v1/diagrams/sequence/", "text/vnd.mermaid", 400),
    ("/api/v1/diagrams/sequence/?flow=nope", "text/vnd.mermaid", 404),
    ("/api/v1/diagrams/flowchart/?focus=nope", "text/vnd.mermaid", 400),
    ("/api/v1/exports/mermaid/?team=nope", "text/markdown", 422),
    ("/api/v1/exports/mermaid.zip?hops=99&service=orders", "application/zip", 422),
    ("/api/v1/decisions/99/madr/", "text/markdown", 404),
    ("/api/v1/reports/99999/download/", "application/pdf", 404),
])
def test_it_handles_a_refusal_of_a_file_endpoint_as_json_whatever_was_accepted(files, path, accept, status):
    response = files(path, accept)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json" and response.json()


def test_it_handles_a_report_not_done_yet_as_a_json_409(files, admin):
    report = Report.objects.create(requested_by="tester", requested_via="cli")
    response = admin.get(f"/api/v1/reports/{report.pk}/download/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409 and response.json()["detail"].startswith(f"report {report.pk} is queued")


def test_it_handles_revalidation_of_a_drawing_asked_for_by_its_media_type(admin):
    first = admin.get("/api/v1/topology/?format=svg", HTTP_ACCEPT="image/svg+xml")
    assert first.status_code == 200 and first["ETag"] and first["Content-Disposition"] == 'inline; filename="topology.svg"'
    again = admin.get("/api/v1/topology/?format=svg", HTTP_ACCEPT="image/svg+xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]


def register_json(client, *docs):
    return client.post(REGISTRATIONS, data=as_json(*docs), content_type="application/json")


# Probe targets that no probe may ever reach


@pytest.mark.parametrize("kind, target, options", [
    ("http", "http://169.254.169.254/latest/meta-data/", {}),
    ("http", "http://[fd00:ec2::254]/latest/meta-data/", {}),
    ("http", "http://[::ffff:169.254.169.254]/", {}),
    ("http", "http://2852039166/latest/meta-data/", {}),
    ("http", "http://0.0.0.0:8080/", {}),
    ("tcp", "169.254.169.254:80", {}),
    ("tcp", "[fe80::1]:22", {}),
    ("grpc", "[fe80::1%25eth0]:50051", {}),
    ("rabbitmq-queue", "amqp://guest:guest@169.254.169.254:5672/", {"queue": "jobs"}),
    ("nats-consumer", "nats://[fe80::1]:4222", {}),
    ("redis", "redis://0xa9fea9fe:6379/0", {}),
])
def test_it_rejects_a_probe_target_in_an_always_refused_range_at_registration(ci, kind, target, options):
    probe = {"name": "meta", "type": kind, "target": target, **options}
    response = register_json(ci, service_doc("orders", probes=[probe]))
    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"]
    assert error["pointer"] == "/0/spec/probes/0/target"
    assert "refused by the probe target policy" in error["message"] and "always denied" in error["message"]
    assert not Service.objects.filter(name="orders").exists() and not Probe.objects.exists()


def test_it_rejects_the_refused_target_among_other_probes_pointing_at_it(ci):
    probes = [{"name": "health", "type": "http", "target": "http://127.0.0.1:8000/healthz"},
              {"name": "meta", "type": "tcp", "target": "169.254.169.254:80"}]
    response = register_json(ci, service_doc("payment", title="Payment"), service_doc("orders", probes=probes))
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == ["/1/spec/probes/1/target"]


def test_it_handles_names_and_allowed_addresses_without_resolving_them(ci, settings, monkeypatch):
    settings.PROBE_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.PROBE_DENIED_NETWORKS = ["10.9.0.0/16"]

    def no_dns(*args, **kwargs):
        raise AssertionError(f"registration resolved a name: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    probes = [{"name": "by-name", "type": "http", "target": "http://metadata.internal.test/latest/"},
              {"name": "allowed", "type": "tcp", "target": "10.1.2.3:5432"},
              {"name": "local", "type": "tcp", "target": "127.0.0.1:5432"}]
    response = register_json(ci, service_doc("orders", probes=probes))
    assert response.status_code == 201, response.json()
    assert set(Probe.objects.values_list("name", flat=True)) == {"by-name", "allowed", "local"}


def test_it_rejects_an_always_refused_range_even_when_the_allow_list_names_it(ci, settings):
    settings.PROBE_ALLOWED_NETWORKS = ["169.254.0.0/16"]  # the policy refuses it at run time all the same
    probe = {"name": "meta", "type": "tcp", "target": "169.254.169.254:80"}
    assert register_json(ci, service_doc("orders", probes=[probe])).status_code == 422


def test_it_rejects_a_refused_target_sent_to_the_service_api(ci):
    assert register_json(ci, service_doc("orders")).status_code == 201
    probe = {"name": "meta", "type": "http", "target": "http://169.254.169.254/"}
    response = ci.patch("/api/v1/services/orders/", data={"probes": [probe]}, format="json")
    assert response.status_code == 400
    assert "/0/target" in str(response.json()["probes"]) and "always denied" in str(response.json()["probes"])


def test_it_rejects_a_refused_target_in_the_probe_form_next_to_the_target_field(client, maintainer):
    register(service_doc("orders"))
    client.force_login(maintainer)
    data = {"name": "meta", "type": "http", "target": "http://169.254.169.254/latest/meta-data/",
            "interval": "30s", "timeout": "5s", "locations": ["default"], "details": ""}
    response = client.post("/services/orders/probes/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"target"}
    message = form.errors["target"][0]
    assert "169.254.0.0/16 (link-local, cloud metadata or unspecified) is always denied" in message
    assert escape(message) in response.content.decode()
    assert ProbeForm({**data, "target": "http://metadata.internal.test/"}, taken=set()).is_valid()
    assert not Probe.objects.exists()
