"""What fuzzing the API against its own schema found (scripts/api_fuzz.py, `make fuzz`), one test each:
refusals the schema did not document, a list documented as paginated that is not, query parameters
whose bounds the schema did not state or whose empty value was taken for none, nested bodies accepted as
form data they cannot be, and a digit Python reads but int() refuses (a 500)."""
import json

import jsonschema
import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from probes.models import Probe
from topology.models import Interaction

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def schema(admin):
    response = admin.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in WRITES | {"get"} and path.startswith("/api/v1/"):
                yield path, method, operation


def fits(schema, answer, path, method):
    """The answer's status is documented for the operation and its JSON fits the documented schema."""
    responses = schema["paths"][path][method]["responses"]
    assert str(answer.status_code) in responses, f"{method} {path}: {answer.status_code} not in {list(responses)}"
    body = responses[str(answer.status_code)]["content"]["application/json"]["schema"]
    jsonschema.validate(answer.json(), {**body, "components": schema["components"]})


def parameter(schema, path, method, name):
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


# --- Refusals every operation can answer with are documented (core.openapi) ------------------------

def test_every_operation_documents_the_refusals_it_can_answer_with(schema):
    missing = []
    for path, method, operation in operations(schema):
        wanted = {"401", "403"}
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        if "{" in path or "page" in names:
            wanted.add("404")
        if names or "requestBody" in operation:
            wanted.add("400")
        if "requestBody" in operation:
            wanted.add("415")
        if method in WRITES - {"delete"}:
            wanted.add("422")
        missing += [f"{method.upper()} {path} {status}" for status in sorted(wanted - set(operation["responses"]))]
    assert not missing


def test_a_page_past_the_end_is_a_documented_404(admin, schema):
    answer = admin.get("/api/v1/teams/?page=99")
    assert answer.status_code == 404
    fits(schema, answer, "/api/v1/teams/", "get")


def test_an_unknown_object_and_a_refused_write_are_documented(ci, schema):
    fits(schema, ci.get("/api/v1/channels/999999/"), "/api/v1/channels/{id}/", "get")
    answer = ci.post("/api/v1/channels/", {"team": "commerce", "name": "x", "kind": "webhook", "events": [],
                                           "url": "ftp://nowhere"}, format="json")
    assert answer.status_code in (400, 422)
    fits(schema, answer, "/api/v1/channels/", "post")


def test_no_credentials_is_a_documented_401(demo, schema):
    answer = APIClient().get("/api/v1/services/")
    assert answer.status_code == 401
    fits(schema, answer, "/api/v1/services/", "get")


# --- A probe's results are a plain list, paged with `before` ----------------------------------------

def test_a_probes_results_are_the_list_the_schema_says(admin, schema):
    probe = Probe.objects.first()
    answer = admin.get(f"/api/v1/probes/{probe.pk}/results/")
    assert answer.status_code == 200 and answer.json() == []
    fits(schema, answer, "/api/v1/probes/{id}/results/", "get")
    names = {p["name"] for p in schema["paths"]["/api/v1/probes/{id}/results/"]["get"]["parameters"]}
    assert names == {"id", "location", "before", "limit"}
    assert parameter(schema, "/api/v1/probes/{id}/results/", "get", "limit")["schema"] == {
        "type": "integer", "minimum": 1, "maximum": 1000}


@pytest.mark.parametrize("query", ["limit=%C2%B2", "limit=0", "limit=1001", "limit=", "before=", "before=yesterday"])
def test_a_bad_limit_or_before_is_a_400_not_a_500(admin, schema, query):
    probe = Probe.objects.first()
    answer = admin.get(f"/api/v1/probes/{probe.pk}/results/?{query}")
    assert answer.status_code == 400
    fits(schema, answer, "/api/v1/probes/{id}/results/", "get")


# --- Query parameters: bounds stated, empty values refused -------------------------------------------

