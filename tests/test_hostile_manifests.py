"""Malformed and hostile manifests posted through the real API, with a CI token, applied and as a dry run.

Every case gets a 4xx: a 422/403 whose errors each carry a JSON pointer and a message, or a clear
top-level `detail` for a body that cannot be read at all (400, 413). Never a 500, never a hang (each
request is timed), and afterwards every table holds exactly the rows it held before.
"""
import copy
import json
import time

import pytest
import yaml
from django.apps import apps

URL = "/api/v1/registrations/"
SECONDS = 15  # a loaded CI machine; each case takes well under a second on a laptop
YAML, JSON = "application/yaml", "application/json"

VALID = {
    "apiVersion": "switchboard/v1",
    "kind": "Service",
    "metadata": {"name": "orders", "team": "commerce", "title": "Orders", "description": "Takes orders",
                 "labels": {"tier": "critical"}},
    "spec": {
        "lifecycle": "production", "language": "java", "repository": "https://git.example.com/commerce/orders",
        "interactions": [
            {"name": "authorize-payment", "to": ["payment"], "description": "Authorise the card", "style": "rest",
             "criteria": {"needs_immediate_response": True, "operation": "command", "latency_budget_ms": 200,
                          "peak_rps": 500}},
            {"name": "order-placed", "to": ["shipping", "invoicing"], "style": "pubsub", "channel": "orders.placed",
             "broker": "kafka", "criteria": {"can_defer": True}},
        ],
        "probes": [{"name": "health", "type": "http", "target": "https://orders.example.com/healthz",
                    "interval": "30s", "timeout": "5s", "locations": ["default"], "method": "GET",
                    "expect": {"status": [200], "max_latency_ms": 500}}],
    },
}


def doc(**changes):
    """VALID with changes at paths like "metadata.name" or "spec.interactions.0.to.0" (None deletes)."""
    document = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, last = path.replace("__", ".").split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key = int(last) if isinstance(node, list) else last
        node[key] = value
    return document


def as_yaml(*documents):
    return yaml.safe_dump_all(list(documents), sort_keys=False, allow_unicode=True).encode()


def as_json(*documents):
    return json.dumps({"items": list(documents)}).encode()


def interaction(**fields):
    return {"name": "call", "to": ["payment"], "style": "rest", **fields}


def with_interactions(*items):
    return doc(**{"spec.interactions": list(items)})


BOMB = b"""
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
apiVersion: switchboard/v1
kind: Service
metadata: {name: orders, team: commerce, labels: {lol: *i}}
"""
TARGETS = b"[" + b", ".join(b"p%d" % n for n in range(100)) + b"]"
CALLS = b"[{name: c0, to: &t " + TARGETS + b"}, " + b", ".join(b"{name: c%d, to: *t}" % n for n in range(1, 500)) + b"]"
BOMB_IN_A_VALID_PLACE = (  # 300 services x 500 interactions x 100 targets, each one valid, in a 40 kB body
    b"items:\n- {apiVersion: switchboard/v1, kind: Service, metadata: {name: s0, team: commerce}, "
    b"spec: {interactions: &calls " + CALLS + b"}}\n"
    + b"".join(b"- {apiVersion: switchboard/v1, kind: Service, metadata: {name: s%d, team: commerce}, "
               b"spec: {interactions: *calls}}\n" % n for n in range(1, 300)))

