"""Celery tasks of the decisions app: thin shells around one service call each.

A database error is retried with backoff and jitter (core.db.TASK_RETRIES); a re-evaluation run that
still meets one after the last attempt ends failed with it (core.db.job_task_attempt)."""
from celery import shared_task
from django.utils import timezone

from core.db import TASK_RETRIES, job_task_attempt

from .choices import RunStatus
from .models import EvaluationRun
from .recommendations import evaluation_run_if_stale, recommendations_refresh


@shared_task(bind=True, name="decisions.tasks.recommendations_refresh", ignore_result=True, acks_late=True,
             **TASK_RETRIES)
def recommendations_refresh_task(self, run_id: int) -> None:
    """Re-evaluate every interaction for one EvaluationRun; a redelivery of a finished run does nothing."""
    runs = EvaluationRun.objects.filter(pk=run_id)
    job_task_attempt(
        self, run=lambda: recommendations_refresh(run_id=run_id),
        failed=lambda: runs.filter(status=RunStatus.FAILED).exists(),
        reopen=lambda: runs.filter(status__in=[RunStatus.RUNNING, RunStatus.FAILED]).update(
            status=RunStatus.QUEUED, error="", finished_at=None),
        fail=lambda error: runs.exclude(status=RunStatus.DONE).update(
            status=RunStatus.FAILED, error=error, finished_at=timezone.now()))


@shared_task(name="decisions.tasks.recommendations_refresh_stale", ignore_result=True, **TASK_RETRIES)
def recommendations_refresh_stale_task() -> None:
    """Scheduled by beat: re-evaluate interactions left on an older ruleset version, if any."""
    evaluation_run_if_stale(reason="interactions on an older ruleset version")
