"""Hostile import documents: a corpus of malformed Backstage catalogs, AsyncAPI documents and tracing
dependency exports, posted through the real API (body and multipart, applied and dry run) and through
the Imports and Drift pages.

Every case must be refused with a 4xx that says where (a pointer) or, when the body cannot even be
read, says so at the top level; never a 500, never a hang (each post runs under an alarm), and the
row count of every table (all models) is the same afterwards.
"""
from __future__ import annotations

import json
import signal
from contextlib import contextmanager

import pytest
import yaml
from django.apps import apps
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from imports.asyncapi import asyncapi_parse
from imports.backstage import backstage_parse
from imports.catalog import name_from
from imports.dependencies import dependencies_parse
from topology.manifest import InteractionSpec, ServiceSpec
from topology.models import Team
from topology.registration import registration_apply

SECONDS = 30  # the longest any one hostile post may take
TEN_MB = 10 * 1024 * 1024
DEEP = 10_000
ENDPOINTS = {"backstage": "/api/v1/imports/backstage/", "asyncapi": "/api/v1/imports/asyncapi/",
             "dependencies": "/api/v1/imports/dependencies/"}
CONTENT_TYPES = {"backstage": "application/yaml", "asyncapi": "application/yaml", "dependencies": "application/json"}
MODES = ("body", "body-dry-run", "multipart", "multipart-dry-run", "page")


# --- The corpus ----------------------------------------------------------------------------------

BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

# Syntax and encoding: the same bytes are hostile to every kind.
GENERIC = {
    "invalid-yaml": b"kind: Component\nmetadata: {name: [unclosed\n  - : :\n\t- tab",
    "invalid-json": b'{"asyncapi": "2.6.0", "info": [1, 2,}',
    "json-with-trailing-garbage": b'[{"parent": "a", "child": "b", "callCount": 1}] trailing',
    "alias-bomb": BILLION_LAUGHS,
    "alias-bomb-in-a-document": b"kind: Component\nmetadata: {name: x}\nspec:\n  " + BILLION_LAUGHS.replace(b"\n", b"\n  "),
    "ten-megabytes": b"# " + b"a" * TEN_MB,
    "ten-megabytes-of-json": b"[" + b'{"parent": "a", "child": "b", "callCount": 1},' * (TEN_MB // 45) + b"1]",
    "deep-yaml-lists": b"[" * DEEP + b"]" * DEEP,
    "deep-yaml-maps": b"{a: " * DEEP + b"1" + b"}" * DEEP,
    "deep-yaml-block": b"".join(b"  " * level + b"a:\n" for level in range(2000)) + b"  " * 2000 + b"b\n",
    "deep-json-lists": b"[" * DEEP + b"]" * DEEP,
    "deep-json-maps": b'{"a": ' * DEEP + b"1" + b"}" * DEEP,
    "nul-byte": b"kind: Component\x00\nmetadata: {name: orders}\n",
    "nul-byte-in-json": b'[{"parent": "a\x00", "child": "b", "callCount": 1}]',
    "not-utf-8": b"kind: Component\nmetadata: {name: caf\xe9}\n\xff\xfe",
    "utf-16": "kind: Component\nmetadata: {name: orders}\n".encode("utf-16"),
    "empty": b"",
    "whitespace": b"  \n\n\t\n",
    "only-comments": b"# nothing here\n",
    "yaml-null": b"null\n",
    "scalar": b"42\n",
    "text-scalar": b'"orders"\n',
    "list-of-nothing": b"[]",
    "map-of-nothing": b"{}",
    "garbage-documents": b"---\n42\n---\n- a\n- b\n---\n[unclosed\n",
    "python-tag": b"!!python/object/apply:os.system ['echo pwned']\n",
    "unknown-tag": b"kind: !Component x\nmetadata: !!binary ZZZZ\n",
    "huge-integer": b"asyncapi: " + b"9" * 5000 + b"\n",
    "huge-integer-in-json": b'[{"parent": "a", "child": "b", "callCount": ' + b"9" * 5000 + b"}]",
    "duplicate-keys": b"kind: Component\nmetadata: {name: orders}\nmetadata: {name: payments}\n",
    "duplicate-keys-in-json": b'{"data": [], "data": [{"parent": "a", "child": "b", "callCount": 1}]}',
    "binary-noise": bytes(range(256)) * 8,
    "bidi-override": "kind: Component\nmetadata: {name: \"orders\u202e\"}\n".encode(),
}


def _yaml(*documents) -> bytes:
    return yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False).encode()


