"""Writing events into the outbox, in the transaction of the change that causes them, with one
pending delivery per channel that wants each; delivery is queued once that transaction commits.

Three sources, each reached by a signal of a lower app (receivers.py):
- a probe's confirmed state changed (probes.signals.probe_states_confirmed): probe.down/up/degraded,
  stored but sent to no one while the probe is muted or its service is in a maintenance window;
- the registry changed (topology.signals.registry_written): the findings are computed in the same
  transaction and compared with those already known; a new one is finding.new;
- a decision was written (decisions.signals.decision_changed): decision.changed.
"""
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import logging

from celery import current_app
from kombu.exceptions import OperationalError as BrokerUnavailable
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.severity import severity_at_least
from probes.models import Probe
from probes.signals import StateChange
from topology import graph
from topology.graph_selectors import findings_of, topology_load
from topology.models import Interaction, Service, Team
from topology.selectors import settled_links

from . import payloads
from .choices import PROBE_EVENTS, EventType, Suppression
from .models import Channel, Delivery, Event, FindingBaseline, KnownFinding, MaintenanceWindow, ProbeMute

SEND_TASK = "notifications.tasks.delivery_send"
logger = logging.getLogger(__name__)


def page_url(path: str) -> str:
    return settings.SWITCHBOARD_URL.rstrip("/") + path


# --- the outbox ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """An event about to be written."""

    type: str
    summary: str
    url: str
    details: dict
    teams: list[str]
    service: str = ""
    suppressed: str = ""
    finding: graph.Finding | None = None
    at: datetime | None = None


def event_write(**fields) -> Event:
    """Store one event (the fields of a Draft) and its deliveries."""
    return events_write(drafts=[Draft(**fields)])[0]


def events_write(*, drafts: list[Draft]) -> list[Event]:
    """Store events and a pending delivery for each channel that wants each (none when suppressed),
    in a few statements however many there are (a mass outage confirms a thousand changes at once);
    their sends are queued once the transaction commits."""
    teams = dict(Team.objects.filter(slug__in={slug for d in drafts for slug in d.teams}).values_list("slug", "pk"))
    events = [_event_row(draft, teams) for draft in drafts]
    Event.objects.bulk_create(events)
    Event.concerned.through.objects.bulk_create([
        Event.concerned.through(event_id=event.pk, team_id=teams[slug])
        for event, draft in zip(events, drafts) for slug in dict.fromkeys(draft.teams) if slug in teams])
    channels = list(Channel.objects.filter(enabled=True).select_related("team"))
    rows = Delivery.objects.bulk_create([
        Delivery(event=event, channel=channel, next_attempt_at=event.occurred_at)
        for event, draft in zip(events, drafts) if not draft.suppressed
        for channel in channels if channel_wants(channel, draft)])
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: deliveries_queue(delivery_ids=ids), robust=True)
    return events


def _event_row(draft: Draft, teams: dict[str, int]) -> Event:
    at = draft.at or timezone.now()
    first = draft.teams[0] if draft.teams else None
    event = Event(type=draft.type, occurred_at=at, teams=draft.teams, service=draft.service, summary=draft.summary,
                  suppressed=draft.suppressed, team_id=teams.get(first))
    event.payload = {"id": str(event.id), "type": draft.type, "occurred_at": at.isoformat(), "team": first,
                     "teams": draft.teams, "service": draft.service or None, "summary": draft.summary, "url": draft.url,
                     **draft.details}
    return event


def channel_wants(channel: Channel, draft: Draft) -> bool:
    """Whether an enabled channel gets this event: of one of its teams (or system-wide), subscribed
    to its type, and for a finding, past the channel's severity floor and chain depth."""
    mine = channel.team_id is None or channel.team.slug in draft.teams
    return mine and draft.type in channel.events and (draft.finding is None or finding_wanted(channel, draft.finding))


