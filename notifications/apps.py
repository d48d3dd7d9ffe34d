from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import receivers, tasks  # noqa: F401  (signal receivers connected; tasks registered by name)
