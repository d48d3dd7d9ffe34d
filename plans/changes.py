"""A change plan's proposed changes, read from a request: plain data in, (changes, errors with JSON
pointers) out. Pure: no Django."""
from dataclasses import dataclass, field

from core.inputs import NAME_RE, shown
from topology.criteria import BOOL, CHOICE, CRITERIA_BY_KEY, INTEGER, NUMBER

STYLES = ("rest", "grpc", "pubsub", "queue")
BROKERS = ("kafka", "rabbitmq", "nats", "pulsar", "other")  # topology.choices.Broker
MAX_CHANGES = 200
MAX_TARGETS = 50
KEYS = {"interaction", "style", "channel", "broker", "criteria", "remove", "add", "to"}


@dataclass(frozen=True)
class Change:
    source: str
    name: str
    style: str | None = None  # None: unchanged
    channel: str | None = None
    broker: str | None = None
    criteria: dict = field(default_factory=dict)  # answers to change; None as a value clears one
    remove: bool = False
    add: bool = False  # a new interaction: `targets` are the services it reaches
    targets: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def kind(self) -> str:
        """add, remove or change."""
        return "add" if self.add else "remove" if self.remove else "change"


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
    remove, add = item.get("remove", False), item.get("add", False)
    for flag, value in (("remove", remove), ("add", add)):
        if not isinstance(value, bool):
            errors.append(_error(f"{base}/{flag}", "true or false"))
    if remove is True and add is True:
        errors.append(_error(f"{base}/add", "a change adds an interaction or removes one, not both"))
    targets, found = _targets(item, base, adding=add is True)
    errors += found
    if add is True and source and name and not (NAME_RE.match(source) and NAME_RE.match(name)):
        errors.append(_error(f"{base}/interaction", "a new interaction is <service>/<name>, each of lower-case "
                                                    "letters, digits and '-' (1 to 63 characters)"))
    if errors:
        return None, errors
    return Change(source, name, style, channel, broker, dict(criteria), remove, add is True, targets), []


def _targets(item: dict, base: str, *, adding: bool) -> tuple[tuple[str, ...], list[dict]]:
    """The services a new interaction reaches (`to`): only with `add: true`, and then required."""
    if "to" not in item:
        return (), [_error(f"{base}/to", "a new interaction names the services it reaches: "
                                         "\"to\": [\"<service>\", ...]")] if adding else []
    if not adding:
        return (), [_error(f"{base}/to", "only a new interaction (\"add\": true) names its targets; "
                                         "an existing one keeps its own")]
    to = item["to"]
    if not isinstance(to, list) or not 0 < len(to) <= MAX_TARGETS:
        return (), [_error(f"{base}/to", f"a list of 1 to {MAX_TARGETS} service names")]
    errors = [_error(f"{base}/to/{n}", f"{shown(target)} is not a service name") for n, target in enumerate(to)
              if not isinstance(target, str) or not NAME_RE.match(target)]
    errors += [_error(f"{base}/to/{n}", f"{target} is named twice") for n, target in enumerate(to)
               if not errors and to.index(target) != n]
    return (() if errors else tuple(to)), errors


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
