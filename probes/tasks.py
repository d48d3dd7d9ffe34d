"""Celery tasks: thin shells around one service call each.

Their names are the ones they had under topology.tasks, so beat schedules stored in the database still
point at them (a run queued by a version that did not put the specs in the message fails with a
WireError naming the item; the probe's next due run follows). A database error is retried with
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
    """Scheduled by beat every second: queue the probes that are due, and again the runs that never
    got a result (services.probe_claims_recover, every PROBE_RECOVER_EVERY)."""
    services.probes_dispatch()
    services.probe_claims_recover_due()


@shared_task(name="topology.tasks.probes_run", ignore_result=True, acks_late=True)
def probes_run(location: str, slot: str, items: list, **_earlier) -> None:
    """Run one batch of probes at this worker's location, from the message alone (no database), and
    send the results to the central workers. Not retried: a run that fails is sent again by the
    central recovery, and its results are stored once however often it runs."""
    services.probe_batch_run(location=location, slot=datetime.fromisoformat(slot), items=items)


@shared_task(name=services.RECORD_TASK, ignore_result=True, acks_late=True, **TASK_RETRIES)
def probe_results_record(location: str, slot: str, results: list) -> None:
    """Central workers only (queue PROBE_RESULTS_QUEUE): write one batch's results in bulk."""
    services.probe_results_receive(location=location, slot=datetime.fromisoformat(slot), items=results)


@shared_task(name="topology.tasks.probe_rollups_update", ignore_result=True, **TASK_RETRIES)
def probe_rollups_update() -> None:
    rollups.probe_rollups_update()


@shared_task(name="topology.tasks.probe_retention_apply", ignore_result=True, **TASK_RETRIES)
def probe_retention_apply() -> None:
    rollups.probe_retention_apply()
