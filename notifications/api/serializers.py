"""Shapes of the notifications API. Requests are checked by notifications.checks (errors with JSON
pointers); these serializers shape answers and describe requests in the OpenAPI schema."""
from rest_framework import serializers

from core.severity import SEVERITIES

from ..checks import EVENTS, KINDS
from ..models import Attempt, Channel, Delivery, Event, MaintenanceWindow, ProbeMute
from ..selectors import url_shown


class ChannelWriteSerializer(serializers.Serializer):
    """What POST (all required ones) and PATCH (any) take."""

    team = serializers.CharField(allow_null=True, help_text="Team slug; null for a system-wide channel (staff)")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=KINDS)
    url = serializers.URLField(required=False, help_text="webhook and slack")
    addresses = serializers.ListField(child=serializers.EmailField(), required=False, help_text="email")
    secret = serializers.CharField(required=False, allow_null=True, write_only=True,
                                   help_text="webhook: signs each body (16-200 characters); null removes it")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    min_severity = serializers.ChoiceField(choices=SEVERITIES, required=False)
    chain_depth = serializers.IntegerField(min_value=1, max_value=50, required=False)
    enabled = serializers.BooleanField(required=False)


class ChannelSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()
    has_secret = serializers.SerializerMethodField()
    can_write = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = ["id", "team", "name", "kind", "url", "addresses", "has_secret", "events", "min_severity",
                  "chain_depth", "enabled", "created_by", "created_at", "updated_at", "can_write", "page"]

    def get_url(self, channel) -> str:
        return url_shown(channel, actor=self.context["actor"])

    def get_has_secret(self, channel) -> bool:
        return bool(channel.secret)

    def get_can_write(self, channel) -> bool:
        return self.context["actor"].can_write_team(channel.team_id)

    def get_page(self, channel) -> str:
        return self.context["request"].build_absolute_uri(channel.get_absolute_url())


class AttemptSerializer(serializers.ModelSerializer):
    channel = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Attempt
        fields = ["id", "channel", "delivery", "event_type", "event_id", "number", "at", "ok", "status_code", "error",
                  "duration_ms"]


class DeliverySerializer(serializers.ModelSerializer):
    channel = serializers.StringRelatedField()
    channel_id = serializers.IntegerField(read_only=True)
    event = serializers.UUIDField(source="event_id", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event", "channel", "channel_id", "status", "attempts", "next_attempt_at", "last_error",
                  "last_status_code", "sent_at", "created_at"]


class EventSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Event
        fields = ["id", "type", "occurred_at", "teams", "service", "summary", "suppressed", "payload", "deliveries"]


class WindowWriteSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    services = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField(required=False, allow_blank=True)


class WindowSerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "team", "services", "starts_at", "ends_at", "reason", "active", "created_by", "created_at"]

    def get_active(self, window) -> bool:
        return window.starts_at <= self.context["now"] < window.ends_at


class MuteWriteSerializer(serializers.Serializer):
    probe = serializers.CharField(help_text="<service>/<probe>")
    until = serializers.DateTimeField(required=False, allow_null=True, help_text="empty: until unmuted")
    reason = serializers.CharField(required=False, allow_blank=True)


class MuteSerializer(serializers.ModelSerializer):
    probe = serializers.SerializerMethodField()

    class Meta:
        model = ProbeMute
        fields = ["id", "probe", "until", "reason", "created_by", "created_at"]

    def get_probe(self, mute) -> str:
        return mute.probe.key
