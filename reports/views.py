"""Report pages: ask for a PDF report, follow its progress live (htmx), download it; the report itself as
a page (what the PDF prints)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.choices import JobStatus
from core.errors import Invalid
from core.web import page_of
from topology.authentication import ui_actor
from topology.selectors import workers_alive

from .api.jobs import pdf_response
from .document import report_html
from .forms import ReportScopeForm
from .job_selectors import (
    report_content,
    report_get,
    report_queryset,
    report_scope_of,
    report_state,
)
from .scopes import scope_from_query
from .selectors import report_data
from .services import report_request


def _report_or_404(report_id: int):
    report = report_get(report_id=report_id)
    if report is None:
        raise Http404(f"There is no report {report_id}.")
    return report


def _rows(reports) -> list[dict]:
    return [{"report": report, "state": report_state(report), "scope": report_scope_of(report)} for report in reports]


@login_required
def report_list(request):
    page = page_of(request, report_queryset())
    return render(request, "reports/report_list.html", {
        "form": ReportScopeForm(), "page": page, "rows": _rows(page), "workers": workers_alive()})


@login_required
@require_POST
def report_create(request):
    form = ReportScopeForm(request.POST)
    if not form.is_valid():
        page = page_of(request, report_queryset())
        return render(request, "reports/report_list.html", {
            "form": form, "page": page, "rows": _rows(page), "workers": workers_alive()}, status=422)
    report = report_request(actor=ui_actor(request), scope=form.report_scope)
    report.refresh_from_db()  # queued once its row committed: a broker that did not answer failed it
    if report.status == JobStatus.FAILED:  # nothing could be queued: the broker did not answer
        messages.error(request, report.error)
        page = page_of(request, report_queryset())
        return render(request, "reports/report_list.html", {
            "form": form, "page": page, "rows": _rows(page), "workers": workers_alive()}, status=503)
    messages.success(request, f"Report {report.pk} asked for: {report_scope_of(report).label}.")
    return redirect(report)


@login_required
def report_detail(request, report_id: int):
    report = _report_or_404(report_id)
    return render(request, "reports/report_detail.html", _progress_context(report))


@login_required
def report_progress(request, report_id: int):
    return render(request, "reports/_report_progress.html", _progress_context(_report_or_404(report_id)))


def _progress_context(report) -> dict:
    state = report_state(report)
    return {"report": report, "state": state, "scope": report_scope_of(report),
            "no_worker": state.status == JobStatus.QUEUED and not workers_alive()}


@login_required
def report_download(request, report_id: int):
    report = _report_or_404(report_id)
    content = report_content(report=report) if report.status == JobStatus.DONE else None
    if content is None:
        messages.error(request, f"Report {report.pk} has no PDF: it is {report_state(report).status}"
                                f"{' and was removed by retention' if report.pruned_at else ''}.")
        return redirect(report)
    return pdf_response(content, report_id=report.pk)


@login_required
def report_preview(request):
    """The report of a scope (?team=, ?service=&hops=) as the page the PDF prints, drawn in the browser."""
    try:
        scope = scope_from_query(request.GET)
    except Invalid as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(report_html(report=None, data=report_data(scope=scope), for_print=False,
                                    requested_by=request.user.get_username()))
