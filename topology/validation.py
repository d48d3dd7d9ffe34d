"""Field rules shared by the manifest, the API serializers and the browser forms.

Pure functions, no ORM: each returns an error message (or a list of (pointer, message) pairs for
structured values), so every entry point rejects the same input with the same words.
"""
import re
from urllib.parse import urlsplit

from .criteria import BOOL, CHOICE, CRITERIA_BY_KEY, INTEGER, NUMBER

from core.inputs import NAME_RE, pointer_token, shown

from .choices import ASYNC_STYLES, Broker, Lifecycle, Style

LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$")
CHANNEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/*>#-]{0,248}$")
REPOSITORY_SCHEMES = {"http", "https", "ssh", "git"}

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_LANGUAGE = 50
MAX_REPOSITORY = 500
MAX_LABELS = 64
MAX_LABEL_VALUE = 255
MAX_TARGETS = 100
MAX_INTERACTIONS = 500
MAX_PROBES = 100
MAX_PROBE_NODES = 5000

Errors = list[tuple[str, str]]


def name_error(value: object, *, what: str = "name") -> str | None:
    if not isinstance(value, str) or not value:
        return f"{what} is required and must be a string"
    if not NAME_RE.match(value):
        return (
            f"{what} {shown(value)} must be 1-63 lower-case letters, digits or dashes, "
            "starting and ending with a letter or digit"
        )
    return None


def text_error(value: object, *, limit: int, what: str) -> str | None:
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > limit:
        return f"{what} is {len(value)} characters long; the limit is {limit}"
    return None


def choice_error(value: object, *, choices, what: str) -> str | None:
    allowed = [str(choice) for choice in choices]
    if not isinstance(value, str) or value not in allowed:
        return f"{what} must be one of {', '.join(allowed)}; got {shown(value)}"
    return None


def nodes_over(value: object, budget: int) -> bool:
    """True when a nested value has more than `budget` nodes (YAML aliases can multiply them)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > budget:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def lifecycle_error(value: object) -> str | None:
    return choice_error(value, choices=Lifecycle.values, what="lifecycle")


def repository_error(value: object) -> str | None:
    problem = text_error(value, limit=MAX_REPOSITORY, what="repository")
    if problem or value == "":
        return problem
    parts = urlsplit(value)
    if parts.scheme not in REPOSITORY_SCHEMES or not parts.netloc:
        return "repository must be an http(s), ssh or git URL with a host, e.g. https://git.example.com/team/repo"
    return None


def labels_errors(value: object) -> Errors:
    if not isinstance(value, dict):
        return [("", "labels must be a map of strings to strings")]
    if len(value) > MAX_LABELS:
        return [("", f"at most {MAX_LABELS} labels are allowed; got {len(value)}")]
    errors: Errors = []
    for key, label in value.items():
        pointer = "/" + pointer_token(key)
        if not isinstance(key, str) or not LABEL_KEY_RE.match(key):
            errors.append((pointer, f"label key {shown(key)} must be 1-63 letters, digits, '.', '_', '/' or '-'"))
        elif not isinstance(label, str):
            errors.append((pointer, f"label {shown(key)} must be a string (quote numbers and booleans)"))
        elif len(label) > MAX_LABEL_VALUE:
            errors.append((pointer, f"label {shown(key)} is longer than {MAX_LABEL_VALUE} characters"))
    return errors


def criterion_error(key: str, value: object) -> str | None:
    criterion = CRITERIA_BY_KEY[key]
    if value is None:
        return None
    if criterion.kind == BOOL:
        return None if isinstance(value, bool) else f"{key} must be true or false"
    if criterion.kind == CHOICE:
        return choice_error(value, choices=criterion.choices, what=key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} must be a number"
    if criterion.kind == INTEGER and not float(value).is_integer():
        return f"{key} must be a whole number"
    if not criterion.minimum <= value <= criterion.maximum:
        return f"{key} must be between {criterion.minimum:g} and {criterion.maximum:g}"
    return None


def criteria_errors(value: object) -> Errors:
    if not isinstance(value, dict):
        return [("", "criteria must be a map")]
    errors: Errors = []
    for key, item in value.items():
        pointer = "/" + pointer_token(key)
        if key not in CRITERIA_BY_KEY:
            known = ", ".join(CRITERIA_BY_KEY)
            errors.append((pointer, f"unknown criterion {shown(key)}; known criteria: {known}"))
            continue
        problem = criterion_error(key, item)
        if problem:
            errors.append((pointer, problem))
    return errors


def criteria_clean(value: dict) -> dict:
    """Drop unanswered criteria and store whole numbers as int, so equal answers compare equal."""
    cleaned = {}
    for key, item in value.items():
        if item is None:
            continue
        if CRITERIA_BY_KEY[key].kind in (INTEGER, NUMBER) and float(item).is_integer():
            item = int(item)
        cleaned[key] = item
    return cleaned


def targets_errors(value: object, *, source: str | None) -> Errors:
    if not isinstance(value, list) or not value:
        return [("", "to must be a non-empty list of service names")]
    if len(value) > MAX_TARGETS:
        return [("", f"at most {MAX_TARGETS} targets are allowed; got {len(value)}")]
    errors: Errors = []
    seen = set()
    for index, target in enumerate(value):
        problem = name_error(target, what="target")
        if not problem and target == source:
            problem = f"a service cannot target itself ({target!r})"
        if not problem and target in seen:
            problem = f"target {target!r} is listed twice"
        seen.add(target)
        if problem:
            errors.append((f"/{index}", problem))
    return errors


def channel_errors(*, style: str, channel: str, broker: str) -> Errors:
    """Channel and broker rules, given the already type-checked style ('' when undecided)."""
    errors: Errors = []
    if channel and not CHANNEL_RE.match(channel):
        errors.append(("/channel", f"channel {shown(channel)} must be 1-249 characters without spaces"))
    if broker and broker not in Broker.values:
        errors.append(("/broker", choice_error(broker, choices=Broker.values, what="broker")))
    if style in ASYNC_STYLES and not channel:
        errors.append(("/channel", f"channel (the topic or queue name) is required for style {style}"))
    if style and style not in ASYNC_STYLES:
        if channel:
            errors.append(("/channel", f"channel applies to pubsub and queue, not to {style}"))
        if broker:
            errors.append(("/broker", f"broker applies to pubsub and queue, not to {style}"))
    return errors


def style_error(value: object) -> str | None:
    return choice_error(value, choices=Style.values, what="style")
