"""Kafka consumer lag probes against a real Kafka-protocol broker (tansu on a free loopback port):
lag per partition and in total, thresholds, a group or topic without offsets, a broker that does
not answer, the target policy on bootstrap and advertised brokers, and declarations."""
import time

import pytest

from probes.engine import policy_build, probes_run
from probes.engine.spec import Kind, Outcome, ProbeSpec, probe_declaration_check, probe_redacted, probe_unredacted
from tests.kafka_broker import Broker, free_port

POLICY = policy_build()


@pytest.fixture(scope="module")
def broker():
    with Broker() as running:
        running.topic_fill("orders", [50, 60])
        running.topic_fill("payments", [5])
        running.offsets_commit("billing", "orders", [20, 7])
        running.offsets_commit("audit", "payments", [5])
        yield running


def lag(target: str, policy=POLICY, timeout: float = 3.0, expect=None, **options):
    [result] = probes_run([ProbeSpec("k", Kind.KAFKA_CONSUMER, target, timeout=timeout, options=options,
                                     expect=expect or {})], policy=policy)
    return result


def test_it_measures_the_lag_of_a_group_on_every_partition(broker):
    result = lag(broker.bootstrap, group="billing")
    assert result.outcome == Outcome.UP, result.error
    assert result.values == {"lag": 83, "worst": "orders/1:53", "worst_lag": 53, "partitions": 2, "members": 0,
                             "state": "empty"}


def test_it_limits_the_lag_to_one_topic(broker):
    assert lag(broker.bootstrap, group="audit", topic="payments").values["lag"] == 0
    assert lag(broker.bootstrap, group="billing", topic="orders").values["partitions"] == 2


@pytest.mark.parametrize("expect, outcome, note", [
    ({"max_lag": 100}, Outcome.UP, ""),
    ({"max_lag": 80}, Outcome.DEGRADED, "lag=83 above max_lag=80"),
    ({"max_lag_per_partition": 50}, Outcome.DEGRADED, "worst_lag=53 above max_lag_per_partition=50"),
    ({"min_members": 1}, Outcome.DOWN, "members=0 below min_members=1"),
])
def test_it_judges_the_thresholds(broker, expect, outcome, note):
    result = lag(broker.bootstrap, group="billing", expect=expect)
    assert (result.outcome, result.error) == (outcome, note)


def test_it_says_when_the_group_does_not_exist(broker):
    result = lag(broker.bootstrap, group="nobody")
    assert result.outcome == Outcome.DOWN
    assert result.error == "consumer group 'nobody' does not exist (no members and no committed offsets)"


def test_it_says_when_the_group_has_no_offsets_for_the_topic(broker):
    result = lag(broker.bootstrap, group="billing", topic="payments")
    assert result.error == "consumer group 'billing' has no committed offsets for topic 'payments'"


def test_it_says_when_no_broker_answers():
    port = free_port()
    started = time.monotonic()
    result = lag(f"127.0.0.1:{port}", group="billing", timeout=1.5)
    assert result.outcome == Outcome.DOWN and time.monotonic() - started < 5
    assert result.error.startswith(f"no broker answered at 127.0.0.1:{port}")


def test_it_refuses_a_bootstrap_server_the_policy_denies(broker):
    result = lag(broker.bootstrap, policy=policy_build(denied=["127.0.0.0/8"]), group="billing")
    assert result.outcome == Outcome.DOWN and "refused by the probe target policy" in result.error


def test_it_refuses_a_cluster_that_advertises_a_denied_broker():
    """An allowed bootstrap server whose cluster advertises a broker at a denied address: the
    advertised broker is checked (and refused) before anything connects to it."""
    async def resolver(host, port):
        return ["10.9.9.9"] if host == "inside.test" else [host]

    with Broker(advertised_host="inside.test") as sneaky:
        policy = policy_build(denied=["10.0.0.0/8"], resolver=resolver)
        result = lag(sneaky.bootstrap, policy=policy, group="billing")
    assert result.outcome == Outcome.DOWN, result
    assert "inside.test" in result.error and "refused by the probe target policy" in result.error


@pytest.mark.parametrize("item, pointer_end, message", [
    ({"target": "kafka-1:9092,kafka-2:9092"}, None, None),
    ({"target": "kafka-1:9092,nope"}, "/target", "bootstrap servers"),
    ({"target": "kafka-1:9092,169.254.169.254:9092"}, "/target", "refused"),
    ({"group": None}, "/group", None),
    ({"sasl_mechanism": "GSSAPI", "sasl_username": "probe"}, "/sasl_mechanism", "PLAIN"),
    ({"sasl_mechanism": "PLAIN"}, "", "sasl_username"),
    ({"expect": {"max_lag": -1}}, "/expect/max_lag", None),
])
def test_it_checks_declarations(item, pointer_end, message):
    base = {"name": "billing-lag", "type": "kafka-consumer", "target": "kafka:9092", "group": "billing"}
    declaration = {**base, **item}
    if declaration.get("group") is None:
        declaration.pop("group")
    found, errors = probe_declaration_check(declaration)
    if pointer_end is None and message is None:
        assert errors == [] and found.kind == Kind.KAFKA_CONSUMER
        return
    assert errors, declaration
    text = " ".join(str(error) for error in errors)
    assert message is None or message in text, errors


def test_it_hides_the_sasl_password_and_keeps_it_when_sent_back_hidden():
    stored = {"name": "lag", "type": "kafka-consumer", "target": "kafka:9093", "group": "billing", "tls": True,
              "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "probe", "sasl_password": "s3cr3t-pass"}
    shown = probe_redacted(stored)
    assert shown["sasl_password"] == "***"
    assert probe_unredacted(shown, stored)["sasl_password"] == "s3cr3t-pass"
