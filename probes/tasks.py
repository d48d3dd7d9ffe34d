"""Celery tasks: thin shells around one service call each.

Their names are the ones they had under topology.tasks, so runs queued before an upgrade still run
and beat schedules stored in the database still point at them. A database error is retried with
backoff and jitter (core.db.TASK_RETRIES); after the last attempt the worker logs the task failed.
"""
from datetime import datetime

from celery import shared_task

from core.db import TASK_RETRIES

from . import rollups, services

# Beat queues a dispatch every second: a failed one is retried briefly, the next second's does the rest.
DISPATCH_RETRIES = {**TASK_RETRIES, "retry_backoff": 1, "retry_backoff_max": 4, "max_retries": 2}


@shared_task(name="topology.tasks.probes_dispatch", ignore_result=True, **DISPATCH_RETRIES)
def probes_dispatch() -> None:
    """Scheduled by beat every second: queue the probes that are due, and again the runs whose worker
    died before recording them (services.probe_claims_recover, every PROBE_RECOVER_EVERY)."""
    services.probes_dispatch()
    services.probe_claims_recover_due()


@shared_task(bind=True, name="topology.tasks.probes_run", ignore_result=True, acks_late=True, **TASK_RETRIES)
def probes_run(self, location: str, slot: str, items: list, retake: bool = False) -> None:
    """Run one batch of probes at this worker's location. A redelivered batch skips the probes whose
    slot another run claimed; a retry, a redelivery and a recovered run (`retake`) also take back this
    slot's claims that have no result yet (the results' key keeps one result per probe and slot)."""
    retake = retake or bool(self.request.retries) or bool((self.request.delivery_info or {}).get("redelivered"))
    services.probe_batch_run(location=location, slot=datetime.fromisoformat(slot), items=items, retake=retake)


@shared_task(name="topology.tasks.probe_rollups_update", ignore_result=True, **TASK_RETRIES)
def probe_rollups_update() -> None:
    rollups.probe_rollups_update()


@shared_task(name="topology.tasks.probe_retention_apply", ignore_result=True, **TASK_RETRIES)
def probe_retention_apply() -> None:
    rollups.probe_retention_apply()
