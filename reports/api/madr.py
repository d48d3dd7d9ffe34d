"""Decision records as MADR files over the API: one record, or all of them zipped as docs/decisions/.

Every signed-in user and every team token may read decisions (as on the decision pages), so each may
download them. The files are negotiated by their renderers (core.renderers); refusals stay JSON.
"""
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from core.api import JSON, NOT_ACCEPTABLE, detail
from core.inputs import shown
from core.renderers import FileResponses, MarkdownRenderer, ZipRenderer, file_response

from ..decision_records import decision_records, decisions_zip
from ..madr import DecisionRecord, madr_render

ZIP = "application/zip"
ZIP_NAME = "decisions.zip"
NUMBER = re.compile(r"[0-9]{1,9}")


class DecisionMadrView(FileResponses, APIView):
    """One decision record as a MADR Markdown file, NNNN-title-slug.md."""

    renderer_classes = [MarkdownRenderer]

    @extend_schema(
        operation_id="decisions_madr",
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH, description="The decision's number.")],
        responses={(200, "text/markdown"): OpenApiTypes.STR, (404, JSON): detail("No decision has this number."),
                   (406, JSON): NOT_ACCEPTABLE},
    )
    def get(self, request, number: str):
        record = record_numbered(number=number)
        return file_response(madr_render(record), filename=record.file)


class DecisionsZipView(FileResponses, APIView):
    """Every decision record as docs/decisions/NNNN-title-slug.md, with docs/decisions/README.md, an index."""

    renderer_classes = [ZipRenderer]

    @extend_schema(operation_id="exports_decisions_zip",
                   responses={(200, ZIP): OpenApiTypes.BINARY, (406, JSON): NOT_ACCEPTABLE})
    def get(self, request):
        return file_response(decisions_zip(decision_records()), filename=ZIP_NAME)


def record_numbered(*, number: str) -> DecisionRecord:
    """The record of the decision numbered so; a 404 that names the number for anything else."""
    records = decision_records(numbers=[int(number)]) if NUMBER.fullmatch(number) else []
    if not records:
        raise exceptions.NotFound(f"number: no decision is numbered {shown(number)}; "
                                  "the number is the 7 of ADR-0007")
    return records[0]
