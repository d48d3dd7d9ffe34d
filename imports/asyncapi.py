"""AsyncAPI documents (2.x and 3.x, YAML or JSON), one application each -> services and the message
flows between them. Pure: no Django.

The application's name is `x-switchboard-service` (top level or in `info`), else `info.title` made a
name; its team `x-switchboard-team` (same places), else the default team.

Who produces (the part other tools get backwards): AsyncAPI 2 describes each operation from the
point of view of the *other* applications. `publish` means others publish to this application, so
it CONSUMES the channel; `subscribe` means others subscribe to it, so it PRODUCES. AsyncAPI 3 says
it plainly: `send` produces, `receive` consumes.

Producers and consumers are matched across all documents by channel address. Each producer of an
address gets one interaction, named after the address, to every other consumer of it: `queue` when
the channel or an operation on it has an AMQP binding `is: queue`, else `pubsub`; the broker from
the servers' protocol. A producer nobody consumes is skipped with a warning (an interaction needs a
target). Pointers: "/<document>/channels/<channel>/subscribe", "/<document>/operations/<operation>".
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.inputs import pointer_token, shown
from topology.criteria import CRITERIA_BY_KEY

from .catalog import (
    BROKER_KAFKA, BROKER_NATS, BROKER_OTHER, BROKER_PULSAR, BROKER_RABBITMQ, CHANNEL_RE, MAX_DESCRIPTION,
    MAX_TITLE, STYLE_PUBSUB, STYLE_QUEUE, Findings, ImportedInteraction, ImportedService, ImportResult,
    import_result, json_value, mapping_at, name_at, named_apart, team_default, text_at, yaml_documents,
)

SERVICE_KEY = "x-switchboard-service"
TEAM_KEY = "x-switchboard-team"

PRODUCES = "produces"
CONSUMES = "consumes"
V2_ROLES = {"publish": CONSUMES, "subscribe": PRODUCES}  # the other applications' point of view
V3_ROLES = {"send": PRODUCES, "receive": CONSUMES}

CHANNELS_REF = "#/channels/"
SERVERS_REF = "#/servers/"
QUEUE_BINDING = "queue"
PROTOCOL_BROKERS = {
    "kafka": BROKER_KAFKA, "kafka-secure": BROKER_KAFKA,
    "amqp": BROKER_RABBITMQ, "amqps": BROKER_RABBITMQ,
    "nats": BROKER_NATS,
    "pulsar": BROKER_PULSAR, "pulsar+ssl": BROKER_PULSAR,
}
CHANNEL_RULE = "1-249 letters, digits and . _ : / * > # -, starting with a letter or digit"

# What a one-way message honestly tells: the sender goes on without waiting for an answer (§5.1).
# Not said when the operation declares a reply (AsyncAPI 3 request/reply). Nothing else can be read
# from a document: whether the work may be deferred, decoupling, bursts, consistency and rates are
# requirements it does not state, so they stay unanswered.
NEEDS_IMMEDIATE_RESPONSE = CRITERIA_BY_KEY["needs_immediate_response"].key
ONE_WAY_CRITERIA = {NEEDS_IMMEDIATE_RESPONSE: False}


@dataclass(frozen=True)
class _Endpoint:
    """One application producing or consuming one channel address."""

    service: str
    address: str
    role: str
    queue: bool
    broker: str
    pointer: str
    replies: bool = False


@dataclass(frozen=True)
class _Document:
    """What reading one document's channels needs."""

    base: str
    service: str
    brokers: dict[str, str]
    channels: dict
    findings: Findings


@dataclass(frozen=True)
class _Application:
    service: ImportedService
    endpoints: tuple[_Endpoint, ...]


def asyncapi_parse(documents: list[tuple[str, str]], *, default_team: str | None) -> ImportResult:
    """(name, text) AsyncAPI documents -> one service each and the flows between them, or every error."""
    findings = Findings()
    team = team_default(default_team, findings)
    read = (_application(item, f"/{index}", team, findings) for index, item in enumerate(_listed(documents, findings)))
    applications = [application for application in read if application]
    endpoints = [endpoint for application in applications for endpoint in application.endpoints]
    interactions = named_apart(_flows(endpoints, findings), findings)
    return import_result(findings, services=_services(applications, findings), interactions=interactions)


def broker_of(protocol: str) -> str:
    """The broker an AsyncAPI server protocol names (other for one Switchboard does not know)."""
    return PROTOCOL_BROKERS.get(protocol.strip().lower(), BROKER_OTHER)


# --- One document --------------------------------------------------------------------------------


