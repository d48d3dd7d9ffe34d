"""Parse and validate service manifests into plain data (no ORM).

A manifest is YAML (one or more `---` documents) or JSON (one object, or {"items": [...]}).
Every error carries a JSON pointer relative to the list of service documents: "/0/spec/...".
"""
import json
import math
import re
from dataclasses import dataclass, field

import yaml

from . import manifest_schema as ms
from . import validation as v
from .choices import ASYNC_STYLES, Broker, Lifecycle, Style
from .extensions import registered
from .manifest_schema import API_VERSION, KIND  # noqa: F401 - part of this module's interface

MAX_VALUES = 1_000_000  # values in one manifest once YAML aliases are expanded
MAX_DEPTH = 64
MAX_INT = 2**63

YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
JSON_TYPES = {"application/json"}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestParseError(ValueError):
    """The body is not YAML/JSON of the expected outer shape (HTTP 400)."""


@dataclass(frozen=True)
class InteractionSpec:
    name: str
    targets: tuple[str, ...]
    description: str = ""
    style: str = ""
    channel: str = ""
    broker: str = ""
    criteria: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    team: str
    title: str = ""
    description: str = ""
    labels: dict = field(default_factory=dict)
    lifecycle: str = Lifecycle.PRODUCTION
    language: str = ""
    repository: str = ""
    interactions: tuple[InteractionSpec, ...] = ()
    probes: list = field(default_factory=list)


@dataclass
class ManifestResult:
    services: list[ServiceSpec]
    errors: list[dict]


def media_type(content_type: str) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def manifest_parse(body: bytes, content_type: str) -> list:
    """Bytes -> list of raw documents. Raises ManifestParseError."""
    kind = media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestParseError(f"the body is not UTF-8 (byte {exc.start})") from None
    if kind in JSON_TYPES:
        return _documents_from_json(text)
    if kind in YAML_TYPES:
        return _documents_from_yaml(text)
    raise ManifestParseError(
        f"unsupported Content-Type {kind or '(none)'!r}; send application/yaml or application/json"
    )


