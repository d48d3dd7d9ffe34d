"""Reads for drift: the newest dependency snapshot, and the declared links it is compared with."""
from collections import defaultdict

from django.db.models import Count, QuerySet

from topology.models import InteractionTarget

from .drift import Drift, Pair, drift_compare
from .models import DependencySnapshot, ImportSource, ObservedLink


def snapshot_current() -> DependencySnapshot | None:
    return DependencySnapshot.objects.order_by("-created_at", "-id").first()


def snapshot_list() -> QuerySet[DependencySnapshot]:
    return DependencySnapshot.objects.order_by("-created_at", "-id")


def declared_pairs() -> dict[Pair, tuple[str, ...]]:
    """(source, target) -> the keys (source/name) of the interactions that declare it: one query."""
    found: dict[Pair, list[str]] = defaultdict(list)
    rows = InteractionTarget.objects.order_by("interaction__source__name", "interaction__name").values_list(
        "interaction__source__name", "service__name", "interaction__name")
    for source, target, name in rows:
        found[source, target].append(f"{source}/{name}")
    return {pair: tuple(keys) for pair, keys in found.items()}


def observed_pairs(*, snapshot: DependencySnapshot) -> dict[Pair, tuple[int, int]]:
    rows = ObservedLink.objects.filter(snapshot=snapshot).values_list("parent", "child", "calls", "errors")
    return {(parent, child): (calls, errors) for parent, child, calls, errors in rows}


def drift_current(*, snapshot: DependencySnapshot | None = None) -> Drift | None:
    """Drift of the registry against a snapshot (the newest by default); None before any import."""
    snapshot = snapshot or snapshot_current()
    if snapshot is None:
        return None
    return drift_compare(declared=declared_pairs(), observed=observed_pairs(snapshot=snapshot))


def import_sources() -> QuerySet[ImportSource]:
    """Import sources with how many services and interactions each owns."""
    return ImportSource.objects.annotate(owned_count=Count("owned")).order_by("-updated_at")


def sources_of_service(*, service: str) -> list[ImportSource]:
    """The sources that registered a service or declared one of its interactions."""
    return list(ImportSource.objects.filter(owned__service=service).distinct().order_by("kind", "name"))
