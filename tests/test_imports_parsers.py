"""The pure import parsers (imports/): Backstage catalogs, AsyncAPI documents, observed dependencies.

No database: plain text in, plain data out.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

from imports.asyncapi import asyncapi_parse, broker_of
from imports.backstage import backstage_parse
from imports.catalog import (
    ImportedInteraction, ImportedService, ImportedTeam, ImportResult, name_from,
)
from imports.dependencies import MAX_EDGES, DependencySet, ObservedEdge, dependencies_parse

# --- Documents ------------------------------------------------------------------------------------

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: webshop, title: Web shop}
spec: {owner: group:default/commerce}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: commerce}
spec: {type: team, profile: {displayName: Commerce}, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: identity, title: Identity}
spec: {type: team, profile: {displayName: Identity & Access}, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  title: Storefront
  description: The shop in the browser
spec:
  type: website
  owner: commerce
  lifecycle: production
  system: webshop
  consumesApis: [orders-api]
  dependsOn: [catalog, component:default/orders]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orders, title: Orders}
spec:
  type: service
  owner: group:default/commerce
  lifecycle: production
  providesApis: [orders-api, order-events]
  consumesApis: [api:default/payments]
  dependsOn: [resource:default/orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: Payment_Gateway, title: Payment Gateway}
spec: {type: service, owner: group:identity, lifecycle: experimental, providesApis: [payments]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: catalog}
spec: {type: service, lifecycle: beta, consumesApis: [order-events]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: notifications, description: E-mails and pushes}
spec: {type: service, owner: identity, lifecycle: deprecated, consumesApis: [order-events]}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: orders-api}
spec: {type: openapi, owner: commerce, lifecycle: production, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments}
spec: {type: grpc, owner: identity, lifecycle: production, definition: "syntax = 'proto3';"}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: order-events}
spec: {type: asyncapi, owner: commerce, lifecycle: production, definition: "asyncapi: 2.6.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: orders-db}
spec: {type: database, owner: commerce}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec: {targets: [./other/catalog-info.yaml]}
"""

ORDERS_V2 = """\
asyncapi: 2.6.0
x-switchboard-service: orders
info:
  title: Orders Service
  version: 1.4.0
  description: Takes orders and announces them
servers:
  production: {url: kafka.internal:9093, protocol: kafka-secure}
channels:
  orders.placed:
    description: An order was placed
    subscribe:
      operationId: orderPlaced
      message: {name: OrderPlaced, payload: {type: object}}
  orders.audit:
    subscribe:
      operationId: orderAudited
      message: {payload: {type: object}}
  payments.settled:
    publish:
      operationId: onPaymentSettled
      message: {payload: {type: object}}
"""

NOTIFICATIONS_V2 = """\
asyncapi: '2.4.0'
info: {title: Notifications, version: 2.0.0}
servers:
  prod: {url: kafka.internal:9092, protocol: kafka}
channels:
  orders.placed:
    publish:
      operationId: onOrderPlaced
      message: {payload: {type: object}}
"""

SHIPPING_V3 = """\
asyncapi: 3.0.0
info:
  title: Shipping
  version: 1.0.0
  x-switchboard-team: logistics
servers:
  kafka: {host: kafka.internal:9092, protocol: kafka}
channels:
  orderPlaced:
    address: orders.placed
    servers: [{$ref: '#/servers/kafka'}]
    messages: {orderPlaced: {payload: {type: object}}}
operations:
  onOrderPlaced:
    action: receive
    channel: {$ref: '#/channels/orderPlaced'}
"""

BILLING_V3_JSON = json.dumps({
    "asyncapi": "3.0.0",
    "info": {"title": "Billing", "version": "1.0.0"},
    "servers": {"rabbit": {"host": "rabbitmq.internal:5671", "protocol": "amqps"}},
    "channels": {
        "renderInvoice": {"address": "invoices.render",
                          "bindings": {"amqp": {"is": "queue", "queue": {"name": "invoices.render", "durable": True}}},
                          "messages": {"renderInvoice": {"payload": {"type": "object"}}}},
        "invoices.rendered": {"address": None, "messages": {"invoiceRendered": {"payload": {"type": "object"}}}},
    },
    "operations": {
        "requestInvoice": {"action": "send", "channel": {"$ref": "#/channels/renderInvoice"}},
        "onInvoiceRendered": {"action": "receive", "channel": {"$ref": "#/channels/invoices.rendered"}},
    },
}, indent=2)

