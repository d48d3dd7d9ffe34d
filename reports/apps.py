from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks by name: services.py sends them so)
