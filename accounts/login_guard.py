"""Brute-force protection for logging in, per username and per client address.

Failed log-ins are counted in the shared cache (Redis when REDIS_URL is set, so every
worker sees the same counts) over LOGIN_FAILURE_WINDOW. From the limit on, each
further failure locks that username or address out for twice as long as the last
(LOGIN_LOCKOUT, doubling, at most LOGIN_LOCKOUT_MAX). A locked-out attempt is answered
429 with Retry-After before the password is checked, so it tells nothing about it.
A successful log-in clears its username's count; an address's count only expires, or
one account the attacker owns would wipe the trail of guesses at others.

The lockout is enforced where the password is checked (accounts.backends, which every
log-in path goes through: the JWT endpoint, the log-in page, the admin), on the
username being authenticated; LoginLockedOut becomes the 429. The middleware only
answers early, from its own reading of the body: a guarded body it cannot read is a
400, so no body the views would read differently slips past it.
"""

from __future__ import annotations

import hashlib
import math
import time

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from iotsite.middleware import SyncAndAsyncMiddleware

TOO_MANY = "Too many failed log-in attempts. Try again in {seconds} seconds."


class LoginLockedOut(Throttled):
    """Raised by the authentication backend for a locked-out username or address: a 429
    with Retry-After from DRF's views, and from LoginGuardMiddleware for Django's forms."""

    def __init__(self, seconds: int):
        super().__init__(detail=TOO_MANY.format(seconds=seconds))
        self.wait = seconds


class UnreadableLogin(Exception):
    pass


def client_address(request) -> str:
    # DRF's rule, so the throttles and this guard agree behind proxies (NUM_PROXIES).
    return BaseThrottle().get_ident(request) or "unknown"


def _subjects(*, username: str | None, address: str | None) -> list[tuple[str, int]]:
    """(cache key stem, failure limit) of each thing a failure counts against."""
    subjects = []
    if username:
        # Hashed: any string may be typed as a username, and cache keys must be tame.
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        subjects.append((f"login:username:{digest}", settings.LOGIN_FAILURES_PER_USERNAME))
    if address:
        subjects.append((f"login:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS))
    return subjects


def login_failure_record(*, username: str | None, address: str | None) -> None:
    window = int(settings.LOGIN_FAILURE_WINDOW.total_seconds())
    for stem, limit in _subjects(username=username, address=address):
        cache.add(f"{stem}:failures", 0, window)
        try:
            failures = cache.incr(f"{stem}:failures")
        except ValueError:  # expired between add and incr
            cache.set(f"{stem}:failures", failures := 1, window)
        if failures >= limit:
            lockout = min(
                settings.LOGIN_LOCKOUT.total_seconds() * 2 ** (failures - limit),
                settings.LOGIN_LOCKOUT_MAX.total_seconds(),
            )
            cache.set(f"{stem}:locked_until", time.time() + lockout, math.ceil(lockout))


def login_retry_after(*, username: str | None, address: str | None) -> int:
    """Seconds until this username and address may try again; 0 when they may now."""
    keys = [f"{stem}:locked_until" for stem, _limit in _subjects(username=username, address=address)]
    until = max(cache.get_many(keys).values(), default=0)
    return max(0, math.ceil(until - time.time()))


def login_success_record(*, username: str | None) -> None:
    for stem, _limit in _subjects(username=username, address=None):
        cache.delete_many([f"{stem}:failures", f"{stem}:locked_until"])


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username")
    login_failure_record(
        username=username if isinstance(username, str) else None,
        address=client_address(request) if request is not None else None,
    )


def _on_logged_in(sender, request, user, **kwargs) -> None:
    login_success_record(username=user.get_username())


def connect_signals() -> None:
    user_login_failed.connect(_on_login_failed, dispatch_uid="login_guard_failed")
    user_logged_in.connect(_on_logged_in, dispatch_uid="login_guard_logged_in")


def submitted_username(request) -> str | None:
    """The username a log-in POST carries, from a JSON body or a form; UnreadableLogin
    when the body is JSON this guard cannot read (another charset, a lone surrogate):
    the view's own parser might read it, and the guard would be bypassed."""
    if (request.content_type or "").lower() == "application/json":
        try:
            document = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise UnreadableLogin from None
        username = document.get("username") if isinstance(document, dict) else None
        if isinstance(username, int | float) and not isinstance(username, bool):
            username = str(username)  # DRF's CharField reads a number as its digits
    else:
        username = request.POST.get("username")
    return username if isinstance(username, str) else None


def locked_out_response(request, seconds: int) -> HttpResponse:
    message = TOO_MANY.format(seconds=seconds)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(
            f'<!doctype html><title>Too many attempts</title><p role="alert">{message}</p>'
            f'<p><a href="{request.path}">Back to log-in</a></p>',
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


class LoginGuardMiddleware(SyncAndAsyncMiddleware):
    """Refuse log-in POSTs from a locked-out username or address early (LOGIN_GUARD_PATHS),
    and turn the backend's LoginLockedOut into a 429 for Django's log-in forms."""

    def call(self, request):
        if not self._guards(request):
            return self.get_response(request)
        return self._before(request) or self.get_response(request)

    async def acall(self, request):
        if not self._guards(request):
            return await self.get_response(request)
        refused = await sync_to_async(self._before)(request)
        if refused:
            return refused
        return await self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, LoginLockedOut):
            return locked_out_response(request, int(exception.wait or 1))
        return None

    @staticmethod
    def _guards(request) -> bool:
        return request.method == "POST" and request.path in settings.LOGIN_GUARD_PATHS

    @staticmethod
    def _before(request) -> HttpResponse | None:
        try:
            username = submitted_username(request)
        except UnreadableLogin:
            return unreadable_response(request)
        seconds = login_retry_after(username=username, address=client_address(request))
        return locked_out_response(request, seconds) if seconds else None


def unreadable_response(request) -> HttpResponse:
    message = "A log-in body must be UTF-8 JSON (or a form) that this server can read."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(f'<!doctype html><title>Bad request</title><p role="alert">{message}</p>', status=400)
