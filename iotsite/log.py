"""Request ids and JSON log lines.

Every request gets an id: the caller's X-Request-ID when it is sane, a new one
otherwise. It is answered in X-Request-ID and stamped on every log line written while
the request runs, so one id finds a request's lines across the proxy, every worker and
the database log. With LOG_FORMAT=json each line is one JSON object.

Secrets never reach a log line: device tokens (in ThingsBoard's `/api/v1/{token}/...`
paths, or anywhere as `iotd_...`) and JWTs (`/ws/live/?token=...`, or anywhere) are
replaced by `***`. Our formatters mask every line they write, whichever logger wrote
it; SecretMaskFilter masks at the source the loggers that carry request paths and
have handlers of their own (uvicorn's and gunicorn's access and error logs), installed
by configure_logging, Django's LOGGING_CONFIG.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings

from iotsite.middleware import SyncAndAsyncMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it cannot forge log lines or blow up their size.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

MASK = "***"
_SECRETS = [
    # ThingsBoard's device API carries the device token as the path segment after v1
    # (a route such as /api/v1/<str:device_token>/telemetry is left as it is).
    (re.compile(r"(/api/v1/)(?!<)[^/?#\s\"']+"), r"\1" + MASK),
    # ?token=<access JWT> on /ws/live/, and any other credential in a query string
    # (ThingSpeak's api_key, InfluxDB's p: device tokens, protocols/authentication.py).
    (
        re.compile(r"([?&](?:token|access|refresh|access_token|api_key|p)=)[^&#\s\"']*", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (re.compile(r"iotd_[A-Za-z0-9_-]{8,}"), MASK),  # a device token (devices.tokens.TOKEN_PREFIX)
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),  # a JWT: base64url of "{" twice
]
# Loggers whose records carry request paths: masked at the source, before any handler
# (uvicorn's and gunicorn's come with handlers and formatters of their own).
MASKED_LOGGERS = [
    "django.request",
    "django.server",
    "iotsite.request",
    "uvicorn.access",
    "uvicorn.error",
    "gunicorn.access",
    "gunicorn.error",
]


def mask_secrets(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _masked(value):
    return mask_secrets(value) if isinstance(value, str) else value


class SecretMaskFilter(logging.Filter):
    """Mask device tokens and JWTs in a record's message and arguments (and `path`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):  # gunicorn's access log passes its atoms so
            record.args = {key: _masked(value) for key, value in record.args.items()}
        path = getattr(record, "path", None)  # the extra of iotsite.request's lines
        if isinstance(path, str):
            setattr(record, "path", mask_secrets(path))  # noqa: B010 (an extra, unknown to LogRecord's type)
        return True


def configure_logging(config: dict) -> None:
    """Django's LOGGING_CONFIG: the dictConfig, plus the masking filter on loggers that
    others (uvicorn, gunicorn) gave handlers: naming them in LOGGING would drop those."""
    logging.config.dictConfig(config)
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, SecretMaskFilter) for existing in logger.filters):
            logger.addFilter(SecretMaskFilter())


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


class TextFormatter(logging.Formatter):
    """Django's text lines, with secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras;
    secrets masked (an extra such as django.request's `request` prints its path)."""

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
        return mask_secrets(json.dumps(line, default=str))