PDF_WORKER_V2 = """\
asyncapi: 2.6.0
info: {title: PDF Worker, version: 0.3.0}
servers:
  broker: {url: amqp://rabbitmq.internal, protocol: amqp}
channels:
  invoices.render:
    bindings: {amqp: {is: queue, queue: {name: invoices.render}}}
    publish:
      operationId: renderInvoice
      message: {payload: {type: object}}
  invoices.rendered:
    subscribe:
      operationId: invoiceRendered
      message: {payload: {type: object}}
"""

ASYNC_DOCUMENTS = [
    ("orders.yaml", ORDERS_V2),
    ("notifications.yaml", NOTIFICATIONS_V2),
    ("shipping.yaml", SHIPPING_V3),
    ("billing.json", BILLING_V3_JSON),
    ("pdf-worker.yaml", PDF_WORKER_V2),
]

JAEGER = json.dumps({"data": [
    {"parent": "frontend", "child": "orders", "callCount": 120},
    {"parent": "orders", "child": "Payment Service", "callCount": 40},
    {"parent": "frontend", "child": "orders", "callCount": 30},
    {"parent": "orders", "child": "orders", "callCount": 7},
    {"parent": "orders", "child": "postgres", "callCount": 95},
], "total": 5, "limit": 0, "offset": 0, "errors": None})

ZIPKIN = json.dumps({"endTs": 1714557600000, "lookback": 86_400_000, "links": [
    {"parent": "web", "child": "api-gateway", "callCount": 1000, "errorCount": 12},
    {"parent": "api-gateway", "child": "inventory", "callCount": 400},
    {"parent": "api-gateway", "child": "api-gateway", "callCount": 3, "errorCount": 1},
    {"parent": "web", "child": "api-gateway", "callCount": 500, "errorCount": 3},
]})


def pointers(findings: tuple[dict, ...]) -> list[str]:
    return [finding["pointer"] for finding in findings]


def v2(title: str, channel: str, verb: str, protocol: str = "kafka") -> str:
    """A one-channel AsyncAPI 2 document."""
    return (f"asyncapi: 2.6.0\ninfo: {{title: {title}, version: 1.0.0}}\n"
            f"servers: {{main: {{url: broker:1, protocol: {protocol}}}}}\n"
            f"channels:\n  '{channel}':\n    {verb}:\n      message: {{payload: {{type: object}}}}\n")


# --- Names -----------------------------------------------------------------------------------------


def test_names_are_lower_cased_and_other_characters_become_dashes() -> None:
    assert name_from("Orders") == "orders"
    assert name_from("Payment_Gateway") == "payment-gateway"
    assert name_from("  Café Service ") == "cafe-service"
    assert name_from("orders.placed.v1") == "orders-placed-v1"
    assert name_from("a - b") == "a-b"
    assert name_from("order--v2") == "order--v2"  # already valid: kept as it is


def test_names_that_cannot_be_made_valid_are_refused() -> None:
    assert [name_from(raw) for raw in ("???", "", "x" * 64, 42, None, "-_-")] == [None] * 6


# --- Backstage -------------------------------------------------------------------------------------


def test_backstage_catalog_becomes_services_teams_and_interactions() -> None:
    result = backstage_parse(CATALOG, default_team="commerce")
    assert result.ok and result.errors == ()
    assert result.services == (
        ImportedService("catalog", "commerce", lifecycle="production", source_ref="/6"),
        ImportedService("notifications", "identity", description="E-mails and pushes", lifecycle="deprecated",
                        source_ref="/7"),
        ImportedService("orders", "commerce", title="Orders", source_ref="/4"),
        ImportedService("payment-gateway", "identity", title="Payment Gateway", lifecycle="experimental",
                        source_ref="/5"),
        ImportedService("storefront", "commerce", title="Storefront", description="The shop in the browser",
                        source_ref="/3"),
    )
    assert result.teams == (ImportedTeam("commerce", "Commerce", "/1"),
                            ImportedTeam("identity", "Identity & Access", "/2"))
    assert [(i.source, i.name, i.targets, i.style, i.source_ref) for i in result.interactions] == [
        ("orders", "order-events", ("catalog", "notifications"), "pubsub", "/4/spec/providesApis/1"),
        ("orders", "orders-db", ("orders-db",), "", "/4/spec/dependsOn/0"),
        ("orders", "payments", ("payment-gateway",), "grpc", "/4/spec/consumesApis/0"),
        ("storefront", "catalog", ("catalog",), "", "/3/spec/dependsOn/0"),
        ("storefront", "orders-api", ("orders",), "rest", "/3/spec/consumesApis/0"),
    ]
    assert result.placeholders == ("orders-db",)


