"""A Backstage software catalog (catalog-info.yaml) -> services, teams and interactions. Pure.

One entity a YAML document; every pointer is into the stream of documents ("/2/spec/dependsOn/0").

- Component: a service. metadata.name, title, description; spec.owner (a group) is its team,
  spec.lifecycle; spec.dependsOn (components, resources) -> an undecided interaction to each;
  spec.providesApis / spec.consumesApis -> interactions over those APIs.
- API: spec.type gives the style (openapi, graphql -> rest; grpc -> grpc; asyncapi -> pubsub).
  Each consumer of a request/response API calls its providers: one interaction per consumer,
  named after the API. An event API (asyncapi) flows the other way: each provider publishes to
  all its consumers, as Switchboard records a publish/subscribe interaction. spec.owner of an API
  says who maintains it, not who serves it, and is not used.
- Group: a team that may be created. System: context, ignored. Other kinds: ignored, with a warning.

Entity references are [kind:][namespace/]name; the namespace is dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.inputs import pointer_token, shown

from .catalog import (
    ASYNC_STYLES, LIFECYCLE_PRODUCTION, LIFECYCLES, MAX_DESCRIPTION, MAX_TITLE, STYLE_GRPC, STYLE_PUBSUB,
    STYLE_REST, STYLE_UNDECIDED, Findings, ImportedInteraction, ImportedService, ImportedTeam, ImportResult,
    import_result, mapping_at, name_at, name_from, named_apart, team_default, text_at, yaml_documents,
)

KIND_COMPONENT = "component"
KIND_API = "api"
KIND_GROUP = "group"
KIND_SYSTEM = "system"
KIND_RESOURCE = "resource"

DEPENDS_ON = "dependsOn"
PROVIDES = "providesApis"
CONSUMES = "consumesApis"
# Which kinds each reference list may name; the first is the kind of a bare name.
REFERENCE_KINDS = {
    DEPENDS_ON: (KIND_COMPONENT, KIND_RESOURCE),
    PROVIDES: (KIND_API,),
    CONSUMES: (KIND_API,),
}
API_STYLES = {"openapi": STYLE_REST, "graphql": STYLE_REST, "grpc": STYLE_GRPC, "asyncapi": STYLE_PUBSUB}
IGNORED_NOTES = {KIND_RESOURCE: "; a dependsOn reference to one targets a placeholder"}
REFERENCE_FORM = "[kind:][namespace/]name"
ENVELOPE = ("apiVersion", "kind", "metadata", "spec", "relations", "status")  # what Backstage defines


@dataclass(frozen=True)
class _Ref:
    kind: str
    name: str
    pointer: str


@dataclass(frozen=True)
class _Component:
    service: ImportedService
    references: dict[str, list[_Ref]]


@dataclass(frozen=True)
class _Api:
    name: str
    style: str


@dataclass
class _Catalog:
    findings: Findings
    default_team: str | None
    components: dict[str, _Component] = field(default_factory=dict)
    apis: dict[str, _Api] = field(default_factory=dict)
    teams: dict[str, ImportedTeam] = field(default_factory=dict)
    claimed: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> first entity


def backstage_parse(text: str, *, default_team: str | None) -> ImportResult:
    """A catalog-info.yaml stream -> services, teams and interactions, or every error found."""
    findings = Findings()
    catalog = _Catalog(findings, team_default(default_team, findings))
    documents = yaml_documents(text, findings)
    for index, document in enumerate(documents or ()):
        _read_entity(catalog, document, f"/{index}")
    if documents is not None and all(document is None for document in documents):
        findings.error("", "the catalog holds no entity")
    elif documents is not None and not catalog.components and not findings.errors:
        findings.error("", "the catalog describes no Component, so there is nothing to import")
    interactions = named_apart(_interactions(catalog), findings)
    services = [component.service for component in catalog.components.values()]
    return import_result(findings, services=services, interactions=interactions, teams=catalog.teams.values())


# --- Entities ------------------------------------------------------------------------------------


def _read_entity(catalog: _Catalog, document: object, base: str) -> None:
    """Read one document by its kind."""
    if document is None:
        return
    if not isinstance(document, dict):
        catalog.findings.error(base, f"an entity must be a map, not {shown(document)}")
        return
    kind = document.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        catalog.findings.error(f"{base}/kind", f"kind is required and must be text, not {shown(kind)}")
        return
    for key in document:
        if key not in ENVELOPE:
            catalog.findings.warning(f"{base}/{pointer_token(key)}", f"{shown(key)} is not a part of a Backstage "
                                     f"entity ({', '.join(ENVELOPE)}); it is not read")
    _READERS.get(kind.strip().lower(), _ignore)(catalog, document, base)


def _ignore(catalog: _Catalog, document: dict, base: str) -> None:
    """A kind Switchboard has no use for."""
    kind = document["kind"].strip()
    note = IGNORED_NOTES.get(kind.lower(), "")
    catalog.findings.warning(f"{base}/kind", f"{kind} entities are not imported{note}")


def _context(catalog: _Catalog, document: dict, base: str) -> None:
    """A System: context for people, nothing to import."""


def _entity(catalog: _Catalog, document: dict, base: str) -> tuple[str | None, dict, dict]:
    """An entity's name, metadata and spec ({} for a broken part, with an error)."""
    metadata = mapping_at(document, "metadata", base, catalog.findings) or {}
    spec = mapping_at(document, "spec", base, catalog.findings) or {}
    name = name_at(metadata.get("name"), f"{base}/metadata/name", catalog.findings, what="name")
    return name, metadata, spec