def _listed(documents: object, findings: Findings) -> list:
    """The documents, or an error when there is no list of them."""
    if isinstance(documents, (list, tuple)) and documents:
        return list(documents)
    findings.error("", f"expected a list of (name, text) documents, at least one; got {shown(documents)}")
    return []


def _application(item: object, base: str, team: str | None, findings: Findings) -> _Application | None:
    """One document's service and endpoints, or None after its errors."""
    data = _document(item, base, findings)
    if data is None:
        return None
    reader = _READERS.get(_major(data, base, findings))
    service = _service(data, base, team, findings)
    if reader is None or service is None:
        return None
    channels = mapping_at(data, "channels", base, findings) or {}
    document = _Document(base, service.name, _brokers(data, base, findings), channels, findings)
    return _Application(service, tuple(reader(data, document)))


def _document(item: object, base: str, findings: Findings) -> dict | None:
    """A (name, text) pair read as JSON (when it starts with '{') or as one YAML document."""
    if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
        findings.error(base, f"each document must be a (name, text) pair, not {shown(item)}")
        return None
    name, text = item
    before = len(findings.errors)
    is_json = isinstance(text, str) and text.lstrip().startswith("{")
    data = (json_value if is_json else _one_yaml)(text, findings, pointer=base, label=f"{name}: ")
    if isinstance(data, dict):
        return data
    if len(findings.errors) == before:
        findings.error(base, f"{name}: an AsyncAPI document must be a map, not {shown(data)}")
    return None


def _one_yaml(text: object, findings: Findings, *, pointer: str, label: str) -> object:
    """The one YAML document of a text, or None after an error."""
    documents = yaml_documents(text, findings, pointer=pointer, label=label)
    present = [document for document in documents or () if document is not None]
    if documents is not None and len(present) != 1:
        findings.error(pointer, f"{label}expected one YAML document, found {len(present)}")
    return present[0] if len(present) == 1 else None


def _major(data: dict, base: str, findings: Findings) -> str | None:
    """'2' or '3' from the asyncapi version; an error for any other."""
    value = data.get("asyncapi")
    major = str(value).split(".")[0] if isinstance(value, (str, int, float)) else None
    if major not in _READERS:
        findings.error(f"{base}/asyncapi", f"asyncapi must be a 2.x or 3.x version, not {shown(value)}")
    return major


def _service(data: dict, base: str, team: str | None, findings: Findings) -> ImportedService | None:
    """The application the document describes."""
    before = len(findings.errors)
    info = mapping_at(data, "info", base, findings) or {}
    value, pointer = _declared(data, info, SERVICE_KEY, base) or (info.get("title"), f"{base}/info/title")
    name = name_at(value, pointer, findings, what="service name")
    owner = _team(data, info, base, team, findings)
    title = text_at(info, "title", f"{base}/info", findings, limit=MAX_TITLE)
    description = text_at(info, "description", f"{base}/info", findings, limit=MAX_DESCRIPTION)
    if len(findings.errors) > before:
        return None
    return ImportedService(name=name, team=owner, title=title, description=description, source_ref=base)


def _declared(data: dict, info: dict, key: str, base: str) -> tuple[object, str] | None:
    """A Switchboard extension at the top level or in info: (value, pointer), or None."""
    for holder, pointer in ((data, base), (info, f"{base}/info")):
        if key in holder:
            return holder[key], f"{pointer}/{key}"
    return None


def _team(data: dict, info: dict, base: str, team: str | None, findings: Findings) -> str | None:
    """x-switchboard-team, else the default team, else an error."""
    declared = _declared(data, info, TEAM_KEY, base)
    if declared:
        return name_at(declared[0], declared[1], findings, what="team")
    if team is None:
        findings.error(f"{base}/info", f"the document names no {TEAM_KEY} and no default team was given")
    return team


def _brokers(data: dict, base: str, findings: Findings) -> dict[str, str]:
    """Server name -> broker, from each server's protocol."""
    servers = mapping_at(data, "servers", base, findings) or {}
    brokers = {}
    for key, server in servers.items():
        protocol = server.get("protocol") if isinstance(server, dict) else None
        if isinstance(protocol, str):
            brokers[str(key)] = broker_of(protocol)
        else:
            findings.warning(f"{base}/servers/{pointer_token(key)}", "the server names no protocol; it says no broker")
    return brokers


