"""Decision records as MADR files over the API: one record, or all of them zipped as docs/decisions/.

Every signed-in user and every team token may read decisions (as on the decision pages), so each may
download them. The files are plain HttpResponses, past content negotiation; refusals stay JSON.
"""
import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions

from core.inputs import shown
from topology.api.diagrams import MermaidView

from ..decision_records import decision_records, decisions_zip
from ..madr import DecisionRecord, madr_render

MARKDOWN = "text/markdown; charset=utf-8"
ZIP = "application/zip"
ZIP_NAME = "decisions.zip"
NUMBER = re.compile(r"[0-9]{1,9}")


class DownloadView(MermaidView):
    """A file download: a refusal is JSON whatever the client accepts (text/markdown, application/zip)."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class DecisionMadrView(DownloadView):
    """One decision record as a MADR Markdown file, NNNN-title-slug.md."""

    @extend_schema(
        operation_id="decisions_madr",
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH, description="The decision's number.")],
        responses={(200, "text/markdown"): OpenApiTypes.STR,
                   404: OpenApiResponse(description="No decision has this number.")},
    )
    def get(self, request, number: str):
        record = record_numbered(number=number)
        return attachment(madr_render(record).encode(), content_type=MARKDOWN, filename=record.file)


class DecisionsZipView(DownloadView):
    """Every decision record as docs/decisions/NNNN-title-slug.md, with docs/decisions/README.md, an index."""

    @extend_schema(operation_id="exports_decisions_zip", responses={(200, ZIP): OpenApiTypes.BINARY})
    def get(self, request):
        return attachment(decisions_zip(decision_records()), content_type=ZIP, filename=ZIP_NAME)


def record_numbered(*, number: str) -> DecisionRecord:
    """The record of the decision numbered so; a 404 that names the number for anything else."""
    records = decision_records(numbers=[int(number)]) if NUMBER.fullmatch(number) else []
    if not records:
        raise exceptions.NotFound(f"number: no decision is numbered {shown(number)}; "
                                  "the number is the 7 of ADR-0007")
    return records[0]


def attachment(body: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