def _read_component(catalog: _Catalog, document: dict, base: str) -> None:
    """A Component: a service, and the references its interactions come from."""
    before = len(catalog.findings.errors)
    name, metadata, spec = _entity(catalog, document, base)
    fields = _service_fields(catalog, metadata, spec, base)
    references = {key: _refs(catalog, spec, key, base) for key in REFERENCE_KINDS}
    _claim(catalog, KIND_COMPONENT, name, base)
    if len(catalog.findings.errors) == before:
        catalog.components[name] = _Component(ImportedService(name=name, source_ref=base, **fields), references)


def _service_fields(catalog: _Catalog, metadata: dict, spec: dict, base: str) -> dict:
    """team, lifecycle, title and description of a component."""
    return {
        "team": _team(catalog, spec, base),
        "lifecycle": _lifecycle(catalog, spec, base),
        "title": text_at(metadata, "title", f"{base}/metadata", catalog.findings, limit=MAX_TITLE),
        "description": text_at(metadata, "description", f"{base}/metadata", catalog.findings, limit=MAX_DESCRIPTION),
    }


def _claim(catalog: _Catalog, kind: str, name: str | None, base: str) -> None:
    """Record the first entity of a kind and name; an error for any later one, broken or not."""
    earlier = catalog.claimed.setdefault((kind, name), base) if name else base
    if earlier != base:
        catalog.findings.error(f"{base}/metadata/name", f"{name!r} is already defined by the entity at {earlier}")


def _team(catalog: _Catalog, spec: dict, base: str) -> str | None:
    """The owner group's name, or the default team when there is no group owner."""
    pointer = f"{base}/spec/owner"
    owner = spec.get("owner")
    if owner is None:
        return _default_team(catalog, pointer, "has no owner")
    ref = _ref(catalog, owner, pointer, kinds=(KIND_GROUP,), strict=False)
    if ref is None or ref.kind == KIND_GROUP:
        return ref.name if ref else None
    catalog.findings.warning(pointer, f"owner {shown(owner)} is not a group; the default team is used")
    return _default_team(catalog, pointer, "is owned by no group")


def _default_team(catalog: _Catalog, pointer: str, why: str) -> str | None:
    """The default team, or an error at pointer when there is none."""
    if catalog.default_team is None:
        catalog.findings.error(pointer, f"the component {why} and no default team was given")
    return catalog.default_team


def _lifecycle(catalog: _Catalog, spec: dict, base: str) -> str:
    """spec.lifecycle when Switchboard knows it; production otherwise (with a warning)."""
    value = spec.get("lifecycle")
    if value is not None and not isinstance(value, str):
        catalog.findings.error(f"{base}/spec/lifecycle", f"lifecycle must be text, not {shown(value)}")
        return LIFECYCLE_PRODUCTION
    lifecycle = value.strip().lower() if isinstance(value, str) else value
    if lifecycle is None or lifecycle in LIFECYCLES:
        return lifecycle or LIFECYCLE_PRODUCTION
    catalog.findings.warning(f"{base}/spec/lifecycle", f"lifecycle {shown(value)} is not one of "
                                                       f"{', '.join(LIFECYCLES)}; taken as {LIFECYCLE_PRODUCTION}")
    return LIFECYCLE_PRODUCTION


