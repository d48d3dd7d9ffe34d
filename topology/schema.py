"""OpenAPI description of the registry API where the serializers alone do not say it: the API token
authentication, the team of a placeholder, and what a refused registration answers (loaded by
TopologyConfig.ready)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from core.api import RefusalSerializer
from core.severity import SEVERITIES


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "topology.authentication.BearerTokenAuthentication"
    name = "teamToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A team's API token: `Authorization: Bearer <token>` (`Token <token>` works too).",
        }


class PlaceholderTeam(OpenApiSerializerExtension):
    """A placeholder (a service only named as a target) has no team: `team` is null in answers, while a
    write must still name one."""

    target_class = "topology.api.serializers.ServiceSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["properties"]["team"] = {**schema["properties"]["team"], "nullable": True}
        return schema


class OffendingSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="The interaction in the manifest, e.g. /0/spec/interactions/1.")
    service = serializers.CharField()
    interaction = serializers.CharField()
    severity = serializers.CharField(help_text=f"{', '.join(SEVERITIES)}: at or above fail_on.")
    reason = serializers.CharField()


class RegistrationRejectedSerializer(serializers.Serializer):
    """fail_on found mismatches at or above its severity; nothing was written."""

    detail = serializers.CharField()
    offending = OffendingSerializer(many=True)


REGISTRATION_REFUSED = PolymorphicProxySerializer(
    component_name="RegistrationRefusal", resource_type_field_name=None,
    serializers=[RefusalSerializer, RegistrationRejectedSerializer],
)