def finding_wanted(channel: Channel, finding: graph.Finding) -> bool:
    if finding.kind == "sync-chain":
        return (finding.value or 0) > channel.chain_depth
    return severity_at_least(finding.severity, channel.min_severity)


def deliveries_queue(*, delivery_ids: list[int]) -> None:
    """Queue a send of each delivery. A broker that does not answer only delays them: they stay
    pending in the outbox, and the sweep queues them once it answers again."""
    task = current_app.tasks[SEND_TASK]
    try:
        for pk in delivery_ids:
            task.apply_async(args=[pk], queue=settings.NOTIFY_QUEUE, retry=False)
    except BrokerUnavailable as exc:
        logger.warning("the broker did not answer (%s): %d deliveries wait for the sweep", exc, len(delivery_ids))


# --- probes --------------------------------------------------------------------------------------


def probe_events_write(*, changes: list[StateChange]) -> list[Event]:
    """One event per confirmed change (a probe's first state, when it is up, is not news)."""
    news = [change for change in changes if change.previous or change.state != "up"]
    if not news:
        return []
    probes = Probe.objects.select_related("service__team").in_bulk([change.probe_id for change in news])
    held = probes_held(probes=list(probes.values()), at=max(change.at for change in news))
    return events_write(drafts=[_probe_draft(change, probes[change.probe_id], held.get(change.probe_id, ""))
                                for change in news if change.probe_id in probes])


def probes_held(*, probes: list[Probe], at: datetime) -> dict[int, str]:
    """Probe id -> why its events go to no one right now: muted, or its service in maintenance."""
    muted = ProbeMute.objects.filter(Q(until__isnull=True) | Q(until__gt=at), probe__in=probes)
    held = {probe_id: Suppression.MUTED for probe_id in muted.values_list("probe_id", flat=True)}
    open_windows = MaintenanceWindow.objects.filter(starts_at__lte=at, ends_at__gt=at)
    in_maintenance = set(Service.objects.filter(maintenance_windows__in=open_windows).values_list("id", flat=True))
    for probe in probes:
        if probe.service_id in in_maintenance:
            held.setdefault(probe.id, Suppression.MAINTENANCE)
    return held


def _probe_draft(change: StateChange, probe: Probe, suppressed: str) -> Draft:
    service = probe.service
    details = {"probe": {"name": probe.name, "kind": probe.kind, "location": change.location,
                         "previous": change.previous or None, "state": change.state,
                         "checked_at": change.at.isoformat() if change.at else None,
                         "latency_ms": change.latency_ms, "values": change.values, "error": change.error or None}}
    summary = payloads.probe_summary(service=service.name, probe=probe.name, location=change.location,
                                     previous=change.previous, state=change.state, error=change.error)
    return Draft(type=PROBE_EVENTS[change.state], summary=summary, url=page_url(probe.get_absolute_url()),
                 details=details, teams=[service.team.slug] if service.team_id else [], service=service.name,
                 suppressed=suppressed, at=change.at)


# --- findings ------------------------------------------------------------------------------------


def findings_scan() -> list[Event]:
    """Compare the registry's findings with those known: a new one becomes a finding.new event.
    Runs only while some channel wants finding.new; after a pause it records without announcing."""
    if not any(EventType.FINDING_NEW in events for events in Channel.objects.filter(enabled=True)
               .values_list("events", flat=True)):
        FindingBaseline.objects.filter(key=1, current=True).update(current=False)
        return []
    baseline, _ = FindingBaseline.objects.select_for_update().get_or_create(key=1)
    found = {_fingerprint(finding): finding for finding in findings_now()}
    known = set(KnownFinding.objects.values_list("fingerprint", flat=True))
    KnownFinding.objects.filter(fingerprint__in=known - set(found)).delete()
    now = timezone.now()
    KnownFinding.objects.bulk_create([KnownFinding(fingerprint=key, kind=f.kind, severity=f.severity, first_seen=now)
                                      for key, f in found.items() if key not in known], ignore_conflicts=True)
    announce = baseline.current
    FindingBaseline.objects.filter(key=1).update(current=True, scanned_at=now)
    if not announce:
        return []
    new = [finding for key, finding in sorted(found.items()) if key not in known]
    slugs = dict(Service.objects.filter(name__in={n for f in new for n in f.services}, team__isnull=False)
                 .values_list("name", "team__slug"))
    return events_write(drafts=[_finding_draft(finding, slugs, at=now) for finding in new])