def _refs(catalog: _Catalog, spec: dict, key: str, base: str) -> list[_Ref]:
    """The references of one list, each name once; kinds the list may not name are dropped (a warning)."""
    pointer, value = f"{base}/spec/{key}", spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        catalog.findings.error(pointer, f"{key} must be a list of entity references, not {shown(value)}")
        return []
    refs = [_ref(catalog, item, f"{pointer}/{i}", kinds=REFERENCE_KINDS[key]) for i, item in enumerate(value)]
    unique = {ref.name: ref for ref in reversed(refs) if ref}
    return [ref for ref in refs if ref and unique[ref.name] is ref]


def _ref(catalog: _Catalog, value: object, pointer: str, *, kinds: tuple[str, ...], strict: bool = True) -> _Ref | None:
    """[kind:][namespace/]name -> kind and Switchboard name (kinds[0] for a bare name), or None."""
    if not isinstance(value, str):
        catalog.findings.error(pointer, f"an entity reference must be text like {REFERENCE_FORM}, not {shown(value)}")
        return None
    kind, colon, rest = value.strip().partition(":")
    kind, rest = (kind.lower() or kinds[0], rest) if colon else (kinds[0], kind)
    name = name_from(rest.rpartition("/")[2])
    if name is None:
        catalog.findings.error(pointer, f"entity reference {shown(value)} names nothing that can be a Switchboard name")
    elif strict and kind not in kinds:
        catalog.findings.warning(pointer, f"{shown(value)} is of kind {kind}; only {' and '.join(kinds)} count here")
        return None
    return _Ref(kind, name, pointer) if name else None


def _read_api(catalog: _Catalog, document: dict, base: str) -> None:
    """An API: its name and the style its type implies."""
    before = len(catalog.findings.errors)
    name, _, spec = _entity(catalog, document, base)
    style = _api_style(catalog, spec, base)
    _claim(catalog, KIND_API, name, base)
    if len(catalog.findings.errors) == before:
        catalog.apis[name] = _Api(name, style)


def _api_style(catalog: _Catalog, spec: dict, base: str) -> str:
    """The style spec.type implies; undecided (with a warning) for any other type."""
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        catalog.findings.error(f"{base}/spec/type", f"type must be text, not {shown(kind)}")
        return STYLE_UNDECIDED
    style = API_STYLES.get(kind.strip().lower()) if isinstance(kind, str) else None
    if style is None:
        catalog.findings.warning(f"{base}/spec/type", f"API type {shown(kind)} implies no style (only "
                                                      f"{', '.join(API_STYLES)} do); the style is left undecided")
    return style or STYLE_UNDECIDED


def _read_group(catalog: _Catalog, document: dict, base: str) -> None:
    """A Group: a team that may be created. Context only, so a broken one is a warning."""
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    raw = metadata.get("name")
    name = name_from(raw)
    if name is None:
        catalog.findings.warning(f"{base}/metadata/name", f"group {shown(raw)} cannot be a team name; ignored")
        return
    catalog.teams.setdefault(name, ImportedTeam(name=name, title=_group_title(document, metadata), source_ref=base))


def _group_title(document: dict, metadata: dict) -> str:
    """spec.profile.displayName, else metadata.title, else ''."""
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    title = next((t for t in (profile.get("displayName"), metadata.get("title")) if isinstance(t, str)), "")
    return title[:MAX_TITLE]


_READERS: dict[str, Callable[[_Catalog, dict, str], None]] = {
    KIND_COMPONENT: _read_component, KIND_API: _read_api, KIND_GROUP: _read_group, KIND_SYSTEM: _context,
}


# --- Interactions --------------------------------------------------------------------------------


def _interactions(catalog: _Catalog) -> list[ImportedInteraction]:
    """Calls over APIs and dependsOn edges of every component, then the event flows of every event API."""
    found: list[ImportedInteraction] = []
    for component in catalog.components.values():
        calls = [call for ref in component.references[CONSUMES] if (call := _call(catalog, component, ref))]
        called = {target for call in calls for target in call.targets}
        dependencies = (_dependency(catalog, component, ref, called) for ref in component.references[DEPENDS_ON])
        found += calls + [dependency for dependency in dependencies if dependency]
    for api in catalog.apis.values():
        found += _event_flows(catalog, api) if api.style in ASYNC_STYLES else []
    return found


