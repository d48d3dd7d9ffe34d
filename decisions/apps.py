from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from . import hooks, tasks  # noqa: F401  (plugs the rules into the registry; registers the tasks by name)

        hooks.register()
