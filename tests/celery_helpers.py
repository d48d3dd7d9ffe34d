"""A real Celery worker process on the test database, for the end-to-end tests."""
import os
import subprocess
import sys

from django.conf import settings
from django.db import connection


def database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or ""
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}/{config['NAME']}"


def worker_start(*, queue: str, name: str) -> subprocess.Popen:
    """A solo-pool worker consuming one queue of the test run's own (another run cannot take its tasks)."""
    env = {**os.environ, "DATABASE_URL": database_url(), "SWITCHBOARD_VAR_DIR": str(settings.VAR_DIR)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' escape hatch: a worker runs as in production
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "-n", f"{name}@%h", "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def worker_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