def _call(catalog: _Catalog, component: _Component, ref: _Ref) -> ImportedInteraction | None:
    """A consumer calling the providers of a request/response API (None for an event API)."""
    api = catalog.apis.get(ref.name)
    style = api.style if api else _unknown_api(catalog, ref)
    if style in ASYNC_STYLES:
        return None
    source = component.service.name
    targets = _providers(catalog, ref.name, besides=source) or _placeholder(catalog, component, ref)
    return ImportedInteraction(source=source, name=ref.name, targets=targets, style=style,
                               source_ref=ref.pointer) if targets else None


def _unknown_api(catalog: _Catalog, ref: _Ref) -> str:
    """The style of an API the catalog does not define: undecided, with a warning."""
    catalog.findings.warning(ref.pointer, f"API {ref.name!r} is not in the catalog; the style is left undecided")
    return STYLE_UNDECIDED


def _providers(catalog: _Catalog, api: str, *, besides: str) -> tuple[str, ...]:
    """The components providing an API, by name, but one."""
    return tuple(sorted(name for name, component in catalog.components.items()
                        if name != besides and _names(component, PROVIDES, api)))


def _names(component: _Component, key: str, name: str) -> bool:
    """Whether one of a component's reference lists names this entity."""
    return any(ref.name == name for ref in component.references[key])


def _placeholder(catalog: _Catalog, component: _Component, ref: _Ref) -> tuple[str, ...]:
    """Nobody else provides the API: a placeholder named after it (a warning), or nothing at all."""
    source = component.service.name
    if ref.name == source or _names(component, PROVIDES, ref.name):
        catalog.findings.warning(ref.pointer, f"{source} consumes API {ref.name!r} that only it provides; skipped")
        return ()
    catalog.findings.warning(ref.pointer, f"no component provides API {ref.name!r}; "
                                          f"the interaction targets a placeholder {ref.name!r}")
    return (ref.name,)


def _dependency(catalog: _Catalog, component: _Component, ref: _Ref, called: set[str]) -> ImportedInteraction | None:
    """An undecided interaction for a dependsOn reference; none when an API call covers the target."""
    source = component.service.name
    if ref.name == source:
        catalog.findings.error(ref.pointer, f"{source} depends on itself: a service cannot call itself")
        return None
    if ref.name in called:
        return None
    return ImportedInteraction(source=source, name=ref.name, targets=(ref.name,), source_ref=ref.pointer)


def _event_flows(catalog: _Catalog, api: _Api) -> list[ImportedInteraction]:
    """An event API: each provider publishes to every consumer."""
    providers = _referring(catalog, PROVIDES, api.name)
    consumers = _referring(catalog, CONSUMES, api.name)
    if not providers:
        for _, ref in consumers:
            catalog.findings.warning(ref.pointer, f"no component provides event API {api.name!r}; nothing imported")
    flows = (_event_flow(catalog, api, provider, ref, [name for name, _ in consumers]) for provider, ref in providers)
    return [flow for flow in flows if flow]


def _referring(catalog: _Catalog, key: str, api: str) -> list[tuple[str, _Ref]]:
    """(component, reference) for each component whose list `key` names the API."""
    return [(name, ref) for name, component in catalog.components.items()
            for ref in component.references[key] if ref.name == api]


def _event_flow(catalog: _Catalog, api: _Api, provider: str, ref: _Ref,
                consumers: list[str]) -> ImportedInteraction | None:
    """One provider publishing an event API to its consumers; the channel is not in the catalog."""
    targets = tuple(sorted(set(consumers) - {provider}))
    if not targets:
        catalog.findings.warning(ref.pointer, f"no consumer of event API {api.name!r} in the catalog; skipped")
        return None
    catalog.findings.warning(ref.pointer, f"the catalog does not say which topic event API {api.name!r} uses; "
                                          "set the channel, or import its AsyncAPI document")
    return ImportedInteraction(source=provider, name=api.name, targets=targets, style=api.style, source_ref=ref.pointer)
