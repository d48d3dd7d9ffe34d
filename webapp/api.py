"""API-wide pieces: the exception handler that maps domain errors to HTTP codes."""
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from topology.registration import (
    RegistrationConflict,
    RegistrationForbidden,
    RegistrationInvalid,
    RegistrationRejected,
)

UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_ENTITY


def exception_handler(exc, context):
    if isinstance(exc, RegistrationForbidden):
        return Response({"detail": str(exc), "errors": exc.errors}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, RegistrationInvalid):
        return Response({"detail": "the request is invalid", "errors": exc.errors}, status=UNPROCESSABLE)
    if isinstance(exc, RegistrationRejected):
        detail = f"{exc}; nothing was written (fail_on={exc.threshold})"
        return Response({"detail": detail, "offending": exc.offending}, status=UNPROCESSABLE)
    if isinstance(exc, RegistrationConflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
