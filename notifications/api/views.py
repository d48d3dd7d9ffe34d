"""Notifications API: channels (with their delivery log and a test send), the events of the outbox
with their deliveries (a failed one can be re-sent), maintenance windows and probe mutes."""
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import detail
from core.errors import Invalid
from probes.models import Probe
from topology.authentication import api_actor
from topology.models import Team

from .. import delivery, services
from ..filtersets import EventFilterSet
from ..models import Channel, Delivery, Event, MaintenanceWindow, ProbeMute
from ..selectors import channel_log, channels_for, deliveries_for, events_for, mutes_for, windows_for
from .serializers import (AttemptSerializer, ChannelSerializer, ChannelWriteSerializer, DeliverySerializer,
                          EventSerializer, MuteSerializer, MuteWriteSerializer, WindowSerializer,
                          WindowWriteSerializer)


def body_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid([{"pointer": "", "message": "the body must be a JSON object"}])
    return dict(request.data)


def team_named(slug) -> Team | None:
    if slug is None:
        return None
    team = Team.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if team is None:
        raise Invalid([{"pointer": "/team", "message": f"no team with the slug {slug!r}"}])
    return team


def moment(body: dict, name: str):
    """A datetime field of the body, or None when absent or unreadable (the checks then name it)."""
    value = body.get(name)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        raise Invalid([{"pointer": f"/{name}", "message": "give the time zone, e.g. 2026-12-05T02:00:00Z"}])
    return parsed


class ActorMixin:
    """Views whose rows depend on who asks: `visible(actor)` gives them (a schema run sees none)."""

    model = None

    def actor(self):
        return api_actor(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.visible(self.actor())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "actor": self.actor(), "now": timezone.now()}


class ChannelViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Where a team is told of its events. Members of a team (and its tokens) see its channels;
    maintainers (and staff) add, change, test and remove them; system-wide channels are staff's."""

    serializer_class = ChannelSerializer

    model = Channel

    def visible(self, actor):
        return channels_for(actor=actor)

    @extend_schema(request=ChannelWriteSerializer, responses={201: ChannelSerializer})
    def create(self, request):
        body = body_object(request)
        team = team_named(body.pop("team", None))
        channel = services.channel_create(actor=self.actor(), team=team, values=body)
        return Response(self.get_serializer(channel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ChannelWriteSerializer, responses={200: ChannelSerializer})
    def partial_update(self, request, pk=None):
        body = body_object(request)
        if "team" in body:
            raise Invalid([{"pointer": "/team", "message": "a channel stays with its team; add one to the other team"}])
        channel = services.channel_update(actor=self.actor(), channel=self.get_object(), values=body)
        return Response(self.get_serializer(channel).data)

    def destroy(self, request, pk=None):
        services.channel_delete(actor=self.actor(), channel=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: AttemptSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a sample event to the channel now; the answer is the attempt (ok, status code, error)."""
        attempt = delivery.channel_test(actor=self.actor(), channel=self.get_object())
        return Response(AttemptSerializer(attempt).data)

    @extend_schema(responses={200: AttemptSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def log(self, request, pk=None):
        """The channel's delivery log, newest first: every attempt and test."""
        page = self.paginate_queryset(channel_log(channel=self.get_object()))
        return self.get_paginated_response(AttemptSerializer(page, many=True).data)


class EventViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The outbox: what happened, the payload receivers get, and each delivery's state."""

    serializer_class = EventSerializer
    filterset_class = EventFilterSet

    model = Event

    def visible(self, actor):
        return events_for(actor=actor)


class DeliveryViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer

    model = Delivery

    def visible(self, actor):
        return deliveries_for(actor=actor).order_by("-created_at")

    @extend_schema(request=None, responses={202: DeliverySerializer,
                                            (409, "application/json"): detail("The delivery has not failed, or its channel is paused.")})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Send a failed delivery again (a fresh count of attempts)."""
        found = delivery.delivery_resend(actor=self.actor(), delivery=self.get_object())
        return Response(DeliverySerializer(found).data, status=status.HTTP_202_ACCEPTED)


class WindowViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                    viewsets.GenericViewSet):
    """Maintenance windows: probe events of their services are stored but sent to no one while open."""

    serializer_class = WindowSerializer

    model = MaintenanceWindow

    def visible(self, actor):
        return windows_for(actor=actor)

    @extend_schema(request=WindowWriteSerializer, responses={201: WindowSerializer})
    def create(self, request):
        body = body_object(request)
        window = services.window_create(actor=self.actor(), starts_at=moment(body, "starts_at"),
                                        ends_at=moment(body, "ends_at"), services=body.get("services"),
                                        reason=body.get("reason", ""))
        return Response(self.get_serializer(window).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.window_delete(actor=self.actor(), window=instance)


class MuteViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                  viewsets.GenericViewSet):
    """Probe mutes: the probe's events are stored but sent to no one until `until` (or removal)."""

    serializer_class = MuteSerializer

    model = ProbeMute

    def visible(self, actor):
        return mutes_for(actor=actor)

    @extend_schema(request=MuteWriteSerializer, responses={201: MuteSerializer})
    def create(self, request):
        body = body_object(request)
        key = body.get("probe")
        service, _, name = key.partition("/") if isinstance(key, str) else ("", "", "")
        probe = Probe.objects.select_related("service").filter(service__name=service, name=name).first()
        if probe is None:
            raise Invalid([{"pointer": "/probe", "message": f"no probe {key!r}; name it <service>/<probe>"}])
        until = moment(body, "until")
        if body.get("until") not in (None, "") and until is None:
            raise Invalid([{"pointer": "/until", "message": "a date and time with its time zone, or null"}])
        reason = body.get("reason", "")
        if not isinstance(reason, str):
            raise Invalid([{"pointer": "/reason", "message": "must be a string"}])
        mute = services.probe_mute_set(actor=self.actor(), probe=probe, until=until, reason=reason)
        return Response(self.get_serializer(mute).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.probe_mute_delete(actor=self.actor(), probe=instance.probe)
