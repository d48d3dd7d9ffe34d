"""Celery tasks of the reports app: thin shells around one service call each."""
from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="reports.tasks.report_render", ignore_result=True, acks_late=True,
             soft_time_limit=settings.REPORT_RENDER_SECONDS + 30, time_limit=settings.REPORT_RENDER_SECONDS + 60)
def report_render(report_id: int) -> None:
    """Render one queued report to PDF; a redelivered task finds it taken and does nothing."""
    services.report_render(report_id=report_id)


@shared_task(name="reports.tasks.report_retention_apply", ignore_result=True)
def report_retention_apply() -> None:
    """Scheduled by beat: remove old PDFs, end reports no worker took."""
    services.report_retention_apply()
