"""Migration steps for each change of a plan, concrete and ordered, each tied to the trade-off it
manages. Pure: no Django. §-numbers cite the criteria digest; "beyond the document" marks practice
the document does not state."""
from topology.budgets import possessive

from .changes import Change

ASYNC = ("pubsub", "queue")
SYNC = ("rest", "grpc")
BEYOND = "beyond the document"


def steps_for(change: Change, *, before_style: str, targets: list[str]) -> list[dict]:
    after = change.style or before_style
    who = ", ".join(targets) or "the targets"
    if change.remove:
        return _steps([(f"Find every caller path that still relies on {change.key} (tracing, logs) and move it.", BEYOND),
                       (f"Stop {change.source} calling or publishing for {change.name}; keep {who} able to run without it.", "§3.5"),
                       ("Remove the declaration from the manifest once nothing uses it.", BEYOND)])
    if before_style in SYNC and after in ASYNC:
        return _to_async(change, after, who)
    if before_style in ASYNC and after in SYNC:
        return _to_sync(change, after, who)
    if before_style != after and after in SYNC:
        return _steps([(f"Serve {change.name} over {after} beside {before_style} at {who}; run both.", BEYOND),
                       (f"Move {change.source} to {after} with the same timeouts and retries, then remove {before_style}.", "§3.3")])
    if before_style != after and after in ASYNC:
        kind = "a topic every subscriber reads" if after == "pubsub" else "a work queue that one worker of a pool takes"
        return _steps([(f"Create {kind} for {change.name} and move the consumers to it.", "§4.3" if after == "pubsub" else "§4.4"),
                       ("Drain the old channel, then delete it.", BEYOND)])
    return _steps([(f"Update the criteria of {change.key} in the manifest; the recommendation follows.", "§5")])


def _to_async(change: Change, after: str, who: str) -> list[dict]:
    channel = change.channel or f"{change.source}.{change.name}"
    kind = "topic" if after == "pubsub" else "queue"
    consume = "consumes" if "," not in who else "consume"
    return _steps([
        (f"Create the {kind} {channel}{' on ' + change.broker if change.broker else ''}, with retention and a dead-letter queue.", "§4.8"),
        (f"Write the event in {possessive(change.source)} own transaction through an outbox table, and publish from the outbox, so no change is lost or sent twice.", "§4.10"),
        (f"Make {who} idempotent: a message may arrive twice (at-least-once delivery).", "§4.6"),
        (f"Run both paths: keep the synchronous call while {who} {consume} the {kind}; compare results.", BEYOND),
        (f"Switch {who} to the {kind}, then remove the synchronous call from {change.source}.", "§3.5"),
        (f"Watch consumer lag with a probe (kafka-consumer, rabbitmq-queue or nats-consumer) and alert on it.", "§4.7"),
    ])


def _to_sync(change: Change, after: str, who: str) -> list[dict]:
    return _steps([
        (f"Give the {after} call from {change.source} to {who} a timeout below the caller's own budget.", "§3.5"),
        ("Retry only idempotent requests, with backoff and jitter, within a retry budget.", BEYOND),
        (f"Put a circuit breaker in front of {who} and decide what {change.source} does when it is open.", "§3.5"),
        ("Drain the messages in flight (or replay them through the new call) before removing the consumer.", "§4.6"),
        ("Remove the topic or queue once it is empty and nothing publishes to it.", BEYOND),
    ])


def _steps(items: list[tuple[str, str]]) -> list[dict]:
    return [{"order": n, "step": text, "cites": cites} for n, (text, cites) in enumerate(items, start=1)]