def test_backstage_warns_about_what_it_guesses_or_ignores() -> None:
    result = backstage_parse(CATALOG, default_team="commerce")
    assert pointers(result.warnings) == ["/6/spec/lifecycle", "/11/kind", "/12/kind", "/4/spec/providesApis/1"]
    messages = [warning["message"] for warning in result.warnings]
    assert "'beta'" in messages[0] and "production" in messages[0]
    assert messages[1].startswith("Resource entities are not imported; a dependsOn reference")
    assert messages[2] == "Location entities are not imported"
    assert "which topic event API 'order-events'" in messages[3]


def test_backstage_event_api_flows_from_its_provider_not_from_its_consumers() -> None:
    result = backstage_parse(CATALOG, default_team="commerce")
    events = [i for i in result.interactions if i.name == "order-events"]
    assert [(i.source, i.targets) for i in events] == [("orders", ("catalog", "notifications"))]
    assert events[0].channel == "" and events[0].criteria == {}


def test_backstage_each_consumer_gets_its_own_call_and_an_unprovided_api_a_placeholder() -> None:
    text = """\
kind: API
metadata: {name: Search API}
spec: {type: graphql}
---
kind: Component
metadata: {name: web}
spec: {owner: team-a, consumesApis: [search-api, api:legacy-soap]}
---
kind: Component
metadata: {name: mobile-bff}
spec: {owner: team-a, consumesApis: [search-api]}
---
kind: API
metadata: {name: legacy-soap}
spec: {type: soap}
"""
    result = backstage_parse(text, default_team=None)
    assert [(i.source, i.name, i.targets, i.style) for i in result.interactions] == [
        ("mobile-bff", "search-api", ("search-api",), "rest"),
        ("web", "legacy-soap", ("legacy-soap",), ""),
        ("web", "search-api", ("search-api",), "rest"),
    ]
    assert result.placeholders == ("legacy-soap", "search-api")
    assert pointers(result.warnings) == ["/3/spec/type", "/1/spec/consumesApis/0", "/1/spec/consumesApis/1",
                                         "/2/spec/consumesApis/0"]
    assert "no component provides API 'search-api'" in result.warnings[1]["message"]


def test_backstage_clashing_interaction_names_are_told_apart() -> None:
    text = """\
kind: Component
metadata: {name: shop}
spec: {owner: web, consumesApis: [payments], dependsOn: [resource:payments]}
---
kind: Component
metadata: {name: psp}
spec: {owner: web, providesApis: [payments]}
---
kind: API
metadata: {name: payments}
spec: {type: openapi}
"""
    result = backstage_parse(text, default_team=None)
    assert [(i.name, i.targets) for i in result.interactions] == [("payments", ("psp",)), ("payments-2", ("payments",))]
    assert pointers(result.warnings) == ["/0/spec/dependsOn/0"]


def test_backstage_refuses_broken_entities_and_reports_every_error() -> None:
    text = """\
kind: Component
metadata: {name: '???'}
spec: {owner: commerce}
---
kind: Component
metadata: {name: lonely}
spec: {lifecycle: production}
---
kind: Component
metadata: {name: orders}
spec: {owner: commerce, dependsOn: [42, 'component:default/!!!'], providesApis: notalist}
---
- just
- a list
---
metadata: {name: nokind}
---
kind: Component
metadata: {name: Orders}
spec: {owner: commerce}
"""
    result = backstage_parse(text, default_team=None)
    assert not result.ok and result.services == () and result.interactions == () and result.teams == ()
    assert pointers(result.errors) == [
        "/0/metadata/name", "/1/spec/owner", "/2/spec/dependsOn/0", "/2/spec/dependsOn/1", "/2/spec/providesApis",
        "/3", "/4/kind", "/5/metadata/name"]
    assert "already defined by the entity at /2" in result.errors[-1]["message"]


