"""The device ingest route, in front of Django: POST /api/telemetry/ and the
ThingsBoard-compatible POST /api/v1/{token}/telemetry without Django's middleware,
DRF's request and the browsable API.

A device's POST needs none of the session, CSRF, messages or content negotiation that a
Django request pays for on every call (docs/benchmarks.md, "Device ingest path"). This
route answers it with the very functions the DRF views use: the token lookup
(devices.authentication), the device rate (iotsite.throttling), the body rules,
parsing and storage (telemetry.http.ingest_device_body, then group commit). It answers
what it is sure of, a stored body (201, or 200 for ThingsBoard) or a body refused
(4xx JSON, as the API answers), and hands everything else to Django unchanged: no or a
bad token, a device over its rate, a host not allowed, plain HTTP where HTTPS is
required, any other method or path. Those answers therefore come from one place.

Wrapped around Django's WSGI application (iotsite/wsgi.py) and its ASGI application
(iotsite/asgi.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import LimitedStream
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import AuthenticationFailed

from devices.authentication import token_of_authorization
from devices.models import Device
from devices.selectors import device_by_token
from iotsite.errors import DomainError
from iotsite.exceptions import DATABASE_UNAVAILABLE, database_unavailable
from iotsite.log import REQUEST_ID_HEADER, access_log, request_id_for, request_id_var
from iotsite.throttling import device_rate_allows
from telemetry.http import DeviceBody, ingest_device_body

logger = logging.getLogger(__name__)

# Called with (route name, method, status, seconds) for every request this route
# answers, so that what counts Django's requests (protocols/metrics.py) counts these.
AnsweredHook = Callable[[str, str, int, float], None]
_answered: list[AnsweredHook] = []

TELEMETRY_PATH = "/api/telemetry/"
THINGSBOARD_PATH = re.compile(r"^/api/v1/([^/]+)/telemetry$")
THINGSBOARD_ROUTE = "/api/v1/<str:device_token>/telemetry"  # logged instead of the path, which holds the token


def on_answered(hook: AnsweredHook) -> AnsweredHook:
    if hook not in _answered:
        _answered.append(hook)
    return hook


@dataclass(frozen=True)
class Route:
    path_token: str | None  # ThingsBoard's device token, in the path

    @property
    def thingsboard(self) -> bool:
        return self.path_token is not None

    @property
    def name(self) -> str:
        """Its name in telemetry/urls.py."""
        return "thingsboard-telemetry" if self.thingsboard else "telemetry"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    request_id: str
    retry_after: str | None = None


def route_of(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    if path == TELEMETRY_PATH:
        return Route(path_token=None)
    match = THINGSBOARD_PATH.match(path)
    return Route(path_token=match.group(1)) if match else None


def device_of(route: Route, *, authorization: bytes, host: str, secure: bool) -> Device | None:
    """The device, authenticated and within its rate; None when Django should answer."""
    if (settings.SECURE_SSL_REDIRECT and not secure) or settings.USE_X_FORWARDED_HOST or not host_allowed(host):
        return None
    if route.path_token is not None:
        token: str | None = route.path_token
    else:
        try:
            token = token_of_authorization(authorization)
        except AuthenticationFailed:
            return None
    if token is None:
        return None
    device = device_by_token(token=token)
    if device is None or not device_rate_allows(device):
        return None
    return device


def host_allowed(host: str) -> bool:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django allows
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def is_secure(scheme: str, header: Callable[[str], str | None]) -> bool:
    """As Django's request.is_secure(): the scheme, or the TLS proxy's header when
    SECURE_PROXY_SSL_HEADER trusts one (header: a META name's value)."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, expected = proxy_header
        value = header(name)
        if value is not None:
            return value.split(",")[0].strip() == expected
    return scheme == "https"


def answer(route: Route, body: DeviceBody, *, authorization: bytes, host: str, secure: bool, request_id: str | None):
    """The answer to a device's POST, or None for Django to give it. Runs in a thread
    of its own (it may wait for the group commit) between Django's request signals, so
    database connections are kept or closed as for any request."""
    started = time.perf_counter()
    signals.request_started.send(sender=Route)
    request_id = request_id_for(request_id)
    context = request_id_var.set(request_id)
    retry_after = None
    try:
        try:
            device = device_of(route, authorization=authorization, host=host, secure=secure)
            if device is None:
                return None
            result = ingest_device_body(device, body, json_content_type=not route.thingsboard)
        except DomainError as error:
            status, payload = error.status, orjson.dumps(error.as_json())
        except Exception as error:
            if database_unavailable(error):
                # A failover or restart: nothing was stored, and the device tries again.
                logger.warning("database unavailable: %s", error)
                status, payload = 503, orjson.dumps({"detail": DATABASE_UNAVAILABLE})
                retry_after = str(settings.DB_RETRY_AFTER)
            else:
                logger.exception("device ingest failed")
                status, payload = 500, orjson.dumps({"detail": "A server error occurred."})
        else:
            # ThingsBoard answers an empty 200.
            status, payload = (200, b"") if route.thingsboard else (201, orjson.dumps(result.as_json()))
        seconds = time.perf_counter() - started
        for hook in _answered:
            hook(route.name, "POST", status, seconds)
        if settings.LOG_REQUESTS:
            path = THINGSBOARD_ROUTE if route.thingsboard else TELEMETRY_PATH
            extra = {"method": "POST", "path": path, "status": status, "duration_ms": round(seconds * 1000, 2)}
            access_log.info("POST %s %s", path, status, extra=extra)
        return Answer(status, payload, request_id, retry_after)
    finally:
        request_id_var.reset(context)
        signals.request_finished.send(sender=Route)


def response_headers(reply: Answer) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(reply.body))),
        (REQUEST_ID_HEADER, reply.request_id),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if reply.retry_after is not None:
        headers.append(("Retry-After", reply.retry_after))
    return headers


REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WsgiDeviceRoute:
    """The route in front of Django's WSGI application."""

    def __init__(self, django_app: Callable[..., Iterable[bytes]]):
        self.django_app = django_app

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        route = route_of(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        if route is None:
            return self.django_app(environ, start_response)
        body = DeviceBody(
            content_type=environ.get("CONTENT_TYPE", ""),
            content_length=environ.get("CONTENT_LENGTH"),
            idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"),
            # As Django does: never read past Content-Length (none: an empty body).
            read=LimitedStream(environ["wsgi.input"], _content_length(environ)).read,
        )
        reply = answer(
            route,
            body,
            authorization=environ.get("HTTP_AUTHORIZATION", "").encode("latin-1"),
            host=environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            secure=is_secure(environ.get("wsgi.url_scheme", "http"), environ.get),
            request_id=environ.get("HTTP_X_REQUEST_ID"),
        )
        if reply is None:
            return self.django_app(environ, start_response)  # nothing of the body was read
        start_response(f"{reply.status} {REASONS.get(reply.status, 'Error')}", response_headers(reply))
        return [reply.body]


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # ingest answers "Content-Length is not a number."


class AsgiDeviceRoute:
    """The route in front of Django's ASGI application. The body is read here, then
    one hop to a thread answers (token lookup, rate, parsing, the group commit's wait)."""

    def __init__(self, django_app, *, threads: int | None = None):
        self.django_app = django_app
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None

    async def __call__(self, scope, receive, send) -> None:
        route = route_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            return await self.django_app(scope, receive, send)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        raw = await self._read_body(receive, headers)
        chunks = [raw]

        def read(size: int) -> bytes:
            return chunks.pop()[:size] if chunks else b""

        body = DeviceBody(
            content_type=headers.get("content-type", ""),
            content_length=headers.get("content-length"),
            idempotency_key=headers.get("idempotency-key"),
            read=read,
        )

        def meta(name: str) -> str | None:  # a META name (HTTP_X_FORWARDED_PROTO) to its header
            return headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())

        reply = await asyncio.get_running_loop().run_in_executor(
            self._executor_started(),
            lambda: answer(
                route,
                body,
                authorization=headers.get("authorization", "").encode("latin-1"),
                host=headers.get("host", ""),
                secure=is_secure(scope.get("scheme", "http"), meta),
                request_id=headers.get(REQUEST_ID_HEADER.lower()),
            ),
        )
        if reply is None:
            return await self.django_app(scope, _replay(raw, receive), send)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(n.lower().encode(), v.encode()) for n, v in response_headers(reply)],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    @staticmethod
    async def _read_body(receive, headers: dict[str, str]) -> bytes:
        """The body, but no more than one byte past the limit (ingest then answers 413)."""
        limit = settings.TELEMETRY_MAX_BODY_BYTES + 1
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) >= limit:
            return b""  # refused on its declared length, unread
        parts: list[bytes] = []
        size = 0
        more = True
        while more and size < limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more = message.get("more_body", False)
        return b"".join(parts)

    def _executor_started(self) -> ThreadPoolExecutor:
        # Threads wait for the group commit, not for the CPU: many per process, so that
        # many requests share one commit.
        if self._executor is None:
            threads = self._threads or settings.DEVICE_ROUTE_THREADS
            self._executor = ThreadPoolExecutor(threads, thread_name_prefix="device-route")
        return self._executor


def _replay(body: bytes, receive):
    """The body read so far, then the connection's own messages (its disconnect). Body
    left unread (a body past the limit) is skipped: Django has its body already."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        while (message := await receive())["type"] == "http.request":
            pass
        return message

    return replay
