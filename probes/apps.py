from django.apps import AppConfig


class ProbesConfig(AppConfig):
    name = "probes"
    verbose_name = "Probes"

    def ready(self) -> None:
        from . import hooks, tasks  # noqa: F401  (plugs probes into the registry; registers the tasks by name)

        hooks.register()
