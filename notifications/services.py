"""Writes of channels, maintenance windows and probe mutes: checked, permitted, audited, one
transaction each. (Events and their deliveries are written by events.py and delivery.py.)"""
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import Actor
from core.errors import Forbidden, Invalid
from probes.engine.policy import refusal_reason
from probes.models import Probe
from probes.services import probe_policy
from topology.audit import audit_event, audit_record, field_changes
from topology.choices import AuditAction, AuditObject
from topology.models import Service, Team

from .checks import channel_errors, window_errors
from .delivery import deliveries_pause
from .choices import EventType
from .events import findings_scan
from .models import Channel, MaintenanceWindow, ProbeMute

CHANNEL_DEFAULTS = {"url": "", "addresses": [], "secret": "", "min_severity": "warning", "chain_depth": 3,
                    "enabled": True}
SHOWN = ["name", "kind", "url", "addresses", "events", "min_severity", "chain_depth", "enabled"]


def _team_require(actor: Actor, team: Team | None, what: str) -> None:
    if team is None and not actor.is_staff:
        raise Forbidden(f"only staff may {what} for the whole system; name a team you maintain")
    if not actor.can_write_team(team.pk if team else None):
        raise Forbidden(f"only maintainers of {team.slug} (or staff) may {what} for it")


def _checked(values: dict) -> None:
    errors = channel_errors(values, refusal=lambda address: refusal_reason(probe_policy(), address))
    if errors:
        raise Invalid(errors)


def _snapshot(channel: Channel) -> dict:
    shown = {name: getattr(channel, name) for name in SHOWN}
    return {**shown, "secret": "set" if channel.secret else ""}


def _audit(actor: Actor, action: str, channel: Channel, changes: dict) -> None:
    audit_record([audit_event(actor, action, AuditObject.CHANNEL, str(channel), changes=changes,
                              team_slug=channel.team.slug if channel.team_id else "")])


def _saved(channel: Channel) -> Channel:
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError:
        raise Invalid([{"pointer": "/name", "message": f"the team already has a channel named {channel.name}"}]) from None
    if EventType.FINDING_NEW in channel.events:
        findings_scan()  # the findings of now are the baseline: only later ones are new
    return channel


@transaction.atomic
def channel_create(*, actor: Actor, team: Team | None, values: dict) -> Channel:
    """A channel of `team` (None: system-wide, staff only) from request values (see checks.py)."""
    _team_require(actor, team, "add notification channels")
    merged = {**CHANNEL_DEFAULTS, **values}
    merged["secret"] = merged["secret"] or ""
    _checked(merged)
    channel = _saved(Channel(team=team, created_by=actor.label, **merged))
    _audit(actor, AuditAction.CREATE, channel, field_changes({}, _snapshot(channel)))
    return channel


@transaction.atomic
def channel_update(*, actor: Actor, channel: Channel, values: dict) -> Channel:
    """Change some fields; a secret left out (or sent back empty by a form) keeps the stored one,
    unless `secret` is null, which removes it."""
    channel = Channel.objects.select_for_update(of=("self",)).select_related("team").get(pk=channel.pk)
    _team_require(actor, channel.team, "change notification channels")
    before = _snapshot(channel)
    merged = {**{name: getattr(channel, name) for name in CHANNEL_DEFAULTS}, "name": channel.name,
              "kind": channel.kind, "events": channel.events, **values}
    kept = channel.secret if merged["kind"] == "webhook" else ""  # only webhooks sign
    merged["secret"] = _secret_kept(values.get("secret", kept), stored=kept)
    _checked(merged)
    for name, value in merged.items():
        setattr(channel, name, value)
    _saved(channel)
    if before["enabled"] and not channel.enabled:
        deliveries_pause(channel=channel)
    changed = field_changes(before, _snapshot(channel))
    if changed:
        _audit(actor, AuditAction.UPDATE, channel, changed)
    return channel


@transaction.atomic
def channel_delete(*, actor: Actor, channel: Channel) -> None:
    _team_require(actor, channel.team, "remove notification channels")
    _audit(actor, AuditAction.DELETE, channel, field_changes(_snapshot(channel), {}))
    channel.delete()


def _secret_kept(sent: str | None, *, stored: str) -> str:
    """null removes the secret; "" keeps the stored one (pages never show it back)."""
    if sent is None:
        return ""
    return sent or stored


# --- maintenance windows and mutes ---------------------------------------------------------------


