"""Celery tasks: thin shells around one service call each.

Their names are the ones they had under topology.tasks, so runs queued before an upgrade still run
and beat schedules stored in the database still point at them.
"""
from datetime import datetime

from celery import shared_task

from . import rollups, services


@shared_task(name="topology.tasks.probes_dispatch", ignore_result=True)
def probes_dispatch() -> None:
    """Scheduled by beat every second: queue the probes that are due."""
    services.probes_dispatch()


@shared_task(name="topology.tasks.probes_run", ignore_result=True, acks_late=True)
def probes_run(location: str, slot: str, items: list) -> None:
    """Run one batch of probes at this worker's location; a redelivered batch skips its claimed slot."""
    services.probe_batch_run(location=location, slot=datetime.fromisoformat(slot), items=items)


@shared_task(name="topology.tasks.probe_rollups_update", ignore_result=True)
def probe_rollups_update() -> None:
    rollups.probe_rollups_update()


@shared_task(name="topology.tasks.probe_retention_apply", ignore_result=True)
def probe_retention_apply() -> None:
    rollups.probe_retention_apply()
