"""What every import parser returns, and the small helpers the parsers share.

Pure: no Django, no models. The parsers turn foreign descriptions (a Backstage catalog, AsyncAPI
documents) into plain data that a later step applies as a registration. topology.manifest's
ServiceSpec/InteractionSpec cannot be used here: that module imports topology.choices (Django
TextChoices), so these frozen dataclasses mirror them, and the constants below mirror
topology.choices and topology.validation (tests/test_imports_parsers.py pins that they agree).

Every finding is {"pointer": JSON pointer into the input, "message": text}. A result that has any
error carries no services, teams or interactions: an import is all or nothing.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import yaml

from core.inputs import NAME_RE, shown

STYLE_UNDECIDED = ""
STYLE_REST = "rest"
STYLE_GRPC = "grpc"
STYLE_PUBSUB = "pubsub"
STYLE_QUEUE = "queue"
ASYNC_STYLES = frozenset({STYLE_PUBSUB, STYLE_QUEUE})

BROKER_KAFKA = "kafka"
BROKER_RABBITMQ = "rabbitmq"
BROKER_NATS = "nats"
BROKER_PULSAR = "pulsar"
BROKER_OTHER = "other"

LIFECYCLE_EXPERIMENTAL = "experimental"
LIFECYCLE_PRODUCTION = "production"
LIFECYCLE_DEPRECATED = "deprecated"
LIFECYCLES = (LIFECYCLE_EXPERIMENTAL, LIFECYCLE_PRODUCTION, LIFECYCLE_DEPRECATED)

MAX_NAME = 63
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_TARGETS = 100
MAX_NODES = 1_000_000  # values in one YAML input at most, so aliases cannot blow a small text up
CHANNEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/*>#-]{0,248}$")  # topology.validation.CHANNEL_RE

POINTER = "pointer"
MESSAGE = "message"
NAME_RULE = "1-63 lower-case letters, digits or dashes, starting and ending with a letter or digit"

_NOT_NAME = re.compile(r"[^a-z0-9]+")
_EDGES = frozenset("-_.")  # separators a name may hold inside, never at an end
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a key twice in one map (YAML says keys are unique; PyYAML would keep
    the last one silently, so `metadata:` written twice would import the second)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):  # its own keys; merged ones (<<) may be overridden
            seen: set = set()
            for key_node, _ in node.value:
                key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key[0] != "tag:yaml.org,2002:merge" and key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"the key {key_node.value!r} appears twice "
                                                            "in one map", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


class _Unreadable(ValueError):
    """A JSON text that parses but cannot be taken as it is (a key twice in one object)."""


def _unique_keys(pairs: list) -> dict:
    """A JSON object, refusing a key that appears twice in it."""
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise _Unreadable(f"the key {shown(key)} appears twice in one object")
        found[key] = value
    return found


@dataclass(frozen=True)
class ImportedTeam:
    """A team the input names (a Backstage Group): it may become a Switchboard team."""

    name: str
    title: str = ""
    source_ref: str = ""


@dataclass(frozen=True)
class ImportedService:
    """One service, as a later step turns it into topology.manifest.ServiceSpec."""

    name: str
    team: str
    title: str = ""
    description: str = ""
    lifecycle: str = LIFECYCLE_PRODUCTION
    source_ref: str = ""


@dataclass(frozen=True)
class ImportedInteraction:
    """One interaction a service starts, as a later step turns it into InteractionSpec."""

    source: str
    name: str
    targets: tuple[str, ...]
    style: str = STYLE_UNDECIDED
    channel: str = ""
    broker: str = ""
    criteria: dict = field(default_factory=dict)
    source_ref: str = ""


@dataclass(frozen=True)
class ImportResult:
    """Services by name, interactions by (source, name); empty when there is any error."""

    services: tuple[ImportedService, ...] = ()
    interactions: tuple[ImportedInteraction, ...] = ()
    warnings: tuple[dict, ...] = ()
    errors: tuple[dict, ...] = ()
    teams: tuple[ImportedTeam, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the import may be applied."""
        return not self.errors

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Targets no imported service describes: placeholders unless registered already."""
        known = {service.name for service in self.services}
        return tuple(sorted({t for i in self.interactions for t in i.targets} - known))


class Findings:
    """Errors and warnings in the order they are found."""

    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def error(self, pointer: str, message: str) -> None:
        self.errors.append({POINTER: pointer, MESSAGE: message})

    def warning(self, pointer: str, message: str) -> None:
        self.warnings.append({POINTER: pointer, MESSAGE: message})


# --- Names ---------------------------------------------------------------------------------------


def name_from(raw: object) -> str | None:
    """A valid Switchboard name made of raw text (lower-cased, other characters -> dashes), or None.

    Latin letters lose their accents (Café -> cafe); a character that only looks like one (Cyrillic
    о, fullwidth １, small capital ᴏ), an invisible one (zero-width space, joiner, BOM, direction
    marks) or a control character makes it None: folding them away would let "оrders" or
    "or\u200bders" take the name of "orders". So does a separator at either end ("-orders", "orders.")."""
    return None if not isinstance(raw, str) else _folded(raw)[0]


def _folded(raw: str) -> tuple[str | None, str]:
    """(name or None, why not: '' or the offending character described)."""
    name = raw.strip().lower()
    if NAME_RE.match(name):
        return name, ""
    odd = foreign_character(name)
    if odd:
        return None, f"contains {odd}, which is not a Latin letter, digit or punctuation"
    plain = "".join(char for char in unicodedata.normalize("NFD", name) if not unicodedata.combining(char))
    if plain[:1] in _EDGES or plain[-1:] in _EDGES:
        return None, "a name may not start or end with - _ or ."
    name = _NOT_NAME.sub("-", plain).strip("-")
    return (name, "") if NAME_RE.match(name) else (None, "")


def foreign_character(text: str) -> str:
    """The first character of text that is neither printable ASCII nor a Latin letter with marks
    (its code point and Unicode name), or ''."""
    for char in unicodedata.normalize("NFD", text):
        if (" " <= char <= "~") or unicodedata.combining(char):
            continue
        return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')})"
    return ""


def control_character(text: str) -> str:
    """The first control character of text but tab and line breaks, described, or ''."""
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            return f"U+{ord(char):04X} at character {index + 1}"
    return ""


def name_at(raw: object, pointer: str, findings: Findings, *, what: str) -> str | None:
    """name_from, or an error at pointer saying why the value cannot be a name."""
    name, why = _folded(raw) if isinstance(raw, str) else (None, "")
    if name is None and raw is None:
        findings.error(pointer, f"{what} is required")
    elif name is None:
        findings.error(pointer, f"{what} {shown(raw)} cannot be made a Switchboard name ({why or NAME_RULE})")
    return name


def team_default(default_team: str | None, findings: Findings) -> str | None:
    """The caller's default team, checked once (an error at "" if it is not a name)."""
    if default_team is None or NAME_RE.match(str(default_team)):
        return default_team
    findings.error("", f"default team {shown(default_team)} must be {NAME_RULE}")
    return None