@transaction.atomic
def window_create(*, actor: Actor, starts_at: datetime | None, ends_at: datetime | None, services: list,
                  reason: str = "") -> MaintenanceWindow:
    """A maintenance window over services the actor may write (all of one team, or staff)."""
    errors = window_errors(starts_at=starts_at, ends_at=ends_at, services=services, reason=reason)
    names = [name for name in services if isinstance(name, str)] if isinstance(services, list) else []
    found = {s.name: s for s in Service.objects.filter(name__in=names)}
    errors += [{"pointer": f"/services/{i}", "message": f"no service named {name!r}"}
               for i, name in enumerate(names) if name not in found]
    if errors:
        raise Invalid(errors)
    refused = sorted(s.name for s in found.values() if not actor.can_write_team(s.team_id))
    if refused:
        raise Forbidden(f"you maintain none of the teams of {', '.join(refused)}")
    teams = {s.team_id for s in found.values()}
    window = MaintenanceWindow.objects.create(team_id=teams.pop() if len(teams) == 1 else None, starts_at=starts_at,
                                              ends_at=ends_at, reason=reason, created_by=actor.label)
    window.services.set(found.values())
    audit_record([audit_event(actor, AuditAction.CREATE, AuditObject.MAINTENANCE, f"window-{window.pk}",
                              team_slug=window.team.slug if window.team_id else "",
                              changes={"starts_at": [None, starts_at.isoformat()], "ends_at": [None, ends_at.isoformat()],
                                       "services": [None, sorted(found)], "reason": [None, reason]})])
    return window


@transaction.atomic
def window_delete(*, actor: Actor, window: MaintenanceWindow) -> None:
    names = list(window.services.values_list("name", flat=True))
    if any(not actor.can_write_team(team_id) for team_id in window.services.values_list("team_id", flat=True)):
        raise Forbidden("only maintainers of every service in the window (or staff) may remove it")
    audit_record([audit_event(actor, AuditAction.DELETE, AuditObject.MAINTENANCE, f"window-{window.pk}",
                              team_slug=window.team.slug if window.team_id else "",
                              changes={"services": [sorted(names), None]})])
    window.delete()


@transaction.atomic
def probe_mute_set(*, actor: Actor, probe: Probe, until: datetime | None, reason: str = "") -> ProbeMute:
    """Mute a probe's notifications until `until` (None: until unmuted)."""
    if not actor.can_write_team(probe.service.team_id):
        raise Forbidden(f"only maintainers of {probe.service.name}'s team (or staff) may mute its probes")
    if until is not None and until <= timezone.now():
        raise Invalid([{"pointer": "/until", "message": "must be in the future (or empty: until unmuted)"}])
    if len(reason) > 200:
        raise Invalid([{"pointer": "/reason", "message": "at most 200 characters"}])
    mute, _ = ProbeMute.objects.update_or_create(probe=probe, defaults={"until": until, "reason": reason,
                                                                         "created_by": actor.label})
    audit_record([audit_event(actor, AuditAction.UPDATE, AuditObject.PROBE_MUTE, probe.key,
                              service_name=probe.service.name,
                              changes={"until": [None, until.isoformat() if until else "unmuted by hand"],
                                       "reason": [None, reason]})])
    return mute


@transaction.atomic
def probe_mute_delete(*, actor: Actor, probe: Probe) -> None:
    if not actor.can_write_team(probe.service.team_id):
        raise Forbidden(f"only maintainers of {probe.service.name}'s team (or staff) may unmute its probes")
    if ProbeMute.objects.filter(probe=probe).delete()[0]:
        audit_record([audit_event(actor, AuditAction.DELETE, AuditObject.PROBE_MUTE, probe.key,
                                  service_name=probe.service.name, changes={"muted": [True, False]})])


DEMO_CHANNELS = [
    ("commerce", {"name": "commerce-oncall", "kind": "email", "addresses": ["oncall@commerce.example"],
                  "events": ["probe.down", "probe.up", "probe.degraded", "finding.new"]}),
    (None, {"name": "architecture-review", "kind": "email", "addresses": ["architecture@example.com"],
            "events": ["finding.new", "decision.changed"], "min_severity": "error", "chain_depth": 4}),
]


def demo_channels_create(*, actor: Actor) -> list[Channel]:
    """The demo's channels (e-mail: printed on the console by the default backend), unless any exist."""
    if Channel.objects.exists():
        return []
    teams = {team.slug: team for team in Team.objects.filter(slug__in=[slug for slug, _ in DEMO_CHANNELS if slug])}
    return [channel_create(actor=actor, team=teams.get(slug), values=values)
            for slug, values in DEMO_CHANNELS if slug is None or slug in teams]
