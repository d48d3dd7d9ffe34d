"""The probe engine against real servers on loopback: HTTP(S), TCP, the target policy and the runner."""
import asyncio
import gc
import socket
import ssl
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from tests.probe_servers import HttpServer, closed_port, fixed_resolver
from probes.engine import (ALWAYS_DENIED, TargetPolicy, TargetRefused, address_resolve, coroutine_run,
                             policy_build, probe_run, probes_run, probes_run_async)
from probes.engine.spec import MAX_ERROR, Kind, Outcome, ProbeSpec

REFUSED = "refused by the probe target policy"
POLICY = policy_build()


@pytest.fixture(scope="module")
def server():
    with HttpServer() as running:
        yield running


def run_one(spec: ProbeSpec, policy: TargetPolicy = POLICY):
    [result] = probes_run([spec], policy=policy)
    return result


def http(url: str, timeout: float = 2.0, **kw) -> ProbeSpec:
    return ProbeSpec("k", Kind.HTTP, url, timeout=timeout, options=kw.pop("options", {}), expect=kw.pop("expect", {}))


# HTTP


def test_it_handles_an_expected_status(server):
    result = run_one(http(server.url("/ok")))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {"status": 200}, "")
    assert 0 < result.latency_ms < 2000


def test_it_handles_an_unexpected_status_with_a_short_body_snippet(server):
    result = run_one(http(server.url("/status/503")))
    assert result.outcome == Outcome.DOWN
    assert result.values == {"status": 503}
    assert result.error == "status 503, expected 2xx; body: status 503 body"


@pytest.mark.parametrize("expected, outcome", [(404, Outcome.UP), ([200, "4xx"], Outcome.UP), ("5xx", Outcome.DOWN)])
def test_it_handles_expected_status_lists_and_classes(server, expected, outcome):
    assert run_one(http(server.url("/status/404"), expect={"status": expected})).outcome == outcome


def test_it_handles_body_contains(server):
    assert run_one(http(server.url("/ok"), expect={"body_contains": "good"})).outcome == Outcome.UP
    result = run_one(http(server.url("/ok"), expect={"body_contains": "healthy"}))
    assert result.outcome == Outcome.DOWN
    assert result.error == "body does not contain 'healthy'; body: all good here"


def test_it_reads_at_most_64_kib_of_a_body(server):
    result = run_one(http(server.url("/big"), expect={"body_contains": "needle"}))
    assert result.outcome == Outcome.DOWN
    assert "body does not contain 'needle' (in its first 64 KiB)" in result.error
    assert len(result.error) <= MAX_ERROR


@pytest.mark.parametrize("path, equals", [("$.status", "ok"), ("$.checks[0].state", "up"), ("$.count", 3),
                                          ("$.count", 3.0), ("$.flag", True)])
def test_it_handles_a_json_path_that_equals(server, path, equals):
    result = run_one(http(server.url("/json"), expect={"json_path": path, "equals": equals}))
    assert (result.outcome, result.error) == (Outcome.UP, "")


@pytest.mark.parametrize("path, equals, error", [
    ("$.status", "down", '$.status is "ok", expected "down"'),
    ("$.flag", 1, "$.flag is true, expected 1"),
    ("$.checks[3].state", "up", "$.checks[3].state is not in the JSON body"),
    ("$.missing", None, "$.missing is not in the JSON body"),
])
def test_it_rejects_a_json_value_that_differs(server, path, equals, error):
    result = run_one(http(server.url("/json"), expect={"json_path": path, "equals": equals}))
    assert (result.outcome, result.error) == (Outcome.DOWN, error)


def test_it_rejects_a_body_that_is_not_json(server):
    result = run_one(http(server.url("/ok"), expect={"json_path": "$.status", "equals": "ok"}))
    assert (result.outcome, result.error) == (Outcome.DOWN, "body is not JSON; body: all good here")


def test_it_sends_the_method_headers_and_body(server):
    spec = http(server.url("/echo"), options={"method": "POST", "headers": {"X-Token": "t-1", "Connection": "keep"},
                                              "body": "ping"},
                expect={"json_path": "$.body", "equals": "ping"})
    assert run_one(spec).outcome == Outcome.UP
    echoed = {"json_path": "$.token", "equals": "t-1"}
    assert run_one(http(server.url("/echo"), options={"headers": {"X-Token": "t-1"}}, expect=echoed)).outcome == Outcome.UP


def test_it_handles_a_head_request(server):
    result = run_one(http(server.url("/ok"), options={"method": "HEAD"}))
    assert (result.outcome, result.values) == (Outcome.UP, {"status": 200})


def test_it_times_out_a_slow_response(server):
    result = run_one(http(server.url("/slow/800"), timeout=0.2))
    assert (result.outcome, result.error) == (Outcome.DOWN, "timed out after 200ms")
    assert 150 < result.latency_ms < 2000