def _documents_from_json(text: str) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestParseError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ManifestParseError("the JSON is nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ManifestParseError(f"invalid JSON: {str(exc)[:120]}") from None
    if isinstance(data, dict) and set(data) == {"items"}:
        data = data["items"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ManifestParseError('a JSON manifest is one object or {"items": [...]}')
    return data


def _documents_from_yaml(text: str) -> list:
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestParseError(f"invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise ManifestParseError("the YAML is nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ManifestParseError(f"invalid YAML: {str(exc)[:120]}") from None
    if len(documents) == 1 and isinstance(documents[0], dict) and set(documents[0]) == {"items"}:
        documents = documents[0]["items"]
    if not isinstance(documents, list):
        raise ManifestParseError("items must be a list of service documents")
    return documents


_schema: dict | None = None
_validator = None


def manifest_schema(schema_id: str = "") -> dict:
    """The manifest as JSON Schema, with the probes part the probes app registered."""
    return ms.manifest_schema(styles=Style.values, async_styles=sorted(ASYNC_STYLES), brokers=Broker.values,
                              lifecycles=Lifecycle.values, probe=registered.probes.schema, schema_id=schema_id)


def _schema_validator():
    global _schema, _validator
    schema = manifest_schema()
    if schema != _schema:  # built once, again only if the probes part changed
        _schema, _validator = schema, ms.schema_validator(schema)
    return _validator


def manifest_validate(documents: list) -> ManifestResult:
    """Raw documents -> service specs, or every error found with its pointer (in document order).

    Shapes are checked against the manifest's JSON Schema; by hand only what a schema cannot say:
    names repeated across documents or within a list, a service targeting itself, and the probes'
    own rules (addresses, duration ranges) once their shape is right."""
    if not documents:
        return ManifestResult([], [{"pointer": "", "message": "the manifest names no service"}])
    problem = _size_problem(documents)
    if problem:
        return ManifestResult([], [{"pointer": "", "message": problem}])
    errors = ms.schema_errors(_schema_validator(), documents)
    errors += _duplicate_services(documents)
    shaped = {pointer for pointer, _ in errors}
    probes: dict[int, list] = {}
    for index, document in enumerate(documents):
        spec = (document.get("spec") or {}) if isinstance(document, dict) else {}
        if not isinstance(spec, dict):
            continue
        errors += _interaction_names(spec.get("interactions"), f"/{index}/spec/interactions", _name_of(document))
        if isinstance(spec.get("probes"), list) and len(spec["probes"]) <= ms.MAX_PROBES:
            probes[index], found = registered.probes.check(spec["probes"], base=f"/{index}/spec/probes")
            errors += [(pointer, message) for pointer, message in found if not _near(pointer, shaped)]
    if errors:
        return ManifestResult([], _in_document_order(documents, errors))
    return ManifestResult([_service_spec(document, probes.get(index, [])) for index, document in enumerate(documents)], [])


def _near(pointer: str, pointers: set[str]) -> bool:
    """Whether a schema error already speaks of this place, or of a place inside or around it."""
    return any(pointer == other or pointer.startswith(other + "/") or other.startswith(pointer + "/")
               for other in pointers)


def _size_problem(documents: list) -> str | None:
    """Refuse what no schema check should walk: too many values (YAML aliases multiply them), too deep,
    or integers too large to store (kept as infinity, refused where a number is expected)."""
    if len(documents) > ms.MAX_SERVICES:
        return f"at most {ms.MAX_SERVICES:,} services in one manifest; got {len(documents):,}"
    stack, seen = [(documents, 0)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            return (f"the manifest holds more than {MAX_VALUES:,} values once YAML aliases are expanded; "
                    "write each value out, or split the manifest")
        if depth > MAX_DEPTH:
            return f"the manifest is nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, int) and abs(key) >= MAX_INT:
                    return "a key of the manifest is a number too large to store"
                if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
                    item[key] = math.inf if value > 0 else -math.inf
                stack.append((value, depth + 1))
        elif isinstance(item, list):
            for position, value in enumerate(item):
                if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
                    item[position] = math.inf if value > 0 else -math.inf
                stack.append((value, depth + 1))
    return None


def _name_of(document: object) -> str | None:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _duplicate_services(documents: list) -> list[tuple[str, str]]:
    errors, seen = [], {}
    for index, document in enumerate(documents):
        name = _name_of(document)
        if name is not None and name in seen:
            errors.append((f"/{index}/metadata/name", f"service {name!r} already appears in document {seen[name]}"))
        if name is not None:
            seen.setdefault(name, index)
    return errors


def _interaction_names(items: object, base: str, source: str | None) -> list[tuple[str, str]]:
    """Interaction names listed twice, targets listed twice, and a service that targets itself."""
    if not isinstance(items, list) or len(items) > v.MAX_INTERACTIONS:
        return []
    errors, seen = [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            errors.append((f"{base}/{index}/name", f"interaction {name!r} is listed twice"))
        if isinstance(name, str):
            seen.add(name)
        targets = item.get("to")
        if not isinstance(targets, list) or len(targets) > v.MAX_TARGETS:
            continue
        named = set()
        for position, target in enumerate(targets):
            if not isinstance(target, str):
                continue
            if target == source:
                errors.append((f"{base}/{index}/to/{position}", f"a service cannot target itself ({target!r})"))
            elif target in named:
                errors.append((f"{base}/{index}/to/{position}", f"target {target!r} is listed twice"))
            named.add(target)
    return errors


_SURROGATE = re.compile("[\ud800-\udfff]")  # a key may hold one; UTF-8 cannot, so the answer shows U+FFFD


def _in_document_order(documents: list, errors: list[tuple[str, str]]) -> list[dict]:
    """Errors sorted by where they point in the documents (a missing field after those present)."""
    def position(pointer: str) -> list[int]:
        place, node = [], documents
        for token in pointer.split("/")[1:]:
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                place.append(int(key))
                node = node[int(key)]
            elif isinstance(node, dict):
                keys = [str(k) for k in node]
                place.append(keys.index(key) if key in keys else len(keys))
                node = node.get(key) if key in node else None
            else:
                place.append(0)
                node = None
        return place

    ranked = sorted(enumerate(errors), key=lambda item: (position(item[1][0]), item[0]))
    unique, seen = [], set()
    for _, (pointer, message) in ranked:
        pointer, message = _SURROGATE.sub("\ufffd", pointer), _SURROGATE.sub("\ufffd", message)
        if (pointer, message) not in seen:
            seen.add((pointer, message))
            unique.append({"pointer": pointer, "message": message})
    return unique


def _service_spec(document: dict, probes: list) -> ServiceSpec:
    metadata, spec = document["metadata"], document.get("spec") or {}
    return ServiceSpec(
        name=metadata["name"], team=metadata["team"], title=metadata.get("title") or "",
        description=metadata.get("description") or "", labels=metadata.get("labels") or {},
        lifecycle=spec.get("lifecycle") or Lifecycle.PRODUCTION, language=spec.get("language") or "",
        repository=spec.get("repository") or "",
        interactions=tuple(_interaction_spec(item) for item in spec.get("interactions") or ()),
        probes=probes,
    )


def _interaction_spec(item: dict) -> InteractionSpec:
    return InteractionSpec(
        name=item["name"], targets=tuple(item["to"]), description=item.get("description") or "",
        style=item.get("style") or "", channel=item.get("channel") or "", broker=item.get("broker") or "",
        criteria=v.criteria_clean(item.get("criteria") or {}),
    )