def test_backstage_owner_that_is_a_user_takes_the_default_team() -> None:
    text = "kind: Component\nmetadata: {name: tool}\nspec: {owner: 'user:default/jdoe'}\n"
    assert backstage_parse(text, default_team="platform").services[0].team == "platform"
    refused = backstage_parse(text, default_team=None)
    assert pointers(refused.errors) == ["/0/spec/owner"] and pointers(refused.warnings) == ["/0/spec/owner"]


def test_backstage_malformed_yaml_is_one_error_with_the_line() -> None:
    result = backstage_parse("kind: Component\n---\nmetadata: {name: [orders\n", default_team="a")
    assert len(result.errors) == 1 and result.errors[0]["pointer"] == ""
    assert "invalid YAML at line 4" in result.errors[0]["message"]


def test_backstage_refuses_an_alias_blow_up_and_non_text() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdef", "bcdefg")]
    result = backstage_parse("\n".join(lines) + "\nkind: Component\n", default_team="a")
    assert pointers(result.errors) == [""] and "more than 1,000,000 values" in result.errors[0]["message"]
    assert pointers(backstage_parse(b"kind: Component", default_team="a").errors) == [""]  # type: ignore[arg-type]
    assert pointers(backstage_parse("", default_team="a").errors) == [""]


def test_backstage_is_deterministic() -> None:
    assert backstage_parse(CATALOG, default_team="commerce") == backstage_parse(CATALOG, default_team="commerce")


# --- AsyncAPI --------------------------------------------------------------------------------------


def test_asyncapi_matches_producers_and_consumers_across_documents() -> None:
    result = asyncapi_parse(ASYNC_DOCUMENTS, default_team="commerce")
    assert result.ok
    assert [(s.name, s.team, s.title, s.source_ref) for s in result.services] == [
        ("billing", "commerce", "Billing", "/3"),
        ("notifications", "commerce", "Notifications", "/1"),
        ("orders", "commerce", "Orders Service", "/0"),
        ("pdf-worker", "commerce", "PDF Worker", "/4"),
        ("shipping", "logistics", "Shipping", "/2"),
    ]
    assert result.interactions == (
        ImportedInteraction("billing", "invoices-render", ("pdf-worker",), style="queue", channel="invoices.render",
                            broker="rabbitmq", criteria={"needs_immediate_response": False},
                            source_ref="/3/operations/requestInvoice"),
        ImportedInteraction("orders", "orders-placed", ("notifications", "shipping"), style="pubsub",
                            channel="orders.placed", broker="kafka", criteria={"needs_immediate_response": False},
                            source_ref="/0/channels/orders.placed/subscribe"),
        ImportedInteraction("pdf-worker", "invoices-rendered", ("billing",), style="pubsub",
                            channel="invoices.rendered", broker="rabbitmq",
                            criteria={"needs_immediate_response": False},
                            source_ref="/4/channels/invoices.rendered/subscribe"),
    )


def test_asyncapi_warns_about_a_channel_with_one_side_only() -> None:
    result = asyncapi_parse(ASYNC_DOCUMENTS, default_team="commerce")
    assert result.warnings == (
        {"pointer": "/0/channels/orders.audit/subscribe", "message": "no consumer of orders.audit among the documents"},
        {"pointer": "/0/channels/payments.settled/publish",
         "message": "no producer of payments.settled among the documents"},
    )


def test_asyncapi_v2_subscribe_means_the_application_produces_and_publish_that_it_consumes() -> None:
    sender = v2("Sender", "parcels.shipped", "subscribe")
    receiver = v2("Receiver", "parcels.shipped", "publish")
    for documents in ([("r", receiver), ("s", sender)], [("s", sender), ("r", receiver)]):
        [interaction] = asyncapi_parse(documents, default_team="t").interactions
        assert (interaction.source, interaction.targets) == ("sender", ("receiver",))


def test_asyncapi_v3_send_produces_and_receive_consumes() -> None:
    [interaction] = asyncapi_parse([("billing", BILLING_V3_JSON), ("pdf", PDF_WORKER_V2)],
                                   default_team="t").interactions[:1]
    assert (interaction.source, interaction.targets, interaction.style) == ("billing", ("pdf-worker",), "queue")