def _component(name="storefront", **spec):
    metadata = name if isinstance(name, dict) else {"name": name}
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": metadata,
            "spec": {"type": "service", "owner": "commerce", "lifecycle": "production", **spec}}


# Well-formed text, wrong content: wrong types at every level, unknown keys, names that break the slug
# rules, lookalikes, self-references, unknown or malformed targets, duplicates.
BACKSTAGE = {
    "entity-a-list": _yaml([_component()]),
    "entity-a-text": _yaml("Component"),
    "kind-a-number": _yaml({"kind": 7, "metadata": {"name": "x"}}),
    "kind-a-map": _yaml({"kind": {"Component": 1}, "metadata": {"name": "x"}}),
    "kind-unknown": _yaml({**_component(), "kind": "Componnet"}),
    "metadata-a-list": _yaml({**_component(), "metadata": ["storefront"]}),
    "metadata-a-text": _yaml({**_component(), "metadata": "storefront"}),
    "spec-a-list": _yaml({**_component(), "spec": ["commerce"]}),
    "name-a-number": _yaml(_component(12)),
    "name-a-list": _yaml(_component(["storefront"])),
    "name-a-map": _yaml(_component({"name": {"first": "store"}})),
    "name-a-bool": _yaml(_component(True)),
    "name-missing": _yaml(_component({"title": "Storefront"})),
    "name-misspelled-key": _yaml(_component({"nmae": "storefront"})),
    "name-empty": _yaml(_component("")),
    "name-only-punctuation": _yaml(_component("!!!---***")),
    "name-too-long": _yaml(_component("s" * 64)),
    "name-leading-dash": _yaml(_component("-storefront")),
    "name-cyrillic-lookalike": _yaml(_component("оrders")),  # Cyrillic о
    "name-all-cyrillic": _yaml(_component("сервис")),
    "name-fullwidth-digit": _yaml(_component("orders\uff11")),
    "name-fullwidth-letters": _yaml(_component("\uff4f\uff52\uff44\uff45\uff52\uff53")),
    "name-zero-width-space": _yaml(_component("or\u200bders")),
    "name-zero-width-joiner": _yaml(_component("orders\u200d")),
    "name-bom-inside": _yaml(_component("\ufefforders")),
    "name-nul-escape": b'kind: Component\nmetadata: {name: "orders\\0"}\nspec: {owner: commerce}\n',
    "title-a-list": _yaml(_component({"name": "storefront", "title": ["a"]})),
    "title-with-nul": b'kind: Component\nmetadata: {name: storefront, title: "Store\\0front"}\nspec: {owner: commerce}\n',
    "title-with-escape-sequence": _yaml(_component({"name": "storefront", "title": "Store\x1b[31mfront"})),
    "description-a-map": _yaml(_component({"name": "storefront", "description": {"a": 1}})),
    "owner-a-number": _yaml(_component(owner=5)),
    "owner-a-list": _yaml(_component(owner=["commerce"])),
    "owner-empty-reference": _yaml(_component(owner="group:")),
    "owner-cyrillic": _yaml(_component(owner="соmmerce")),
    "lifecycle-a-list": _yaml(_component(lifecycle=["production"])),
    "lifecycle-a-map": _yaml(_component(lifecycle={"stage": "production"})),
    "depends-on-a-map": _yaml(_component(dependsOn={"orders": 1})),
    "depends-on-a-text": _yaml(_component(dependsOn="component:orders")),
    "depends-on-a-number-item": _yaml(_component(dependsOn=[42])),
    "depends-on-an-empty-reference": _yaml(_component(dependsOn=["component:"])),
    "depends-on-a-nested-list": _yaml(_component(dependsOn=[["orders"]])),
    "depends-on-itself": _yaml(_component(dependsOn=["component:storefront"])),
    "depends-on-a-zero-width-target": _yaml(_component(dependsOn=["or\u200bders"])),
    "depends-on-a-cyrillic-target": _yaml(_component(dependsOn=["component:default/оrders"])),
    "consumes-a-map": _yaml(_component(consumesApis={"orders-api": True})),
    "provides-a-number": _yaml(_component(providesApis=7)),
    "api-type-a-list": _yaml(_component(), {"kind": "API", "metadata": {"name": "x"}, "spec": {"type": ["grpc"]}}),
    "duplicate-components": _yaml(_component("orders"), _component("orders")),
    "duplicate-components-by-case": _yaml(_component("orders"), _component("Orders")),
    "duplicate-components-by-lookalike": _yaml(_component("orders"), _component("оrders")),
    "duplicate-apis": _yaml(_component(), {"kind": "API", "metadata": {"name": "x"}, "spec": {"type": "grpc"}},
                            {"kind": "API", "metadata": {"name": "x"}, "spec": {"type": "openapi"}}),
    "only-groups": _yaml({"kind": "Group", "metadata": {"name": "platform"}}),
    "only-a-broken-group": _yaml({"kind": "Group", "metadata": {"name": ["platform"]}}),
    "only-systems": _yaml({"kind": "System", "metadata": {"name": "shop"}}),
    "a-good-entity-and-garbage": _yaml(_component(), 42, "text"),
}

