"""Run many probes at once and turn what each measured into an outcome.

Each kind's module has `async def probe(spec, attempt) -> (values, problem)`: the measured numbers
and a non-empty problem text when the target is down. Thresholds (`max_*`, `min_consumers`,
`cert_expiry_days`) are applied here, the same way for every kind. A run never raises: a timeout,
a refused address or any exception becomes a `down` result.
"""
from __future__ import annotations

import asyncio
import importlib
import operator
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from time import perf_counter, time
from urllib.parse import unquote, urlsplit

import uvloop

from .policy import TargetPolicy, TargetRefused
from .spec import (DEFAULT_LOCATION, OUTCOME_RANK, Kind, Outcome, ProbeResult, ProbeSpec, duration_text,
                   error_trimmed, target_redacted)

Measured = tuple[dict, str]
Probe = Callable[[ProbeSpec, "Attempt"], Awaitable[Measured]]

PROBE_MODULES = {
    Kind.HTTP: "http", Kind.TCP: "tcp", Kind.GRPC: "grpc_health", Kind.RABBITMQ_QUEUE: "rabbitmq",
    Kind.NATS_CONSUMER: "nats", Kind.REDIS: "redis_probe", Kind.KAFKA_CONSUMER: "kafka",
}
DEFAULT_EXPECT = {Kind.RABBITMQ_QUEUE: {"min_consumers": 1}}
LATENCY = "latency_ms"
MIN_SECRET = 4
MAX_HOLD = 5.0
TIMER_SLACK = 0.001  # seconds: libuv's timers count whole milliseconds, so one may fire a little early


@dataclass(frozen=True, slots=True)
class Limit:
    """One threshold: `expect[key]` compared with `values[value]`; a breach gives `outcome`."""

    key: str
    value: str
    breached: Callable[[float, float], bool]
    word: str
    outcome: Outcome


LIMITS = {limit.key: limit for limit in (
    Limit("max_latency_ms", LATENCY, operator.gt, "above", Outcome.DEGRADED),
    Limit("max_ready", "ready", operator.gt, "above", Outcome.DEGRADED),
    Limit("max_pending", "pending", operator.gt, "above", Outcome.DEGRADED),
    Limit("max_ack_pending", "ack_pending", operator.gt, "above", Outcome.DEGRADED),
    Limit("max_redelivered", "redelivered", operator.gt, "above", Outcome.DEGRADED),
    Limit("max_length", "length", operator.gt, "above", Outcome.DEGRADED),
    Limit("cert_expiry_days", "cert_days", operator.lt, "within", Outcome.DEGRADED),
    Limit("min_consumers", "consumers", operator.lt, "below", Outcome.DOWN),
    Limit("max_lag", "lag", operator.gt, "above", Outcome.DEGRADED),
    Limit("max_lag_per_partition", "worst_lag", operator.gt, "above", Outcome.DEGRADED),
    Limit("min_members", "members", operator.lt, "below", Outcome.DOWN),
)}


class Attempt:
    """One probe's run: the policy, where it runs from, and when it started to connect."""

    __slots__ = ("policy", "location", "connected_at")

    def __init__(self, policy: TargetPolicy, location: str) -> None:
        self.policy = policy
        self.location = location
        self.connected_at: float | None = None

    def connecting(self) -> None:
        """Mark the start of the latency: just before the first connect."""
        if self.connected_at is None:
            self.connected_at = perf_counter()


async def probes_run_async(specs: Sequence[ProbeSpec], *, policy: TargetPolicy, concurrency: int = 256,
                           location: str = DEFAULT_LOCATION,
                           not_before: Sequence[float] | None = None) -> list[ProbeResult]:
    """Run the probes, at most `concurrency` at a time; one result per spec, in the input order.

    `not_before` (epoch seconds, one per spec, ascending) holds each probe back until its due time,
    so a batch sent a little early starts every probe on time."""
    specs = list(specs)
    _modules_loaded(specs)
    results: list[ProbeResult | None] = [None] * len(specs)
    pending = iter(enumerate(specs))
    deadlines = Deadlines(asyncio.get_running_loop())

    async def worker() -> None:
        for index, spec in pending:
            if not_before:
                await _until(not_before[index])
            results[index] = await _probe_run(spec, policy, location, deadlines)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(specs))))))
    finally:
        deadlines.close()
    return results