def test_asyncapi_criteria_are_known_criteria_with_allowed_values() -> None:
    from topology.validation import criteria_errors  # Django TextChoices inside; no database needed

    for interaction in asyncapi_parse(ASYNC_DOCUMENTS, default_team="commerce").interactions:
        assert interaction.criteria and criteria_errors(interaction.criteria) == []


def test_asyncapi_a_request_that_waits_for_a_reply_says_nothing_about_waiting() -> None:
    requester = json.loads(BILLING_V3_JSON)
    requester["operations"]["requestInvoice"]["reply"] = {"channel": {"$ref": "#/channels/invoices.rendered"}}
    result = asyncapi_parse([("b", json.dumps(requester)), ("p", PDF_WORKER_V2)], default_team="t")
    assert [i.criteria for i in result.interactions if i.source == "billing"] == [{}]


def test_asyncapi_escapes_channel_names_in_pointers() -> None:
    result = asyncapi_parse([("a", v2("Accounts", "user/signed~up", "subscribe"))], default_team="t")
    assert pointers(result.warnings) == ["/0/channels/user~1signed~0up/subscribe"]


def test_asyncapi_brokers_from_protocols_and_the_first_broker_wins() -> None:
    assert [broker_of(p) for p in ("kafka", "kafka-secure", "AMQP", "amqps", "nats", "pulsar", "pulsar+ssl", "mqtt")] \
        == ["kafka", "kafka", "rabbitmq", "rabbitmq", "nats", "pulsar", "pulsar", "other"]
    result = asyncapi_parse([("a", v2("A", "x", "subscribe", "kafka")), ("b", v2("B", "x", "publish", "nats"))],
                            default_team="t")
    assert result.interactions[0].broker == "kafka"
    assert pointers(result.warnings) == ["/0/channels/x/subscribe"]
    assert "disagree on the broker of x (kafka, nats)" in result.warnings[0]["message"]


def test_asyncapi_refuses_broken_documents_and_reports_every_error() -> None:
    bad_operation = ("asyncapi: 3.0.0\ninfo: {title: Bad}\nchannels: {a: {address: a}}\n"
                     "operations:\n  op: {action: emit, channel: {$ref: '#/channels/missing'}}\n")
    braces = v2("Users", "user/{id}/signedup", "subscribe")
    result = asyncapi_parse([
        ("old.yaml", "asyncapi: 1.2.0\ninfo: {title: Old}\n"),
        ("bad.yaml", bad_operation),
        ("broken.yaml", "asyncapi: 2.6.0\ninfo: {title: [Broken\n"),
        ("untitled.yaml", "asyncapi: 2.6.0\ninfo: {version: 1.0.0}\n"),
        ("not-text", 42),
        ("users.yaml", braces),
        ("mailer.yaml", v2("Mailer", "user/{id}/signedup", "publish")),
    ], default_team="t")
    assert not result.ok and result.services == () and result.interactions == ()
    assert pointers(result.errors) == [
        "/0/asyncapi", "/1/operations/op/action", "/1/operations/op/channel", "/2", "/3/info/title", "/4",
        "/5/channels/user~1{id}~1signedup/subscribe"]
    assert result.errors[3]["message"].startswith("broken.yaml: invalid YAML at line 3")


def test_asyncapi_without_a_team_is_refused() -> None:
    result = asyncapi_parse([("a", v2("A", "x", "subscribe"))], default_team=None)
    assert pointers(result.errors) == ["/0/info"]
    assert asyncapi_parse([], default_team="t").errors[0]["pointer"] == ""


def test_asyncapi_is_deterministic_whatever_the_order_of_documents() -> None:
    def flows(documents: list[tuple[str, str]]) -> list[tuple]:
        result = asyncapi_parse(documents, default_team="commerce")
        return [(i.source, i.name, i.targets, i.style, i.channel, i.broker) for i in result.interactions]

    assert asyncapi_parse(ASYNC_DOCUMENTS, default_team="c") == asyncapi_parse(ASYNC_DOCUMENTS, default_team="c")
    assert flows(ASYNC_DOCUMENTS) == flows(ASYNC_DOCUMENTS[::-1])


# --- Observed dependencies -------------------------------------------------------------------------