def named_apart(interactions: Iterable[ImportedInteraction], findings: Findings) -> list[ImportedInteraction]:
    """Interactions whose names clash within one source get -2, -3, ... (a warning says so)."""
    taken: set[tuple[str, str]] = set()
    kept = []
    for interaction in interactions:
        name = _free_name(interaction, taken)
        if name != interaction.name:
            findings.warning(interaction.source_ref, f"{interaction.source} already has an interaction "
                                                     f"{interaction.name!r}; this one is named {name!r}")
        taken.add((interaction.source, name))
        kept.append(replace(interaction, name=name))
    return kept


def _free_name(interaction: ImportedInteraction, taken: set[tuple[str, str]]) -> str:
    """The interaction's name, or the first numbered variant its source has not used."""
    name, number = interaction.name, 1
    while (interaction.source, name) in taken:
        number += 1
        suffix = f"-{number}"
        name = interaction.name[: MAX_NAME - len(suffix)].rstrip("-") + suffix
    return name


# --- Reading text --------------------------------------------------------------------------------


def yaml_documents(text: object, findings: Findings, *, pointer: str = "", label: str = "") -> list | None:
    """Every YAML document of a text (None for an empty one), or None after one error at pointer."""
    documents = _decoded(text, findings, "YAML", _yaml_load, pointer=pointer, label=label)
    return None if documents is None else _within_budget(documents, findings, pointer=pointer, label=label)


def json_value(text: object, findings: Findings, *, pointer: str = "", label: str = "") -> object:
    """The value of a JSON text, or None after one error at pointer (JSON has no aliases to cap)."""
    return _decoded(text, findings, "JSON", _json_load, pointer=pointer, label=label)


