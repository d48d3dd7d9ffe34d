from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Change plans"

    def ready(self) -> None:
        """The topology page draws a saved plan (`?plan=<name>`) through this app."""
        from topology.extensions import registered

        from .views import plan_topology_overlay

        registered.plan_overlay = plan_topology_overlay
