"""Report exports over the API: the Mermaid bundle of a scope, as one Markdown file or zipped with its
diagrams. Thin: read the scope, read the report data, build the bundle, answer with the file."""
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from topology.api.diagrams import MermaidView

from ..bundle import MARKDOWN_NAME, bundle_markdown, bundle_zip
from ..scopes import scope_from_query
from ..selectors import ReportData, report_data

SCOPE_PARAMETERS = [
    OpenApiParameter("team", str, description="Only this team's services and the interactions that touch them."),
    OpenApiParameter("service", str, description="Only this service and its neighbours within `hops` "
                                                 "(not with team)."),
    OpenApiParameter("hops", int, description="With service: how far to look (1-6, default 1)."),
]
REFUSED = {422: OpenApiResponse(description="A bad scope: each error names its parameter in `pointer`.")}


class BundleView(MermaidView):
    """A file built from the report data of the scope the query names (a plain HttpResponse, past
    content negotiation, as MermaidView answers)."""

    content_type = ""
    filename = ""

    def get(self, request):
        data = report_data(scope=scope_from_query(request.query_params))
        response = HttpResponse(self.body(data), content_type=self.content_type)
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response

    def body(self, data: ReportData) -> bytes:
        raise NotImplementedError

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # refusals are JSON, whatever Accept says


class MermaidReportView(BundleView):
    """The report of a scope as Markdown, with its topology and flows as Mermaid blocks."""

    content_type, filename = "text/markdown; charset=utf-8", MARKDOWN_NAME

    @extend_schema(parameters=SCOPE_PARAMETERS, operation_id="exports_mermaid_report",
                   responses={(200, "text/markdown"): OpenApiTypes.STR, **REFUSED})
    def get(self, request):
        return super().get(request)

    def body(self, data: ReportData) -> bytes:
        return bundle_markdown(data).encode()


class MermaidZipView(BundleView):
    """The same report zipped with each diagram as a .mmd file (diagrams/)."""

    content_type, filename = "application/zip", "switchboard-report.zip"

    @extend_schema(parameters=SCOPE_PARAMETERS, operation_id="exports_mermaid_zip",
                   responses={(200, "application/zip"): OpenApiTypes.BINARY, **REFUSED})
    def get(self, request):
        return super().get(request)

    def body(self, data: ReportData) -> bytes:
        return bundle_zip(data)
