"""Report exports over the API: the Mermaid bundle of a scope, as one Markdown file or zipped with its
diagrams. Thin: read the scope, read the report data, build the bundle, answer with the file."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from core.api import JSON, NOT_ACCEPTABLE, refusal
from core.renderers import FileResponses, MarkdownRenderer, ZipRenderer, file_response

from ..bundle import MARKDOWN_NAME, bundle_markdown, bundle_zip
from ..scopes import scope_from_query
from ..selectors import ReportData, report_data

SCOPE_PARAMETERS = [
    OpenApiParameter("team", str, description="Only this team's services and the interactions that touch them."),
    OpenApiParameter("service", str, description="Only this service and its neighbours within `hops` "
                                                 "(not with team)."),
    OpenApiParameter("hops", {"type": "integer", "minimum": 1, "maximum": 6},
                     description="With service: how far to look (1-6, default 1)."),
]
REFUSED = {(406, JSON): NOT_ACCEPTABLE,
           (422, JSON): refusal("A bad scope: each error names its parameter in `pointer`.")}


class BundleView(FileResponses, APIView):
    """A file built from the report data of the scope the query names, in the media type of its renderer;
    a refusal is JSON."""

    filename = ""

    def get(self, request):
        data = report_data(scope=scope_from_query(request.query_params))
        return file_response(self.body(data), filename=self.filename)

    def body(self, data: ReportData) -> bytes:
        raise NotImplementedError


class MermaidReportView(BundleView):
    """The report of a scope as Markdown, with its topology and flows as Mermaid blocks."""

    renderer_classes, filename = [MarkdownRenderer], MARKDOWN_NAME

    @extend_schema(parameters=SCOPE_PARAMETERS, operation_id="exports_mermaid_report",
                   responses={(200, "text/markdown"): OpenApiTypes.STR, **REFUSED})
    def get(self, request):
        return super().get(request)

    def body(self, data: ReportData) -> bytes:
        return bundle_markdown(data).encode()


class MermaidZipView(BundleView):
    """The same report zipped with each diagram as a .mmd file (diagrams/)."""

    renderer_classes, filename = [ZipRenderer], "switchboard-report.zip"

    @extend_schema(parameters=SCOPE_PARAMETERS, operation_id="exports_mermaid_zip",
                   responses={(200, "application/zip"): OpenApiTypes.BINARY, **REFUSED})
    def get(self, request):
        return super().get(request)

    def body(self, data: ReportData) -> bytes:
        return bundle_zip(data)