# (id, body, content type, a pointer the errors must include, or None for a top-level refusal)
CASES = [
    # Bodies that cannot be read at all: 400/413 with a detail.
    ("invalid-yaml", b"apiVersion: [switchboard/v1\nkind: Service", YAML, None),
    ("invalid-yaml-tabs", b"metadata:\n\tname: orders\n", YAML, None),
    ("invalid-json", b'{"apiVersion": "switchboard/v1",', JSON, None),
    ("json-not-an-object", b'"orders"', JSON, None),
    ("non-utf8-latin1", "apiVersion: switchboard/v1\nmetadata: {name: café}".encode("latin-1"), YAML, None),
    ("non-utf8-bytes", b"\xff\xfe\xfd\x00\x80", YAML, None),
    ("utf16", "apiVersion: switchboard/v1".encode("utf-16"), JSON, None),
    ("nul-byte-in-yaml", as_yaml(VALID).replace(b"name: orders", b"name: ord\x00ers"), YAML, None),
    ("nul-byte-in-json", as_json(VALID).replace(b'"orders"', b'"ord\x00ers"'), JSON, None),
    ("ten-megabytes", b"# " + b"x" * (10 * 1024 * 1024) + b"\n", YAML, None),
    ("ten-megabytes-json", b'{"items": [' + b'"x", ' * (2 * 1024 * 1024) + b'"x"]}', JSON, None),
    ("deep-json-lists", b"[" * 10_000 + b"]" * 10_000, JSON, None),
    ("deep-yaml-flow-lists", b"[" * 10_000 + b"]" * 10_000, YAML, None),
    ("deep-yaml-block-lists", b"- " * 10_000 + b"x\n", YAML, None),
    ("int-of-5000-digits-json", as_json(VALID).replace(b'"peak_rps": 500', b'"peak_rps": ' + b"9" * 5000), JSON, None),
    ("int-of-5000-digits-yaml", as_yaml(VALID).replace(b"peak_rps: 500", b"peak_rps: " + b"9" * 5000), YAML, None),
    # Expanded, nested or numeric monsters that parse: 422 with a pointer.
    ("billion-laughs", BOMB, YAML, ""),
    ("alias-bomb-of-valid-targets", BOMB_IN_A_VALID_PLACE, YAML, ""),
    ("nested-100-levels", as_json(doc(**{"metadata.title": json.loads("[" * 100 + "]" * 100)})), JSON, ""),
    ("huge-hex-int", as_yaml(VALID).replace(b"peak_rps: 500", b"peak_rps: 0x" + b"f" * 5000), YAML,
     "/0/spec/interactions/0/criteria/peak_rps"),
    ("huge-float", as_json(VALID).replace(b'"peak_rps": 500', b'"peak_rps": 1e400'), JSON,
     "/0/spec/interactions/0/criteria/peak_rps"),
    ("nan", as_json(VALID).replace(b'"peak_rps": 500', b'"peak_rps": NaN'), JSON,
     "/0/spec/interactions/0/criteria/peak_rps"),
    ("minus-infinity", as_json(VALID).replace(b'"latency_budget_ms": 200', b'"latency_budget_ms": -Infinity'), JSON,
     "/0/spec/interactions/0/criteria/latency_budget_ms"),
    ("yaml-inf", as_yaml(VALID).replace(b"peak_rps: 500", b"peak_rps: .inf"), YAML,
     "/0/spec/interactions/0/criteria/peak_rps"),
    ("huge-latency", as_json(doc(**{"spec.interactions.0.criteria.latency_budget_ms": 10**30})), JSON,
     "/0/spec/interactions/0/criteria/latency_budget_ms"),
    ("huge-redirects", as_json(doc(**{"spec.probes.0.max_redirects": 10**18})), JSON, "/0/spec/probes/0/max_redirects"),
    ("huge-status", as_json(doc(**{"spec.probes.0.expect.status": [2**70]})), JSON, "/0/spec/probes/0/expect/status"),
    ("huge-int-label", as_yaml(VALID).replace(b"tier: critical", b"tier: " + b"9" * 4000), YAML,
     "/0/metadata/labels/tier"),
    # Shapes: a few by hand (the generated cases below cover every field).
    ("empty-yaml", b"", YAML, ""),
    ("empty-items", b'{"items": []}', JSON, ""),
    ("documents-of-scalars", b"--- 1\n--- orders\n--- [a]\n", YAML, "/0"),
    ("yaml-timestamp-as-name", as_yaml(VALID).replace(b"name: orders", b"name: 2024-01-01"), YAML, "/0/metadata/name"),
    ("yaml-binary-title", as_yaml(VALID).replace(b"title: Orders", b"title: !!binary aGVsbG8="), YAML,
     "/0/metadata/title"),
    ("non-string-label-key", as_yaml(VALID).replace(b"tier: critical", b"7: critical"), YAML, "/0/metadata/labels/7"),
    ("null-metadata", as_yaml(doc(metadata=None)), YAML, "/0/metadata"),
    ("missing-name-and-team", as_yaml(doc(metadata={})), YAML, "/0/metadata/name"),
    ("string-criteria-number", as_yaml(doc(**{"spec.interactions.0.criteria.peak_rps": "500"})), YAML,
     "/0/spec/interactions/0/criteria/peak_rps"),
    ("bool-as-number", as_yaml(doc(**{"spec.interactions.0.criteria.latency_budget_ms": True})), YAML,
     "/0/spec/interactions/0/criteria/latency_budget_ms"),
    ("fractional-latency", as_yaml(doc(**{"spec.interactions.0.criteria.latency_budget_ms": 1.5})), YAML,
     "/0/spec/interactions/0/criteria/latency_budget_ms"),
    ("too-many-interactions", as_json(with_interactions(*[interaction(name=f"c{n}") for n in range(501)])), JSON,
     "/0/spec/interactions"),
    ("too-many-targets", as_json(with_interactions(interaction(to=[f"t{n}" for n in range(101)]))), JSON,
     "/0/spec/interactions/0/to"),
    ("a-million-targets", as_json(with_interactions(interaction(to=["t"] * 1_000_000))), JSON, ""),
    ("too-long-description", as_json(doc(**{"metadata.description": "x" * 4001})), JSON, "/0/metadata/description"),
    # Unknown keys at every level.
    ("unknown-top-key", as_yaml(doc(status="live")), YAML, "/0/status"),
    ("unknown-metadata-key", as_yaml(doc(**{"metadata.owner": "me"})), YAML, "/0/metadata/owner"),
    ("unknown-spec-key", as_yaml(doc(**{"spec.replicas": 3})), YAML, "/0/spec/replicas"),
    ("unknown-interaction-key", as_yaml(doc(**{"spec.interactions.0.timeout": 3})), YAML,
     "/0/spec/interactions/0/timeout"),
    ("unknown-criterion", as_yaml(doc(**{"spec.interactions.0.criteria.colour": "red"})), YAML,
     "/0/spec/interactions/0/criteria/colour"),
    ("unknown-probe-key", as_yaml(doc(**{"spec.probes.0.queue": "jobs"})), YAML, "/0/spec/probes/0/queue"),
    ("unknown-expectation", as_yaml(doc(**{"spec.probes.0.expect.max_ready": 1})), YAML,
     "/0/spec/probes/0/expect/max_ready"),
    ("unknown-key-with-slash", as_yaml(doc(**{"metadata.team/owner": "x"})), YAML, "/0/metadata/team~1owner"),
    ("items-with-siblings", b'{"items": [], "extra": 1}', JSON, "/0/items"),
    # Names that break the slug rules.
    *[(f"name-{label}", as_json(doc(**{"metadata.name": name})), JSON, "/0/metadata/name") for label, name in [
        ("upper-case", "Orders"), ("leading-dash", "-orders"), ("trailing-dash", "orders-"), ("underscore", "ord_ers"),
        ("space", "ord ers"), ("dot", "ord.ers"), ("64-chars", "a" * 64), ("empty", ""), ("trailing-newline", "orders\n"),
        ("leading-newline", "\norders"), ("slash", "ord/ers"), ("emoji", "orders🚀"), ("number", 42), ("null", None),
    ]],
    ("team-upper-case", as_json(doc(**{"metadata.team": "Commerce"})), JSON, "/0/metadata/team"),
    ("interaction-name-space", as_json(with_interactions(interaction(name="call payment"))), JSON,
     "/0/spec/interactions/0/name"),
    ("target-upper-case", as_json(with_interactions(interaction(to=["Payment"]))), JSON, "/0/spec/interactions/0/to/0"),
    ("probe-name-underscore", as_json(doc(**{"spec.probes.0.name": "health_check"})), JSON, "/0/spec/probes/0/name"),
    ("label-key-space", as_json(doc(**{"metadata.labels": {"a b": "c"}})), JSON, "/0/metadata/labels/a b"),
    ("channel-with-space", as_json(with_interactions(interaction(style="queue", channel="jobs queue"))), JSON,
     "/0/spec/interactions/0/channel"),
    # References: self, repeated, unknown team, a service in another team.
    ("self-target", as_json(with_interactions(interaction(to=["orders"]))), JSON, "/0/spec/interactions/0/to/0"),
    ("repeated-target", as_json(with_interactions(interaction(to=["payment", "payment"]))), JSON,
     "/0/spec/interactions/0/to/1"),
    ("duplicated-interaction", as_json(with_interactions(interaction(), interaction(to=["shipping"]))), JSON,
     "/0/spec/interactions/1/name"),
    ("duplicated-service", as_yaml(VALID, VALID), YAML, "/1/metadata/name"),
    ("duplicated-probe", as_json(doc(**{"spec.probes": VALID["spec"]["probes"] * 2})), JSON, "/0/spec/probes/1/name"),
    ("unknown-team", as_json(doc(**{"metadata.team": "nobody"})), JSON, "/0/metadata/team"),
    ("another-teams-team", as_json(doc(**{"metadata.team": "identity"})), JSON, "/0/metadata/team"),
    ("unknown-target-with-a-bad-name", as_json(with_interactions(interaction(to=["nobody.example"]))), JSON,
     "/0/spec/interactions/0/to/0"),
    ("channel-on-rest", as_json(with_interactions(interaction(channel="orders.placed"))), JSON,
     "/0/spec/interactions/0/channel"),
    ("pubsub-without-channel", as_json(with_interactions(interaction(style="pubsub"))), JSON,
     "/0/spec/interactions/0/channel"),
    ("probe-at-a-refused-address", as_json(doc(**{"spec.probes.0.target": "http://169.254.169.254/latest"})), JSON,
     "/0/spec/probes/0/target"),
    ("probe-interval-too-short", as_json(doc(**{"spec.probes.0.interval": "1s"})), JSON, "/0/spec/probes/0/interval"),
    # Unicode lookalikes, invisible characters, NUL and lone surrogates inside strings.
    ("cyrillic-o-in-name", as_json(doc(**{"metadata.name": "\u043erders"})), JSON, "/0/metadata/name"),
    ("cyrillic-o-in-team", as_json(doc(**{"metadata.team": "c\u043emmerce"})), JSON, "/0/metadata/team"),
    ("cyrillic-o-in-target", as_json(with_interactions(interaction(to=["pаyment"]))), JSON,
     "/0/spec/interactions/0/to/0"),
    ("fullwidth-digits-in-name", as_json(doc(**{"metadata.name": "orders-\uff12"})), JSON, "/0/metadata/name"),
    ("fullwidth-digits-as-number", as_yaml(doc(**{"spec.interactions.0.criteria.latency_budget_ms": "\uff12\uff10\uff10"})),
     YAML, "/0/spec/interactions/0/criteria/latency_budget_ms"),
    ("zero-width-joiner-in-name", as_json(doc(**{"metadata.name": "or\u200dders"})), JSON, "/0/metadata/name"),
    ("zero-width-space-in-interaction", as_json(with_interactions(interaction(name="call\u200b"))), JSON,
     "/0/spec/interactions/0/name"),
    ("right-to-left-override-in-target", as_json(with_interactions(interaction(to=["\u202epayment"]))), JSON,
     "/0/spec/interactions/0/to/0"),
    ("fullwidth-letters-in-style", as_json(with_interactions(interaction(style="\uff52\uff45\uff53\uff54"))), JSON,
     "/0/spec/interactions/0/style"),
    ("nul-in-description", as_json(doc(**{"metadata.description": "takes\u0000orders"})), JSON,
     "/0/metadata/description"),
    ("nul-in-label", as_json(doc(**{"metadata.labels": {"tier": "crit\u0000ical"}})), JSON, "/0/metadata/labels/tier"),
    ("nul-in-probe-body", as_json(doc(**{"spec.probes.0.body": "a\u0000b", "spec.probes.0.method": "POST"})), JSON,
     "/0/spec/probes/0/body"),
    ("nul-in-header", as_json(doc(**{"spec.probes.0.headers": {"X-Key": "a\u0000b"}})), JSON,
     "/0/spec/probes/0/headers/X-Key"),
    ("lone-surrogate-in-title", b'{"apiVersion": "switchboard/v1", "kind": "Service", '
                                b'"metadata": {"name": "orders", "team": "commerce", "title": "\\ud800"}}', JSON,
     "/0/metadata/title"),
    ("lone-surrogate-in-name", b'{"apiVersion": "switchboard/v1", "kind": "Service", '
                               b'"metadata": {"name": "orders\\udfff", "team": "commerce"}}', JSON, "/0/metadata/name"),
    ("lone-surrogate-as-key", b'{"apiVersion": "switchboard/v1", "kind": "Service", '
                              b'"metadata": {"name": "orders", "team": "commerce", "\\ud800": 1}}', JSON,
     "/0/metadata/\ufffd"),  # a lone surrogate cannot be sent back in UTF-8
]


