"""Report writes: ask for a PDF report (a row, and a task queued once it commits), render it in a
worker with progress a person can follow, fail it with a message that says what to do, prune old files.

`status` only moves forward, each move a conditional UPDATE: a redelivered task finds its report no
longer queued and does nothing, and a late worker never takes a report that already failed.
"""
import logging
import queue
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.actors import Actor
from core.choices import JobStatus

from .document import report_html
from .job_selectors import NO_WORKER, WORKER_LOST, report_scope_of, stale_limits
from .models import Report, ReportFile
from .pdf import PdfError, Printed, pdf_print
from .scopes import ReportScope
from .selectors import report_data

log = logging.getLogger(__name__)

RENDER_TASK = "reports.tasks.report_render"  # reports.tasks sends it by name: that module imports this one
OPEN = (JobStatus.QUEUED, JobStatus.RUNNING)
NO_BROKER = ("The task broker did not answer ({error}), so nothing was queued. Check that it runs and that "
             "CELERY_BROKER_URL points at it, then ask again.")
STEPS = {"Drawing the diagrams and charts": 45, "Laying out the pages": 70, "Numbering the contents": 85}


def report_request(*, actor: Actor, scope: ReportScope) -> Report:
    """A queued report of this scope; its task is sent once the row is committed."""
    with transaction.atomic():
        report = Report.objects.create(
            scope_kind=scope.kind, scope_team=scope.team, scope_service=scope.service, scope_hops=scope.hops,
            requested_by=actor.label, requested_via=actor.via, user_id=actor.user_id, step="Waiting for a worker")
        transaction.on_commit(lambda: report_queue(report_id=report.pk))
    return report


def report_queue(*, report_id: int) -> None:
    """Send the render task; a broker that does not answer fails the report, saying what to do."""
    try:
        current_app.tasks[RENDER_TASK].apply_async(args=[report_id], queue=settings.REPORT_QUEUE, retry=False)
    except OperationalError as exc:
        report_fail(report_id=report_id, error=NO_BROKER.format(error=str(exc)[:200]))


def report_fail(*, report_id: int, error: str) -> bool:
    """Fail a report that is still queued or running; False when it had already ended."""
    return bool(Report.objects.filter(pk=report_id, status__in=OPEN).update(
        status=JobStatus.FAILED, error=error, step="Failed", finished_at=timezone.now()))


def report_render(*, report_id: int) -> None:
    """Render one report, if it is still queued; every failure ends it `failed` with its reason."""
    if not _claim(report_id):
        return
    report = Report.objects.get(pk=report_id)
    try:
        printed = _printed(report)
    except PdfError as exc:
        report_fail(report_id=report_id, error=str(exc))
    except Exception as exc:  # the report must end in a visible state, whatever happened
        log.exception("report %s failed", report_id)
        report_fail(report_id=report_id, error=f"The report could not be rendered: {str(exc)[:300]}")
    else:
        _store(report, printed)


def _claim(report_id: int) -> bool:
    now = timezone.now()
    fresh = now - timedelta(seconds=settings.REPORT_QUEUE_SECONDS)
    return bool(Report.objects.filter(pk=report_id, status=JobStatus.QUEUED, created_at__gte=fresh).update(
        status=JobStatus.RUNNING, started_at=now, progress=5, step="Reading the registry"))


def report_progress(*, report_id: int, progress: int, step: str) -> None:
    """Move a running report's progress forward (never back), with what it is doing now."""
    Report.objects.filter(pk=report_id, status=JobStatus.RUNNING, progress__lte=progress).update(
        progress=progress, step=step)


def _printed(report: Report) -> Printed:
    data = report_data(scope=report_scope_of(report))
    report_progress(report_id=report.pk, progress=20, step="Drawing the topology")
    html = report_html(report=report, data=data, for_print=True)
    report.ruleset_version = data.ruleset_version
    with tempfile.TemporaryDirectory(prefix="report-") as folder:
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        return _printed_following(report.pk, lambda on_step: pdf_print(
            html_file=page, chromium=settings.CHROMIUM_PATH, seconds=settings.REPORT_RENDER_SECONDS,
            header=_header(data), footer=_footer(report), on_step=on_step))


def _printed_following(report_id: int, work: Callable[[Callable[[str], None]], Printed]) -> Printed:
    """Print in a thread of its own (Playwright runs an event loop, where Django refuses database work)
    while this thread records each step it reports as the report's progress."""
    steps: queue.SimpleQueue[str] = queue.SimpleQueue()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-pdf") as pool:
        printing = pool.submit(work, steps.put)
        while not _done(printing, steps, report_id):
            pass
        return printing.result()


def _done(printing: Future, steps: "queue.SimpleQueue[str]", report_id: int) -> bool:
    """Wait a moment for the printing thread, recording the steps it reported meanwhile."""
    finished = wait([printing], timeout=0.2).done
    while not steps.empty():
        step = steps.get()
        report_progress(report_id=report_id, progress=STEPS[step], step=step)
    return bool(finished)


def _header(data) -> str:
    return ('<div style="font-size:8px;color:#646d78;width:100%;padding:0 14mm;display:flex;'
            'justify-content:space-between"><span>Switchboard architecture report</span>'
            f'<span>{_escaped(data.scope.label)}</span></div>')


def _footer(report: Report) -> str:
    return ('<div style="font-size:8px;color:#646d78;width:100%;padding:0 14mm;display:flex;'
            f'justify-content:space-between"><span>Report {report.pk}, asked by {_escaped(report.requested_by)}</span>'
            '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>')


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _store(report: Report, printed: Printed) -> None:
    with transaction.atomic():
        ReportFile.objects.update_or_create(report_id=report.pk, defaults={"content": printed.content})
        Report.objects.filter(pk=report.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, progress=100, step="Done", pages=printed.pages, size=len(printed.content),
            ruleset_version=report.ruleset_version, finished_at=timezone.now(),
            error="; ".join(printed.problems)[:2000])


def report_retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Remove PDFs older than REPORT_RETENTION_DAYS (the rows stay, as the record of who asked), and end
    reports that no worker took or whose worker went silent."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    old = Report.objects.filter(finished_at__lt=cutoff, pruned_at__isnull=True)
    pruned = ReportFile.objects.filter(report__in=old).delete()[0]
    old.update(pruned_at=now)
    return {"pruned": pruned, **reports_stale_fail(now=now)}


def reports_stale_fail(*, now: datetime) -> dict[str, int]:
    queued, running = stale_limits()
    untaken = Report.objects.filter(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=queued))
    silent = Report.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - timedelta(seconds=running))
    return {"untaken": untaken.update(status=JobStatus.FAILED, finished_at=now, step="Failed",
                                      error=NO_WORKER.format(seconds=queued)),
            "lost": silent.update(status=JobStatus.FAILED, finished_at=now, step="Failed",
                                  error=WORKER_LOST.format(seconds=running))}
