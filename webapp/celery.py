"""The Celery application. Configuration comes from Django settings (CELERY_* names).

A broker that does not answer must not hang a web request nor stop a worker for good: publishing
gives up after a bounded time (BROKER_BOUNDS and CONNECT_RETRIES: a 3 s connect timeout, two quick
retries), and workers
and beat keep reconnecting until the broker is back. A CELERY_* Django setting of the same name wins.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

BROKER_CONNECT_SECONDS = 3.0
BROKER_BOUNDS = {
    "broker_connection_timeout": BROKER_CONNECT_SECONDS,
    # Workers reconnect forever (Celery's default gives up after 100 attempts and the worker exits).
    "broker_connection_max_retries": None,
    # A request that sends a task waits at most ~3 connect attempts (≈ 1 s on a refused port,
    # ≈ 10 s on a host that drops packets) before the caller gets kombu's OperationalError.
    "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
}

app = Celery("webapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.add_defaults(BROKER_BOUNDS)
app.autodiscover_tasks()


# kombu's own connect retries when a producer takes a channel (its default waits ~6 s on a refused
# port before `retry=False` even applies), and redis-py's connect timeout.
CONNECT_RETRIES = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


@app.on_after_configure.connect
def _broker_connect_bounds(sender, **kwargs):
    """Bounded connect attempts for network brokers (the filesystem transport has none to make)."""
    url = str(sender.conf.broker_url or "")
    if url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
        options = {**CONNECT_RETRIES, **dict(sender.conf.broker_transport_options or {})}
        if url.startswith(("redis://", "rediss://")):
            options.setdefault("socket_connect_timeout", BROKER_CONNECT_SECONDS)
        sender.conf.broker_transport_options = options
