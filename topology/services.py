"""Writes other than registration: deleting services, teams, memberships, tokens, heartbeats.

Services and interactions are created and changed through registration.registration_apply.
"""
import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.actors import Actor
from core.errors import Conflict, Forbidden, Invalid
from core.inputs import shown

from .audit import audit_event, audit_record
from .choices import AuditAction, AuditObject, TeamRole
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


# Team members. Maintainers of a team and staff add members, change their roles and remove them; every
# change is audited like other registry writes. API tokens never change members (a token is CI's
# credential for registering services, and must not be able to hand out access); they may read them.
# A team always keeps one maintainer: the last one is neither removed nor made a viewer (409).


def team_members_write_check(*, actor: Actor, team: Team) -> None:
    """Refuse (403) an actor who may not change the members of the team."""
    if actor.token_id is not None:
        raise Forbidden(f"{actor.label} may not change team members: API tokens only read them; "
                        f"a maintainer of {team.slug!r} or staff changes them")
    if not actor.can_write_team(team.id):
        raise Forbidden(f"{actor.label} may not change the members of team {team.slug!r}: "
                        f"only its maintainers and staff may")


def _member_role_check(role) -> str:
    if role not in TeamRole.values:
        raise Invalid([{"pointer": "/role",
                        "message": f"the role must be one of {', '.join(TeamRole.values)}, not {shown(role)}"}])
    return role


def _member_key(team: Team, username: str) -> str:
    return f"{team.slug}/{username}"


def _team_lock(team: Team) -> None:
    """Serialise membership writes of one team, so two of them cannot both remove "the other" maintainer."""
    Team.objects.select_for_update().filter(pk=team.pk).exists()


def _maintainer_keep(team: Team, membership: TeamMembership, *, what: str) -> None:
    others = TeamMembership.objects.filter(team=team, role=TeamRole.MAINTAINER).exclude(pk=membership.pk)
    if membership.role == TeamRole.MAINTAINER and not others.exists():
        raise Conflict(f"{membership.user.get_username()} is the last maintainer of {team.slug}, so they cannot be "
                       f"{what}: make another member a maintainer first")


def _membership_current(team: Team, membership: TeamMembership) -> TeamMembership:
    current = TeamMembership.objects.select_related("user").filter(pk=membership.pk, team=team).first()
    if current is None:
        raise Conflict(f"{membership.user.get_username()} was removed from {team.slug} by another change at the "
                       f"same time")
    return current


@transaction.atomic
def team_member_add(*, actor: Actor, team: Team, username: str, role: str) -> TeamMembership:
    """Add an existing user to the team with a role (maintainer or viewer; never staff)."""
    team_members_write_check(actor=actor, team=team)
    _member_role_check(role)
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        near = users.filter(username__iexact=username).values_list("username", flat=True).first()
        hint = f"; did you mean {near!r}?" if near else ""
        raise Invalid([{"pointer": "/username", "message": f"there is no user named {shown(username)}{hint}"}])
    _team_lock(team)
    existing = TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    if existing:
        raise Invalid([{"pointer": "/username", "message": f"{username} is already a member of {team.slug} "
                                                           f"({existing}); change their role instead"}])
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(team=team, user=user, role=role)
    except IntegrityError:
        raise Conflict(f"{username} was added to {team.slug} by another change at the same time") from None
    audit_record([audit_event(actor, AuditAction.CREATE, AuditObject.MEMBERSHIP, _member_key(team, username),
                              team_slug=team.slug, changes={"role": [None, role]})])
    return membership


@transaction.atomic
def team_member_role_change(*, actor: Actor, team: Team, membership: TeamMembership, role: str) -> TeamMembership:
    """Give a member another role; the same role again changes nothing and records nothing."""
    team_members_write_check(actor=actor, team=team)
    _member_role_check(role)
    _team_lock(team)
    membership = _membership_current(team, membership)
    if membership.role == role:
        return membership
    _maintainer_keep(team, membership, what=f"made a {role}")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record([audit_event(actor, AuditAction.UPDATE, AuditObject.MEMBERSHIP,
                              _member_key(team, membership.user.get_username()), team_slug=team.slug,
                              changes={"role": [before, role]})])
    return membership


@transaction.atomic
def team_member_remove(*, actor: Actor, team: Team, membership: TeamMembership) -> None:
    """Remove a member from the team (the user stays; only the membership goes)."""
    team_members_write_check(actor=actor, team=team)
    _team_lock(team)
    membership = _membership_current(team, membership)
    _maintainer_keep(team, membership, what="removed")
    membership.delete()
    audit_record([audit_event(actor, AuditAction.DELETE, AuditObject.MEMBERSHIP,
                              _member_key(team, membership.user.get_username()), team_slug=team.slug,
                              changes={"role": [membership.role, None]})])


def token_digest(raw: str) -> str:
    """SHA-256 of the raw token: what is stored and what a request is looked up by.

    A token is 256 random bits, so looking it up by its digest (an index lookup, not a constant-time
    comparison) leaks nothing useful: timing can at best reveal a prefix of a digest, and turning a
    digest prefix into a token means inverting SHA-256. No raw token is ever compared with ==.
    """
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_MAX_DAYS = 3650


@transaction.atomic
def token_create(*, actor: Actor, team: Team, name: str,
                 expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored. With expires_in_days it is
    refused (401) from that many days on; without, it lasts until revoked."""
    _require_team_write(actor, team.id, f"create tokens for team {team.slug!r}")
    if expires_in_days is not None and not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
        raise Invalid([{"pointer": "expires_in_days",
                        "message": f"a token expires in 1 to {TOKEN_MAX_DAYS} days, or never; got {expires_in_days}"}])
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    token = ApiToken.objects.create(team=team, name=name, prefix=raw[:10], digest=token_digest(raw),
                                    created_by=actor.label, expires_at=expires_at)
    changes = {"prefix": [None, token.prefix]}
    if expires_at is not None:
        changes["expires_at"] = [None, expires_at.isoformat(timespec="seconds")]
    audit_record([audit_event(actor, AuditAction.CREATE, AuditObject.TOKEN, f"{team.slug}/{name}",
                              team_slug=team.slug, changes=changes)])
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