def _asyncapi(**fields):
    return {"asyncapi": "2.6.0", "info": {"title": "Mailer", "version": "1", "x-switchboard-team": "commerce"},
            "channels": {"orders.created": {"subscribe": {"message": {"payload": {"type": "object"}}}}}, **fields}


def _asyncapi3(**operation):
    return {"asyncapi": "3.0.0", "info": {"title": "Mailer", "version": "1", "x-switchboard-team": "commerce"},
            "channels": {"created": {"address": "orders.created"}},
            "operations": {"publish": {"action": "send", "channel": {"$ref": "#/channels/created"}, **operation}}}


ASYNCAPI = {
    "document-a-list": _yaml([_asyncapi()]),
    "version-missing": _yaml({k: v for k, v in _asyncapi().items() if k != "asyncapi"}),
    "version-unknown": _yaml(_asyncapi(asyncapi="1.2.0")),
    "version-a-list": _yaml(_asyncapi(asyncapi=["2.6.0"])),
    "version-a-map": _yaml(_asyncapi(asyncapi={"major": 2})),
    "info-a-list": _yaml(_asyncapi(info=["Orders"])),
    "info-missing": _yaml({k: v for k, v in _asyncapi().items() if k != "info"}),
    "title-a-number": _yaml(_asyncapi(info={"title": 5, "x-switchboard-team": "commerce"})),
    "title-only-punctuation": _yaml(_asyncapi(info={"title": "???", "x-switchboard-team": "commerce"})),
    "service-cyrillic": _yaml(_asyncapi(**{"x-switchboard-service": "оrders"})),
    "service-zero-width": _yaml(_asyncapi(**{"x-switchboard-service": "orders\u200b"})),
    "service-fullwidth": _yaml(_asyncapi(**{"x-switchboard-service": "orders\uff12"})),
    "service-a-map": _yaml(_asyncapi(**{"x-switchboard-service": {"name": "orders"}})),
    "team-a-list": _yaml(_asyncapi(**{"x-switchboard-team": ["commerce"]})),
    "team-cyrillic": _yaml(_asyncapi(**{"x-switchboard-team": "соmmerce"})),
    "team-unknown": _yaml(_asyncapi(**{"x-switchboard-team": "nobody"})),
    "description-a-list": _yaml(_asyncapi(info={"title": "Mailer", "description": [1], "x-switchboard-team": "commerce"})),
    "description-with-nul": json.dumps(_asyncapi(info={"title": "Mailer", "description": "a\u0000b",
                                                       "x-switchboard-team": "commerce"})).encode(),
    "channels-a-list": _yaml(_asyncapi(channels=["orders.created"])),
    "channels-a-text": _yaml(_asyncapi(channels="orders.created")),
    "channel-a-number": _yaml(_asyncapi(channels={"orders.created": 5})),
    "subscribe-a-list": _yaml(_asyncapi(channels={"orders.created": {"subscribe": ["x"]}})),
    "servers-a-list": _yaml(_asyncapi(servers=["kafka"])),
    "operations-a-list": _yaml(_asyncapi3() | {"operations": ["send"]}),
    "operation-a-number": _yaml(_asyncapi3() | {"operations": {"x": 1}}),
    "action-unknown": _yaml(_asyncapi3(action="yell")),
    "action-a-list": _yaml(_asyncapi3(action=["send"])),
    "channel-reference-missing": _yaml(_asyncapi3(channel={"$ref": "#/channels/nowhere"})),
    "channel-reference-a-number": _yaml(_asyncapi3(channel=7)),
    "channel-reference-remote": _yaml(_asyncapi3(channel={"$ref": "https://evil.example/channels.yaml#/x"})),
    "address-a-list": _yaml(_asyncapi3() | {"channels": {"created": {"address": ["orders"]}}}),
    "two-documents-in-one": _yaml(_asyncapi(), _asyncapi()),
    "a-document-and-garbage": _yaml(_asyncapi(), "garbage"),
    "json-a-list": json.dumps([_asyncapi()]).encode(),
}