def _paths(value, path=()):
    """Every (path, value) below a document, depth first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _wrong(value):
    """A value of another JSON type, that no field of the manifest takes where this one was."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "many"
    if isinstance(value, str):
        return {"not": "a string"}
    if isinstance(value, list):
        return "a list was expected"
    return ["a map was expected"]


def _wrong_types():
    cases = []
    for path, value in _paths(VALID):
        if value is None:
            continue
        document = copy.deepcopy(VALID)
        if path:
            node = document
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = _wrong(value)
        else:
            document = "a service document"
        pointer = "/0" + "".join(f"/{part}" for part in path)
        cases.append((f"wrong-type{pointer.replace('/', '.')}", as_json(document), JSON, pointer))
    return cases


ALL = CASES + _wrong_types()


def row_counts():
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def registry(ci, other_team):
    """The commerce token's client, a registered `payment` of commerce and an `accounts` of identity."""
    from tests.factories import register, service_doc

    register(service_doc("payment"), service_doc("accounts", team="identity"))
    return ci


@pytest.mark.parametrize("dry_run", [False, True], ids=["applied", "dry-run"])
@pytest.mark.parametrize("body,content_type,pointer", [case[1:] for case in ALL], ids=[case[0] for case in ALL])
def test_it_rejects_a_hostile_manifest_with_a_4xx_and_writes_nothing(registry, body, content_type, pointer, dry_run):
    before = row_counts()
    started = time.perf_counter()
    response = registry.post(URL + ("?dry_run=true" if dry_run else ""), data=body, content_type=content_type)
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS
    assert 400 <= response.status_code < 500, response.content[:500]
    payload = response.json()
    if pointer is None:
        assert response.status_code in (400, 413, 415)
        assert isinstance(payload.get("detail"), str) and payload["detail"]
    else:
        assert response.status_code in (403, 422), payload
        errors = payload["errors"]
        assert errors and all(isinstance(e["pointer"], str) and isinstance(e["message"], str) for e in errors)
        assert all(e["pointer"] == "" or e["pointer"].startswith("/") for e in errors)
        assert all(0 < len(e["message"]) < 1000 for e in errors)
        # at the place, or (a value none of several shapes take) at the field around it
        assert any(pointer == e["pointer"] or pointer.startswith(e["pointer"] + "/") and e["pointer"].count("/") > 2
                   for e in errors), errors
        assert len(response.content) < 200_000
    assert row_counts() == before


def test_it_handles_the_valid_manifest_the_hostile_ones_are_made_from(registry):
    response = registry.post(URL, data=as_yaml(VALID), content_type=YAML)
    assert response.status_code == 201, response.content
