"""Every API error is JSON that names the field and the reason.

A database that cannot answer (a failover under way, a primary restarting, a lock or
statement timeout) is a 503 with Retry-After, never a 500: nothing was stored, and a
device that retries with its Idempotency-Key stores its readings exactly once. The API
answers it here, other views through DatabaseUnavailableMiddleware, and failures outside
any view (a session saved by middleware) through `server_error`, the handler500.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from iotsite.errors import DomainError
from iotsite.middleware import SyncAndAsyncMiddleware

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The database is not available at the moment; try again shortly."
# cannot execute ... in a read-only transaction: a primary demoted under a live connection.
_READ_ONLY_SQLSTATE = "25006"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


def database_unavailable(exc: BaseException | None) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, InternalError) and getattr(exc.__cause__, "sqlstate", None) == _READ_ONLY_SQLSTATE


def _retry_after() -> str:
    return str(settings.DB_RETRY_AFTER)


def json_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_json(), status=exc.status)
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return Response(
            {"detail": DATABASE_UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": _retry_after()},
        )
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    return exception_handler(exc, context)


def database_unavailable_response(request) -> HttpResponse:
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = _retry_after()
    return response


class DatabaseUnavailableMiddleware(SyncAndAsyncMiddleware):
    """The same 503 for pages and other views outside the API's exception handler."""

    def call(self, request):
        return self.get_response(request)

    async def acall(self, request):
        return await self.get_response(request)

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            logger.warning("database unavailable: %s", exception)
            return database_unavailable_response(request)
        return None


def server_error(request, *args, **kwargs) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so it is at hand."""
    if database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    return defaults.server_error(request, *args, **kwargs)
