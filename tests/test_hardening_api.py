"""What a new user ran into: files refused (406) when asked for by their own media type, answers the
OpenAPI schema described otherwise, and probe targets that can never be reached accepted until they ran."""
import json
import re
import socket

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.utils.html import escape
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from decisions.services import decision_create
from probes.forms import ProbeForm
from probes.models import Probe
from reports.models import Report, ReportFile
from tests.factories import as_json, as_yaml, register, rest, service_doc
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


@pytest.mark.parametrize("accept, content_type", [
    ("image/png", "image/png"), ("text/vnd.graphviz", "text/vnd.graphviz; charset=utf-8"),
    ("application/json", "application/json"), ("image/*", "image/svg+xml"), (BROWSER, "image/svg+xml"),
])
def test_it_handles_a_topology_without_format_in_the_format_accept_asks_for(admin, accept, content_type):
    response = admin.get("/api/v1/topology/", HTTP_ACCEPT=accept)
    assert response.status_code == 200 and response["Content-Type"] == content_type


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
    assert first.status_code == 200 and first["ETag"]
    assert first["Content-Disposition"] == 'inline; filename="topology.svg"'
    again = admin.get("/api/v1/topology/?format=svg", HTTP_ACCEPT="image/svg+xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]


# Answers are what the OpenAPI schema says they are


def json_schema(node):
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    return {"anyOf": [node, {"type": "null"}]} if node.pop("nullable", False) else node


@pytest.fixture
def documented(admin):
    """Checks an answer against the schema document /api/schema/ serves ($refs into its components)."""
    response = admin.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = json.loads(response.content)
    components = json_schema(document["components"])

    def check(method: str, template: str, answer) -> None:
        """The answer's status and media type are documented for this operation, and its JSON fits."""
        responses = document["paths"][template][method.lower()]["responses"]
        assert str(answer.status_code) in responses, f"{method} {template} does not document {answer.status_code}"
        content = responses[str(answer.status_code)].get("content", {})
        media_type = answer["Content-Type"].split(";")[0]
        assert media_type in content, f"{method} {template} {answer.status_code}: {media_type} not in {list(content)}"
        if media_type == "application/json":
            schema = {**json_schema(content[media_type]["schema"]), "components": components}
            jsonschema.validate(answer.json(), schema)

    def validate(body, component: str) -> None:
        jsonschema.validate(body, {"$ref": f"#/components/schemas/{component}", "components": components})

    check.validate, check.components = validate, components
    return check


def client_of(username: str) -> APIClient:
    client = APIClient()
    client.force_login(User.objects.get(username=username))
    return client


NOTIFY = rest("order-cancelled", "shipping", "invoicing",
              criteria={"can_defer": True, "operation": "notification", "eventual_consistency_ok": True,
                        "requires_decoupling": True, "needs_immediate_response": False})
RULE = {"slug": "pci-stays-sync", "title": "Payment calls stay synchronous", "decides": "pattern",
        "condition": 'operation == "notification" and targets > 1', "effects": {"request-response": 20},
        "cites": "§5.1", "explanation": "House rule: {source} keeps calling {targets} directly.", "enabled": True}
META = {"name": "meta", "type": "http", "target": "http://169.254.169.254/latest/meta-data/"}
SERVICES = "/api/v1/services/"
TOPOLOGY, SEQUENCE, FLOWS, RULES = "/api/v1/topology/", "/api/v1/diagrams/sequence/", "/api/v1/flows/", "/api/v1/rules/"
PREVIEW, DOWNLOAD = "/api/v1/rules/preview/", "/api/v1/reports/{id}/download/"
YAML = "application/yaml"
STEP = {"interaction": "storefront-web/place-order"}
# (who, method, path as documented, query or path values, how, body, status); `how` is the request's content
# type, "json", or "accept:" and the Accept header.
ANSWERS = [
    ("admin", "GET", "/api/v1/rules/builtin/", "", None, None, 200),
    ("admin", "POST", REGISTRATIONS, "", YAML, "", 422),
    ("admin", "POST", REGISTRATIONS, "", YAML, as_yaml(service_doc("orders", probes=[META])), 422),
    ("admin", "POST", REGISTRATIONS, "?fail_on=warning", YAML,
     as_yaml(service_doc("orders", interactions=[NOTIFY])), 422),
    ("admin", "POST", REGISTRATIONS, "", "application/json", "", 400),
    ("admin", "POST", REGISTRATIONS, "?dry_run=maybe", YAML, as_yaml(service_doc("x")), 400),
    ("admin", "POST", REGISTRATIONS, "", "text/plain", "x", 415),
    ("maria", "POST", REGISTRATIONS, "", YAML, as_yaml(service_doc("accounts", team="identity")), 403),
    ("admin", "POST", REGISTRATIONS, "?dry_run=true", YAML, as_yaml(service_doc("orders")), 200),
    ("admin", "GET", SERVICES, "", None, None, 200),  # with placeholders, which have no team
    ("admin", "GET", SERVICES + "{name}/", "payment", None, None, 200),
    ("admin", "GET", TOPOLOGY, "?format=json", None, None, 200),
    ("admin", "GET", TOPOLOGY, "?format=svg", None, None, 200),
    ("admin", "GET", TOPOLOGY, "?format=gif", None, None, 400),
    ("admin", "GET", TOPOLOGY, "?format=svg", "accept:application/x-nothing", None, 406),
    ("admin", "GET", "/api/v1/topology/findings/", "", None, None, 200),
    ("admin", "GET", SEQUENCE, "", "accept:text/vnd.mermaid", None, 400),
    ("admin", "GET", SEQUENCE, "?flow=nope", None, None, 404),
    ("admin", "GET", "/api/v1/diagrams/flowchart/", "?team=nope", None, None, 400),
    ("admin", "GET", FLOWS, "", None, None, 200),
    ("admin", "POST", FLOWS, "", "json", {"slug": "f", "name": "F", "steps": [STEP]}, 201),
    ("admin", "POST", FLOWS, "", "json", {"slug": "f", "name": "F", "steps": [{"interaction": "a/b"}]}, 422),
    ("admin", "POST", FLOWS, "", "json", {"name": "F"}, 400),
    ("maria", "POST", FLOWS, "", "json", {"slug": "f", "name": "F", "steps": [STEP]}, 403),
    ("admin", "POST", RULES, "", "json", RULE, 201),
    ("admin", "POST", RULES, "", "json", {**RULE, "condition": "operation == and"}, 422),
    ("admin", "POST", RULES, "", "json", {**RULE, "slug": "Not A Slug"}, 400),
    ("maria", "POST", RULES, "", "json", RULE, 403),
    ("admin", "POST", PREVIEW, "", "json", RULE, 200),
    ("admin", "POST", PREVIEW, "", "json", {**RULE, "effects": {"kafka": 2}}, 422),
    ("admin", "POST", "/api/v1/recommendations/evaluate/", "", "json", {"criteria": {"nope": True}}, 400),
    ("admin", "GET", "/api/v1/exports/mermaid/", "?team=nope", "accept:text/markdown", None, 422),
    ("admin", "GET", "/api/v1/exports/mermaid.zip", "?service=nope", None, None, 422),
    ("admin", "GET", "/api/v1/decisions/{number}/madr/", "99", "accept:text/markdown", None, 404),
    ("admin", "GET", "/api/v1/exports/decisions.zip", "", "accept:text/markdown", None, 406),
    ("admin", "GET", DOWNLOAD, "99999", "accept:application/pdf", None, 404),
    ("admin", "GET", DOWNLOAD, "queued", None, None, 409),
]


def url_of(template: str, values: str) -> str:
    """The documented path with its {parameter} filled in by `values`, or with `values` as its query."""
    return re.sub(r"\{[a-z_]+\}", values, template) if "{" in template else template + values


@pytest.mark.parametrize("who, method, template, values, how, body, status", ANSWERS,
                         ids=[f"{who} {method} {url_of(template, values)} {status}"
                              for who, method, template, values, _, _, status in ANSWERS])
def test_it_handles_each_answer_as_the_schema_documents_it(demo, documented, who, method, template, values, how,
                                                          body, status):
    if values == "queued":
        values = str(Report.objects.create(requested_by="tester", requested_via="cli").pk)
    url, client = url_of(template, values), client_of(who)
    if how and how.startswith("accept:"):
        answer = client.generic(method, url, HTTP_ACCEPT=how.removeprefix("accept:"))
    elif how:
        answer = client.generic(method, url, json.dumps(body) if how == "json" else body,
                                content_type="application/json" if how == "json" else how)
    else:
        answer = client.generic(method, url)
    assert answer.status_code == status, answer.content[:500]
    documented(method, template, answer)


def test_it_rejects_answers_that_differ_from_the_old_descriptions(admin, documented):
    """What the schema said before: the built-in rules as one custom rule, a 422 as a list of errors."""
    builtin = admin.get("/api/v1/rules/builtin/")
    assert set(builtin.json()) == {"version", "rules"}
    documented("GET", "/api/v1/rules/builtin/", builtin)
    with pytest.raises(jsonschema.ValidationError):
        documented.validate(builtin.json(), "CustomRule")
    refused = admin.post(REGISTRATIONS, data="", content_type="application/yaml")
    assert refused.json() == {"detail": "the request is invalid",
                              "errors": [{"pointer": "", "message": "the manifest names no service"}]}
    documented("POST", REGISTRATIONS, refused)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(refused.json(), {"type": "array", "items": {"$ref": "#/components/schemas/RefusalError"},
                                             "components": documented.components})


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
