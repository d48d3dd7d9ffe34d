"""Runs and results as broker messages (probes.engine.wire): what goes out comes back the same,
and a malformed item is refused with a message that names it."""
from datetime import UTC, datetime, timedelta

import pytest

from probes.engine.spec import Kind, Outcome, ProbeResult, ProbeSpec
from probes.engine.wire import (WireError, result_decode, result_encode, results_decode, run_decode, run_encode,
                                runs_decode)

T0 = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)


def spec(**extra):
    return ProbeSpec(**{"key": "17", "kind": Kind.HTTP, "target": "http://127.0.0.1:8080/healthz", "timeout": 2.5,
                        "options": {"method": "POST", "headers": {"X-A": "b"}}, "expect": {"status": [200]}, **extra})


def test_it_handles_a_run_round_trip_with_its_due_time():
    decoded, due = run_decode(run_encode(spec(), T0))
    assert decoded == spec() and due == T0


def test_it_handles_a_batch_in_its_order():
    items = [run_encode(spec(key=str(n), kind=Kind.TCP, target=f"127.0.0.1:{9000 + n}", options={}, expect={}),
                        T0 + timedelta(seconds=n)) for n in range(3)]
    specs, dues = runs_decode(items)
    assert [s.key for s in specs] == ["0", "1", "2"] and [s.kind for s in specs] == [Kind.TCP] * 3
    assert dues == [T0 + timedelta(seconds=n) for n in range(3)]


def test_it_handles_a_result_round_trip():
    result = ProbeResult(key="17", outcome=Outcome.DEGRADED, latency_ms=12.345, started_at=T0,
                         finished_at=T0 + timedelta(milliseconds=12), values={"status": 200}, error="slow")
    assert result_decode(result_encode(result)) == result
    assert results_decode([result_encode(result)] * 2) == [result, result]


def test_it_handles_a_result_without_values():
    result = ProbeResult(key="1", outcome=Outcome.DOWN, latency_ms=0.0, started_at=T0, finished_at=T0, error="refused")
    assert result_decode(result_encode(result)).values == {}


@pytest.mark.parametrize(("item", "message"), [
    (["17", T0.isoformat(), "http"], "run 0: expected a list of 7 fields"),
    ({"key": "17"}, "run 0: expected a list of 7 fields"),
    (["17", T0.isoformat(), "smtp", "127.0.0.1:25", 1.0, {}, {}], "run 0: kind 'smtp' is not one of"),
    (["17", "yesterday", "tcp", "127.0.0.1:25", 1.0, {}, {}], "run 0: due must be an ISO 8601 time"),
    (["17", "2026-11-20T12:00:00", "tcp", "127.0.0.1:25", 1.0, {}, {}], "run 0: due must be an ISO 8601 time"),
    (["17", T0.isoformat(), "tcp", "", 1.0, {}, {}], "run 0: target must be a non-empty string"),
    (["17", T0.isoformat(), "tcp", "127.0.0.1:25", True, {}, {}], "run 0: timeout must be a positive number"),
    (["17", T0.isoformat(), "tcp", "127.0.0.1:25", 1.0, [], {}], "run 0: options must be an object"),
    ([17, T0.isoformat(), "tcp", "127.0.0.1:25", 1.0, {}, {}], "run 0: key must be a non-empty string"),
])
def test_it_rejects_a_malformed_run_naming_the_field(item, message):
    with pytest.raises(WireError) as caught:
        runs_decode([item])
    assert str(caught.value).startswith(message)


def test_it_rejects_a_run_item_of_an_earlier_format():
    with pytest.raises(WireError, match="run 1: expected a list of 7 fields"):
        runs_decode([run_encode(spec(), T0), [17, T0.isoformat()]])


@pytest.mark.parametrize(("item", "message"), [
    (["1", "sideways", 1.0, T0.isoformat(), T0.isoformat(), {}, ""], "result 0: outcome 'sideways' is not one of"),
    (["1", "up", -1, T0.isoformat(), T0.isoformat(), {}, ""], "result 0: latency_ms must be a number >= 0"),
    (["1", "up", 1.0, "now", T0.isoformat(), {}, ""], "result 0: started_at must be an ISO 8601 time"),
    (["1", "up", 1.0, T0.isoformat(), T0.isoformat(), None, ""], "result 0: values must be an object"),
    (["1", "up", 1.0, T0.isoformat(), T0.isoformat(), {}, None], "result 0: error must be a string"),
    (["1", "up"], "result 0: expected a list of 7 fields"),
])
def test_it_rejects_a_malformed_result_naming_the_field(item, message):
    with pytest.raises(WireError) as caught:
        result_decode(item)
    assert str(caught.value).startswith(message)


def test_it_rejects_a_batch_that_is_not_a_list():
    with pytest.raises(WireError, match="runs: expected a list"):
        runs_decode({"0": []})
    with pytest.raises(WireError, match="results: expected a list"):
        results_decode("[]")


def test_it_handles_an_overlong_error_by_trimming_it():
    item = ["1", "down", 1.0, T0.isoformat(), T0.isoformat(), {}, "x" * 5000]
    assert len(result_decode(item).error) == 300