@pytest.mark.parametrize("concurrency", [1, 5])
def test_it_handles_timeouts_of_many_probes_in_one_run(server, concurrency):
    # One timer keeps a run's timeouts: each probe still times out at its own deadline, the others
    # (and the next probes of the same worker) go on.
    specs = [http(server.url("/slow/800"), timeout=0.2), http(server.url("/ok")), http(server.url("/slow/900"), timeout=0.3),
             http(server.url("/slow/100"), timeout=0.5), http(server.url("/ok"), timeout=0.25)]
    results = probes_run(specs, policy=POLICY, concurrency=concurrency)
    assert [(r.outcome, r.error) for r in results] == [
        (Outcome.DOWN, "timed out after 200ms"), (Outcome.UP, ""), (Outcome.DOWN, "timed out after 300ms"),
        (Outcome.UP, ""), (Outcome.UP, "")]
    assert 150 < results[0].latency_ms < 700 and 250 < results[2].latency_ms < 800


def test_it_rejects_to_turn_a_cancelled_run_into_timeouts(server):
    async def cancelled():
        running = asyncio.ensure_future(probes_run_async([http(server.url("/slow/800"), timeout=0.5)] * 3,
                                                         policy=POLICY))
        await asyncio.sleep(0.1)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        return "cancelled"

    assert coroutine_run(cancelled()) == "cancelled"


