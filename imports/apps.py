from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from . import hooks, tasks  # noqa: F401  (drift becomes topology findings; tasks registered by name)

        hooks.register()
