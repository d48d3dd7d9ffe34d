"""Celery tasks: thin shells around one service call each."""
from celery import shared_task

from core.db import TASK_RETRIES

from .services import worker_heartbeat_record


@shared_task(name="topology.tasks.worker_heartbeat", ignore_result=True, **{**TASK_RETRIES, "max_retries": 2})
def worker_heartbeat() -> None:
    """Scheduled by beat; records which workers are alive (shown on the dashboard)."""
    worker_heartbeat_record(hostname=worker_heartbeat.request.hostname or "unknown")
