"""Plugs probes into the registry (topology.extensions): the probes a manifest declares, health in the
drawing, the live part of the topology stamp, and the Probes card of the service page."""
from topology.extensions import Health, ProbeDeclarations, registered

from . import selectors, services
from .engine.spec import probe_declarations_check, probe_redacted, probe_schema, probe_unredacted
from .models import ProbeStatus, RollupMark


def declarations_check(value: object, *, base: str = "") -> tuple[list, list[tuple[str, str]]]:
    """Declared probes in their normalised manifest form (defaults filled in, durations as text)."""
    declared, errors = probe_declarations_check(value, base=base)
    return [declaration.as_manifest() for declaration in declared], errors


def service_page(service) -> dict:
    return {"probes": selectors.probes_of_service(service=service)}


def register() -> None:
    registered.probes = ProbeDeclarations(check=declarations_check, redacted=probe_redacted,
                                          unredacted=probe_unredacted, synced=services.probes_sync,
                                          schema=probe_schema())
    registered.health = Health(of_services=selectors.service_health_map, uptime=selectors.service_uptime_map,
                               unwell=selectors.services_unwell, latency_p95=selectors.service_latency_map)
    for part in ((ProbeStatus, "since"), (RollupMark, "through")):
        if part not in registered.stamp_live:
            registered.stamp_live.append(part)
    if service_page not in registered.service_page:
        registered.service_page.append(service_page)