def _link(parent="frontend", child="orders", calls=1, **extra):
    return {"parent": parent, "child": child, "callCount": calls, **extra}


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


DEPENDENCIES = {
    "an-object-without-links": _json({"dependencies": [_link()]}),
    "links-a-map": _json({"links": {"0": _link()}}),
    "data-a-text": _json({"data": "frontend->orders"}),
    "a-text": _json("frontend->orders"),
    "a-number": _json(7),
    "link-a-list": _json([["frontend", "orders", 1]]),
    "link-a-text": _json(["frontend->orders"]),
    "parent-a-number": _json([_link(parent=1)]),
    "parent-a-map": _json([_link(parent={"name": "frontend"})]),
    "parent-missing": _json([{"child": "orders", "callCount": 1}]),
    "parent-misspelled-key": _json([{"parnet": "frontend", "child": "orders", "callCount": 1}]),
    "parent-empty": _json([_link(parent="")]),
    "parent-only-punctuation": _json([_link(parent="***")]),
    "parent-too-long": _json([_link(parent="p" * 64)]),
    "parent-cyrillic": _json([_link(parent="frоntend")]),
    "parent-zero-width": _json([_link(parent="front\u200bend")]),
    "parent-fullwidth-digit": _json([_link(parent="frontend\uff11")]),
    "child-nul-escape": b'[{"parent": "frontend", "child": "orders\\u0000", "callCount": 1}]',
    "call-count-text": _json([_link(calls="5")]),
    "call-count-negative": _json([_link(calls=-1)]),
    "call-count-fraction": _json([_link(calls=1.5)]),
    "call-count-bool": _json([_link(calls=True)]),
    "call-count-nan": b'[{"parent": "frontend", "child": "orders", "callCount": NaN}]',
    "call-count-infinity": b'[{"parent": "frontend", "child": "orders", "callCount": Infinity}]',
    "call-count-beyond-64-bits": _json([_link(calls=10 ** 30)]),
    "call-counts-summing-beyond-64-bits": _json([_link(calls=2 ** 63 - 1), _link(calls=2 ** 63 - 1)]),
    "call-count-missing": _json([{"parent": "frontend", "child": "orders"}]),
    "error-count-negative": _json([_link(errorCount=-1)]),
    "error-count-beyond-64-bits": _json([_link(errorCount=10 ** 20)]),
    "format-unknown": _json({"format": "otel", "links": [_link()]}),
    "format-a-list": _json({"format": ["zipkin"], "links": [_link()]}),
    "start-not-a-time": _json({"start": "yesterday", "end": "2024-05-01T10:00:00Z", "links": [_link()]}),
    "start-a-number": _json({"start": 1714557600, "links": [_link()]}),
    "start-after-end": _json({"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z", "links": [_link()]}),
    "end-ts-beyond-time": _json({"endTs": 10 ** 20, "lookback": 1, "data": [_link()]}),
    "end-ts-a-text": _json({"endTs": "now", "data": [_link()]}),
    "lookback-before-time": _json({"endTs": 1000, "lookback": 10 ** 15, "data": [_link()]}),
    "only-self-references": _json([_link("orders", "orders"), _link("Orders", "orders")]),
}

