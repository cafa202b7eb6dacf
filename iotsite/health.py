"""Probes for load balancers and process supervisors.

/healthz says the process answers (liveness: restart it when this fails); /readyz says
whether it can do useful work (readiness: send it traffic only when this passes).

Probes are anonymous and the path is public, so /readyz names what failed but keeps
the error text (host names, ports, driver messages) for the log and for staff users.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# A probe must answer well within the balancer's own timeout, even when a peer hangs.
PROBE_TIMEOUT_SECONDS = 2


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def database_error() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means not ready, whatever the driver raises
        connection.close()  # a broken connection must not be reused by the next request
        return f"{type(error).__name__}: {error}".strip()
    return None


def redis_error() -> str | None:
    if not settings.REDIS_URL:
        return None  # the in-process cache and channel layer are always there
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


def readyz(request) -> JsonResponse:
    errors = {"database": database_error(), "redis": redis_error()}
    for name, error in errors.items():
        if error is not None:
            logger.error("readyz: %s: %s", name, error)
    user = getattr(request, "user", None)
    detailed = user is not None and user.is_authenticated and user.is_staff
    checks = {name: "ok" if error is None else error if detailed else "failed" for name, error in errors.items()}
    if not settings.REDIS_URL:
        checks["redis"] = "not configured"
    failed = sorted(name for name, error in errors.items() if error is not None)
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
