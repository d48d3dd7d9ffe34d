"""Probe runs and their results as plain JSON lists, for the broker messages between sites.

A run goes out as `[key, due, kind, target, timeout, options, expect]` (everything the engine needs,
`due` an ISO 8601 time) and its result comes back as
`[key, outcome, latency_ms, started_at, finished_at, values, error]`. Lists, not dicts: a batch of
250 runs is one message, and the names would repeat in every item. A malformed item raises
`WireError` naming the item and the field, never anything else.

No Django and no ORM here: a remote site decodes runs with nothing but this module and the engine.
"""
from __future__ import annotations

from datetime import datetime

from .spec import MAX_ERROR, Kind, Outcome, ProbeResult, ProbeSpec

RUN_FIELDS = ("key", "due", "kind", "target", "timeout", "options", "expect")
RESULT_FIELDS = ("key", "outcome", "latency_ms", "started_at", "finished_at", "values", "error")


class WireError(ValueError):
    """A message item that is not a run or a result of this format."""


def run_encode(spec: ProbeSpec, due: datetime) -> list:
    return [spec.key, due.isoformat(), str(spec.kind), spec.target, spec.timeout, spec.options, spec.expect]


def run_decode(item: object, index: int = 0) -> tuple[ProbeSpec, datetime]:
    """The spec and due time of one run item."""
    fields = _fields(item, RUN_FIELDS, index, "run")
    key, due, kind, target, timeout, options, expect = fields
    _check(isinstance(key, str) and key, index, "run", "key", "a non-empty string")
    _check(isinstance(target, str) and target, index, "run", "target", "a non-empty string")
    _check(_number(timeout) and timeout > 0, index, "run", "timeout", "a positive number")
    _check(isinstance(options, dict), index, "run", "options", "an object")
    _check(isinstance(expect, dict), index, "run", "expect", "an object")
    kind = _member(Kind, kind, index, "run", "kind")
    spec = ProbeSpec(key=key, kind=kind, target=target, timeout=float(timeout), options=options, expect=expect)
    return spec, _time(due, index, "run", "due")


def runs_decode(items: object) -> tuple[list[ProbeSpec], list[datetime]]:
    """The specs and due times of a batch, in its order."""
    if not isinstance(items, list):
        raise WireError("runs: expected a list of run items")
    decoded = [run_decode(item, index) for index, item in enumerate(items)]
    return [spec for spec, _ in decoded], [due for _, due in decoded]


def result_encode(result: ProbeResult) -> list:
    return [result.key, str(result.outcome), result.latency_ms, result.started_at.isoformat(),
            result.finished_at.isoformat(), result.values or {}, result.error]


def result_decode(item: object, index: int = 0) -> ProbeResult:
    fields = _fields(item, RESULT_FIELDS, index, "result")
    key, outcome, latency, started, finished, values, error = fields
    _check(isinstance(key, str) and key, index, "result", "key", "a non-empty string")
    _check(_number(latency) and latency >= 0, index, "result", "latency_ms", "a number >= 0")
    _check(isinstance(values, dict), index, "result", "values", "an object")
    _check(isinstance(error, str), index, "result", "error", "a string")
    outcome = _member(Outcome, outcome, index, "result", "outcome")
    return ProbeResult(key=key, outcome=outcome, latency_ms=float(latency),
                       started_at=_time(started, index, "result", "started_at"),
                       finished_at=_time(finished, index, "result", "finished_at"), values=values,
                       error=error[:MAX_ERROR])


def results_decode(items: object) -> list[ProbeResult]:
    if not isinstance(items, list):
        raise WireError("results: expected a list of result items")
    return [result_decode(item, index) for index, item in enumerate(items)]


def _fields(item: object, names: tuple[str, ...], index: int, what: str) -> list:
    if not isinstance(item, list) or len(item) != len(names):
        raise WireError(f"{what} {index}: expected a list of {len(names)} fields ({', '.join(names)})")
    return item


def _check(ok: object, index: int, what: str, name: str, expected: str) -> None:
    if not ok:
        raise WireError(f"{what} {index}: {name} must be {expected}")


def _member(choices, value: object, index: int, what: str, field: str):
    """`value` as a member of the enum `choices`, or a WireError naming the item and the field."""
    try:
        return choices(value)
    except ValueError:
        raise WireError(f"{what} {index}: {field} {value!r} is not one of {', '.join(choices)}") from None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _time(value: object, index: int, what: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise WireError(f"{what} {index}: {name} must be an ISO 8601 time with a UTC offset")
    return moment
