"""Celery tasks: thin shells around one service call each."""
from datetime import datetime

from celery import shared_task

from . import probe_rollups, probe_services
from .services import worker_heartbeat_record


@shared_task(name="topology.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Scheduled by beat; records which workers are alive (shown on the dashboard)."""
    worker_heartbeat_record(hostname=worker_heartbeat.request.hostname or "unknown")


@shared_task(name="topology.tasks.probes_dispatch", ignore_result=True)
def probes_dispatch() -> None:
    """Scheduled by beat every second: queue the probes that are due."""
    probe_services.probes_dispatch()


@shared_task(name="topology.tasks.probes_run", ignore_result=True, acks_late=True)
def probes_run(location: str, slot: str, items: list) -> None:
    """Run one batch of probes at this worker's location; a redelivered batch skips its claimed slot."""
    probe_services.probe_batch_run(location=location, slot=datetime.fromisoformat(slot), items=items)


@shared_task(name="topology.tasks.probe_rollups_update", ignore_result=True)
def probe_rollups_update() -> None:
    probe_rollups.probe_rollups_update()


@shared_task(name="topology.tasks.probe_retention_apply", ignore_result=True)
def probe_retention_apply() -> None:
    probe_rollups.probe_retention_apply()
