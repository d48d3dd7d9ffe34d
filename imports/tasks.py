"""Celery tasks of the imports app: thin shells around one service call each."""
from celery import shared_task

from . import jobs


@shared_task(name="imports.tasks.import_job_run", ignore_result=True, acks_late=True)
def import_job_run(job_id: int) -> None:
    """Apply one large catalog import; a redelivered task finds it taken and does nothing."""
    jobs.import_job_run(job_id=job_id)
