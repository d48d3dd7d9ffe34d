"""Probes as plain data: the declared form, the spec a run takes and the result it gives.

No ORM here. `probe_declarations_check` is the one set of rules for a probe, whether it comes from a
manifest, the API or the browser form; every error names its place with a JSON pointer.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from core.inputs import NAME_RE, pointer_token, shown

from .addresses import REFUSED, always_denied_reason, host_literal

Errors = list[tuple[str, str]]


class Kind(StrEnum):
    HTTP = "http"
    TCP = "tcp"
    GRPC = "grpc"
    RABBITMQ_QUEUE = "rabbitmq-queue"
    NATS_CONSUMER = "nats-consumer"
    REDIS = "redis"
    KAFKA_CONSUMER = "kafka-consumer"


class Outcome(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


OUTCOME_RANK = {Outcome.UP: 0, Outcome.DEGRADED: 1, Outcome.DOWN: 2}

DEFAULT_LOCATION = "default"
LOCATION_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
MIN_INTERVAL = 10.0
MAX_INTERVAL = 86400.0
DEFAULT_INTERVAL = 30.0
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 60.0
DEFAULT_TIMEOUT = 5.0
MAX_LOCATIONS = 8
MAX_HEADERS = 20
MAX_HEADER_VALUE = 1000
MAX_BODY = 4096
MAX_TARGET = 500
MAX_ERROR = 300
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
STATUS_CLASS_RE = re.compile(r"^[1-5]xx$")
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

# Which URL schemes, options and thresholds each kind takes. An option's value is a checker name.
TARGET_SCHEMES = {
    Kind.HTTP: ("http", "https"),
    Kind.RABBITMQ_QUEUE: ("amqp", "amqps"),
    Kind.NATS_CONSUMER: ("nats", "tls"),
    Kind.REDIS: ("redis", "rediss"),
}
OPTIONS = {
    Kind.HTTP: {"method": "method", "headers": "headers", "body": "body", "max_redirects": "redirects"},
    Kind.TCP: {},
    Kind.GRPC: {"service": "text", "tls": "bool"},
    Kind.RABBITMQ_QUEUE: {"queue": "text"},
    Kind.NATS_CONSUMER: {"stream": "text", "consumer": "text"},
    Kind.REDIS: {"stream": "text", "group": "text"},
    Kind.KAFKA_CONSUMER: {"group": "text", "topic": "text", "tls": "bool", "sasl_mechanism": "sasl",
                          "sasl_username": "text", "sasl_password": "text"},
}
REQUIRED_OPTIONS = {Kind.RABBITMQ_QUEUE: ("queue",), Kind.KAFKA_CONSUMER: ("group",)}
PAIRED_OPTIONS = {Kind.NATS_CONSUMER: ("consumer", "stream"), Kind.REDIS: ("group", "stream"),
                  Kind.KAFKA_CONSUMER: ("sasl_mechanism", "sasl_username")}
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LIST_TARGETS = {Kind.KAFKA_CONSUMER}  # host:port[,host:port]: the bootstrap servers
COMMON_EXPECT = {"max_latency_ms": "number"}
EXPECT = {
    Kind.HTTP: {"status": "statuses", "body_contains": "text", "json_path": "json_path", "equals": "scalar",
                "cert_expiry_days": "count"},
    Kind.TCP: {},
    Kind.GRPC: {},
    Kind.RABBITMQ_QUEUE: {"max_ready": "count", "min_consumers": "count"},
    Kind.NATS_CONSUMER: {"max_pending": "count", "max_ack_pending": "count", "max_redelivered": "count"},
    Kind.REDIS: {"max_length": "count", "max_pending": "count"},
    Kind.KAFKA_CONSUMER: {"max_lag": "count", "max_lag_per_partition": "count", "min_members": "count"},
}
COMMON_KEYS = {"name", "type", "target", "interval", "timeout", "locations", "expect", "description"}


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """What one run of one probe needs. `key` is the caller's id, handed back on the result."""

    key: str
    kind: Kind
    target: str
    timeout: float = DEFAULT_TIMEOUT
    options: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)


