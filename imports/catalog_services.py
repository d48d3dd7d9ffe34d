"""Catalog imports into the registry: what Backstage or AsyncAPI documents describe becomes service
specs, applied by registration_apply in one transaction (or rolled back on a dry run).

Each import source (kind and name) owns what it created: the services it registered and the
interactions it declared. A newer version of the source replaces exactly those (interactions it no
longer declares go); what a manifest or the browser created is never changed, and an imported
interaction may not take the name of one of those. The same content again changes nothing.
"""
import hashlib
from dataclasses import dataclass, field, replace

from django.db import transaction

from core.actors import Actor
from core.errors import Invalid
from topology import validation as v
from topology.manifest import InteractionSpec, ServiceSpec
from topology.models import Service, Team
from topology.registration import registration_apply
from topology.selectors import interaction_spec_of, service_detail_queryset, service_spec_of

from .asyncapi import asyncapi_parse
from .backstage import backstage_parse
from .catalog import ImportedInteraction, ImportedService, ImportResult
from .models import ImportedObject, ImportSource

ASYNC = {"pubsub", "queue"}


@dataclass
class Owned:
    services: set[str] = field(default_factory=set)
    interactions: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Planned:
    specs: list[ServiceSpec]
    created: set[str]  # services this import registers (new, or placeholders it describes)
    warnings: list[dict]


def catalog_parse(*, kind: str, documents: list[tuple[str, str]], team: str | None) -> ImportResult:
    """The documents of one source read by the parser of its kind: one catalog stream, or AsyncAPI
    documents of one application each."""
    if kind == "backstage":
        return backstage_parse(documents_joined(documents), default_team=team)
    return asyncapi_parse(documents, default_team=team)


def source_name(given: str | None, file_name: str) -> str:
    """The name an import source is known by: ?source= (or the form's field), else the file's name;
    at most 200 characters. A given name holding a control or invisible character is refused (422 at
    "source"); a file's name is cleaned of them."""
    if given:
        if not given.isprintable():
            raise Invalid([{"pointer": "source", "message": f"the source name {given[:60]!r} holds a control or "
                            "invisible character; use plain text"}])
        return given.strip()[:200] or "body"
    return "".join(char for char in file_name if char.isprintable())[:200] or "body"


def documents_joined(documents: list[tuple[str, str]]) -> str:
    return "\n---\n".join(text for _, text in documents)


def catalog_import(*, actor: Actor, kind: str, name: str, content: str, result: ImportResult,
                   dry_run: bool = False) -> dict:
    """Apply one source's documents; returns what changed (registration's report) or that nothing did."""
    if result.errors:
        raise Invalid(list(result.errors))
    digest = hashlib.sha256(content.encode()).hexdigest()
    source = ImportSource.objects.filter(kind=kind, name=name).first()
    if source is not None and source.digest == digest:
        return _report(source=source, registration=None, warnings=list(result.warnings), dry_run=dry_run)
    owned = _owned(source)
    planned = _planned(result, owned)
    with transaction.atomic():
        registration = registration_apply(specs=planned.specs, actor=actor, dry_run=dry_run)
        if not dry_run:
            source = _recorded(kind=kind, name=name, digest=digest, actor=actor, result=result,
                               services=owned.services | planned.created)
    return _report(source=source, registration=registration, warnings=list(result.warnings) + planned.warnings,
                   dry_run=dry_run)


def _owned(source: ImportSource | None) -> Owned:
    owned = Owned()
    for service, interaction in (source.owned.values_list("service", "interaction") if source else ()):
        if interaction:
            owned.interactions.add((service, interaction))
        else:
            owned.services.add(service)
    return owned


# --- planning ------------------------------------------------------------------------------------


def _planned(result: ImportResult, owned: Owned) -> Planned:
    described = {service.name: service for service in result.services}
    declared: dict[str, list[ImportedInteraction]] = {}
    for item in result.interactions:
        declared.setdefault(item.source, []).append(item)
    names = set(described) | set(declared) | {service for service, _ in owned.interactions}
    existing = {s.name: s for s in service_detail_queryset().filter(name__in=names)}  # interactions prefetched
    _teams_check(described.values(), existing, owned)
    errors, warnings, specs, created = [], [], [], set()
    for name in sorted(names):
        service = existing.get(name)
        takes = service is None or service.is_placeholder or name in owned.services
        base = _base(name, described.get(name), service, takes, errors)
        if base is None:
            continue
        kept = _kept(service, owned) if service is not None and not service.is_placeholder else []
        new = [_interaction(item, errors, warnings) for item in declared.get(name, ())]
        _collisions(kept, declared.get(name, ()), errors)
        specs.append(replace(base, interactions=tuple(kept + [item for item in new if item])))
        created |= {name} if takes and name in described else set()
    if errors:
        raise Invalid(errors)
    return Planned(specs=specs, created=created, warnings=warnings)


