from django.apps import AppConfig


class TopologyConfig(AppConfig):
    name = "topology"
    verbose_name = "Topology"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI description of token auth)