@dataclass(slots=True)
class ProbeResult:
    """What a run found: the outcome, how long it took, the measured values and a short error text."""

    key: str
    outcome: Outcome
    latency_ms: float
    started_at: datetime
    finished_at: datetime
    values: dict = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True, slots=True)
class ProbeDeclaration:
    """A probe as declared on a service, checked and normalised (durations in seconds)."""

    name: str
    kind: Kind
    target: str
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    locations: tuple[str, ...] = (DEFAULT_LOCATION,)
    options: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    description: str = ""

    def as_manifest(self) -> dict:
        """The declaration written back in manifest form (what the API shows and a form edits)."""
        data = {"name": self.name, "type": str(self.kind), "target": self.target,
                "interval": duration_text(self.interval), "timeout": duration_text(self.timeout),
                "locations": list(self.locations), **self.options}
        if self.expect:
            data["expect"] = dict(self.expect)
        if self.description:
            data["description"] = self.description
        return data


def duration_text(seconds: float) -> str:
    if seconds < 1 or seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"


def error_trimmed(text: str) -> str:
    """An error text bounded for storage and display."""
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def target_redacted(target: str) -> str:
    """The target with any password in its URL replaced, for pages, the API and logs."""
    parts = urlsplit(target) if "://" in target else None
    if parts is None or parts.password is None:
        return target
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"}


def probe_redacted(declared: dict) -> dict:
    """A declared probe (manifest form) with the password in its target and secret headers hidden."""
    shown_probe = {**declared, "target": target_redacted(declared.get("target", ""))}
    if declared.get("sasl_password"):
        shown_probe["sasl_password"] = "***"
    headers = declared.get("headers")
    if isinstance(headers, dict):
        shown_probe["headers"] = {name: "***" if name.lower() in SECRET_HEADERS else value
                                  for name, value in headers.items()}
    return shown_probe


def probe_unredacted(declared: dict, stored: dict | None) -> dict:
    """Put back the stored secrets where a declaration sends their hidden form unchanged (a GET, then PUT)."""
    if not stored:
        return declared
    restored = dict(declared)
    if declared.get("target") == target_redacted(stored.get("target", "")):
        restored["target"] = stored["target"]
    if declared.get("sasl_password") == "***" and stored.get("sasl_password"):
        restored["sasl_password"] = stored["sasl_password"]
    headers, old = declared.get("headers"), stored.get("headers") or {}
    if isinstance(headers, dict):
        restored["headers"] = {name: old.get(name, value) if value == "***" else value
                               for name, value in headers.items()}
    return restored


def host_port(target: str, *, default_port: int | None = None) -> tuple[str, int] | None:
    """Split a `host:port` target or a URL into host and port; None when it is malformed."""
    text = target if "://" in target else f"//{target}"
    try:
        parts = urlsplit(text)
        port = parts.port or default_port
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname, port