def test_jaeger_dependencies_summed_self_edges_dropped_names_normalised() -> None:
    result = dependencies_parse(JAEGER)
    assert result.ok and result.format == "jaeger" and (result.window_start, result.window_end) == (None, None)
    assert result.edges == (
        ObservedEdge("frontend", "orders", 150, 0, raw_parent="frontend", raw_child="orders"),
        ObservedEdge("orders", "payment-service", 40, 0, raw_parent="orders", raw_child="Payment Service"),
        ObservedEdge("orders", "postgres", 95, 0, raw_parent="orders", raw_child="postgres"),
    )
    assert pointers(result.warnings) == ["/data", "/data"]


def test_zipkin_dependencies_with_their_window() -> None:
    result = dependencies_parse(ZIPKIN)
    assert result.format == "zipkin"
    assert result.window_end == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert result.window_start == datetime(2024, 4, 30, 10, tzinfo=timezone.utc)
    assert [(e.parent, e.child, e.calls, e.errors) for e in result.edges] == [
        ("api-gateway", "inventory", 400, 0), ("web", "api-gateway", 1500, 15)]


def test_dependencies_window_from_iso_times() -> None:
    text = json.dumps({"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T06:00:00+02:00",
                       "links": [{"parent": "a", "child": "b", "callCount": 1}]})
    result = dependencies_parse(text)
    assert result.window_start == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert result.window_end == datetime(2024, 5, 1, 4, tzinfo=timezone.utc)
    assert dependencies_parse(text.replace("2024-05-01T06:00:00+02:00", "tomorrow")).errors[0]["pointer"] == "/end"


def test_dependencies_refuse_bad_counts_and_names_with_pointers() -> None:
    links = [{"child": "b", "callCount": 1}, {"parent": "a", "child": "b", "callCount": 2.5},
             {"parent": "a", "child": "???", "callCount": 1}, {"parent": "a", "child": "b", "callCount": -4},
             {"parent": "a", "child": "b", "callCount": 1, "errorCount": True}, "a->b"]
    result = dependencies_parse(json.dumps(links))
    assert result.edges == ()
    assert pointers(result.errors) == ["/0/parent", "/1/callCount", "/2/child", "/3/callCount", "/4/errorCount", "/5"]


def test_dependencies_refuse_malformed_json_too_many_links_and_odd_shapes() -> None:
    malformed = dependencies_parse('[{"parent": "a",\n "child": }]')
    assert pointers(malformed.errors) == [""] and "line 2" in malformed.errors[0]["message"]
    too_many = dependencies_parse(json.dumps([{"parent": "a", "child": "b", "callCount": 1}] * (MAX_EDGES + 1)))
    assert pointers(too_many.errors) == [""] and "100,000" in too_many.errors[0]["message"]
    assert pointers(dependencies_parse('{"data": null}').errors) == ["/data"]
    assert pointers(dependencies_parse('{"endTs": -1, "links": []}').errors) == ["/endTs"]
    assert dependencies_parse("[]") == DependencySet()


def test_dependencies_are_deterministic_whatever_the_order_of_links() -> None:
    links = json.loads(ZIPKIN)["links"]
    shuffled = links[:]
    random.Random(7).shuffle(shuffled)
    assert dependencies_parse(json.dumps(links)).edges == dependencies_parse(json.dumps(shuffled)).edges


# --- The mirrored vocabulary -----------------------------------------------------------------------


def test_mirrored_constants_agree_with_topology() -> None:
    from imports import catalog
    from topology import choices, validation  # Django TextChoices inside; no database needed

    styles = {catalog.STYLE_REST, catalog.STYLE_GRPC, catalog.STYLE_PUBSUB, catalog.STYLE_QUEUE}
    assert styles == set(choices.Style.values)
    assert catalog.ASYNC_STYLES == {str(style) for style in choices.ASYNC_STYLES}
    assert {catalog.BROKER_KAFKA, catalog.BROKER_RABBITMQ, catalog.BROKER_NATS, catalog.BROKER_PULSAR,
            catalog.BROKER_OTHER} == set(choices.Broker.values)
    assert set(catalog.LIFECYCLES) == set(choices.Lifecycle.values)
    assert catalog.CHANNEL_RE.pattern == validation.CHANNEL_RE.pattern
    assert (catalog.MAX_TITLE, catalog.MAX_DESCRIPTION, catalog.MAX_TARGETS) == (
        validation.MAX_TITLE, validation.MAX_DESCRIPTION, validation.MAX_TARGETS)
    assert ImportResult().ok
