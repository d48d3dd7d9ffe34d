"""Reads of channels, events, deliveries, windows and mutes, limited to what an actor may see:
staff see everything; a member (or token) of a team sees its channels and the events of its
services; webhook URLs, which often carry a credential, are shown whole only to who may change them."""
from urllib.parse import urlsplit

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from core.actors import Actor
from topology.models import Team

from .models import Attempt, Channel, Delivery, Event, MaintenanceWindow, ProbeMute


def teams_of(*, actor: Actor) -> QuerySet[Team]:
    if actor.is_staff:
        return Team.objects.all()
    if actor.token_id:
        return Team.objects.filter(pk__in=actor.writable_team_ids)
    if actor.user_id:
        return Team.objects.filter(members__id=actor.user_id)
    return Team.objects.none()


def channels_for(*, actor: Actor) -> QuerySet[Channel]:
    channels = Channel.objects.select_related("team").order_by("team__slug", "name")
    return channels if actor.is_staff else channels.filter(team__in=teams_of(actor=actor))


def events_for(*, actor: Actor) -> QuerySet[Event]:
    deliveries = Prefetch("deliveries", queryset=Delivery.objects.select_related("channel__team").order_by("pk"))
    events = Event.objects.select_related("team").prefetch_related(deliveries).order_by("-occurred_at")
    if actor.is_staff:
        return events
    return events.filter(concerned__in=teams_of(actor=actor)).distinct()


def deliveries_for(*, actor: Actor) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("channel__team", "event")
    return deliveries if actor.is_staff else deliveries.filter(channel__team__in=teams_of(actor=actor))


def channel_log(*, channel: Channel) -> QuerySet[Attempt]:
    return Attempt.objects.filter(channel=channel).order_by("-at", "-id")


def windows_for(*, actor: Actor, current_only: bool = False) -> QuerySet[MaintenanceWindow]:
    windows = MaintenanceWindow.objects.select_related("team").prefetch_related("services").order_by("-starts_at")
    if current_only:
        windows = windows.filter(ends_at__gt=timezone.now())
    return windows if actor.is_staff else windows.filter(services__team__in=teams_of(actor=actor)).distinct()


def mutes_for(*, actor: Actor) -> QuerySet[ProbeMute]:
    mutes = ProbeMute.objects.select_related("probe__service__team").order_by("probe__service__name", "probe__name")
    mutes = mutes.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
    return mutes if actor.is_staff else mutes.filter(probe__service__team__in=teams_of(actor=actor))


def url_shown(channel: Channel, *, actor: Actor) -> str:
    """The whole URL for who may change the channel; the origin only for others."""
    if not channel.url or actor.can_write_team(channel.team_id):
        return channel.url
    parts = urlsplit(channel.url)
    return f"{parts.scheme}://{parts.hostname}/…"


def delivery_counts(*, channel_ids: list[int]) -> dict[int, dict[str, int]]:
    """Channel id -> {status: deliveries}."""
    counts: dict[int, dict[str, int]] = {}
    rows = (Delivery.objects.filter(channel_id__in=channel_ids).values_list("channel_id", "status")
            .annotate(n=Count("id")).order_by())
    for channel_id, status, n in rows:
        counts.setdefault(channel_id, {})[status] = n
    return counts