@pytest.mark.parametrize("path, name, low, high", [
    ("/api/v1/topology/", "hops", 1, 6),
    ("/api/v1/diagrams/flowchart/", "hops", 1, 6),
    ("/api/v1/exports/mermaid/", "hops", 1, 6),
    ("/api/v1/exports/mermaid.zip", "hops", 1, 6),
    ("/api/v1/diagrams/sequence/", "depth", 1, 12),
    ("/api/v1/diagrams/sequence/", "steps", 1, 200),
])
def test_numeric_parameters_state_the_bounds_the_views_enforce(schema, path, name, low, high):
    declared = parameter(schema, path, "get", name)["schema"]
    assert (declared["minimum"], declared["maximum"]) == (low, high)


def test_a_drafts_interaction_is_a_positive_id(admin, schema):
    assert parameter(schema, "/api/v1/decisions/draft/", "get", "interaction")["schema"]["minimum"] == 1
    answer = admin.get("/api/v1/decisions/draft/?interaction=%C2%B2")
    assert answer.status_code == 400
    fits(schema, answer, "/api/v1/decisions/draft/", "get")


@pytest.mark.parametrize("severity", ["AAA", ""])
def test_findings_refuse_an_unknown_or_empty_severity(admin, schema, severity):
    answer = admin.get(f"/api/v1/topology/findings/?severity={severity}")
    assert answer.status_code == 400
    fits(schema, answer, "/api/v1/topology/findings/", "get")
    assert admin.get("/api/v1/topology/findings/?severity=warning").status_code == 200


@pytest.mark.parametrize("page", ["/decisions/new/?supersedes=%C2%B2", "/rules/?run=%C2%B2"])
def test_pages_read_only_ascii_digits_as_numbers(admin, page):
    client = APIClient()
    client.force_login(User.objects.get(username="admin"))
    assert client.get(page).status_code in (200, 302, 404)


# --- Nested bodies are JSON only -----------------------------------------------------------------------

@pytest.mark.parametrize("path, method", [
    ("/api/v1/flows/", "post"), ("/api/v1/flows/{slug}/", "put"), ("/api/v1/flows/{slug}/", "patch"),
    ("/api/v1/decisions/", "post"), ("/api/v1/decisions/{number}/", "put"),
    ("/api/v1/decisions/{number}/", "patch"), ("/api/v1/recommendations/evaluate/", "post"),
])
def test_nested_bodies_are_documented_as_json_only(schema, path, method):
    assert list(schema["paths"][path][method]["requestBody"]["content"]) == ["application/json"]


def test_a_flow_sent_as_form_data_is_a_documented_415(admin, schema):
    step = Interaction.objects.select_related("source").first()
    answer = admin.post("/api/v1/flows/", {"slug": "f", "name": "F", "steps": f"{step.source.name}/{step.name}"},
                        format="multipart")
    assert answer.status_code == 415
    fits(schema, answer, "/api/v1/flows/", "post")


# --- Re-sending a delivery that has not failed ------------------------------------------------------------

def test_resending_a_pending_delivery_is_a_documented_409(admin, schema):
    created = admin.post("/api/v1/channels/", {"team": "commerce", "name": "hook", "kind": "webhook",
                                               "url": "https://hooks.example.invalid/x",
                                               "events": ["decision.changed"]}, format="json")
    assert created.status_code == 201, created.content
    assert admin.post("/api/v1/decisions/", {"title": "T", "team": "commerce"}, format="json").status_code == 201
    from notifications.models import Delivery

    delivery = Delivery.objects.filter(channel_id=created.json()["id"]).first()
    assert delivery is not None and delivery.status == "pending"
    answer = admin.post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/")
    assert answer.status_code == 409
    fits(schema, answer, "/api/v1/notifications/deliveries/{id}/resend/", "post")


# --- What-if: the source is a service name, never a number -------------------------------------------------