def _channel_broker(document: _Document, channel: dict, pointer: str) -> str:
    """The broker of the servers a channel names (all when it names none); the first when they differ."""
    names = _server_names(channel)
    found = [broker for name, broker in document.brokers.items() if not names or name in names]
    distinct = list(dict.fromkeys(found))
    if len(distinct) > 1:
        document.findings.warning(pointer, f"the servers use several brokers ({', '.join(distinct)}); "
                                           f"the first, {distinct[0]}, is taken")
    return distinct[0] if distinct else ""


def _server_names(channel: dict) -> set[str]:
    """The servers a channel names: names (AsyncAPI 2) or {$ref: '#/servers/x'} (AsyncAPI 3)."""
    servers = channel.get("servers")
    names = (_local_ref(item, SERVERS_REF) or item for item in servers) if isinstance(servers, list) else ()
    return {name for name in names if isinstance(name, str)}


def _local_ref(value: object, prefix: str) -> str | None:
    """The name in {$ref: '<prefix><name>'}, unescaped; None for anything else."""
    ref = value.get("$ref") if isinstance(value, dict) else None
    if isinstance(ref, str) and ref.startswith(prefix):
        return ref[len(prefix):].replace("~1", "/").replace("~0", "~")
    return None


def _queue(*holders: dict) -> bool:
    """Whether a channel or operation has the AMQP binding `is: queue`."""
    return any(_amqp_is(holder) == QUEUE_BINDING for holder in holders)


def _amqp_is(holder: dict) -> object:
    """bindings.amqp.is of a channel or operation, if any."""
    bindings = holder.get("bindings")
    amqp = bindings.get("amqp") if isinstance(bindings, dict) else None
    return amqp.get("is") if isinstance(amqp, dict) else None


# --- AsyncAPI 2: channels with publish/subscribe -------------------------------------------------


def _v2_endpoints(data: dict, document: _Document) -> list[_Endpoint]:
    """Each publish (consumes) and subscribe (produces) operation of each channel."""
    found = []
    for key, channel in document.channels.items():
        pointer = f"{document.base}/channels/{pointer_token(key)}"
        if isinstance(channel, dict):
            found += _v2_channel(document, str(key), channel, pointer)
        else:
            document.findings.error(pointer, f"a channel must be a map, not {shown(channel)}")
    return found


def _v2_channel(document: _Document, address: str, channel: dict, pointer: str) -> list[_Endpoint]:
    """The endpoints of one channel; its key is the address."""
    verbs = [verb for verb in V2_ROLES if channel.get(verb) is not None]
    broker = _channel_broker(document, channel, pointer) if verbs else ""
    found = []
    for verb in verbs:
        operation = channel[verb]
        if isinstance(operation, dict):
            found.append(_Endpoint(document.service, address, V2_ROLES[verb], _queue(channel, operation), broker,
                                   f"{pointer}/{verb}"))
        else:
            document.findings.error(f"{pointer}/{verb}", f"{verb} must be a map, not {shown(operation)}")
    return found


# --- AsyncAPI 3: operations that send or receive on a channel -------------------------------------


def _v3_endpoints(data: dict, document: _Document) -> list[_Endpoint]:
    """Each operation's endpoint."""
    operations = mapping_at(data, "operations", document.base, document.findings) or {}
    found = (_v3_operation(document, operation, f"{document.base}/operations/{pointer_token(key)}")
             for key, operation in operations.items())
    return [endpoint for endpoint in found if endpoint]


def _v3_operation(document: _Document, operation: object, pointer: str) -> _Endpoint | None:
    """One operation: its action says the role, its channel the address."""
    if not isinstance(operation, dict):
        document.findings.error(pointer, f"an operation must be a map, not {shown(operation)}")
        return None
    action = operation.get("action")
    role = V3_ROLES.get(action) if isinstance(action, str) else None
    if role is None:
        document.findings.error(f"{pointer}/action", f"action must be send or receive, not {shown(action)}")
    key, channel = _v3_channel(document, operation, pointer)
    address = _v3_address(document, key, channel) if channel is not None else None
    if role is None or address is None:
        return None
    broker = _channel_broker(document, channel, pointer)
    return _Endpoint(document.service, address, role, _queue(channel, operation), broker, pointer,
                     replies=operation.get("reply") is not None)


def _v3_channel(document: _Document, operation: dict, pointer: str) -> tuple[str, dict | None]:
    """The channel an operation's {$ref: '#/channels/x'} names, or an error."""
    value = operation.get("channel")
    key = _local_ref(value, CHANNELS_REF)
    channel = document.channels.get(key) if key is not None else None
    if not isinstance(channel, dict):
        document.findings.error(f"{pointer}/channel", f"channel must be {{$ref: '{CHANNELS_REF}<name>'}} naming a "
                                                      f"channel of this document, not {shown(value)}")
        return "", None
    return key, channel


