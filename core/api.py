"""API-wide pieces: the exception handler that gives each refusal its HTTP answer, and the shapes of
those answers for the OpenAPI schema.

Every refusal is JSON (whatever Accept said, core.renderers), in one of three shapes:

- `Refusal`, {"detail", "errors": [{"pointer", "message"}]}: core.errors' Invalid (422) and Forbidden (403);
- `Detail`, {"detail"}: Conflict (409) and DRF's own refusals (401, 403, 404, 405, 406, 413, 415, 503);
- an object of parameter or field names to messages: DRF's ValidationError (400). A 400 from a body
  that cannot be read is a Detail.
"""
from django.http import JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Refused

JSON = "application/json"


def not_found(request, exception):
    """handler404: a path under /api/ that no route matches is answered in JSON like the API's other
    404s ({"detail"}), not with the HTML page (e.g. /api/v1/services/%C2%84/, outside the route's pattern)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response(exc.body(), status=exc.status)
    return drf_exception_handler(exc, context)


class RefusalErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="Where: a JSON pointer into the request body (/0/spec/probes/0/target), "
                                              "or the name of a query parameter; \"\" for the request as a whole.")
    message = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    """A refusal that says where each problem is (core.errors: Invalid 422, Forbidden 403)."""

    detail = serializers.CharField()
    errors = RefusalErrorSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    """A refusal that only says what went wrong."""

    detail = serializers.CharField()


def refusal(description: str) -> OpenApiResponse:
    """A documented {"detail", "errors": [{"pointer", "message"}]} answer (Invalid, Forbidden)."""
    return OpenApiResponse(RefusalSerializer, description=description)


def detail(description: str) -> OpenApiResponse:
    """A documented {"detail"} answer (Conflict and DRF's refusals)."""
    return OpenApiResponse(DetailSerializer, description=description)


def field_errors(description: str) -> OpenApiResponse:
    """A documented 400 of DRF's ValidationError: each bad field or parameter to its message(s)."""
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description)


NOT_ACCEPTABLE = detail("Accept admits none of the media types this answers with (errors are JSON all the same).")