def test_evaluate_refuses_a_source_that_is_not_a_string(admin, schema):
    answer = admin.post("/api/v1/recommendations/evaluate/", {"source": 0, "criteria": {}}, format="json")
    assert answer.status_code == 400 and "source" in answer.json()
    fits(schema, answer, "/api/v1/recommendations/evaluate/", "post")
    assert admin.post("/api/v1/recommendations/evaluate/", {"source": "orders"}, format="json").status_code == 200


# --- NUL in text is refused (PostgreSQL cannot store it), and the refusal is documented -----------------------

def test_a_nul_character_in_a_filter_is_a_documented_400(admin, schema):
    answer = admin.get("/api/v1/probes/?q=a%00b")
    assert answer.status_code == 400
    fits(schema, answer, "/api/v1/probes/", "get")


def test_evaluate_documents_targets_as_a_count_or_names(schema):
    body = schema["paths"]["/api/v1/recommendations/evaluate/"]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].split("/")[-1]
    targets = schema["components"]["schemas"][name]["properties"]["targets"]
    assert [choice["type"] for choice in targets["oneOf"]] == ["integer", "array"]


@pytest.mark.parametrize("targets", [[{}], [["orders"]], ["orders", {"a": 1}]])
def test_evaluate_refuses_targets_that_are_not_names_with_a_400_not_a_500(admin, schema, targets):
    answer = admin.post("/api/v1/recommendations/evaluate/", {"targets": targets}, format="json")
    assert answer.status_code == 400 and "targets" in answer.json()
    fits(schema, answer, "/api/v1/recommendations/evaluate/", "post")


# --- A path under /api/ that no route matches is a JSON 404 ------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/services/%C2%84/", "/api/v1/decisions/x/", "/api/v1/nothing-here/"])
def test_an_unrouted_api_path_is_a_json_404(admin, path):
    answer = admin.get(path)
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


def test_an_unrouted_page_is_still_the_html_404(admin):
    answer = admin.get("/no-such-page/")
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")


def test_evaluate_documents_target_names_as_unique_service_names(admin, schema):
    body = schema["paths"]["/api/v1/recommendations/evaluate/"]["post"]["requestBody"]["content"]["application/json"]
    names = schema["components"]["schemas"][body["schema"]["$ref"].split("/")[-1]]["properties"]["targets"]["oneOf"][1]
    assert names["uniqueItems"] is True and names["items"]["pattern"].startswith("^[a-z0-9]")
    answer = admin.post("/api/v1/recommendations/evaluate/", {"targets": ["orders", "orders"]}, format="json")
    assert answer.status_code == 400


def test_evaluate_documents_the_criteria_it_takes(admin, schema):
    body = schema["paths"]["/api/v1/recommendations/evaluate/"]["post"]["requestBody"]["content"]["application/json"]
    criteria = schema["components"]["schemas"][body["schema"]["$ref"].split("/")[-1]]["properties"]["criteria"]
    assert criteria["additionalProperties"] is False and "can_defer" in criteria["properties"]
    assert criteria["properties"]["can_defer"] == {**criteria["properties"]["can_defer"], "type": "boolean",
                                                    "nullable": True}
    answer = admin.post("/api/v1/recommendations/evaluate/", {"criteria": {"unknown": 1}}, format="json")
    assert answer.status_code == 400


# --- Accepting a plan twice ------------------------------------------------------------------------------------

def test_accepting_a_plan_twice_is_a_documented_409(admin, schema):
    plan = {"name": "decouple", "title": "Decouple", "changes": [
        {"interaction": "storefront-web/place-order", "style": "pubsub", "channel": "orders.placed", "broker": "kafka"}]}
    assert admin.post("/api/v1/plans/", plan, format="json").status_code == 201
    assert admin.post("/api/v1/plans/decouple/accept/").status_code == 201
    answer = admin.post("/api/v1/plans/decouple/accept/")
    assert answer.status_code == 409
    fits(schema, answer, "/api/v1/plans/{name}/accept/", "post")
