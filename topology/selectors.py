"""Registry reads: actors, teams, services and interactions with their joins done up front, history,
and plain data for the write path. Reads of the whole graph (stamps, drawing data) are in
graph_selectors.py."""
from datetime import timedelta

from django.conf import settings
from django.db.models import (CharField, Count, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery,
                              Value)
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from core.actors import Actor
from core.choices import Via

from .choices import AuditAction, AuditObject, TeamRole
from .extensions import registered
from .manifest import InteractionSpec, ServiceSpec
from .models import (
    ApiToken,
    AuditEvent,
    Interaction,
    InteractionTarget,
    Service,
    Team,
    TeamMembership,
    WorkerHeartbeat,
)


def actor_for_user(*, user, via: str = Via.UI) -> Actor:
    writable = TeamMembership.objects.filter(user=user, role=TeamRole.MAINTAINER).values_list("team_id", flat=True)
    return Actor(label=user.get_username(), via=via, user_id=user.pk, is_staff=user.is_staff,
                 writable_team_ids=frozenset(writable))


def actor_for_token(*, token: ApiToken) -> Actor:
    return Actor(label=token.label, via=Via.API, token_id=token.pk, writable_team_ids=frozenset({token.team_id}))


def team_role_of(*, user, team: Team) -> str | None:
    if user.is_staff:
        return TeamRole.MAINTAINER
    membership = TeamMembership.objects.filter(user=user, team=team).values_list("role", flat=True).first()
    return membership


def teams_writable_by(*, actor: Actor) -> QuerySet[Team]:
    """The teams whose services, tokens and decisions the actor may write."""
    teams = Team.objects.order_by("slug")
    return teams if actor.is_staff else teams.filter(id__in=actor.writable_team_ids)


def team_list() -> QuerySet[Team]:
    return Team.objects.annotate(
        service_count=Count("services", distinct=True), member_count=Count("memberships", distinct=True)
    ).order_by("slug")


def team_members(*, team: Team) -> QuerySet[TeamMembership]:
    """Members, maintainers first, each with `since`: when the audit trail last saw them added to the
    team (None for a membership written outside it, e.g. in the Django shell)."""
    added = AuditEvent.objects.filter(
        team_slug=team.slug, object_type=AuditObject.MEMBERSHIP, action=AuditAction.CREATE,
        object_key=Concat(Value(f"{team.slug}/"), OuterRef("user__username"), output_field=CharField()),
    ).order_by("-at", "-id").values("at")[:1]
    return (team.memberships.select_related("user").annotate(since=Subquery(added))
            .order_by("role", "user__username"))


def team_member_of(*, team: Team, username: str) -> TeamMembership | None:
    return team_members(team=team).filter(user__username=username).first()


def team_tokens(*, team: Team) -> QuerySet[ApiToken]:
    return team.tokens.order_by("revoked_at", "name")


def _targets_prefetch() -> Prefetch:
    links = InteractionTarget.objects.select_related("service").order_by("position")
    return Prefetch("target_links", queryset=links)


def service_queryset() -> QuerySet[Service]:
    return Service.objects.select_related("team")


def service_detail_queryset() -> QuerySet[Service]:
    outgoing = interaction_list().order_by("name")
    return Service.objects.select_related("team").prefetch_related(Prefetch("interactions", queryset=outgoing))


def _count_of(queryset, column: str) -> Subquery:
    """A correlated COUNT, evaluated only for the rows a page returns."""
    counted = queryset.filter(**{column: OuterRef("pk")}).order_by().values(column)
    return Subquery(counted.annotate(n=Func(F("pk"), function="COUNT")).values("n"), output_field=IntegerField())


def service_list() -> QuerySet[Service]:
    return Service.objects.select_related("team").annotate(
        interaction_count=Coalesce(_count_of(Interaction.objects.all(), "source"), 0),
        incoming_count=Coalesce(_count_of(InteractionTarget.objects.all(), "service"), 0),
    )


def service_outgoing(*, service: Service) -> QuerySet[Interaction]:
    return service.interactions.select_related("source__team").prefetch_related(*_interaction_prefetches()).order_by("name")


def service_incoming(*, service: Service) -> QuerySet[Interaction]:
    return (
        Interaction.objects.filter(target_links__service=service)
        .select_related("source__team")
        .prefetch_related(_targets_prefetch())
        .order_by("source__name", "name")
    )


def _interaction_prefetches() -> list[Prefetch]:
    """Targets in order, and the decisions that settle a mismatch when an assessor says which."""
    settled = registered.assessor.settled_prefetch
    return [_targets_prefetch()] + ([settled()] if settled else [])


def interaction_list() -> QuerySet[Interaction]:
    """Interactions with their source, targets and accepted override decisions loaded."""
    return Interaction.objects.select_related("source__team").prefetch_related(*_interaction_prefetches())


def settled_links():
    """Links (interaction_id) of the mismatches an accepted override settles; None when nothing can."""
    settled = registered.assessor.settled_links
    return settled() if settled else None


def interactions_settled(*, interaction_ids) -> set[int]:
    """Which of these interactions an accepted override settles (deliberate deviations)."""
    links = settled_links()
    if links is None:
        return set()
    return set(links.filter(interaction_id__in=list(interaction_ids)).values_list("interaction_id", flat=True))


def interaction_target_names(interaction: Interaction) -> list[str]:
    """Target names in order; uses the prefetched links when present."""
    return [link.service.name for link in interaction.target_links.all()]


def service_history(*, service_name: str, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(service_name=service_name).order_by("-at", "-id")[:limit]


def team_history(*, team_slug: str, limit: int = 20) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(team_slug=team_slug).order_by("-at", "-id")[:limit]


def recent_changes(*, limit: int = 15) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("-at", "-id")[:limit]


def dashboard_counts() -> dict:
    services = Service.objects.aggregate(
        total=Count("id"), placeholders=Count("id", filter=Q(team__isnull=True))
    )
    styles = dict(Interaction.objects.values_list("style").annotate(n=Count("id")).order_by())
    return {
        "teams": Team.objects.count(),
        "services": services["total"] - services["placeholders"],
        "placeholders": services["placeholders"],
        "interactions": sum(styles.values()),
        "styles": styles,
    }


def service_spec_of(*, service: Service, interactions: list[InteractionSpec] | None = None, **changes) -> ServiceSpec:
    """The current desired state of a registered service, with some fields changed."""
    if interactions is None:
        interactions = [interaction_spec_of(item) for item in service_outgoing(service=service)]
    values = {
        "name": service.name, "team": service.team.slug if service.team_id else "",
        "title": service.title, "description": service.description, "labels": service.labels,
        "lifecycle": service.lifecycle, "language": service.language, "repository": service.repository,
        "interactions": tuple(interactions), "probes": service.probes,
    }
    values.update(changes)
    return ServiceSpec(**values)


def interaction_spec_of(interaction: Interaction) -> InteractionSpec:
    return InteractionSpec(
        name=interaction.name, targets=tuple(interaction_target_names(interaction)),
        description=interaction.description, style=interaction.style, channel=interaction.channel,
        broker=interaction.broker, criteria=interaction.criteria,
    )


def token_find(*, digest: str) -> ApiToken | None:
    return ApiToken.objects.select_related("team").filter(digest=digest, revoked_at__isnull=True).first()


def workers_alive() -> list[WorkerHeartbeat]:
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    return list(WorkerHeartbeat.objects.filter(last_seen_at__gte=cutoff).order_by("hostname"))
