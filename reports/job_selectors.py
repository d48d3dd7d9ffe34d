"""Reads of report jobs: lists, one report, its file, and its state as a person should see it."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core.choices import JobStatus

from .models import Report, ReportFile
from .scopes import ReportScope

NO_WORKER = ("No worker took this report within {seconds} s. Start one (celery -A webapp worker, as make run "
             "does) and ask again.")
WORKER_LOST = ("The worker stopped while rendering (no word from it for {seconds} s). Ask again; if it happens "
               "again, look at the worker's log.")
LIST_FIELDS = ("id", "scope_kind", "scope_team", "scope_service", "scope_hops", "status", "progress", "step", "error",
               "requested_by", "requested_via", "ruleset_version", "pages", "size", "created_at", "started_at",
               "finished_at", "pruned_at", "user_id")


@dataclass(frozen=True)
class ReportState:
    """What a report shows: its stored status, except that one no worker took in time, or whose worker
    went silent, is shown failed with the reason (a scheduled task then stores that)."""

    status: str
    error: str

    @property
    def open(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


def report_queryset() -> QuerySet[Report]:
    return Report.objects.only(*LIST_FIELDS).order_by("-created_at", "-id")


def report_get(*, report_id: int) -> Report | None:
    return report_queryset().filter(pk=report_id).first()


def report_content(*, report: Report) -> bytes | None:
    content = ReportFile.objects.filter(report_id=report.pk).values_list("content", flat=True).first()
    return bytes(content) if content is not None else None


def stale_limits() -> tuple[int, int]:
    """Seconds a report may wait for a worker, and may go without word from the worker rendering it."""
    return settings.REPORT_QUEUE_SECONDS, settings.REPORT_RENDER_SECONDS + 60


def report_state(report: Report, *, now: datetime | None = None) -> ReportState:
    now = now or timezone.now()
    queued, running = stale_limits()
    if report.status == JobStatus.QUEUED and report.created_at < now - timedelta(seconds=queued):
        return ReportState(JobStatus.FAILED, NO_WORKER.format(seconds=queued))
    if report.status == JobStatus.RUNNING and report.started_at < now - timedelta(seconds=running):
        return ReportState(JobStatus.FAILED, WORKER_LOST.format(seconds=running))
    return ReportState(report.status, report.error)


def report_scope_of(report: Report) -> ReportScope:
    return ReportScope(kind=report.scope_kind, team=report.scope_team, service=report.scope_service,
                       hops=report.scope_hops)

