"""Plugs drift into the topology (topology.extensions): its links become findings, and a new dependency
snapshot moves the topology stamp, so findings and drawings are recomputed."""
from topology.extensions import registered
from topology.graph import Finding

from .drift import UNDECLARED, UNOBSERVED
from .models import DependencySnapshot
from .selectors import drift_current, sources_of_service

FINDINGS_MAX = 50  # of each kind: the drift page and API list them all


def drift_findings(topology) -> list[Finding]:
    """Undeclared links (warnings, most calls first) and unobserved ones (notes) as topology findings."""
    drift = drift_current()
    if drift is None:
        return []
    return [_undeclared(row) for row in drift.of(UNDECLARED)[:FINDINGS_MAX]] + \
        [_unobserved(row) for row in drift.of(UNOBSERVED)[:FINDINGS_MAX]]


def _undeclared(row) -> Finding:
    text = (f"Tracing saw {row.source} call {row.target} {row.calls:,} time{'s' * (row.calls != 1)}, "
            "but no interaction declares it: register it, or find out why it happens.")
    return Finding("undeclared-link", "warning", (row.source, row.target), "", text, float(row.calls))


def _unobserved(row) -> Finding:
    text = (f"{', '.join(row.interactions)} declares {row.source} → {row.target}, but tracing never saw that "
            "call in the imported window: it may be dead, or rare.")
    return Finding("unobserved-link", "info", (row.source, row.target), "", text)


def undeclared_calls() -> list[tuple[str, str, int]]:
    drift = drift_current()
    return [(row.source, row.target, row.calls) for row in drift.of(UNDECLARED)] if drift else []


def service_page(service) -> dict:
    """The import sources that registered the service or declared its interactions."""
    return {"imported_from": sources_of_service(service=service.name)}


def register() -> None:
    registered.undeclared = undeclared_calls
    if service_page not in registered.service_page:
        registered.service_page.append(service_page)
    if (DependencySnapshot, "created_at") not in registered.stamp_live:
        registered.stamp_live.append((DependencySnapshot, "created_at"))
    if drift_findings not in registered.findings:
        registered.findings.append(drift_findings)
