"""The manifest's JSON Schema: published, complete, the one the API validates with, and read by editors."""
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from probes.engine.spec import Kind
from topology import manifest_schema as ms
from topology.choices import Broker, Lifecycle, Style
from topology.criteria import CRITERIA
from topology.manifest import manifest_parse, manifest_schema, manifest_validate

from .factories import as_yaml, rest, service_doc

ROOT = Path(__file__).resolve().parent.parent
URL = "/api/v1/manifest/schema.json"


def _examples():
    text = (ROOT / "docs" / "manifest.md").read_text()
    yaml_blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:] if "apiVersion" in b]
    json_blocks = [b.split("```", 1)[0] for b in text.split("```json\n")[1:] if "apiVersion" in b]
    documents = [doc for block in yaml_blocks for doc in yaml.safe_load_all(block) if doc]
    for block in json_blocks:
        data = json.loads(block)
        if "items" in data or "kind" in data:
            documents += data["items"] if "items" in data else [data]
    documents += [doc for doc in yaml.safe_load_all((ROOT / "topology" / "demo" / "shop.yaml").read_text()) if doc]
    return documents


def test_it_handles_a_request_without_a_token(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/schema+json")
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "http://testserver" + URL
    Draft202012Validator.check_schema(schema)


def test_it_handles_every_example_of_the_docs_and_the_demo_with_a_plain_validator(client, db):
    validator = Draft202012Validator(client.get(URL).json())  # what an editor does
    examples = _examples()
    assert len(examples) >= 5
    for document in examples:
        assert list(validator.iter_errors(document)) == []
    assert list(validator.iter_errors({"items": examples})) == []


def test_it_rejects_with_a_plain_validator_what_the_api_rejects(client, db):
    validator = Draft202012Validator(client.get(URL).json())
    bad = service_doc("Orders", interactions=[{"name": "x", "to": ["b"], "style": "pubsub", "colour": 1}])
    assert list(validator.iter_errors(bad))
    assert manifest_validate([bad]).errors


def test_it_handles_the_constants_of_the_code():
    schema = manifest_schema()
    service = schema["$defs"]["service"]
    interaction = service["properties"]["spec"]["properties"]["interactions"]["items"]
    criteria = interaction["properties"]["criteria"]["properties"]
    assert list(criteria) == [criterion.key for criterion in CRITERIA]
    assert interaction["properties"]["style"]["enum"] == [*Style.values, None]
    assert interaction["properties"]["broker"]["enum"] == [*Broker.values, None]
    assert service["properties"]["spec"]["properties"]["lifecycle"]["enum"] == [*Lifecycle.values, None]
    probe = service["properties"]["spec"]["properties"]["probes"]["items"]
    assert probe["properties"]["type"]["enum"] == [str(kind) for kind in Kind]


def test_it_handles_the_editor_line_in_the_docs():
    text = (ROOT / "docs" / "manifest.md").read_text()
    assert "# yaml-language-server: $schema=https://switchboard.example.com/api/v1/manifest/schema.json" in text


def _errors(*docs):
    return manifest_validate(manifest_parse(as_yaml(*docs).encode(), "application/yaml")).errors


@pytest.mark.parametrize("name", ["orders\n", "orders\n\n", "\norders"])
def test_it_rejects_a_name_around_newlines(name):
    assert [e["pointer"] for e in _errors(service_doc(name))] == ["/0/metadata/name"]


def test_it_rejects_non_finite_numbers_with_the_criterion_wording():
    doc = service_doc("a", interactions=[rest("x", "b", criteria={"peak_rps": float("nan"),
                                                                  "latency_budget_ms": 10**40})])
    assert _errors(doc) == [  # in document order
        {"pointer": "/0/spec/interactions/0/criteria/peak_rps", "message": "peak_rps must be a number"},
        {"pointer": "/0/spec/interactions/0/criteria/latency_budget_ms",
         "message": "latency_budget_ms must be a whole number"},
    ]


def test_it_handles_pointers_the_api_returned_before():
    doc = service_doc("a", interactions=[rest("x", "b"), {"name": "y", "to": ["c"], "style": "carrier-pigeon"}])
    doc["metadata"]["labels"] = {"team/owner": 5}
    assert _errors(doc) == [
        {"pointer": "/0/metadata/labels/team~1owner",
         "message": "label 'team/owner' must be a string (quote numbers and booleans)"},
        {"pointer": "/0/spec/interactions/1/style",
         "message": "style must be one of rest, grpc, pubsub, queue; got 'carrier-pigeon'"},
    ]


def test_it_rejects_probes_when_no_app_contributes_their_schema():
    schema = ms.manifest_schema(styles=Style.values, async_styles=["pubsub", "queue"], brokers=Broker.values,
                                lifecycles=Lifecycle.values, probe=None)
    doc = service_doc("a", probes=[{"name": "h", "type": "tcp", "target": "db:5432"}])
    assert ms.schema_errors(ms.schema_validator(schema), [doc]) == [
        ("/0/spec/probes", "probes cannot be declared here: the probes app is not installed")]


def test_it_rejects_too_many_services_in_one_error():
    docs = [service_doc(f"s{n}") for n in range(ms.MAX_SERVICES + 1)]
    assert manifest_validate(docs).errors == [
        {"pointer": "", "message": "at most 10,000 services in one manifest; got 10,001"}]


def test_it_handles_at_most_200_errors():
    docs = [service_doc(f"S{n}") for n in range(300)]
    assert len(manifest_validate(docs).errors) == ms.MAX_ERRORS
