"""Celery tasks of the imports app: thin shells around one service call each.

A database error is retried with backoff and jitter (core.db.TASK_RETRIES); an import that still
meets one after the last attempt ends failed with it (core.db.job_task_attempt)."""
from celery import shared_task
from django.utils import timezone

from core.choices import JobStatus
from core.db import TASK_RETRIES, job_task_attempt

from . import jobs
from .models import ImportJob


@shared_task(bind=True, name="imports.tasks.import_job_run", ignore_result=True, acks_late=True, **TASK_RETRIES)
def import_job_run(self, job_id: int) -> None:
    """Apply one large catalog import; a redelivered task finds it taken and does nothing."""
    job_task_attempt(
        self, run=lambda: jobs.import_job_run(job_id=job_id),
        failed=lambda: ImportJob.objects.filter(pk=job_id, status=JobStatus.FAILED).exists(),
        reopen=lambda: ImportJob.objects.filter(pk=job_id, status__in=[JobStatus.RUNNING, JobStatus.FAILED]).update(
            status=JobStatus.QUEUED, errors=[], progress=0, step="Waiting to retry after a database error",
            finished_at=None),
        fail=lambda error: _failed(job_id, error))


def _failed(job_id: int, error: str) -> None:
    ImportJob.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED]).update(
        status=JobStatus.FAILED, step="Failed", errors=[{"pointer": "", "message": error}], finished_at=timezone.now())
