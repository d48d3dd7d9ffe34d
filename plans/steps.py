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
    if change.add:
        return _new(change, who)
    if change.remove:
        return _retired(change, before_style, who)
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


def _new(change: Change, who: str) -> list[dict]:
    """What to build for a new interaction."""
    declare = (f"Declare {change.name} in {possessive(change.source)} manifest (to: {who}), so that the registry, "
               "the rules and the probes see it.", BEYOND)
    if change.style in SYNC:
        contract = ("an OpenAPI description of the REST resource", "§3.2") if change.style == "rest" else (
            "a Protocol Buffers service definition", "§3.3")
        return _steps([
            (f"Write {contract[0]} that {who} serve{'s' if ',' not in who else ''} for {change.name}, and review it with "
             f"{possessive(change.source)} team.", contract[1]),
            (f"Give the call from {change.source} a timeout below its own budget and a circuit breaker, and decide what "
             f"{change.source} does when {who} {'is' if ',' not in who else 'are'} slow or down.", "§3.5"),
            ("Retry only idempotent requests, with backoff and jitter, within a retry budget.", BEYOND),
            declare,
            ("Read the plan's new findings (chains, fan-out, fan-in): a new call can lengthen a chain of calls.", "§3.6"),
        ])
    if change.style in ASYNC:
        channel = change.channel or f"{change.source}.{change.name}"
        kind = "topic" if change.style == "pubsub" else "queue"
        return _steps([
            (f"Create the {kind} {channel}{' on ' + change.broker if change.broker else ''}, with retention and a "
             "dead-letter queue; the broker must be run highly available.", "§4.8"),
            (f"Publish from {possessive(change.source)} own transaction through an outbox table, so no event is lost "
             "or sent twice.", "§4.10"),
            (f"Make {who} idempotent consumers: a message may arrive twice (at-least-once delivery).", "§4.6"),
            ("Carry a correlation id in every message, so the flow can be traced end to end.", "§4.9"),
            (f"Watch consumer lag of the {kind} with a probe (kafka-consumer, rabbitmq-queue or nats-consumer).", "§4.7"),
            declare,
        ])
    return _steps([(f"Answer the criteria of {change.key} (does the caller need the answer now, can it be deferred, "
                    "how many services must hear of it) and follow the recommendation.", "§5"), declare])


def _retired(change: Change, before_style: str, who: str) -> list[dict]:
    """How to retire an interaction safely: a call, a subscription or a queue."""
    declaration = ("Remove the declaration from the manifest once nothing uses it.", BEYOND)
    if before_style in ASYNC:
        kind = "topic" if before_style == "pubsub" else "queue"
        first = ((f"Confirm that each subscriber ({who}) no longer needs {change.name}; other publishers and "
                  "subscribers of the topic keep it, so retire only this event.", "§4.3") if kind == "topic" else
                 (f"Confirm that the workers of {who} can stop taking {change.name}; move any work still needed.", "§4.4"))
        return _steps([
            first,
            (f"Stop {change.source} publishing {change.name} (turn off its outbox entries first).", "§4.10"),
            (f"Let {who} drain the messages already in the {kind}: the broker keeps them until they are read.", "§4.6"),
            (f"Watch the consumer lag reach zero, then delete the {kind} and its dead-letter queue once nothing "
             "writes to it.", "§4.7"),
            declaration,
        ])
    return _steps([
        (f"Find every path that still relies on {change.key} (tracing, access logs) and move it.", BEYOND),
        (f"Stop {change.source} calling {who} for {change.name} behind a switch; keep {change.source} working "
         "without the answer.", "§3.5"),
        (f"Watch the calls to {who} for {change.name} fall to zero, then remove the endpoint.", BEYOND),
        declaration,
    ])


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
