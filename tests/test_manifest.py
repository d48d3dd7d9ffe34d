"""The manifest parser and validator: pure code, no database."""
import time

import pytest

from topology.manifest import ManifestParseError, manifest_parse, manifest_validate

from .factories import as_json, as_yaml, pubsub, rest, service_doc

FULL = b"""
apiVersion: switchboard/v1
kind: Service
metadata:
  name: orders
  team: commerce
  title: Orders
  description: Takes and tracks orders
  labels: {tier: critical}
spec:
  lifecycle: production
  language: java
  repository: https://git.example.com/commerce/orders
  interactions:
    - name: authorize-payment
      to: [payment]
      description: Authorise the card before confirming the order
      style: rest
      channel: null
      broker: null
      criteria:
        needs_immediate_response: true
        operation: command
        can_defer: false
        requires_decoupling: false
        bursty_traffic: false
        eventual_consistency_ok: false
        external_clients: false
        needs_streaming: false
        latency_budget_ms: 200
        peak_rps: 500
  probes: []
"""


def validate(text, content_type="application/yaml"):
    return manifest_validate(manifest_parse(text.encode() if isinstance(text, str) else text, content_type))


def pointers(result):
    return [error["pointer"] for error in result.errors]


def test_it_parses_the_documented_example():
    result = validate(FULL)
    assert result.errors == []
    (service,) = result.services
    assert (service.name, service.team, service.labels) == ("orders", "commerce", {"tier": "critical"})
    (interaction,) = service.interactions
    assert interaction.targets == ("payment",)
    assert interaction.criteria["latency_budget_ms"] == 200
    assert interaction.channel == "" and interaction.broker == ""


def test_it_handles_multi_document_yaml_and_json_items():
    docs = [service_doc("a"), service_doc("b", interactions=[rest("call", "a")])]
    assert [s.name for s in validate(as_yaml(*docs)).services] == ["a", "b"]
    assert [s.name for s in validate(as_json(*docs), "application/json").services] == ["a", "b"]


def test_it_handles_a_single_json_object():
    result = validate('{"apiVersion": "switchboard/v1", "kind": "Service", "metadata": {"name": "a", "team": "t"}}',
                      "application/json; charset=utf-8")
    assert [s.name for s in result.services] == ["a"]


@pytest.mark.parametrize("body,content_type,fragment", [
    ("{", "application/json", "invalid JSON at line 1"),
    ("a: [", "application/yaml", "invalid YAML at line"),
    ("[1, 2", "application/yaml", "invalid YAML"),
    ('"text"', "application/json", "one object or"),
    ("a: 1", "text/plain", "unsupported Content-Type"),
])
def test_it_rejects_unparseable_bodies(body, content_type, fragment):
    with pytest.raises(ManifestParseError, match=fragment):
        manifest_parse(body.encode(), content_type)


def test_it_rejects_non_utf8():
    with pytest.raises(ManifestParseError, match="not UTF-8"):
        manifest_parse(b"\xff\xfe", "application/yaml")


def test_it_reports_every_error_with_its_pointer():
    bad = service_doc("Orders!", interactions=[
        rest("ok", "payment"),
        rest("dup", "payment"),
        {"name": "dup", "to": ["Bad Name", "payment", "payment"], "style": "queue",
         "criteria": {"can_defer": "yes", "colour": "red", "latency_budget_ms": -1}},
    ], lifecycle="retired", flavour="x")
    result = validate(as_yaml(bad))
    assert result.services == []
    assert pointers(result) == [  # in document order
        "/0/metadata/name",
        "/0/spec/interactions/2/name",
        "/0/spec/interactions/2/to/0",
        "/0/spec/interactions/2/to/2",
        "/0/spec/interactions/2/criteria/can_defer",
        "/0/spec/interactions/2/criteria/colour",
        "/0/spec/interactions/2/criteria/latency_budget_ms",
        "/0/spec/interactions/2/channel",
        "/0/spec/lifecycle",
        "/0/spec/flavour",
    ]


def test_it_rejects_duplicate_interactions_and_services():
    doc = service_doc("a", interactions=[rest("x", "b"), rest("x", "c")])
    result = validate(as_yaml(doc, service_doc("a")))
    assert pointers(result) == ["/0/spec/interactions/1/name", "/1/metadata/name"]


