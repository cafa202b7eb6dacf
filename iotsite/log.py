"""Request ids and JSON log lines.

Every request gets an id: the caller's X-Request-ID when it is sane, a new one
otherwise. It is answered in X-Request-ID and stamped on every log line written while
the request runs, so one id finds a request's lines across the proxy, every worker and
the database log. With LOG_FORMAT=json each line is one JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings

from iotsite.middleware import SyncAndAsyncMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it cannot forge log lines or blow up their size.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("iotsite.request")


def loggable_path(request) -> str:
    """The path, or its route when the path holds a secret (a device token in the URL)."""
    match = getattr(request, "resolver_match", None)
    if match is not None and any("token" in name for name in match.kwargs):
        return "/" + match.route
    return request.path


def request_id_for(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    """Set the request id, answer it, and log one line per request (LOG_REQUESTS)."""

    def call(self, request):
        token, started = self._begin(request)
        try:
            response = self.get_response(request)
            return self._end(request, response, started)
        finally:
            request_id_var.reset(token)

    async def acall(self, request):
        token, started = self._begin(request)
        try:
            response = await self.get_response(request)
            return self._end(request, response, started)
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _begin(request):
        request.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        return request_id_var.set(request.request_id), time.perf_counter()

    @staticmethod
    def _end(request, response, started: float):
        response[REQUEST_ID_HEADER] = request.request_id
        if settings.LOG_REQUESTS:
            path = loggable_path(request)
            access_log.info(
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Attributes every LogRecord has; anything else was passed in `extra` and is logged.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