KIND_CASES = {"backstage": BACKSTAGE, "asyncapi": ASYNCAPI, "dependencies": DEPENDENCIES}
# An empty export ([]) is a window in which tracing saw no call: accepted (see the test below).
CASES = [(kind, name, body) for kind in ENDPOINTS for name, body in GENERIC.items()
         if (kind, name) != ("dependencies", "list-of-nothing")]
CASES += [(kind, name, body) for kind, corpus in KIND_CASES.items() for name, body in corpus.items()]


# --- Helpers -------------------------------------------------------------------------------------


@contextmanager
def deadline(seconds: int = SECONDS):
    """Fail the test (instead of hanging the suite) when the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def row_counts() -> dict[str, int]:
    """The number of rows of every table Django knows (every model of every app)."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy}


@pytest.fixture
def world(db, settings):
    """Two teams, a staff user, and services a lookalike name would impersonate."""
    settings.IMPORT_INLINE_MAX_BYTES = 64 * 1024  # a large hostile document must not become a job either
    Team.objects.create(slug="commerce", name="Commerce")
    Team.objects.create(slug="identity", name="Identity")
    registration_apply(specs=[
        ServiceSpec(name="orders", team="commerce", title="Orders",
                    interactions=(InteractionSpec(name="pay", targets=("payments",), style="rest"),)),
        ServiceSpec(name="frontend", team="commerce", title="Frontend",
                    interactions=(InteractionSpec(name="orders", targets=("orders",), style="rest"),)),
    ], actor=actor_for_cli())
    return User.objects.create_user("root", password="pw-root", is_staff=True)


@pytest.fixture
def signed_in(world, client):
    """The API client and the page client, both signed in as the staff user (before rows are counted)."""
    api = APIClient()
    api.force_login(world)
    client.force_login(world)
    return api, client


def post(kind: str, mode: str, body: bytes, signed_in):
    """Post one document as the mode says: the API's body or multipart form, or the page's upload."""
    dry = "dry-run" in mode
    query = "?team=commerce&source=hostile" + ("&dry_run=true" if dry else "")
    api, client = signed_in
    if mode == "page":
        upload = SimpleUploadedFile("hostile.txt", body, content_type="application/octet-stream")
        if kind == "dependencies":
            return client.post("/drift/preview/", {"file": upload})
        return client.post("/imports/preview/", {"kind": kind, "team": "commerce", "file": upload})
    if mode.startswith("multipart"):
        upload = SimpleUploadedFile("hostile.txt", body, content_type="application/octet-stream")
        return api.post(ENDPOINTS[kind] + query, {"file": upload}, format="multipart")
    return api.post(ENDPOINTS[kind] + query, body, content_type=CONTENT_TYPES[kind])


