"""API-wide pieces: the exception handler that gives each refusal its HTTP answer."""
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Refused


def exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response(exc.body(), status=exc.status)
    return drf_exception_handler(exc, context)
