"""Import writes: a dependency export becomes the newest snapshot of observed calls (all or nothing;
the same export again changes nothing)."""
import hashlib
import json

from django.db import transaction

from core.actors import Actor
from core.errors import Forbidden
from topology.signals import registry_written

from .dependencies import DependencySet
from .drift import Drift, drift_compare
from .models import DependencySnapshot, ObservedLink
from .selectors import declared_pairs, snapshot_current

SHOWN = 50  # rows of each kind a report lists; GET /api/v1/drift/ has them all


def importer_require(actor: Actor) -> None:
    """Observations are about the whole system: administrators and team maintainers (and team tokens)
    may import them, viewers may not."""
    if not (actor.is_staff or actor.writable_team_ids):
        raise Forbidden(f"{actor.label} maintains no team, so it may not import observed dependencies")


def dependencies_import(*, actor: Actor, found: DependencySet, dry_run: bool = False) -> dict:
    """Store the export as the newest snapshot, unless it is the newest already; returns the report
    with the drift it shows. A dry run writes nothing."""
    importer_require(actor)
    digest, current = dependency_digest(found), snapshot_current()
    if current is not None and current.digest == digest:
        return dependencies_report(snapshot=current, drift=None, created=False, dry_run=dry_run)
    drift = drift_compare(declared=declared_pairs(), observed=_observed(found))
    if dry_run:
        return dependencies_report(snapshot=None, drift=drift, created=False, dry_run=True)
    return dependencies_report(snapshot=_stored(found, digest=digest, actor=actor), drift=drift, created=True,
                               dry_run=False)


def dependency_digest(found: DependencySet) -> str:
    edges = sorted((edge.parent, edge.child, edge.calls, edge.errors) for edge in found.edges)
    window = [moment.isoformat() if moment else None for moment in (found.window_start, found.window_end)]
    return hashlib.sha256(json.dumps([found.format, window, edges]).encode()).hexdigest()


def _observed(found: DependencySet) -> dict:
    return {(edge.parent, edge.child): (edge.calls, edge.errors) for edge in found.edges}


@transaction.atomic
def _stored(found: DependencySet, *, digest: str, actor: Actor) -> DependencySnapshot:
    snapshot = DependencySnapshot.objects.create(
        format=found.format, window_start=found.window_start, window_end=found.window_end, digest=digest,
        links=len(found.edges), imported_by=actor.label, imported_via=actor.via, user_id=actor.user_id)
    ObservedLink.objects.bulk_create([ObservedLink(snapshot=snapshot, parent=edge.parent, child=edge.child,
                                                   calls=edge.calls, errors=edge.errors) for edge in found.edges],
                                     batch_size=2000)
    registry_written.send(sender=DependencySnapshot)  # new drift is a new finding
    return snapshot


def dependencies_report(*, snapshot: DependencySnapshot | None, drift: Drift | None, created: bool,
                        dry_run: bool) -> dict:
    """What an import did (or would do): the snapshot, and the drift it shows (None: unchanged)."""
    report = {"dry_run": dry_run, "created": created, "unchanged": drift is None,
              "snapshot": snapshot_dict(snapshot) if snapshot else None}
    if drift is not None:
        report["drift"] = {"counts": drift.counts, **{status: [row.as_dict() for row in drift.of(status)[:SHOWN]]
                                                     for status in drift.counts}}
    return report


def snapshot_dict(snapshot: DependencySnapshot) -> dict:
    return {"id": snapshot.pk, "format": snapshot.format, "window_start": snapshot.window_start,
            "window_end": snapshot.window_end, "links": snapshot.links, "imported_by": snapshot.imported_by,
            "imported_via": snapshot.imported_via, "created_at": snapshot.created_at}