def test_it_rejects_a_service_targeting_itself():
    assert pointers(validate(as_yaml(service_doc("a", interactions=[rest("x", "a")])))) == [
        "/0/spec/interactions/0/to/0"]


def test_it_rejects_channel_on_sync_style_and_missing_channel_on_async():
    doc = service_doc("a", interactions=[
        rest("x", "b", channel="topic", broker="kafka"),
        {"name": "y", "to": ["b"], "style": "pubsub"},
        pubsub("z", "has space", "b"),
    ])
    assert pointers(validate(as_yaml(doc))) == [
        "/0/spec/interactions/0/channel", "/0/spec/interactions/0/broker",
        "/0/spec/interactions/1/channel", "/0/spec/interactions/2/channel",
    ]


def test_it_rejects_wrong_api_version_kind_and_unknown_fields():
    doc = {"apiVersion": "v2", "kind": "Thing", "metadata": {"name": "a", "team": "t", "owner": "x"}, "extra": 1}
    assert pointers(validate(as_yaml(doc))) == [
        "/0/apiVersion", "/0/kind", "/0/metadata/owner", "/0/extra"]


def test_it_rejects_non_string_labels_and_escapes_pointer_tokens():
    doc = service_doc("a")
    doc["metadata"]["labels"] = {"team/owner": 5, "ok": "yes"}
    result = validate(as_yaml(doc))
    assert pointers(result) == ["/0/metadata/labels/team~1owner"]
    assert "quote" in result.errors[0]["message"]


def test_it_rejects_an_empty_manifest():
    assert pointers(validate("")) == [""]


def test_it_normalises_whole_number_criteria():
    doc = service_doc("a", interactions=[rest("x", "b", criteria={"latency_budget_ms": 200.0, "peak_rps": 2.5})])
    (interaction,) = validate(as_yaml(doc)).services[0].interactions
    assert interaction.criteria == {"latency_budget_ms": 200, "peak_rps": 2.5}


def test_it_rejects_fractional_latency_and_booleans_as_numbers():
    doc = service_doc("a", interactions=[rest("x", "b", criteria={"latency_budget_ms": 1.5, "peak_rps": True})])
    assert pointers(validate(as_yaml(doc))) == [
        "/0/spec/interactions/0/criteria/latency_budget_ms", "/0/spec/interactions/0/criteria/peak_rps"]


def _doc_blocks(language):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "manifest.md").read_text()
    blocks = [block.split("```", 1)[0] for block in text.split(f"```{language}\n")[1:]]
    return [block for block in blocks if "apiVersion" in block]


@pytest.mark.parametrize("language,content_type", [("yaml", "application/yaml"), ("json", "application/json")])
def test_it_accepts_every_example_in_the_manifest_docs(language, content_type):
    blocks = _doc_blocks(language)
    assert blocks
    for block in blocks:
        assert validate(block, content_type).errors == []


BOMB = """
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


@pytest.mark.parametrize("metadata,spec", [
    ("{name: z, team: t}", "{probes: [{x: *g}]}"),
    ("{name: z, team: t}", "{lifecycle: *g}"),
    ("{name: z, team: t}", "{interactions: [{name: i, to: [c], criteria: {operation: *g}}]}"),
    ("{name: z, team: t, labels: {k: *g}}", "{}"),
    ("{name: *g, team: t}", "{}"),
], ids=["probes", "lifecycle", "operation", "labels", "name"])
def test_it_rejects_alias_bombs_without_expanding_them(metadata, spec):
    # g stands for 9**7 (about 4.8 million) strings if expanded: refused as a whole, in one clear error.
    text = BOMB.strip() + f"\napiVersion: switchboard/v1\nkind: Service\nmetadata: {metadata}\nspec: {spec}\n"
    started = time.perf_counter()
    result = validate(text)
    assert time.perf_counter() - started < 5
    assert [error["pointer"] for error in result.errors] == [""]
    assert "YAML aliases" in result.errors[0]["message"]


def test_it_rejects_deep_nesting_as_unparseable():
    with pytest.raises(ManifestParseError, match="nested too deeply"):
        manifest_parse(b"[" * 100_000 + b"]" * 100_000, "application/json")
