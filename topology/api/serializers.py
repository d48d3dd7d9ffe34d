from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import validation as v
from ..choices import Lifecycle, TeamRole
from ..extensions import registered
from ..models import Interaction, Service, Team
from ..selectors import interaction_target_names, service_incoming


class TeamSerializer(serializers.ModelSerializer):
    service_count = serializers.IntegerField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:team-detail", lookup_field="slug")

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "service_count", "member_count", "created_at", "url"]


class InteractionSummarySerializer(serializers.ModelSerializer):
    to = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = ["id", "name", "to", "style", "channel", "broker"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_to(self, obj) -> list[str]:
        return interaction_target_names(obj)


class InteractionSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    to = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField()
    deliberate_deviation = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="api:interaction-detail")

    class Meta:
        model = Interaction
        fields = ["id", "source", "name", "to", "description", "style", "channel", "broker", "criteria",
                  "recommendation", "deliberate_deviation", "created_at", "updated_at", "url"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_to(self, obj) -> list[str]:
        return interaction_target_names(obj)

    @extend_schema_field(serializers.DictField())
    def get_recommendation(self, obj) -> dict:
        """The rules engine's recommendation: style, pattern, protocol, broker, confidence, scores,
        reasons, trade-offs, open questions and mismatch ({} until first evaluated)."""
        return registered.assessor.expanded(obj.recommendation, criteria=obj.criteria)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_deliberate_deviation(self, obj) -> str | None:
        """The accepted override decision (e.g. ADR-0007) that makes a mismatch deliberate, if any."""
        overrides = getattr(obj, "accepted_overrides", None)
        return overrides[0].code if overrides else None


def _check(problem: str | None) -> None:
    if problem:
        raise serializers.ValidationError(problem)


class ServiceSerializer(serializers.ModelSerializer):
    """A service. Writes go through the registration path with the same rules as the manifest."""

    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    placeholder = serializers.BooleanField(source="is_placeholder", read_only=True)
    lifecycle = serializers.ChoiceField(choices=Lifecycle.choices, required=False)
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    probes = serializers.ListField(child=serializers.DictField(), required=False, max_length=v.MAX_PROBES)
    url = serializers.HyperlinkedIdentityField(view_name="api:service-detail", lookup_field="name")

    class Meta:
        model = Service
        fields = ["name", "team", "placeholder", "title", "description", "labels", "lifecycle", "language",
                  "repository", "probes", "created_at", "updated_at", "written_via", "written_by", "url"]
        read_only_fields = ["name", "created_at", "updated_at", "written_via", "written_by"]

    def validate_title(self, value):
        _check(v.text_error(value, limit=v.MAX_TITLE, what="title"))
        return value

    def validate_description(self, value):
        _check(v.text_error(value, limit=v.MAX_DESCRIPTION, what="description"))
        return value

    def validate_language(self, value):
        _check(v.text_error(value, limit=v.MAX_LANGUAGE, what="language"))
        return value

    def validate_repository(self, value):
        _check(v.repository_error(value))
        return value

    def validate_probes(self, value):
        declared, errors = registered.probes.check(value)
        if errors:
            raise serializers.ValidationError([f"{pointer}: {message}" for pointer, message in errors])
        return declared

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "probes" in data:
            data["probes"] = [registered.probes.redacted(item) for item in data["probes"]]
        return data

    def validate_labels(self, value):
        errors = v.labels_errors(value)
        if errors:
            raise serializers.ValidationError({pointer.lstrip("/") or "labels": message for pointer, message in errors})
        return value


class ServiceDetailSerializer(ServiceSerializer):
    interactions = InteractionSummarySerializer(many=True, read_only=True)
    incoming = serializers.SerializerMethodField()

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "interactions", "incoming"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_incoming(self, obj) -> list[str]:
        return [f"{item.source.name}/{item.name}" for item in service_incoming(service=obj)]


class RegistrationReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.BooleanField()
    summary = serializers.DictField()
    services = serializers.ListField(child=serializers.DictField())
    placeholders = serializers.DictField()


class MemberSerializer(serializers.Serializer):
    """A member of a team: the user, the role in the team, and since when (null when the membership
    was written before or outside the audit trail)."""

    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)
    role = serializers.ChoiceField(choices=TeamRole.choices, read_only=True)
    since = serializers.DateTimeField(read_only=True, allow_null=True)


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="An existing user's username.")
    role = serializers.ChoiceField(choices=TeamRole.choices, help_text="maintainer or viewer.")


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=TeamRole.choices, help_text="maintainer or viewer.")