def _v3_address(document: _Document, key: str, channel: dict) -> str | None:
    """The channel's address, its key when the address is null; an error for anything else."""
    address = channel.get("address")
    if address is None or isinstance(address, str):
        return address or key
    pointer = f"{document.base}/channels/{pointer_token(key)}/address"
    document.findings.error(pointer, f"address must be text or null, not {shown(address)}")
    return None


_READERS: dict[str, Callable[[dict, _Document], list[_Endpoint]]] = {"2": _v2_endpoints, "3": _v3_endpoints}


# --- Across documents ----------------------------------------------------------------------------


def _services(applications: list[_Application], findings: Findings) -> list[ImportedService]:
    """One service a name: a second document describing the same application is refused (which of
    the two would hold its title, team and channels is not for the import to guess)."""
    kept: dict[str, ImportedService] = {}
    for application in applications:
        service = application.service
        first = kept.setdefault(service.name, service)
        if first is not service and first.team != service.team:
            findings.error(service.source_ref, f"{service.name} belongs to {first.team} in {first.source_ref}, "
                                               f"not to {service.team}")
        elif first is not service:
            findings.error(service.source_ref, f"{service.name} is described by {first.source_ref} already; "
                                               "give each application one document")
    return list(kept.values())


def _flows(endpoints: list[_Endpoint], findings: Findings) -> list[ImportedInteraction]:
    """The interactions of every address, addresses in order."""
    by_address: dict[str, list[_Endpoint]] = {}
    for endpoint in endpoints:
        by_address.setdefault(endpoint.address, []).append(endpoint)
    return [flow for address in sorted(by_address) for flow in _address_flows(address, by_address[address], findings)]


def _address_flows(address: str, endpoints: list[_Endpoint], findings: Findings) -> list[ImportedInteraction]:
    """One interaction per producer of an address to all its other consumers."""
    producers = _first_per_service(endpoint for endpoint in endpoints if endpoint.role == PRODUCES)
    consumers = sorted({endpoint.service for endpoint in endpoints if endpoint.role == CONSUMES})
    if not producers:
        findings.warning(endpoints[0].pointer, f"no producer of {address} among the documents")
    flows = [(producer, _targets(producer, consumers, findings)) for producer in producers]
    flows = [(producer, targets) for producer, targets in flows if targets]
    name = _flow_name(address, flows[0][0].pointer, findings) if flows else None
    if name is None:
        return []
    style = STYLE_QUEUE if any(endpoint.queue for endpoint in endpoints) else STYLE_PUBSUB
    broker = _agreed_broker(address, endpoints, findings)
    return [ImportedInteraction(source=producer.service, name=name, targets=targets, style=style, channel=address,
                                broker=broker, criteria=_criteria(producer), source_ref=producer.pointer)
            for producer, targets in flows]


def _first_per_service(endpoints: Iterable[_Endpoint]) -> list[_Endpoint]:
    """The first endpoint of each service, in order."""
    first: dict[str, _Endpoint] = {}
    for endpoint in endpoints:
        first.setdefault(endpoint.service, endpoint)
    return list(first.values())


def _targets(producer: _Endpoint, consumers: list[str], findings: Findings) -> tuple[str, ...]:
    """The consumers but the producer itself; a warning when none is left."""
    targets = tuple(consumer for consumer in consumers if consumer != producer.service)
    if not targets:
        findings.warning(producer.pointer, f"no consumer of {producer.address} among the documents")
    return targets


def _flow_name(address: str, pointer: str, findings: Findings) -> str | None:
    """The interaction name made of an address that is also a valid Switchboard channel."""
    name = name_at(address, pointer, findings, what="channel")
    if not CHANNEL_RE.match(address):
        findings.error(pointer, f"channel {shown(address)} cannot be a Switchboard channel ({CHANNEL_RULE})")
        return None
    return name


def _agreed_broker(address: str, endpoints: list[_Endpoint], findings: Findings) -> str:
    """The first broker any document names for the address; a warning when others differ."""
    brokers = list(dict.fromkeys(endpoint.broker for endpoint in endpoints if endpoint.broker))
    if len(brokers) > 1:
        findings.warning(endpoints[0].pointer, f"the documents disagree on the broker of {address} "
                                               f"({', '.join(brokers)}); the first, {brokers[0]}, is kept")
    return brokers[0] if brokers else ""


def _criteria(producer: _Endpoint) -> dict:
    """The criteria a one-way message implies; none for a request that waits for a reply."""
    return {} if producer.replies else dict(ONE_WAY_CRITERIA)
