"""A change plan's proposed changes, read from a request: plain data in, (changes, errors with JSON
pointers) out. Pure: no Django."""
from dataclasses import dataclass, field

from core.inputs import shown
from topology.criteria import BOOL, CHOICE, CRITERIA_BY_KEY, INTEGER, NUMBER

STYLES = ("rest", "grpc", "pubsub", "queue")
BROKERS = ("kafka", "rabbitmq", "nats", "pulsar", "other")  # topology.choices.Broker
MAX_CHANGES = 200
KEYS = {"interaction", "style", "channel", "broker", "criteria", "remove"}


@dataclass(frozen=True)
class Change:
    source: str
    name: str
    style: str | None = None  # None: unchanged
    channel: str | None = None
    broker: str | None = None
    criteria: dict = field(default_factory=dict)  # answers to change; None as a value clears one
    remove: bool = False

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"


def changes_parse(body: object) -> tuple[list[Change], list[dict]]:
    if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
        return [], [_error("/changes", "send {\"changes\": [{\"interaction\": \"<service>/<name>\", ...}]}")]
    items = body["changes"]
    if not items or len(items) > MAX_CHANGES:
        return [], [_error("/changes", f"a list of 1 to {MAX_CHANGES} changes")]
    changes, errors = [], []
    for index, item in enumerate(items):
        change, found = _change(item, f"/changes/{index}")
        errors += found
        if change is not None:
            changes.append(change)
    seen = [c.key for c in changes]
    errors += [_error("/changes", f"{key} is changed twice; merge the changes") for key in sorted(set(seen))
               if seen.count(key) > 1]
    return (changes, []) if not errors else ([], errors)


def _error(pointer: str, message: str) -> dict:
    return {"pointer": pointer, "message": message}


def _change(item: object, base: str) -> tuple[Change | None, list[dict]]:
    if not isinstance(item, dict):
        return None, [_error(base, "a change is an object")]
    errors = [_error(f"{base}/{key}", "unknown field") for key in sorted(set(item) - KEYS)]
    key = item.get("interaction")
    source, _, name = key.partition("/") if isinstance(key, str) else ("", "", "")
    if not source or not name:
        errors.append(_error(f"{base}/interaction", f"{shown(key)} is not <service>/<interaction>"))
    style = item.get("style")
    if style is not None and style not in STYLES:
        errors.append(_error(f"{base}/style", f"{shown(style)} is not one of {', '.join(STYLES)}"))
    broker = item.get("broker")
    if broker is not None and broker not in BROKERS:
        errors.append(_error(f"{base}/broker", f"{shown(broker)} is not one of {', '.join(BROKERS)}"))
    channel = item.get("channel")
    if channel is not None and (not isinstance(channel, str) or len(channel) > 200):
        errors.append(_error(f"{base}/channel", "a channel name of at most 200 characters"))
    criteria = item.get("criteria", {})
    errors += _criteria_errors(criteria, f"{base}/criteria")
    remove = item.get("remove", False)
    if not isinstance(remove, bool):
        errors.append(_error(f"{base}/remove", "true or false"))
    if errors:
        return None, errors
    return Change(source, name, style, channel, broker, dict(criteria), remove), []


def _criteria_errors(criteria: object, base: str) -> list[dict]:
    if not isinstance(criteria, dict):
        return [_error(base, "an object of criterion answers")]
    errors = []
    for key, value in criteria.items():
        criterion = CRITERIA_BY_KEY.get(key)
        if criterion is None:
            errors.append(_error(f"{base}/{key}", "not a criterion"))
        elif value is not None and not _fits(criterion, value):
            errors.append(_error(f"{base}/{key}", f"{shown(value)} does not answer: {criterion.question}"))
    return errors


def _fits(criterion, value) -> bool:
    if criterion.kind == BOOL:
        return isinstance(value, bool)
    if criterion.kind == CHOICE:
        return value in criterion.choices
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if criterion.kind == INTEGER and not float(value).is_integer():
        return False
    low, high = criterion.minimum, criterion.maximum
    return (low is None or value >= low) and (high is None or value <= high) and criterion.kind in (INTEGER, NUMBER)