def duration_seconds(value: object) -> float | None:
    """30, "30s", "1.5m", "500ms" -> seconds; None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        match = DURATION_RE.match(value)
        if match:
            return float(match.group(1)) * DURATION_UNITS[match.group(2)]
    return None


class _Collector:
    def __init__(self) -> None:
        self.errors: Errors = []

    def add(self, pointer: str, message: str) -> None:
        self.errors.append((pointer, message))


def probe_declarations_check(items: object, *, base: str = "") -> tuple[list[ProbeDeclaration], Errors]:
    """Check a list of declared probes. Returns the normalised declarations, or the errors."""
    out = _Collector()
    if not isinstance(items, list):
        out.add(base, "probes must be a list")
        return [], out.errors
    declared, seen = [], {}
    for index, item in enumerate(items):
        pointer = f"{base}/{index}"
        declaration = _declaration(out, item, pointer)
        if declaration is None:
            continue
        if declaration.name in seen:
            out.add(f"{pointer}/name", f"probe name {declaration.name!r} is already used by {seen[declaration.name]}")
        seen.setdefault(declaration.name, pointer)
        declared.append(declaration)
    return (declared, []) if not out.errors else ([], out.errors)


def probe_declaration_check(item: object, *, base: str = "") -> tuple[ProbeDeclaration | None, Errors]:
    """Check one declared probe (the browser form and the API's single-probe writes)."""
    out = _Collector()
    declaration = _declaration(out, item, base)
    return (declaration, []) if not out.errors else (None, out.errors)


def _declaration(out: _Collector, item: object, pointer: str) -> ProbeDeclaration | None:
    if not isinstance(item, dict):
        out.add(pointer, f"a probe must be a mapping; got {shown(item)}")
        return None
    before = len(out.errors)
    kind = _kind(out, item.get("type"), f"{pointer}/type")
    name = _name(out, item.get("name"), f"{pointer}/name")
    if kind is None:
        return None
    _unknown_keys(out, item, kind, pointer)
    target = _target(out, kind, item.get("target"), f"{pointer}/target")
    interval, timeout = _timing(out, item, pointer)
    locations = _locations(out, item.get("locations", [DEFAULT_LOCATION]), f"{pointer}/locations")
    options = _options(out, kind, item, pointer)
    expect = _expect(out, kind, item.get("expect", {}), f"{pointer}/expect")
    description = item.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        out.add(f"{pointer}/description", "description must be a string of at most 500 characters")
    if len(out.errors) > before:
        return None
    return ProbeDeclaration(name=name, kind=kind, target=target, interval=interval, timeout=timeout,
                            locations=locations, options=options, expect=expect, description=description)


def _kind(out: _Collector, value: object, pointer: str) -> Kind | None:
    try:
        return Kind(value)
    except ValueError:
        out.add(pointer, f"type must be one of {', '.join(Kind)}; got {shown(value)}")
        return None


def _name(out: _Collector, value: object, pointer: str) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        out.add(pointer, f"name {shown(value)} must be 1-63 lower-case letters, digits or dashes, "
                         "starting and ending with a letter or digit")
        return ""
    return value


def _unknown_keys(out: _Collector, item: dict, kind: Kind, pointer: str) -> None:
    allowed = COMMON_KEYS | set(OPTIONS[kind])
    for key in item:
        if key not in allowed:
            out.add(f"{pointer}/{pointer_token(key)}",
                    f"unknown key {shown(key)} for a {kind} probe; allowed: {', '.join(sorted(allowed))}")


def _target(out: _Collector, kind: Kind, value: object, pointer: str) -> str:
    if not isinstance(value, str) or not value.strip():
        out.add(pointer, "target is required and must be a string")
        return ""
    value = value.strip()
    if len(value) > MAX_TARGET or any(ch.isspace() or ord(ch) < 32 for ch in value):
        out.add(pointer, f"target must be at most {MAX_TARGET} characters with no spaces or control characters")
        return value
    schemes = TARGET_SCHEMES.get(kind)
    parts = value.split(",") if kind in LIST_TARGETS else [value]
    if schemes:
        message = _url_error(value, schemes)
    elif kind in LIST_TARGETS:
        message = None if all(host_port(p) and "://" not in p for p in parts) else \
            "target must be host:port or host:port,host:port (the bootstrap servers), e.g. kafka-1:9092,kafka-2:9092"
    else:
        message = None if host_port(value) and "://" not in value else "target must be host:port, e.g. 127.0.0.1:5432"
    if message is None:
        message = next(filter(None, map(_address_error, parts)), None)
    if message:
        out.add(pointer, message)
    return value


def _address_error(value: str) -> str | None:
    """A target whose host is written as an address no probe may ever reach (a name is not resolved here:
    one that resolves there is refused when the probe connects)."""
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    address = host_literal(host)
    reason = always_denied_reason(address) if address is not None else ""
    if not reason:
        return None
    written = host if host == str(address) else f"{host} ({address})"
    return f"target host {written} is {REFUSED}: {reason}"


def _url_error(value: str, schemes: tuple[str, ...]) -> str | None:
    example = f"{schemes[0]}://host:port/..."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"target {shown(value)} is not a valid URL ({example})"
    if parts.scheme not in schemes:
        return f"target must start with {' or '.join(s + '://' for s in schemes)}; got {shown(value)}"
    if not parts.hostname:
        return f"target {shown(value)} has no host ({example})"
    return None


def _timing(out: _Collector, item: dict, pointer: str) -> tuple[float, float]:
    interval = duration_seconds(item.get("interval", DEFAULT_INTERVAL))
    if interval is None or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        out.add(f"{pointer}/interval", f"interval must be a duration from {duration_text(MIN_INTERVAL)} to "
                                       f"{duration_text(MAX_INTERVAL)} (e.g. 30s, 5m); got {shown(item.get('interval'))}")
        interval = DEFAULT_INTERVAL
    timeout = duration_seconds(item.get("timeout", min(DEFAULT_TIMEOUT, interval)))
    if timeout is None or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        out.add(f"{pointer}/timeout", f"timeout must be a duration from {duration_text(MIN_TIMEOUT)} to "
                                      f"{duration_text(MAX_TIMEOUT)} (e.g. 5s); got {shown(item.get('timeout'))}")
    elif timeout > interval:
        out.add(f"{pointer}/timeout", f"timeout ({duration_text(timeout)}) must not be longer than the interval "
                                      f"({duration_text(interval)})")
    return interval, timeout or DEFAULT_TIMEOUT


def _locations(out: _Collector, value: object, pointer: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_LOCATIONS:
        out.add(pointer, f"locations must be a list of 1 to {MAX_LOCATIONS} location names")
        return ()
    for index, location in enumerate(value):
        if not isinstance(location, str) or not LOCATION_RE.match(location):
            out.add(f"{pointer}/{index}", f"location {shown(location)} must be 1-32 lower-case letters, digits "
                                          "or dashes, starting and ending with a letter or digit")
    if all(isinstance(location, str) for location in value) and len(set(value)) != len(value):
        out.add(pointer, "locations must not repeat")
    return tuple(value)


def _options(out: _Collector, kind: Kind, item: dict, pointer: str) -> dict:
    options = {}
    for key, checker in OPTIONS[kind].items():
        if key in item:
            message = OPTION_CHECKS[checker](item[key])
            if message:
                out.add(f"{pointer}/{key}", f"{key} {message}")
            options[key] = item[key]
    for key in REQUIRED_OPTIONS.get(kind, ()):
        if not options.get(key):
            out.add(f"{pointer}/{key}", f"{key} is required for a {kind} probe")
    pair = PAIRED_OPTIONS.get(kind)
    if pair and options.get(pair[0]) and not options.get(pair[1]):
        out.add(f"{pointer}/{pair[1]}", f"{pair[1]} is required when {pair[0]} is given")
    return options


def _expect(out: _Collector, kind: Kind, value: object, pointer: str) -> dict:
    if not isinstance(value, dict):
        out.add(pointer, f"expect must be a mapping; got {shown(value)}")
        return {}
    allowed = {**COMMON_EXPECT, **EXPECT[kind]}
    for key, item in value.items():
        checker = allowed.get(key)
        if checker is None:
            out.add(f"{pointer}/{pointer_token(key)}",
                    f"unknown expectation {shown(key)} for a {kind} probe; allowed: {', '.join(sorted(allowed))}")
            continue
        message = OPTION_CHECKS[checker](item)
        if message:
            out.add(f"{pointer}/{pointer_token(key)}", f"{key} {message}")
    if ("equals" in value) != ("json_path" in value):
        out.add(pointer, "json_path and equals go together: equals is what the value at json_path must be")
    return dict(value)


def _method_error(value: object) -> str | None:
    return None if value in HTTP_METHODS else f"must be one of {', '.join(HTTP_METHODS)}; got {shown(value)}"


def _headers_error(value: object) -> str | None:
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        return f"must be a mapping of at most {MAX_HEADERS} header names to strings"
    for name, text in value.items():
        if not isinstance(name, str) or not HEADER_NAME_RE.match(name):
            return f"has an invalid header name {shown(name)}"
        if not isinstance(text, str) or len(text) > MAX_HEADER_VALUE or any(ch in text for ch in "\r\n\0"):
            return f"value of {name!r} must be a one-line string of at most {MAX_HEADER_VALUE} characters"
    return None


def _body_error(value: object) -> str | None:
    return None if isinstance(value, str) and len(value) <= MAX_BODY else f"must be a string of at most {MAX_BODY} characters"


def _redirects_error(value: object) -> str | None:
    return None if _is_int(value) and 0 <= value <= 10 else f"must be a whole number from 0 to 10; got {shown(value)}"


def _text_error(value: object) -> str | None:
    return None if isinstance(value, str) and 0 < len(value) <= 255 else "must be a string of 1 to 255 characters"


def _bool_error(value: object) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false; got {shown(value)}"


def _number_error(value: object) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    return None if ok else f"must be a positive number; got {shown(value)}"


def _count_error(value: object) -> str | None:
    return None if _is_int(value) and 0 <= value <= 10**12 else f"must be a whole number of 0 or more; got {shown(value)}"


def _statuses_error(value: object) -> str | None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not ((_is_int(item) and 100 <= item <= 599) or (isinstance(item, str) and STATUS_CLASS_RE.match(item))):
            return f"must be status codes (100-599) or classes like \"2xx\"; got {shown(item)}"
    return None if items else "must list at least one status"


def _json_path_error(value: object) -> str | None:
    if isinstance(value, str) and json_path_parts(value) is not None:
        return None
    return f"must look like $.status or $.checks[0].state; got {shown(value)}"


def _scalar_error(value: object) -> str | None:
    return None if value is None or isinstance(value, (str, int, float, bool)) else "must be a string, number, true, false or null"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


JSON_PATH_RE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


def json_path_parts(path: str) -> list[str | int] | None:
    """`$.a.b[0]` -> ["a", "b", 0]; None when the path is not of that simple form."""
    if not path.startswith("$") or len(path) > 200:
        return None
    parts, position = [], 1
    for match in JSON_PATH_RE.finditer(path, 1):
        if match.start() != position:
            return None
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return parts if position == len(path) else None


def status_expected(status: int, expected: object) -> bool:
    """Whether an HTTP status is in the expected set (default: any 2xx)."""
    if expected is None:
        return 200 <= status < 300
    items = expected if isinstance(expected, list) else [expected]
    return any(item == status or (isinstance(item, str) and str(status)[0] == item[0]) for item in items)


def _sasl_error(value: object) -> str | None:
    return None if value in SASL_MECHANISMS else f"must be one of {', '.join(SASL_MECHANISMS)}"


OPTION_CHECKS = {
    "sasl": _sasl_error,
    "method": _method_error, "headers": _headers_error, "body": _body_error, "redirects": _redirects_error,
    "text": _text_error, "bool": _bool_error, "number": _number_error, "count": _count_error,
    "statuses": _statuses_error, "json_path": _json_path_error, "scalar": _scalar_error,
}


# --- the probe as JSON Schema (draft 2020-12), the probes part of the manifest schema ------------

_TEXT = "^[^\\u0000\\ud800-\\udfff]*$"
_DURATION = {"title": "duration", "anyOf": [
    {"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_RE.pattern.replace(r"\d", "[0-9]")}]}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 10**12, "errorMessage": "must be a whole number of 0 or more"}
_STATUS = {"anyOf": [{"type": "integer", "minimum": 100, "maximum": 599},
                     {"type": "string", "pattern": STATUS_CLASS_RE.pattern}]}
VALUE_SCHEMAS = {
    "method": {"enum": list(HTTP_METHODS)},
    "headers": {"type": "object", "maxProperties": MAX_HEADERS,
                "propertyNames": {"title": "header name", "pattern": HEADER_NAME_RE.pattern,
                                  "patternErrorMessage": "is not a valid header name"},
                "additionalProperties": {"title": "header", "type": "string", "maxLength": MAX_HEADER_VALUE,
                                         "pattern": "^[^\\r\\n\\u0000\\ud800-\\udfff]*$",
                                         "patternErrorMessage": "must be one line"}},
    "body": {"type": "string", "maxLength": MAX_BODY, "pattern": _TEXT, "patternErrorMessage": "must be text"},
    "redirects": {"type": "integer", "minimum": 0, "maximum": 10},
    "text": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _TEXT, "patternErrorMessage": "must be text"},
    "bool": {"type": "boolean"},
    "sasl": {"enum": list(SASL_MECHANISMS)},
    "number": {"type": "number", "exclusiveMinimum": 0, "errorMessage": "must be a positive number"},
    "count": _COUNT,
    "statuses": {"anyOf": [_STATUS, {"type": "array", "minItems": 1, "items": _STATUS}],
                 "errorMessage": 'must be status codes (100-599) or classes like "2xx"'},
    "json_path": {"type": "string", "maxLength": 200, "pattern": r"^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])*$",
                  "patternErrorMessage": "must look like $.status or $.checks[0].state"},
    "scalar": {"type": ["string", "number", "boolean", "null"], "maxLength": 4096, "pattern": _TEXT,
               "patternErrorMessage": "must be text"},
}


def probe_schema() -> dict:
    """One declared probe: common keys, each kind's options and expectations. Address policy, URL parsing,
    duration ranges and names repeated in a list are checked by `probe_declarations_check`."""
    options = {key: VALUE_SCHEMAS[check] for kind in Kind for key, check in OPTIONS[kind].items()}
    expects = {key: VALUE_SCHEMAS[check] for kind in Kind for key, check in {**COMMON_EXPECT, **EXPECT[kind]}.items()}
    name_rule = "must be 1-63 lower-case letters, digits or dashes, starting and ending with a letter or digit"
    rules = []
    for kind in Kind:
        allowed = sorted(COMMON_KEYS | set(OPTIONS[kind]))
        then = {"propertyNames": {"title": f"key of a {kind} probe", "enum": allowed},
                "properties": {"expect": {"propertyNames": {"title": f"expectation of a {kind} probe",
                                                            "enum": sorted({**COMMON_EXPECT, **EXPECT[kind]})}}}}
        if kind in REQUIRED_OPTIONS:
            then["required"] = list(REQUIRED_OPTIONS[kind])
        if kind in PAIRED_OPTIONS:
            first, second = PAIRED_OPTIONS[kind]
            then["dependentRequired"] = {first: [second]}
        if kind in TARGET_SCHEMES:
            schemes = TARGET_SCHEMES[kind]
            then["properties"]["target"] = {
                "pattern": f"^({'|'.join(schemes)})://",
                "patternErrorMessage": f"must start with {' or '.join(s + '://' for s in schemes)}"}
        rules.append({"if": {"properties": {"type": {"const": str(kind)}}, "required": ["type"]}, "then": then})
    return {
        "title": "a probe", "type": "object", "required": ["name", "type", "target"],
        "properties": {
            "name": {"title": "name", "type": "string", "pattern": NAME_RE.pattern, "patternErrorMessage": name_rule},
            "type": {"title": "type", "enum": [str(kind) for kind in Kind]},
            "target": {"title": "target", "type": "string", "minLength": 1, "maxLength": MAX_TARGET,
                       "description": "A URL, or host:port for tcp and grpc; addresses no probe may reach are refused."},
            "interval": {**_DURATION, "title": "interval",
                         "description": f"{duration_text(MIN_INTERVAL)} to {duration_text(MAX_INTERVAL)}, e.g. 30s"},
            "timeout": {**_DURATION, "title": "timeout",
                        "description": f"{duration_text(MIN_TIMEOUT)} to {duration_text(MAX_TIMEOUT)}, at most the interval"},
            "locations": {"title": "locations", "type": "array", "minItems": 1, "maxItems": MAX_LOCATIONS,
                          "items": {"title": "location", "type": "string", "pattern": LOCATION_RE.pattern,
                                    "patternErrorMessage": "must be 1-32 lower-case letters, digits or dashes, "
                                                           "starting and ending with a letter or digit"}},
            "description": {"title": "description", "type": "string", "maxLength": 500, "pattern": _TEXT,
                            "patternErrorMessage": "must be text"},
            "expect": {"title": "expect", "type": "object", "properties": expects,
                       "dependentRequired": {"equals": ["json_path"], "json_path": ["equals"]}},
            **{key: {"title": key, **schema} for key, schema in options.items()},
        },
        "allOf": rules,
    }
