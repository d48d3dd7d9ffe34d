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
        "competing_consumers", BOOL,
        "Is each message a job that one worker of a pool does once?", "§4.4",
        "Yes: jobs and commands that competing workers share, each done once (a queue, §4.4). "
        "No: news that every subscriber gets its own copy of (publish/subscribe, §4.3).",
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


# The original sentence of each point, copied exactly from the seed document
# (seed/communication-styles.zh.md, markdown emphasis included), shown beside the English digest.
ORIGINAL: dict[str, str] = {
    "§1.1": "在微服务架构中，服务间的通信方式是决定系统性能、弹性和耦合度的关键。选择同步还是异步，采用何种协议，"
            "直接影响着整个系统的架构特性。一个设计良好的通信策略可以使系统既高效又健壮，反之则可能导致性能瓶颈和级联失败。",
    "§2.1": "**一对一**: 一个客户端请求只由一个服务实例处理（如典型的RPC调用）。",
    "§2.2": "**一对多**: 一个事件被发布后，可以被多个不同的服务实例消费（如发布/订阅模式）。",
    "§2.3": "**同步**: 客户端发送请求后，会阻塞并等待服务端的响应。",
    "§2.4": "**异步**: 客户端发送消息后不会直接等待响应，而是通过回调、Future或消息代理来处理结果。",
    "§3.1": "**定义**: 客户端与服务端在时间上是耦合的，必须同时在线才能完成交互。",
    "§3.2": "**REST/HTTP**: 基于HTTP/1.1或HTTP/2，使用JSON作为数据格式。它简单、通用、生态成熟，是事实上的标准。",
    "§3.3": "**gRPC**: Google开源的RPC框架，基于HTTP/2，使用Protocol Buffers进行序列化。它性能高、类型安全，支持双向流，"
            "非常适合内部服务间的高性能通信。",
    "§3.4": "编程模型简单直观，易于理解和调试。",
    "§3.5": '**时间耦合 (Temporal Coupling)**: 降低了系统的整体弹性。如果一个被调用的服务响应缓慢或不可用，会直接阻塞调用方，'
            '容易引发"级联失败"。',
    "§3.6": "**点对点通信**: 在复杂交互中容易形成网状的、难以管理的调用链。",
    "§4.1": "**定义**: 生产者（Producer）发送消息到中间件后即可返回，消费者（Consumer）在合适的时候从中间件获取并处理消息。"
            "生产者和消费者在时间上是解耦的。",
    "§4.2": "**消息代理**: Apache Kafka, RabbitMQ, NATS, Apache Pulsar等。",
    "§4.3": '**发布/订阅 (Publish/Subscribe)**: 消息被发布到一个"主题"（Topic），所有订阅了该主题的消费者都会收到一份消息的副本。'
            '非常适合一对多的通知场景。',
    "§4.4": '**消息队列 (Message Queuing)**: 消息被发送到一个"队列"（Queue），并且只会被一个消费者处理。'
            '适合将任务分发给一组工作者实例的场景。',
    "§4.5": "**高度解耦**: 生产者和消费者无需感知对方的存在。",
    "§4.6": "**高弹性与可用性**: 即使消费者暂时宕机，消息代理也可以缓存消息，待其恢复后再进行处理。",
    "§4.7": "**负载削峰 (Load Leveling)**: 可以平滑处理突发流量，消息代理作为缓冲区，消费者可以按照自己的节奏进行处理。",
    "§4.8": "**架构复杂性增加**: 需要引入和维护一个高可用的消息中间件。",
    "§4.9": "**调试困难**: 调用链不直观，追踪一个完整的业务流程变得更加复杂。",
    "§4.10": '**最终一致性**: 由于异步处理，数据一致性模型通常是"最终一致性"，需要开发者特别注意。',
    "§5.0": "没有一种方式是万能的，通常采用混合模式",
    "§5.1": "当客户端需要**立即获得**操作结果时，如查询数据、执行一个需要实时确认的命令。",
    "§5.2": "适用于读操作或简单的写操作。",
    "§5.3": "当操作可以**延迟处理**或需要通知多个下游系统时，如用户注册后发送欢迎邮件和初始化数据。",
    "§5.4": "当需要**解耦服务**以提高系统整体弹性时。",
    "§5.5": "当需要**缓冲流量洪峰**时。",
    "§6.1": "Client->>ServiceA: 请求操作\n    activate ServiceA\n    ServiceA->>ServiceB: 查询依赖数据\n"
            "    activate ServiceB\n    ServiceB-->>ServiceA: 返回数据\n    deactivate ServiceB\n"
            "    ServiceA-->>Client: 返回最终结果",
    "§6.2": 'Producer->>Broker: 发布 "Event X"\n    Broker-->>Producer: 确认收到\n'
            '    Broker->>Consumer1: 推送 "Event X"\n    Broker->>Consumer2: 推送 "Event X"',
}


def original(section_id: str) -> str:
    """The seed document's own words for a point ('' for an unknown id)."""
    return ORIGINAL.get(section_id, "")