def findings_now() -> list[graph.Finding]:
    """Every finding of the registry as it is in this transaction (never from a cache: a cache entry
    written here would outlive a rollback): the graph's, other sources' (drift) and mismatches."""
    return [*findings_of(topology_load()), *_mismatch_findings()]


@dataclass(frozen=True)
class MismatchFinding(graph.Finding):
    """An interaction declared otherwise than the rules recommend, with no accepted override."""

    interaction: str = ""  # <source>/<name>

    def as_dict(self) -> dict:
        return {**super().as_dict(), "interaction": self.interaction}


def _mismatch_findings() -> list[graph.Finding]:
    settled = settled_links()
    rows = (Interaction.objects.exclude(mismatch="")
            .exclude(id__in=settled.values("interaction_id") if settled is not None else [])
            .values_list("source__name", "name", "style", "recommended_pattern", "mismatch"))
    return [MismatchFinding("mismatch", severity, (source,), "§5", f"{source}/{name} is declared {style} but the "
                            f"rules recommend {recommended}.", interaction=f"{source}/{name}")
            for source, name, style, recommended, severity in rows]


def _fingerprint(finding: graph.Finding) -> str:
    """What makes a finding the same one from scan to scan: its kind, services and severity; for a
    mismatch, the interaction (named in its text) too."""
    key = "|".join([finding.kind, finding.severity, *finding.services, getattr(finding, "interaction", "")])
    return hashlib.sha256(key.encode()).hexdigest()


def _finding_draft(finding: graph.Finding, team_of: dict[str, str], *, at: datetime) -> Draft:
    teams = list(dict.fromkeys(team_of[name] for name in finding.services if name in team_of))
    first = finding.services[0] if finding.services else ""
    if isinstance(finding, MismatchFinding):
        url = page_url(reverse("interaction-detail", args=finding.interaction.split("/", 1)))
    else:
        url = page_url(reverse("topology") + (f"?focus={first}" if first else ""))
    return Draft(type=EventType.FINDING_NEW, summary=payloads.finding_summary(finding.as_dict()), url=url,
                 details={"finding": finding.as_dict()}, teams=teams, service=first, finding=finding, at=at)


# --- decisions -----------------------------------------------------------------------------------


def decision_event_write(*, decision, change: str, changes: dict, actor: str) -> Event:
    links = list(decision.interactions.select_related("source__team")) if decision.pk else []
    teams = list(dict.fromkeys(([decision.team.slug] if decision.team_id else [])
                               + [i.source.team.slug for i in links if i.source.team_id]))
    details = {"decision": {"code": decision.code, "number": decision.number, "title": decision.title,
                            "status": decision.status, "change": change, "actor": actor,
                            "changes": {name: values for name, values in changes.items()
                                        if name in DECISION_FIELDS_SHOWN},
                            "interactions": [f"{i.source.name}/{i.name}" for i in links]}}
    url = page_url(reverse("decision-detail", args=[decision.number])) if change != "deleted" else ""
    summary = payloads.decision_summary(code=decision.code, title=decision.title, change=change, status=decision.status)
    return event_write(type=EventType.DECISION_CHANGED, summary=summary, url=url, details=details, teams=teams,
                       service=links[0].source.name if links else "")


DECISION_FIELDS_SHOWN = {"title", "status", "outcome", "chosen_style", "team", "decided_on", "supersedes"}
