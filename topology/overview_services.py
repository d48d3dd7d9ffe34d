"""What a registry write records for the topology: the registry revision, and the stored team-level
summary (models.TopologySummary; selectors.topology_summary reads it).

The overview of a large system needs services per team and the strongest team links. Aggregating
every link for them costs far more than drawing the result, and probe health moves the drawing every
minute while the registry stays put; so the aggregate is kept per registry stamp, rewritten after each
registry write commits, and computed on the spot (then kept) when a reader finds it stale.

registry_changed() raises the revision as the last write of its transaction, so concurrent registry
writes queue on that one row only once they have done the rest.
"""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import graph
from .models import RegistryRevision, TopologySummary
from .rendering import overview_trimmed
from .signals import registry_written
from .graph_selectors import topology_overview, topology_stamps, topology_summary

SUMMARY_FIELDS = ["stamp", "teams", "links", "groups", "computed_at"]


def topology_summary_refresh(*, only_if_stale: bool = False) -> graph.Overview:
    """The registry at team level, aggregated now and stored for its registry stamp, unless a write
    landed while it was aggregated (then the next reader or write does it again)."""
    before = topology_stamps().registry
    if only_if_stale and (found := topology_summary(registry=before)) is not None:
        return found
    overview = overview_trimmed(topology_overview())
    if topology_stamps().registry == before:
        _summary_store(overview, stamp=before)
    return overview


def registry_changed() -> None:
    """Called by every registry write inside its transaction: raises the registry revision (so the
    topology stamp moves, deletions included) and, once the transaction commits, brings the summary
    up to date (a failure is logged, and the next reader aggregates instead)."""
    if not RegistryRevision.objects.filter(key=1).update(number=F("number") + 1):
        RegistryRevision.objects.get_or_create(key=1, defaults={"number": 1})  # the row was flushed away
    registry_written.send(sender=RegistryRevision)
    transaction.on_commit(lambda: topology_summary_refresh(only_if_stale=True), robust=True)


def _summary_store(overview: graph.Overview, *, stamp: str) -> None:
    """One upsert: concurrent refreshes of one stamp write the same row."""
    row = TopologySummary(
        key=1, stamp=stamp, teams=[[slug, size] for slug, size in overview.teams.items()],
        links=[[*key, *found] for key, found in overview.links.items()], groups=overview.link_groups,
        computed_at=timezone.now())
    TopologySummary.objects.bulk_create([row], update_conflicts=True, unique_fields=["key"],
                                        update_fields=SUMMARY_FIELDS)