def assert_refused(response, mode: str) -> None:
    """A 4xx that says where (each error a pointer and a message) or, at least, what at the top level."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:600])
    if mode == "page":
        page = response.content.decode()
        assert "Nothing was imported" in page or "error" in page.lower(), page[:600]
        return
    body = response.json()
    if "errors" in body:
        assert body["errors"], body
        for error in body["errors"]:
            assert isinstance(error["pointer"], str) and error["pointer"] in ("", "file", "source") or \
                error["pointer"].startswith("/"), error
            assert isinstance(error["message"], str) and error["message"].strip(), error
    else:
        assert isinstance(body.get("detail"), str) and body["detail"].strip(), body


def refused_everywhere(kind, body, mode, signed_in):
    before = row_counts()
    with deadline():
        response = post(kind, mode, body, signed_in)
    assert_refused(response, mode)
    assert row_counts() == before
    return response


# --- The API and the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("kind", "name", "body"), CASES, ids=[f"{kind}-{name}" for kind, name, _ in CASES])
def test_it_rejects_a_hostile_document_with_a_4xx_and_writes_nothing(kind, name, body, mode, signed_in):
    refused_everywhere(kind, body, mode, signed_in)


GOOD = {"backstage": _yaml(_component()), "asyncapi": _yaml(_asyncapi()), "dependencies": _json([_link()])}
# Where the refusal must point for cases whose fault sits at one place (the body, not multipart or page).
POINTERS = {
    ("backstage", "name-cyrillic-lookalike"): "/0/metadata/name",
    ("backstage", "name-zero-width-space"): "/0/metadata/name",
    ("backstage", "name-fullwidth-digit"): "/0/metadata/name",
    ("backstage", "name-leading-dash"): "/0/metadata/name",
    ("backstage", "name-nul-escape"): "/0/metadata/name",
    ("backstage", "title-with-nul"): "/0/metadata/title",
    ("backstage", "lifecycle-a-list"): "/0/spec/lifecycle",
    ("backstage", "depends-on-itself"): "/0/spec/dependsOn/0",
    ("backstage", "depends-on-a-zero-width-target"): "/0/spec/dependsOn/0",
    ("backstage", "duplicate-components-by-case"): "/1/metadata/name",
    ("backstage", "duplicate-components-by-lookalike"): "/1/metadata/name",
    ("backstage", "api-type-a-list"): "/1/spec/type",
    ("asyncapi", "service-cyrillic"): "/0/x-switchboard-service",
    ("asyncapi", "action-a-list"): "/0/operations/publish/action",
    ("asyncapi", "description-with-nul"): "/0/info/description",
    ("dependencies", "parent-zero-width"): "/0/parent",
    ("dependencies", "child-nul-escape"): "/0/child",
    ("dependencies", "call-count-beyond-64-bits"): "/0/callCount",
    ("dependencies", "call-counts-summing-beyond-64-bits"): "",
}


def test_it_handles_an_empty_export_as_a_window_without_calls(signed_in):
    api, _ = signed_in
    response = api.post(ENDPOINTS["dependencies"] + "?dry_run=true", b"[]", content_type="application/json")
    assert response.status_code == 200 and response.json()["dry_run"]


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_it_handles_the_good_documents_the_corpus_is_made_from(kind, signed_in):
    """The corpus spoils good documents: unspoiled, each is accepted (so a refusal is the spoiling's)."""
    api, _ = signed_in
    response = api.post(ENDPOINTS[kind] + "?team=commerce&dry_run=true", GOOD[kind], content_type=CONTENT_TYPES[kind])
    assert response.status_code == 200, response.content[:600]


@pytest.mark.parametrize(("kind", "name"), POINTERS)
def test_it_rejects_each_fault_at_its_own_pointer(kind, name, signed_in):
    response = refused_everywhere(kind, KIND_CASES[kind][name], "body", signed_in)
    assert POINTERS[kind, name] in [error["pointer"] for error in response.json()["errors"]], response.json()


@pytest.mark.parametrize("mode", ["multipart", "multipart-dry-run", "page"])
@pytest.mark.parametrize("kind", ENDPOINTS)
def test_it_rejects_several_hostile_files_in_one_upload(kind, mode, signed_in):
    """Several files: one good, one hostile; the hostile one sinks the whole import."""
    good = GOOD[kind]
    api, client = signed_in
    before = row_counts()
    uploads = [SimpleUploadedFile("good.yaml", good), SimpleUploadedFile("bad.yaml", b"\xff\xfe\x00garbage")]
    with deadline():
        if mode == "page":
            url = "/drift/preview/" if kind == "dependencies" else "/imports/preview/"
            response = client.post(url, {"kind": kind, "team": "commerce", "file": uploads})
        else:
            query = "?team=commerce" + ("&dry_run=true" if "dry-run" in mode else "")
            response = api.post(ENDPOINTS[kind] + query, {"file": uploads}, format="multipart")
    assert_refused(response, mode)
    assert row_counts() == before


@pytest.mark.parametrize("name", ["duplicate-services-same-team", "duplicate-services-other-team",
                                  "lookalike-services", "bad-channel-between-two"])
def test_it_rejects_hostile_asyncapi_document_sets(name, signed_in):
    """Cases that need two AsyncAPI documents: the second clashes with the first."""
    first = _asyncapi()
    second = {
        "duplicate-services-same-team": _asyncapi(),
        "duplicate-services-other-team": _asyncapi(info={"title": "Mailer", "x-switchboard-team": "identity"}),
        "lookalike-services": _asyncapi(**{"x-switchboard-service": "mаiler"}),
        "bad-channel-between-two": _asyncapi(info={"title": "Shipping", "x-switchboard-team": "commerce"},
                                             channels={"orders created": {"publish": {}}}),
    }[name]
    if name == "bad-channel-between-two":
        first = _asyncapi(channels={"orders created": {"subscribe": {}}})
    api, _ = signed_in
    before = row_counts()
    with deadline():
        response = api.post(ENDPOINTS["asyncapi"] + "?team=commerce",
                            {"file": [SimpleUploadedFile("a.yaml", _yaml(first)),
                                      SimpleUploadedFile("b.yaml", _yaml(second))]}, format="multipart")
    assert_refused(response, "multipart")
    assert row_counts() == before


@pytest.mark.parametrize("query", ["team=N%C3%B6pe!", "team=%00", "team=" + "t" * 300, "source=%00evil",
                                   "source=a%0Ab", "dry_run=maybe", "dry_run=%00"])
@pytest.mark.parametrize("kind", ["backstage", "asyncapi"])
def test_it_rejects_hostile_query_parameters(kind, query, signed_in):
    api, _ = signed_in
    before = row_counts()
    with deadline():
        response = api.post(f"{ENDPOINTS[kind]}?{query}", {"backstage": _yaml(_component()),
                                                             "asyncapi": _yaml(_asyncapi())}[kind],
                            content_type="application/yaml")
    assert 400 <= response.status_code < 500, response.content[:500]
    assert row_counts() == before


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_it_rejects_a_large_hostile_document_before_it_becomes_a_job(kind, signed_in, settings):
    """Above IMPORT_INLINE_MAX_BYTES a valid document becomes a job; a broken one is refused at once."""
    settings.IMPORT_INLINE_MAX_BYTES = 1024
    body = b"# padding\n" * 200 + {"backstage": _yaml(_component(12)), "asyncapi": _yaml(_asyncapi(asyncapi="9")),
                                   "dependencies": b""}[kind]
    if kind == "dependencies":
        body = _json([_link(calls=-1)] + [_link()] * 100)
    refused_everywhere(kind, body, "body", signed_in)


def test_it_rejects_a_body_whose_content_length_lies(signed_in):
    api, _ = signed_in
    before = row_counts()
    with deadline():
        response = api.post(ENDPOINTS["backstage"] + "?team=commerce", b"x" * 100, content_type="application/yaml",
                            CONTENT_LENGTH="not-a-number")
    assert 400 <= response.status_code < 500
    assert row_counts() == before


# --- The parsers alone (no database) -------------------------------------------------------------


@pytest.mark.parametrize("raw", ["оrders", "orders\u200b", "or\u200dders", "\ufefforders", "orders\uff11",
                                 "\uff4f\uff52\uff44\uff45\uff52\uff53", "orders\u202e", "ᴏrders", "orders\u0307x"
                                 .replace("\u0307x", "\u2024")])
def test_it_handles_lookalike_names_by_refusing_them(raw):
    assert name_from(raw) is None


@pytest.mark.parametrize(("raw", "name"), [("Café Service", "cafe-service"), ("Orders_API", "orders-api"),
                                           ("orders", "orders"), ("Zürich Gateway", "zurich-gateway")])
def test_it_handles_plain_latin_names_as_before(raw, name):
    assert name_from(raw) == name


def test_it_handles_a_self_reference_in_a_catalog_with_a_pointer():
    found = backstage_parse(_yaml(_component(dependsOn=["storefront"])).decode(), default_team="commerce")
    assert [error["pointer"] for error in found.errors] == ["/0/spec/dependsOn/0"]


def test_it_handles_a_lookalike_of_a_name_in_the_same_catalog_as_an_error_at_its_pointer():
    found = backstage_parse(_yaml(_component("orders"), _component("оrders")).decode(), default_team="commerce")
    assert [error["pointer"] for error in found.errors] == ["/1/metadata/name"]
    assert "U+043E" in found.errors[0]["message"]


def test_it_handles_duplicate_yaml_keys_with_the_line_they_are_on():
    found = backstage_parse("kind: Component\nmetadata: {name: a}\nmetadata: {name: b}\n", default_team="commerce")
    assert found.errors and "line 3" in found.errors[0]["message"] and "metadata" in found.errors[0]["message"]


def test_it_handles_unknown_keys_beside_valid_content_with_a_warning_at_their_pointer():
    """Backstage and tracing exports carry keys Switchboard does not read (annotations, Jaeger's
    `source`); they are allowed, but a key at the entity level that Backstage itself does not
    define is pointed at, so a misspelled `spce:` does not pass unnoticed."""
    found = backstage_parse(_yaml({**_component(), "spce": {"owner": "identity"}}).decode(), default_team="commerce")
    assert found.ok and {"pointer": "/0/spce", "message": found.warnings[0]["message"]} in found.warnings


def test_it_handles_an_alias_bomb_quickly():
    with deadline(5):
        found = backstage_parse(BILLION_LAUGHS.decode(), default_team="commerce")
    assert found.errors and "values" in found.errors[0]["message"]


@pytest.mark.parametrize("text", ["[" * DEEP + "]" * DEEP, '{"a": ' * DEEP + "1" + "}" * DEEP])
def test_it_handles_deep_nesting_in_every_parser(text):
    with deadline(10):
        assert dependencies_parse(text).errors
        assert backstage_parse(text, default_team="commerce").errors
        assert asyncapi_parse([("deep.yaml", text)], default_team="commerce").errors


@pytest.mark.parametrize("kind", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=nothing", "multipart/form-data",
                                          "application/x-www-form-urlencoded"])
def test_it_rejects_a_broken_form_body(kind, content_type, signed_in):
    api, _ = signed_in
    before = row_counts()
    with deadline():
        response = api.post(ENDPOINTS[kind] + "?team=commerce", b"--x\r\n\x00\xff garbage", content_type=content_type)
    assert 400 <= response.status_code < 500, response.content[:500]
    assert row_counts() == before