class Watch:
    """One probe's deadline in a Deadlines: its task, and whether the deadline passed while it ran."""

    __slots__ = ("task", "when", "cancelling", "finished", "expired")

    def __init__(self, task: asyncio.Task, when: float) -> None:
        self.task, self.when, self.cancelling = task, when, task.cancelling()
        self.finished = self.expired = False


class Deadlines:
    """The timeouts of a run's probes with one loop timer, armed for the earliest deadline.

    A timer per probe (what asyncio.timeout arms) costs about a fifth of a plain HTTP probe's CPU on
    uvloop. Here a probe appends its deadline to the queue of its timeout value (deadlines in a
    queue come in order, as probes start in order) and marks it finished when it ends; the timer
    cancels the task of each probe still running past its deadline, as asyncio.timeout does, and
    is armed again for the next one."""

    __slots__ = ("loop", "queues", "timer", "armed_for")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queues: dict[float, deque[Watch]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.armed_for = 0.0

    def watch(self, timeout: float) -> Watch:
        """Start watching the current task for `timeout` seconds from now."""
        watch = Watch(asyncio.current_task(), self.loop.time() + timeout)
        queue = self.queues.get(timeout)
        if queue is None:
            queue = self.queues[timeout] = deque()
        while queue and queue[0].finished:  # probes mostly end in the order they started
            queue.popleft()
        queue.append(watch)
        if self.timer is None or watch.when < self.armed_for:
            self._arm(watch.when)
        return watch

    def _arm(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer, self.armed_for = self.loop.call_at(when, self._expire), when

    def _expire(self) -> None:
        """Cancel the probes past their deadline; arm the timer for the next deadline."""
        self.timer, now, earliest = None, self.loop.time() + TIMER_SLACK, None
        for queue in self.queues.values():
            while queue and (queue[0].finished or queue[0].when <= now):
                watch = queue.popleft()
                if not watch.finished:
                    watch.expired = True
                    watch.task.cancel()
            if queue and (earliest is None or queue[0].when < earliest):
                earliest = queue[0].when
        if earliest is not None:
            self._arm(earliest)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


async def _until(moment: float) -> None:
    """Sleep until an epoch time (at most MAX_HOLD seconds)."""
    delay = moment - time()
    if delay > 0:
        await asyncio.sleep(min(delay, MAX_HOLD))


def _modules_loaded(specs: list[ProbeSpec]) -> None:
    """Import the kinds' modules before any probe starts, so no import stalls a measured probe."""
    for kind in {spec.kind for spec in specs}:
        try:
            _probe_for(kind)
        except ValueError:
            continue


def probes_run(specs: Sequence[ProbeSpec], *, policy: TargetPolicy, concurrency: int = 256,
               location: str = DEFAULT_LOCATION, not_before: Sequence[float] | None = None) -> list[ProbeResult]:
    """probes_run_async on a fresh event loop, for synchronous callers (a Celery task)."""
    return coroutine_run(probes_run_async(specs, policy=policy, concurrency=concurrency, location=location,
                                          not_before=not_before))


def coroutine_run(coroutine: Awaitable):
    """Run a coroutine to its end from synchronous code, even where this thread already runs a loop
    (then on a fresh loop in a helper thread, since asyncio.run refuses to nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _loop_run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="probes") as pool:
        return pool.submit(_loop_run, coroutine).result()


def _loop_run(coroutine: Awaitable):
    """On uvloop's event loop: libuv's sockets cost the probes about half the CPU of asyncio's own."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


async def probe_run(spec: ProbeSpec, *, policy: TargetPolicy, location: str = DEFAULT_LOCATION) -> ProbeResult:
    """Run one probe within its timeout and judge it; never raises (except on cancellation)."""
    return await _probe_run(spec, policy, location, None)


async def _probe_run(spec: ProbeSpec, policy: TargetPolicy, location: str, deadlines: Deadlines | None) -> ProbeResult:
    """probe_run, its timeout kept by the run's Deadlines when there is one (else by asyncio.timeout)."""
    attempt = Attempt(policy, location)
    started_at = datetime.now(UTC)
    began = perf_counter()
    if deadlines is None:
        values, problem = await _measured(spec, attempt)
    else:
        values, problem = await _measured_watched(spec, attempt, deadlines)
    ended = perf_counter()
    latency_ms = round((ended - (attempt.connected_at or began)) * 1000, 3)
    outcome, error = _judged(spec, values, problem, latency_ms)
    return ProbeResult(key=spec.key, outcome=outcome, latency_ms=latency_ms, started_at=started_at,
                       finished_at=datetime.now(UTC), values=values, error=_error_text(error, spec.target))


async def _measured(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """What the kind's probe measured, or the problem that stopped it."""
    try:
        probe = _probe_for(spec.kind)
        async with asyncio.timeout(spec.timeout):
            return await probe(spec, attempt)
    except TimeoutError:
        return {}, f"timed out after {duration_text(spec.timeout)}"
    except Exception as exc:  # noqa: BLE001 - any failure of the target or the library means down
        return _problem_of(exc)


def _problem_of(exc: Exception) -> Measured:
    """A failed probe's problem: the refusal or unreadable target as said, any other failure with its type."""
    if isinstance(exc, (TargetRefused, ValueError)):  # refused, or a target the kind cannot read
        return {}, str(exc)
    return {}, exception_text(exc)


async def _measured_watched(spec: ProbeSpec, attempt: Attempt, deadlines: Deadlines) -> Measured:
    """_measured with the timeout kept by the run's Deadlines: a cancellation it caused is a timeout."""
    watch = deadlines.watch(spec.timeout)
    try:
        return await _probe_for(spec.kind)(spec, attempt)
    except asyncio.CancelledError:
        if watch.expired and watch.task.uncancel() <= watch.cancelling:
            return {}, f"timed out after {duration_text(spec.timeout)}"
        raise
    except TimeoutError:  # a library's own timeout reads as the probe's, as in _measured
        return {}, f"timed out after {duration_text(spec.timeout)}"
    except Exception as exc:  # noqa: BLE001 - as in _measured
        return _problem_of(exc)
    finally:
        watch.finished = True


@cache
def _probe_for(kind: str) -> Probe:
    """The kind's probe function, imported on first use (gRPC, pika, NATS and Redis load slowly)."""
    try:
        module = PROBE_MODULES[Kind(kind)]
    except ValueError:
        raise ValueError(f"unknown probe kind {kind!r}") from None
    return importlib.import_module(f"{__package__}.{module}").probe


def exception_text(exc: BaseException) -> str:
    """An exception as "Type: message" (just the type when the message is empty)."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _judged(spec: ProbeSpec, values: dict, problem: str, latency_ms: float) -> tuple[Outcome, str]:
    """The outcome and the (untrimmed) error text from a problem (down) and the thresholds."""
    outcome, notes = (Outcome.DOWN, [problem]) if problem else (Outcome.UP, [])
    expect = {**DEFAULT_EXPECT[spec.kind], **spec.expect} if spec.kind in DEFAULT_EXPECT else spec.expect
    for key, bound in expect.items():
        limit = LIMITS.get(key)
        if limit is None or not isinstance(bound, (int, float)) or isinstance(bound, bool):
            continue
        value = latency_ms if limit.value == LATENCY else values.get(limit.value)
        if value is not None and limit.breached(value, bound):
            notes.append(f"{limit.value}={value} {limit.word} {key}={bound}")
            outcome = max(outcome, limit.outcome, key=OUTCOME_RANK.__getitem__)
    return outcome, "; ".join(notes)


def _error_text(error: str, target: str) -> str:
    """The error with the target's password hidden (before trimming, so no part of it is left), trimmed."""
    return error_trimmed(_scrubbed(error, target)) if error else ""


def _scrubbed(error: str, target: str) -> str:
    """The error with the target's password (if any) replaced."""
    if not error or "@" not in target:
        return error
    error = error.replace(target, target_redacted(target))
    try:
        password = urlsplit(target).password
    except ValueError:
        return error
    for secret in {password or "", unquote(password or "")}:
        if len(secret) >= MIN_SECRET:
            error = error.replace(secret, "***")
    return error
