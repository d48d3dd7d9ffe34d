"""Celery tasks of the reports app: thin shells around one service call each.

A database error is retried with backoff and jitter (core.db.TASK_RETRIES); a report that still
meets one after the last attempt ends failed with it (core.db.job_task_attempt)."""
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.choices import JobStatus
from core.db import TASK_RETRIES, job_task_attempt

from . import services
from .models import Report


@shared_task(bind=True, name="reports.tasks.report_render", ignore_result=True, acks_late=True,
             soft_time_limit=settings.REPORT_RENDER_SECONDS + 30, time_limit=settings.REPORT_RENDER_SECONDS + 60,
             **TASK_RETRIES)
def report_render(self, report_id: int) -> None:
    """Render one queued report to PDF; a redelivered task finds it taken and does nothing."""
    job_task_attempt(
        self, run=lambda: services.report_render(report_id=report_id),
        failed=lambda: Report.objects.filter(pk=report_id, status=JobStatus.FAILED).exists(),
        reopen=lambda: _reopen(report_id),
        fail=lambda error: _failed(report_id, error))


def _reopen(report_id: int) -> None:
    """Queued again after a database error (the retries end well within REPORT_QUEUE_SECONDS, the age
    up to which a queued report is still taken)."""
    Report.objects.filter(pk=report_id, status__in=[JobStatus.RUNNING, JobStatus.FAILED], pruned_at__isnull=True).update(
        status=JobStatus.QUEUED, error="", progress=0, step="Waiting to retry after a database error",
        finished_at=None)


def _failed(report_id: int, error: str) -> None:
    """Failed with the database error that stopped the last attempt (also over the message the
    service wrote when it caught that error)."""
    Report.objects.filter(pk=report_id, status__in=[*services.OPEN, JobStatus.FAILED]).update(
        status=JobStatus.FAILED, error=error, step="Failed", finished_at=timezone.now())


@shared_task(name="reports.tasks.report_retention_apply", ignore_result=True, **TASK_RETRIES)
def report_retention_apply() -> None:
    """Scheduled by beat: remove old PDFs, end reports no worker took."""
    services.report_retention_apply()