def _teams_check(services, existing: dict[str, Service], owned: Owned) -> None:
    """Every team a new or owned service names must exist (teams are created by administrators)."""
    known = set(Team.objects.values_list("slug", flat=True))
    errors = [{"pointer": f"{service.source_ref}", "message": f"team {service.team!r} of {service.name} does not "
               "exist: create it first (manage.py create_team), or import with ?team="}
              for service in services if service.team not in known and _takes(service.name, existing, owned)]
    if errors:
        raise Invalid(errors)


def _takes(name: str, existing: dict[str, Service], owned: Owned) -> bool:
    service = existing.get(name)
    return service is None or service.is_placeholder or name in owned.services


def _base(name: str, described: ImportedService | None, service: Service | None, takes: bool,
          errors: list) -> ServiceSpec | None:
    """The service as the import leaves it: its fields from the documents when the import owns it (or
    registers it now), else as registered."""
    if takes and described is not None:
        return ServiceSpec(name=name, team=described.team, title=described.title,
                           description=described.description, lifecycle=described.lifecycle,
                           probes=service.probes if service is not None else [])
    if service is not None and not service.is_placeholder:
        return service_spec_of(service=service, interactions=[])
    errors.append({"pointer": "", "message": f"{name} declares interactions but no document describes it"})
    return None


def _kept(service: Service, owned: Owned) -> list[InteractionSpec]:
    """The service's interactions this source does not own: a manifest's or the browser's, left as they are."""
    return [interaction_spec_of(item) for item in service.interactions.all()
            if (service.name, item.name) not in owned.interactions]


def _collisions(kept: list[InteractionSpec], declared, errors: list) -> None:
    taken = {item.name for item in kept}
    errors += [{"pointer": item.source_ref, "message": f"{item.source} already has an interaction {item.name!r} "
                "that a manifest or the browser declared; the import leaves it alone, so rename one of them"}
               for item in declared if item.name in taken]


def _interaction(item: ImportedInteraction, errors: list, warnings: list) -> InteractionSpec | None:
    """The spec of an imported interaction, checked by the registry's own rules; an asynchronous one
    the documents give no channel (a Backstage event API) takes the API's name as its channel."""
    channel = item.channel
    if item.style in ASYNC and not channel:
        channel = item.name
        warnings.append({"pointer": item.source_ref, "message": f"{item.source}/{item.name} has no topic in the "
                         f"catalog: its channel is {channel!r} until its AsyncAPI document is imported"})
    found = _problems(item, channel)
    errors += [{"pointer": item.source_ref + pointer, "message": message} for pointer, message in found]
    if found:
        return None
    return InteractionSpec(name=item.name, targets=item.targets, style=item.style, channel=channel,
                           broker=item.broker, criteria=v.criteria_clean(item.criteria))


def _problems(item: ImportedInteraction, channel: str) -> list[tuple[str, str]]:
    problems = [("", problem) for problem in (v.name_error(item.name), v.style_error(item.style) if item.style
                                              else None) if problem]
    problems += [("/to" + pointer, message) for pointer, message in v.targets_errors(list(item.targets),
                                                                                     source=item.source)]
    problems += v.channel_errors(style=item.style, channel=channel, broker=item.broker)
    return problems + [("/criteria" + pointer, message) for pointer, message in v.criteria_errors(item.criteria)]


# --- recording -----------------------------------------------------------------------------------


def _recorded(*, kind: str, name: str, digest: str, actor: Actor, result: ImportResult,
              services: set[str]) -> ImportSource:
    source, _ = ImportSource.objects.update_or_create(kind=kind, name=name, defaults={
        "digest": digest, "imported_by": actor.label, "imported_via": actor.via})
    source.owned.all().delete()
    rows = [ImportedObject(source=source, service=service, interaction="") for service in sorted(services)]
    rows += [ImportedObject(source=source, service=item.source, interaction=item.name) for item in result.interactions]
    ImportedObject.objects.bulk_create(rows)
    return source


def _report(*, source: ImportSource | None, registration: dict | None, warnings: list[dict], dry_run: bool) -> dict:
    return {"dry_run": dry_run, "unchanged": registration is None, "warnings": warnings,
            "source": source_dict(source) if source else None, "registration": registration}


def source_dict(source: ImportSource) -> dict:
    return {"kind": source.kind, "name": source.name, "imported_by": source.imported_by,
            "updated_at": source.updated_at, "objects": source.owned.count()}
