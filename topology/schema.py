"""OpenAPI description of the API token authentication (loaded by TopologyConfig.ready)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "topology.authentication.BearerTokenAuthentication"
    name = "teamToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A team's API token: `Authorization: Bearer <token>` (`Token <token>` works too).",
        }
