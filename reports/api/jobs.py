"""Report API: ask for a PDF report of a scope (202 with the job), follow it, list past ones, download."""
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import JSON, NOT_ACCEPTABLE, detail
from core.choices import JobStatus
from core.renderers import FileResponses, PdfRenderer, file_response
from topology.authentication import api_actor

from ..job_selectors import report_content, report_queryset
from ..scopes import scope_from_body
from ..services import report_request
from .serializers import ReportRequestSerializer, ReportSerializer


class NotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_ready"


class Pruned(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "pruned"


class ReportViewSet(FileResponses, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """PDF architecture reports. Every signed-in user and every team token may read the registry, so
    each may ask for, follow and download reports of any scope."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        return report_queryset()

    @extend_schema(request=ReportRequestSerializer,
                   responses={202: ReportSerializer, 503: OpenApiResponse(
                       ReportSerializer, description="the broker did not answer: the report is failed, `error` says why")})
    def create(self, request):
        """Queue a report of the whole system, a team, or a service with its neighbours; poll `url`
        until `status` is done (then fetch `download`) or failed (then read `error`)."""
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": "the body must be a JSON object"})
        report = report_request(actor=api_actor(request), scope=scope_from_body(request.data))
        report.refresh_from_db()  # queued once its row committed: a broker that did not answer failed it
        if report.status == JobStatus.FAILED:  # nothing could be queued: the broker did not answer
            return Response({**self.get_serializer(report).data, "detail": report.error},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(self.get_serializer(report).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              (404, JSON): detail("No report has this id."),
                              (406, JSON): NOT_ACCEPTABLE,
                              (409, JSON): detail("not done yet, or failed"),
                              (410, JSON): detail("removed by retention")})
    @action(detail=True, methods=["get"], renderer_classes=[PdfRenderer])
    def download(self, request, pk=None):
        """The PDF of a finished report."""
        report = self.get_object()
        if report.pruned_at:
            raise Pruned(f"report {report.pk} was removed after REPORT_RETENTION_DAYS; ask for a new one")
        content = report_content(report=report) if report.status == JobStatus.DONE else None
        if content is None:
            raise NotReady(f"report {report.pk} is {report.status}; download it once its status is done")
        return file_response(content, filename=pdf_name(report.pk))


def pdf_response(content: bytes, *, report_id: int) -> HttpResponse:
    """The PDF as the report page downloads it (a plain Django response)."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_name(report_id)}"'
    return response


def pdf_name(report_id: int) -> str:
    return f"switchboard-report-{report_id}.pdf"
