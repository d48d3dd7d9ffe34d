"""The interaction criteria the rules engine reads, and the criteria digest they cite.

Pure data, no ORM. The criterion keys are a public contract (manifest `criteria:` keys, API field
names); the section ids (§5.1, ...) come from the criteria digest of the communication-styles
document.
"""
from dataclasses import dataclass, field

BOOL = "bool"
CHOICE = "choice"
INTEGER = "integer"
NUMBER = "number"

OPERATIONS = ("read", "write", "command", "notification")


@dataclass(frozen=True)
class Criterion:
    key: str
    kind: str
    question: str
    cites: str
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "needs_immediate_response", BOOL,
        "Does the caller need the answer before it can go on?", "§5.1",
        "A query, or a command that needs real-time confirmation.",
    ),
    Criterion(
        "operation", CHOICE, "What kind of operation is it?", "§5.2",
        "Reads and simple writes suit a synchronous call; notifications suit messaging.",
        choices=OPERATIONS,
    ),
    Criterion(
        "can_defer", BOOL, "Can the work happen later, after the caller has moved on?", "§5.3",
    ),
    Criterion(
        "requires_decoupling", BOOL,
        "Must the caller keep working while the other side is down or slow?", "§5.4",
    ),
    Criterion(
        "bursty_traffic", BOOL, "Does traffic come in peaks that should be buffered?", "§5.5",
    ),
    Criterion(
        "eventual_consistency_ok", BOOL,
        "Is it acceptable for the data to be consistent only eventually?", "§4.10",
    ),
    Criterion(
        "external_clients", BOOL,
        "Do browsers or third parties call it directly?", "§3.2",
        "External callers favour REST/HTTP with JSON; internal calls may use gRPC (§3.3).",
    ),
    Criterion(
        "needs_streaming", BOOL, "Does it need a stream of messages in either direction?", "§3.3",
    ),
    Criterion(
        "latency_budget_ms", INTEGER, "How long may the call take at most?", "§3.3",
        "The caller's latency budget for this interaction.", minimum=0, maximum=3_600_000, unit="ms",
    ),
    Criterion(
        "peak_rps", NUMBER, "How many requests or messages per second at peak?", "§5.5",
        minimum=0, maximum=10_000_000, unit="per second",
    ),
)

CRITERIA_BY_KEY = {criterion.key: criterion for criterion in CRITERIA}


@dataclass(frozen=True)
class Section:
    number: str
    title: str
    points: tuple[tuple[str, str], ...] = field(default_factory=tuple)


# The English digest of the seed document, as cited by the criteria and (later) the rules.
SECTIONS: tuple[Section, ...] = (
    Section("§1", "Why it matters", (
        ("§1.1", "The communication style decides a system's performance, resilience and coupling; "
                 "a poor choice brings bottlenecks and cascading failures."),
    )),
    Section("§2", "Two dimensions", (
        ("§2.1", "One-to-one: a request is handled by exactly one service instance (a typical RPC call)."),
        ("§2.2", "One-to-many: a published event is consumed by several different services."),
        ("§2.3", "Synchronous: the client sends a request and blocks waiting for the response."),
        ("§2.4", "Asynchronous: the client does not wait directly; results come through a callback, "
                 "a future or a message broker."),
    )),
    Section("§3", "Synchronous communication", (
        ("§3.1", "Client and server are coupled in time: both must be online for the interaction to complete."),
        ("§3.2", "REST/HTTP: HTTP/1.1 or HTTP/2 with JSON; simple, universal, mature ecosystem; "
                 "the de-facto standard."),
        ("§3.3", "gRPC: HTTP/2 with Protocol Buffers; high performance, type-safe, bidirectional streaming; "
                 "well suited to high-performance internal service-to-service calls."),
        ("§3.4", "Advantage: a simple, intuitive programming model, easy to understand and debug."),
        ("§3.5", "Drawback, temporal coupling: a slow or unavailable callee blocks the caller, lowering "
                 "overall resilience and inviting cascading failure."),
        ("§3.6", "Drawback, point-to-point: complex interactions grow into a mesh of call chains that is "
                 "hard to manage."),
    )),
    Section("§4", "Asynchronous communication", (
        ("§4.1", "The producer hands a message to a broker and returns; the consumer takes it when ready; "
                 "producer and consumer are decoupled in time."),
        ("§4.2", "Brokers named: Apache Kafka, RabbitMQ, NATS, Apache Pulsar."),
        ("§4.3", "Publish/subscribe: a message goes to a topic; every subscriber receives a copy; suited to "
                 "one-to-many notification."),
        ("§4.4", "Message queue: a message goes to a queue and is processed by exactly one consumer; suited "
                 "to distributing tasks over a pool of worker instances."),
        ("§4.5", "Advantage, strong decoupling: producer and consumer need not know each other."),
        ("§4.6", "Advantage, resilience and availability: while a consumer is down the broker keeps the "
                 "messages until it recovers."),
        ("§4.7", "Advantage, load levelling: the broker buffers bursts and consumers work at their own pace."),
        ("§4.8", "Drawback, more architecture: a highly available broker must be run and maintained."),
        ("§4.9", "Drawback, harder debugging: the call chain is not visible; tracing a business flow end to "
                 "end is harder."),
        ("§4.10", "Drawback, eventual consistency: data is usually only eventually consistent, which "
                  "developers must handle deliberately."),
    )),
    Section("§5", "Choosing", (
        ("§5.0", "No style fits everything; a hybrid is usual."),
        ("§5.1", "Use sync (gRPC/REST) when the client needs the result immediately: querying data, or a "
                 "command that needs real-time confirmation."),
        ("§5.2", "Sync suits reads and simple writes."),
        ("§5.3", "Use async (messaging) when the operation can be deferred, or when several downstream "
                 "systems must be notified, e.g. after a user registers, send a welcome e-mail and "
                 "initialise data."),
        ("§5.4", "Use async when services must be decoupled to raise the system's overall resilience."),
        ("§5.5", "Use async when traffic peaks must be buffered."),
    )),
    Section("§6", "The two reference diagrams", (
        ("§6.1", "Sync: the client requests from Service A, which queries Service B and returns the final "
                 "result once B has answered."),
        ("§6.2", "Async: Service A publishes Event X to the broker, the broker acknowledges and pushes the "
                 "event to Services B and C."),
    )),
)


def anchor(section_id: str) -> str:
    """The HTML anchor of a criterion id: '§5.1' -> 's5-1'."""
    return "s" + section_id.lstrip("§").replace(".", "-")
