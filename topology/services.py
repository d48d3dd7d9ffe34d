"""Writes other than registration: deleting services, teams, memberships, tokens, heartbeats.

Services and interactions are created and changed through registration.registration_apply.
"""
import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.actors import Actor
from core.errors import Forbidden

from .audit import audit_event, audit_record
from .choices import AuditAction, AuditObject
from .models import ApiToken, Service, Team, TeamMembership, WorkerHeartbeat
from .overview_services import registry_changed
from .registration import SERVICE_FIELDS, placeholders_prune

TOKEN_PREFIX = "sb_"
TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)


def _require_team_write(actor: Actor, team_id: int | None, what: str) -> None:
    if not actor.can_write_team(team_id):
        raise Forbidden(f"{actor.label} may not {what}")


@transaction.atomic
def service_delete(*, actor: Actor, service: Service) -> str:
    """Delete a service and its interactions. Returns 'deleted' or 'placeholder'.

    A service that other services still target stays as a placeholder, so their interactions
    keep pointing at something; it is removed when the last of them goes.
    """
    _require_team_write(actor, service.team_id, f"delete service {service.name!r}")
    losing = set(service.interactions.values_list("target_links__service_id", flat=True)) - {None}
    events = [audit_event(actor, AuditAction.DELETE, AuditObject.INTERACTION, f"{service.name}/{name}",
                          service_name=service.name, changes={})
              for name in service.interactions.values_list("name", flat=True)]
    service.interactions.all().delete()
    targeted = service.target_links.exists()
    before = {name: getattr(service, name) for name in SERVICE_FIELDS}
    events.append(audit_event(actor, AuditAction.DELETE, AuditObject.SERVICE, service.name,
                              service_name=service.name, team_slug=service.team.slug if service.team_id else "",
                              changes={key: [value, None] for key, value in before.items() if value}))
    if targeted:
        _service_demote(service, actor=actor)
    else:
        service.delete()
    placeholders_prune(losing)
    audit_record(events)
    registry_changed()
    return "placeholder" if targeted else "deleted"


def _service_demote(service: Service, *, actor: Actor) -> None:
    Service.objects.filter(pk=service.pk).update(
        team=None, title="", description="", labels={}, language="", repository="", probes=[],
        updated_at=timezone.now(), written_via=actor.via, written_by=actor.label,
    )


@transaction.atomic
def team_create(*, actor: Actor, slug: str, name: str, description: str = "") -> Team:
    if not actor.is_staff:
        raise Forbidden(f"{actor.label} may not create teams")
    team = Team.objects.create(slug=slug, name=name, description=description)
    audit_record([audit_event(actor, AuditAction.CREATE, AuditObject.TEAM, slug, team_slug=slug,
                              changes={"name": [None, name]})])
    return team


@transaction.atomic
def team_member_set(*, actor: Actor, team: Team, user, role: str) -> TeamMembership:
    if not actor.is_staff:
        raise Forbidden(f"{actor.label} may not change the members of {team.slug!r}")
    membership = TeamMembership.objects.filter(team=team, user=user).first()
    if membership and membership.role == role:
        return membership
    before = membership.role if membership else None
    membership, created = TeamMembership.objects.update_or_create(team=team, user=user, defaults={"role": role})
    audit_record([audit_event(actor, AuditAction.CREATE if created else AuditAction.UPDATE, AuditObject.MEMBERSHIP,
                              f"{team.slug}/{user.get_username()}", team_slug=team.slug,
                              changes={"role": [before, role]})])
    return membership


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor: Actor, team: Team, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    _require_team_write(actor, team.id, f"create tokens for team {team.slug!r}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(team=team, name=name, prefix=raw[:10], digest=token_digest(raw),
                                    created_by=actor.label)
    audit_record([audit_event(actor, AuditAction.CREATE, AuditObject.TOKEN, f"{team.slug}/{name}",
                              team_slug=team.slug, changes={"prefix": [None, token.prefix]})])
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> bool:
    """Revoke once; a second revoke (or a race with another one) changes nothing."""
    _require_team_write(actor, token.team_id, f"revoke tokens of team {token.team.slug!r}")
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        audit_record([audit_event(actor, AuditAction.UPDATE, AuditObject.TOKEN, f"{token.team.slug}/{token.name}",
                                  team_slug=token.team.slug, changes={"revoked": [False, True]})])
    return bool(revoked)


def token_touch(*, token: ApiToken) -> None:
    """Record use at most once a minute, with a conditional UPDATE that concurrent requests can share."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)


def worker_heartbeat_record(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname[:255], defaults={"last_seen_at": timezone.now()})
