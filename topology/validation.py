"""Field rules shared by the manifest, the API serializers, the browser forms and the imports.

Pure functions, no ORM. The shapes come from the manifest's JSON Schema (topology/manifest_schema.py):
each function checks one value against its part of that schema and returns an error message (or a
list of (pointer, message) pairs for structured values), so every entry point rejects the same input
with the same words as a registration does. By hand only what a schema cannot say: a target listed
twice, a service that targets itself.
"""
import re

from . import manifest_schema as ms
from .choices import ASYNC_STYLES, Broker, Lifecycle, Style
from .criteria import CRITERIA_BY_KEY, INTEGER, NUMBER
from .manifest_schema import (  # noqa: F401 - the limits are read from here by forms and serializers
    MAX_DESCRIPTION,
    MAX_INTERACTIONS,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_LANGUAGE,
    MAX_PROBES,
    MAX_REPOSITORY,
    MAX_TARGETS,
    MAX_TITLE,
)

CHANNEL_RE = re.compile(ms.CHANNEL_PATTERN)
Errors = list[tuple[str, str]]

_INTERACTION = ms.interaction_schema(styles=Style.values, async_styles=sorted(ASYNC_STYLES), brokers=Broker.values)
_SERVICE = ms.service_schema(styles=Style.values, async_styles=sorted(ASYNC_STYLES), brokers=Broker.values,
                             lifecycles=Lifecycle.values, probe=None)
_LABELS = {**_SERVICE["properties"]["metadata"]["properties"]["labels"], "type": "object"}
_REPOSITORY = _SERVICE["properties"]["spec"]["properties"]["repository"]
_LIFECYCLE = {**_SERVICE["properties"]["spec"]["properties"]["lifecycle"], "enum": list(Lifecycle.values)}
_STYLE = {**_INTERACTION["properties"]["style"], "enum": list(Style.values)}
_CRITERIA = {**_INTERACTION["properties"]["criteria"], "type": "object"}
_TARGETS = _INTERACTION["properties"]["to"]
_CHANNEL = {"properties": {key: _INTERACTION["properties"][key] for key in ("channel", "broker")},
            "allOf": _INTERACTION["allOf"]}
_validator = ms.ManifestValidator({})


def _errors(schema: dict, value: object) -> Errors:
    return ms.value_errors(_validator, schema, value)


def _first(schema: dict, value: object) -> str | None:
    errors = _errors(schema, value)
    return errors[0][1] if errors else None


def name_error(value: object, *, what: str = "name") -> str | None:
    return _first(ms.name_schema(what), value)


def text_error(value: object, *, limit: int, what: str) -> str | None:
    return _first(ms.text_schema(what, limit), value)


def lifecycle_error(value: object) -> str | None:
    return _first(_LIFECYCLE, value)


def style_error(value: object) -> str | None:
    return _first(_STYLE, value)


def repository_error(value: object) -> str | None:
    return _first({**_REPOSITORY, "type": "string"}, value)


def labels_errors(value: object) -> Errors:
    return _errors(_LABELS, value)


def criteria_errors(value: object) -> Errors:
    return _errors(_CRITERIA, value)


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
    errors = _errors(_TARGETS, value)
    if errors or not isinstance(value, list):
        return errors
    seen = set()
    for index, target in enumerate(value):
        if target == source:
            errors.append((f"/{index}", f"a service cannot target itself ({target!r})"))
        elif target in seen:
            errors.append((f"/{index}", f"target {target!r} is listed twice"))
        seen.add(target)
    return errors


def channel_errors(*, style: str, channel: str, broker: str) -> Errors:
    """Channel and broker rules, given the already type-checked style ('' when undecided)."""
    values = {"style": style or None, "channel": channel or None, "broker": broker or None}
    return _errors(_CHANNEL, {key: value for key, value in values.items() if value is not None})
