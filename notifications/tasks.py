"""Celery tasks: thin shells around one service call each, on the `celery` queue."""
from celery import shared_task

from core.db import TASK_RETRIES

from . import delivery


@shared_task(name="notifications.tasks.delivery_send", ignore_result=True, **TASK_RETRIES)
def delivery_send(delivery_id: int) -> None:
    """Send one delivery of the outbox, if it is due and no other worker has it. A database that
    does not answer is retried with backoff; after that the delivery is still pending in the outbox
    and the sweep queues it again."""
    delivery.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.deliveries_sweep", ignore_result=True, **{**TASK_RETRIES, "max_retries": 2})
def deliveries_sweep() -> None:
    """Scheduled by beat: queue the deliveries whose retry is due or whose send was never queued."""
    delivery.deliveries_due_send()