@contextmanager
def plain_answerer():
    """An HTTP/1.1 answerer on plain sockets in a thread ("ok" to anything), which makes no garbage of its own."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                while b"\r\n\r\n" not in conn.recv(4096):
                    pass
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/health"
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_it_handles_plain_http_probes_without_reference_cycles():
    # Every object a probe makes is freed as soon as the probe ends; a cycle per probe (the
    # httptools parser holding its callbacks' object) would be left to the garbage collector,
    # whose full passes over a worker's heap cost more than the probes.
    with plain_answerer() as url:
        specs = [http(f"{url}?probe={i}") for i in range(40)]
        probes_run(specs[:5], policy=POLICY)
        gc.collect()
        gc.disable()
        try:
            results = probes_run(specs, policy=POLICY, concurrency=8)
            left = gc.collect()
        finally:
            gc.enable()
    assert [r.outcome for r in results] == [Outcome.UP] * 40
    assert left == 0


def test_it_degrades_a_response_slower_than_max_latency_ms(server):
    result = run_one(http(server.url("/slow/120"), expect={"max_latency_ms": 20}))
    assert result.outcome == Outcome.DEGRADED
    assert result.error.startswith("latency_ms=") and result.error.endswith(" above max_latency_ms=20")
    assert result.latency_ms >= 100


def test_it_follows_redirects_up_to_max_redirects(server):
    assert run_one(http(server.url("/redirect/3"), expect={"body_contains": "arrived"})).outcome == Outcome.UP
    result = run_one(http(server.url("/redirect/4")))
    assert result.outcome == Outcome.DOWN
    assert result.values == {"status": 302}
    assert result.error == "status 302, expected 2xx (redirect not followed: max_redirects=3 reached)"
    assert [path for _, path, _ in server.seen[-4:]] == ["/redirect/4", "/redirect/3", "/redirect/2", "/redirect/1"]


def test_it_does_not_follow_when_redirects_are_off_or_the_redirect_is_expected(server):
    assert run_one(http(server.url("/redirect/1"), options={"max_redirects": 0})).outcome == Outcome.DOWN
    result = run_one(http(server.url("/redirect/1"), expect={"status": 302}))
    assert (result.outcome, result.values) == (Outcome.UP, {"status": 302})


def test_it_rejects_a_redirect_to_a_metadata_address(server):
    result = run_one(http(server.url("/to?url=http://169.254.169.254/latest/meta-data/")))
    assert result.outcome == Outcome.DOWN
    assert REFUSED in result.error and "169.254.169.254" in result.error


def test_it_rejects_a_refused_port_for_http_and_tcp():
    port = closed_port()
    for spec in (http(f"http://127.0.0.1:{port}/"), ProbeSpec("k", Kind.TCP, f"127.0.0.1:{port}")):
        result = run_one(spec)
        assert result.outcome == Outcome.DOWN
        assert "ConnectionRefusedError" in result.error


def test_it_handles_a_tcp_port_that_accepts(server):
    result = run_one(ProbeSpec("k", Kind.TCP, f"127.0.0.1:{server.port}"))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {}, "")


def test_it_never_puts_the_target_password_into_an_error(server):
    target = server.url("/echo-auth", host="probe:s3cret-pass-9@127.0.0.1")
    result = run_one(http(target))
    assert result.outcome == Outcome.DOWN
    assert result.error.startswith("status 500, expected 2xx; body: refused credentials Basic ")
    assert "s3cret-pass-9" not in result.error


# HTTPS


@pytest.fixture(scope="module")
def tls_server():
    ca = trustme.CA()
    certificate = ca.issue_cert("service.test", not_after=datetime.now(UTC) + timedelta(days=5))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    resolver = fixed_resolver({"service.test": ["127.0.0.1"]})
    with HttpServer(tls=context) as running:
        running.policy = TargetPolicy(resolver=resolver, ssl_context=client)
        yield running


def test_it_handles_https_and_reports_cert_days(tls_server):
    result = run_one(http(tls_server.url("/ok", host="service.test", scheme="https")), tls_server.policy)
    assert (result.outcome, result.error) == (Outcome.UP, "")
    assert result.values["status"] == 200
    assert 4 <= result.values["cert_days"] <= 5


def test_it_degrades_a_certificate_that_expires_within_cert_expiry_days(tls_server):
    spec = http(tls_server.url("/ok", host="service.test", scheme="https"), expect={"cert_expiry_days": 30})
    result = run_one(spec, tls_server.policy)
    assert result.outcome == Outcome.DEGRADED
    assert result.error == f"cert_days={result.values['cert_days']} within cert_expiry_days=30"


def test_it_rejects_a_certificate_from_an_untrusted_ca(tls_server):
    policy = TargetPolicy(resolver=tls_server.policy.resolver)
    result = run_one(http(tls_server.url("/ok", host="service.test", scheme="https")), policy)
    assert result.outcome == Outcome.DOWN
    assert "CERTIFICATE_VERIFY_FAILED" in result.error


def test_it_rejects_a_certificate_for_another_host_name(tls_server):
    policy = TargetPolicy(resolver=fixed_resolver({"other.test": ["127.0.0.1"]}),
                          ssl_context=tls_server.policy.ssl_context)
    result = run_one(http(tls_server.url("/ok", host="other.test", scheme="https")), policy)
    assert result.outcome == Outcome.DOWN
    assert "CERTIFICATE_VERIFY_FAILED" in result.error and "other.test" in result.error


# The target policy


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
                                    "http://[fe80::1]:8080/", "http://[fd00:ec2::254]/", "http://0.0.0.0:80/",
                                    "http://[::]:80/", "http://[64:ff9b::a9fe:a9fe]/"])
def test_it_rejects_link_local_metadata_and_unspecified_addresses(target):
    result = run_one(http(target))
    assert result.outcome == Outcome.DOWN
    assert REFUSED in result.error


@pytest.mark.parametrize("kind, target, options", [
    (Kind.TCP, "169.254.169.254:80", {}),
    (Kind.GRPC, "[::ffff:169.254.169.254]:50051", {}),
    (Kind.RABBITMQ_QUEUE, "amqp://guest:guest@169.254.169.254:5672/", {"queue": "q"}),
    (Kind.NATS_CONSUMER, "nats://[fe80::1]:4222", {}),
    (Kind.REDIS, "redis://169.254.169.254:6379/0", {}),
])
def test_it_rejects_metadata_addresses_for_every_kind(kind, target, options):
    result = run_one(ProbeSpec("k", kind, target, timeout=2, options=options))
    assert (result.outcome, result.latency_ms < 1000) == (Outcome.DOWN, True)
    assert REFUSED in result.error


def test_it_rejects_a_name_that_resolves_to_the_metadata_address():
    resolver = fixed_resolver({"innocent.test": ["169.254.169.254"]})
    result = run_one(http("http://innocent.test/"), TargetPolicy(resolver=resolver))
    assert result.outcome == Outcome.DOWN
    assert result.error.startswith("innocent.test resolves only to addresses refused by the probe target policy: "
                                   "169.254.169.254: 169.254.0.0/16")
    assert resolver.lookups == ["innocent.test"]


def test_it_connects_to_the_checked_address_of_a_made_up_name(server):
    resolver = fixed_resolver({"made-up.test": ["127.0.0.1"]})
    result = run_one(http(server.url("/ok", host="made-up.test")), TargetPolicy(resolver=resolver))
    assert result.outcome == Outcome.UP
    assert server.seen[-1] == ("GET", "/ok", f"made-up.test:{server.port}")
    assert resolver.lookups == ["made-up.test"]


def test_it_skips_refused_candidates_and_uses_the_first_allowed_one():
    resolver = fixed_resolver({"mixed.test": ["169.254.169.254", "fe80::1", "127.0.0.1", "127.0.0.2"]})
    address = coroutine_run(address_resolve(TargetPolicy(resolver=resolver), "mixed.test", 80))
    assert address == "127.0.0.1"


def test_it_does_not_resolve_an_ip_literal():
    resolver = fixed_resolver({})
    assert coroutine_run(address_resolve(TargetPolicy(resolver=resolver), "[::1]", 80)) == "::1"
    assert resolver.lookups == []


def test_it_rejects_a_target_outside_the_allow_list(server):
    result = run_one(http(server.url("/ok")), policy_build(allowed=["10.0.0.0/8", "fd00::/8"]))
    assert result.outcome == Outcome.DOWN
    assert result.error == f"127.0.0.1: {REFUSED}: not in any allowed network"
    assert run_one(http(server.url("/ok")), policy_build(allowed=["127.0.0.0/8"])).outcome == Outcome.UP


def test_it_rejects_a_target_in_the_deny_list(server):
    result = run_one(ProbeSpec("k", Kind.TCP, f"127.0.0.1:{server.port}"), policy_build(denied=["127.0.0.0/8"]))
    assert result.outcome == Outcome.DOWN
    assert result.error == f"127.0.0.1: {REFUSED}: in the denied network 127.0.0.0/8"


def test_it_denies_mapped_ipv6_forms_through_ipv4_lists():
    policy = policy_build(denied=["10.0.0.0/8"])
    with pytest.raises(TargetRefused, match="denied network 10.0.0.0/8"):
        coroutine_run(address_resolve(policy, "::ffff:10.1.2.3", 80))


def test_it_rejects_a_bad_network_text():
    with pytest.raises(ValueError, match="'not-a-network' is not an IP network"):
        policy_build(allowed=["127.0.0.0/8", "not-a-network"])


def test_it_always_denies_the_metadata_networks():
    assert {str(network) for network in ALWAYS_DENIED} >= {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                                                           "0.0.0.0/8", "::/128"}


# The runner


def test_it_returns_one_result_per_spec_in_order_and_never_raises(server):
    specs = [
        http(server.url("/slow/100"), expect={}),
        ProbeSpec("bad-url", Kind.HTTP, "ftp://nowhere/"),
        ProbeSpec("bad-target", Kind.TCP, "no port here"),
        ProbeSpec("bad-kind", "carrier-pigeon", "loft:1"),
        ProbeSpec("fast", Kind.TCP, f"127.0.0.1:{server.port}"),
    ]
    results = probes_run(specs, policy=POLICY, concurrency=2, location="eu-west")
    assert [r.key for r in results] == ["k", "bad-url", "bad-target", "bad-kind", "fast"]
    assert [r.outcome for r in results] == [Outcome.UP, Outcome.DOWN, Outcome.DOWN, Outcome.DOWN, Outcome.UP]
    assert results[1].error == "not an http(s) URL with a host: 'ftp://nowhere/'"
    assert results[2].error == "target 'no port here' is not host:port"
    assert results[3].error == "unknown probe kind 'carrier-pigeon'"


def test_it_stamps_results_with_utc_times(server):
    result = run_one(http(server.url("/ok")))
    assert result.started_at.tzinfo is UTC and result.finished_at.tzinfo is UTC
    assert result.started_at <= result.finished_at <= datetime.now(UTC)


def test_it_names_the_location_in_the_user_agent(server):
    spec = http(server.url("/echo"), expect={"json_path": "$.user_agent", "equals": "switchboard-probe/1 (eu-west)"})
    [result] = probes_run([spec], policy=POLICY, location="eu-west")
    assert (result.outcome, result.error) == (Outcome.UP, "")


def test_it_runs_many_probes_concurrently(server):
    specs = [ProbeSpec(str(i), Kind.HTTP, server.url("/slow/100")) for i in range(20)]
    started = datetime.now(UTC)
    results = probes_run(specs, policy=POLICY, concurrency=20)
    assert [r.key for r in results] == [str(i) for i in range(20)]
    assert {r.outcome for r in results} == {Outcome.UP}
    assert datetime.now(UTC) - started < timedelta(seconds=1.5)


def test_it_runs_inside_a_running_loop(server):
    async def scenario():
        return await probes_run_async([http(server.url("/json"))], policy=POLICY), await probe_run(
            http(server.url("/status/500")), policy=POLICY)

    [up], down = coroutine_run(scenario())
    assert (up.outcome, down.outcome) == (Outcome.UP, Outcome.DOWN)
    assert up.values == {"status": 200}


def test_it_holds_each_probe_until_its_due_time(server):
    import time

    soon = time.time() + 0.3
    specs = [http(server.url("/ok")), http(server.url("/ok"))]
    now_result, held = probes_run(specs, policy=POLICY, not_before=[0.0, soon])
    assert now_result.started_at.timestamp() < soon - 0.1
    assert held.started_at.timestamp() >= soon - 0.01
    assert held.outcome == Outcome.UP
