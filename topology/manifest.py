"""Parse and validate service manifests into plain data (no ORM).

A manifest is YAML (one or more `---` documents) or JSON (one object, or {"items": [...]}).
Every error carries a JSON pointer relative to the list of service documents: "/0/spec/...".
"""
import json
from dataclasses import dataclass, field

import yaml

from core.inputs import pointer_token, shown

from . import validation as v
from .choices import Lifecycle
from .extensions import registered
from .validation import nodes_over

API_VERSION = "switchboard/v1"
KIND = "Service"

TOP_KEYS = {"apiVersion", "kind", "metadata", "spec"}
METADATA_KEYS = {"name", "team", "title", "description", "labels"}
SPEC_KEYS = {"lifecycle", "language", "repository", "interactions", "probes"}
INTERACTION_KEYS = {"name", "to", "description", "style", "channel", "broker", "criteria"}

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
    if len(documents) == 1 and isinstance(documents[0], dict) and set(documents[0]) == {"items"}:
        documents = documents[0]["items"]
    if not isinstance(documents, list):
        raise ManifestParseError("items must be a list of service documents")
    return documents


class _Checker:
    """Collects errors with pointers while turning raw documents into specs."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def add(self, pointer: str, message: str) -> None:
        self.errors.append({"pointer": pointer, "message": message})

    def add_all(self, base: str, errors: v.Errors) -> None:
        for pointer, message in errors:
            self.add(base + pointer, message)

    def unknown_keys(self, data: dict, allowed: set, base: str) -> None:
        for key in data:
            if key not in allowed:
                self.add(f"{base}/{pointer_token(key)}", f"unknown field {shown(key)}; allowed: {', '.join(sorted(allowed))}")

    def mapping(self, data: object, base: str, what: str) -> dict | None:
        if isinstance(data, dict):
            return data
        self.add(base, f"{what} must be a map")
        return None

    def text(self, data: dict, key: str, base: str, *, limit: int) -> str:
        value = data.get(key)
        if value is None:
            return ""
        problem = v.text_error(value, limit=limit, what=key)
        if problem:
            self.add(f"{base}/{key}", problem)
            return ""
        return value


def manifest_validate(documents: list) -> ManifestResult:
    """Raw documents -> service specs, or every error found with its pointer."""
    checker = _Checker()
    specs = []
    for index, document in enumerate(documents):
        spec = _service(checker, document, f"/{index}")
        if spec:
            specs.append(spec)
    _check_duplicate_services(checker, documents)
    if not documents:
        checker.add("", "the manifest names no service")
    return ManifestResult(services=specs if not checker.errors else [], errors=checker.errors)


def _check_duplicate_services(checker: _Checker, documents: list) -> None:
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        name = (document.get("metadata") or {}).get("name") if isinstance(document, dict) else None
        if isinstance(name, str) and isinstance(document.get("metadata"), dict):
            if name in seen:
                checker.add(f"/{index}/metadata/name", f"service {name!r} already appears in document {seen[name]}")
            seen.setdefault(name, index)


def _service(checker: _Checker, document: object, base: str) -> ServiceSpec | None:
    document = checker.mapping(document, base, "a service document")
    if document is None:
        return None
    before = len(checker.errors)
    checker.unknown_keys(document, TOP_KEYS, base)
    if document.get("apiVersion") != API_VERSION:
        checker.add(f"{base}/apiVersion", f"apiVersion must be {API_VERSION!r}")
    if document.get("kind") != KIND:
        checker.add(f"{base}/kind", f"kind must be {KIND!r}")
    metadata = checker.mapping(document.get("metadata"), f"{base}/metadata", "metadata") or {}
    spec = checker.mapping(document.get("spec", {}), f"{base}/spec", "spec") or {}
    fields = _metadata(checker, metadata, f"{base}/metadata")
    fields.update(_spec(checker, spec, f"{base}/spec", source=fields.get("name")))
    if len(checker.errors) > before:
        return None
    return ServiceSpec(**fields)


def _metadata(checker: _Checker, metadata: dict, base: str) -> dict:
    checker.unknown_keys(metadata, METADATA_KEYS, base)
    for key, what in (("name", "metadata.name"), ("team", "metadata.team")):
        problem = v.name_error(metadata.get(key), what=what)
        if problem:
            checker.add(f"{base}/{key}", problem)
    labels = metadata.get("labels") or {}
    checker.add_all(f"{base}/labels", v.labels_errors(labels))
    return {
        "name": metadata.get("name"),
        "team": metadata.get("team"),
        "title": checker.text(metadata, "title", base, limit=v.MAX_TITLE),
        "description": checker.text(metadata, "description", base, limit=v.MAX_DESCRIPTION),
        "labels": labels if isinstance(labels, dict) else {},
    }


def _spec(checker: _Checker, spec: dict, base: str, *, source: str | None) -> dict:
    checker.unknown_keys(spec, SPEC_KEYS, base)
    lifecycle = spec.get("lifecycle") or Lifecycle.PRODUCTION
    problem = v.lifecycle_error(lifecycle)
    if problem:
        checker.add(f"{base}/lifecycle", problem)
    repository = spec.get("repository") or ""
    problem = v.repository_error(repository)
    if problem:
        checker.add(f"{base}/repository", problem)
    return {
        "lifecycle": str(lifecycle),
        "language": checker.text(spec, "language", base, limit=v.MAX_LANGUAGE),
        "repository": repository if isinstance(repository, str) else "",
        "interactions": _interactions(checker, spec.get("interactions") or [], f"{base}/interactions", source),
        "probes": _probes(checker, spec.get("probes") or [], f"{base}/probes"),
    }


def _probes(checker: _Checker, probes: object, base: str) -> list:
    """Declared probes in their normalised manifest form (defaults filled in, durations as text)."""
    if isinstance(probes, list) and len(probes) > v.MAX_PROBES:
        checker.add(base, f"at most {v.MAX_PROBES} probes are allowed")
        return []
    if isinstance(probes, list) and any(nodes_over(probe, v.MAX_PROBE_NODES) for probe in probes):
        checker.add(base, f"a probe may hold at most {v.MAX_PROBE_NODES} values")
        return []
    declared, errors = registered.probes.check(probes, base=base)
    checker.add_all("", errors)
    return declared


def _interactions(checker: _Checker, items: object, base: str, source: str | None) -> tuple:
    if not isinstance(items, list):
        checker.add(base, "interactions must be a list")
        return ()
    if len(items) > v.MAX_INTERACTIONS:
        checker.add(base, f"at most {v.MAX_INTERACTIONS} interactions per service; got {len(items)}")
        return ()
    specs, seen = [], set()
    for index, item in enumerate(items):
        spec = _interaction(checker, item, f"{base}/{index}", source)
        if spec and spec.name in seen:
            checker.add(f"{base}/{index}/name", f"interaction {spec.name!r} is listed twice")
        if spec:
            seen.add(spec.name)
            specs.append(spec)
    return tuple(specs)


def _interaction(checker: _Checker, item: object, base: str, source: str | None) -> InteractionSpec | None:
    item = checker.mapping(item, base, "an interaction")
    if item is None:
        return None
    before = len(checker.errors)
    checker.unknown_keys(item, INTERACTION_KEYS, base)
    problem = v.name_error(item.get("name"), what="interaction name")
    if problem:
        checker.add(f"{base}/name", problem)
    targets = item.get("to")
    checker.add_all(f"{base}/to", v.targets_errors(targets, source=source))
    style = _optional_string(checker, item, "style", base)
    if style and v.style_error(style):
        checker.add(f"{base}/style", v.style_error(style))
        style = ""
    channel = _optional_string(checker, item, "channel", base)
    broker = _optional_string(checker, item, "broker", base)
    checker.add_all(base, v.channel_errors(style=style, channel=channel, broker=broker))
    criteria = item.get("criteria") or {}
    checker.add_all(f"{base}/criteria", v.criteria_errors(criteria))
    description = checker.text(item, "description", base, limit=v.MAX_DESCRIPTION)
    if len(checker.errors) > before:
        return None
    return InteractionSpec(
        name=item["name"], targets=tuple(targets), description=description, style=style,
        channel=channel, broker=broker, criteria=v.criteria_clean(criteria),
    )


def _optional_string(checker: _Checker, item: dict, key: str, base: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        checker.add(f"{base}/{key}", f"{key} must be a string or null")
        return ""
    return value