def _yaml_load(text: str) -> list:
    """All documents of a YAML stream, with the safe loader."""
    return list(yaml.load_all(text, Loader=_Loader))


def _json_load(text: str) -> object:
    """A JSON value, each object's keys unique."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _decoded(text: object, findings: Findings, syntax: str, load: Callable[[str], object], *,
             pointer: str, label: str) -> object:
    """load(text), or None after one error at pointer that says what is wrong and where."""
    if not isinstance(text, str):
        findings.error(pointer, f"{label}the input must be text, not {shown(text)}")
        return None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        findings.error(pointer, f"{label}the input holds a NUL character (line {line}): it is not a text document")
        return None
    try:
        return load(text)
    except (yaml.YAMLError, json.JSONDecodeError, _Unreadable) as exc:
        findings.error(pointer, f"{label}invalid {syntax}{_where(exc)}: {_problem(exc)}")
    except RecursionError:
        findings.error(pointer, f"{label}the {syntax} is nested too deeply")
    except (ValueError, OverflowError) as exc:  # a number of 5,000 digits, a date such as 2024-02-30
        findings.error(pointer, f"{label}invalid {syntax}: a value cannot be read ({str(exc).split(';')[0][:120]})")
    return None


def _where(exc: Exception) -> str:
    """' at line L, column C' for a syntax error that knows where it is."""
    if isinstance(exc, json.JSONDecodeError):
        return f" at line {exc.lineno}, column {exc.colno}"
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _problem(exc: Exception) -> str:
    """What a syntax error says went wrong, without YAML's multi-line excerpt."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, _Unreadable):
        return str(exc)
    return getattr(exc, "problem", None) or str(exc).splitlines()[0]


def _within_budget(value: object, findings: Findings, *, pointer: str, label: str) -> object:
    """The value, or None after an error when it holds more than MAX_NODES values."""
    if nodes_over(value, MAX_NODES):
        findings.error(pointer, f"{label}the input holds more than {MAX_NODES:,} values")
        return None
    return value


def nodes_over(value: object, budget: int) -> bool:
    """True when a nested value has more than `budget` nodes (YAML aliases can multiply them)."""
    pending, seen = [value], 0
    while pending and seen <= budget:
        item = pending.pop()
        seen += 1
        pending.extend(_children(item))
    return seen > budget


def _children(item: object) -> list:
    """The keys and values of a map, the items of a list, nothing for a scalar."""
    if isinstance(item, dict):
        return [*item.keys(), *item.values()]
    return item if isinstance(item, list) else []


# --- Reading values ------------------------------------------------------------------------------


def mapping_at(holder: dict, key: str, pointer: str, findings: Findings) -> dict | None:
    """holder[key] as a map ({} when absent or null), or None after an error at pointer/key."""
    value = holder.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    findings.error(f"{pointer}/{key}", f"{key} must be a map, not {shown(value)}")
    return None


def text_at(holder: dict, key: str, pointer: str, findings: Findings, *, limit: int) -> str:
    """holder[key] as text ('' when absent), cut to limit with a warning; an error if not text."""
    value = holder.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        findings.error(f"{pointer}/{key}", f"{key} must be text, not {shown(value)}")
        return ""
    odd = control_character(value)
    if odd:
        findings.error(f"{pointer}/{key}", f"{key} holds a control character ({odd}); only text, tabs and "
                                           "line breaks are allowed")
        return ""
    if len(value) > limit:
        findings.warning(f"{pointer}/{key}", f"{key} is cut to {limit} characters")
    return value[:limit]


def import_result(findings: Findings, *, services: Iterable[ImportedService],
                  interactions: Iterable[ImportedInteraction], teams: Iterable[ImportedTeam] = ()) -> ImportResult:
    """The sorted result, or only the findings when there is any error (too many targets is one)."""
    interactions = list(interactions)
    for interaction in interactions:
        if len(interaction.targets) > MAX_TARGETS:
            findings.error(interaction.source_ref, f"{interaction.source} would send {interaction.name!r} to "
                                                   f"{len(interaction.targets)} services; at most {MAX_TARGETS}")
    if findings.errors:
        return ImportResult(warnings=tuple(findings.warnings), errors=tuple(findings.errors))
    return ImportResult(
        services=tuple(sorted(services, key=lambda s: s.name)),
        interactions=tuple(sorted(interactions, key=lambda i: (i.source, i.name))),
        warnings=tuple(findings.warnings), errors=(), teams=tuple(sorted(teams, key=lambda t: t.name)),
    )
