"""Request rates per device token, per user and per address.

The counters live in the default cache: Redis when REDIS_URL is set, so a limit holds
across every worker; in-process otherwise. Rates are settings (THROTTLE_DEVICE,
THROTTLE_USER, THROTTLE_ANON); past one, DRF answers 429 with Retry-After. The
log-in and sign-up pages are Django views, outside DRF: `throttle_form_posts` counts
their POSTs per address (THROTTLE_FORMS), each of which may cost an Argon2 hash.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.utils.html import escape
from rest_framework import throttling

from devices.models import Device


def is_device(request) -> bool:
    return isinstance(request.auth, Device)


class DeviceRateThrottle(throttling.SimpleRateThrottle):
    """Keyed on the device, so a device's rate is the same whichever worker it hits,
    and a rotated token does not reset it."""

    scope = "device"

    def get_cache_key(self, request, view) -> str | None:
        if not is_device(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(throttling.UserRateThrottle):
    """Keyed on the user; devices have their own throttle and anonymous callers theirs."""

    def get_cache_key(self, request, view) -> str | None:
        if is_device(request) or not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Keyed on the client address (the proxy's X-Forwarded-For when NUM_PROXIES says so)."""


class FormRateThrottle(throttling.AnonRateThrottle):
    """POSTs of the log-in and sign-up pages, per address, signed in or not."""

    scope = "forms"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle_form_posts(view):
    """429 with Retry-After for a POST past the address's THROTTLE_FORMS rate."""

    @wraps(view)
    def throttled(request, *args, **kwargs):
        if request.method == "POST":
            throttle = FormRateThrottle()
            if not throttle.allow_request(request, None):
                seconds = max(1, round(throttle.wait() or 1))
                message = f"Too many attempts from your address. Try again in {seconds} seconds."
                response = HttpResponse(
                    f'<!doctype html><title>Too many attempts</title><p role="alert">{escape(message)}</p>'
                    f'<p><a href="{escape(request.path)}">Back</a></p>',
                    status=429,
                )
                response["Retry-After"] = str(seconds)
                return response
        return view(request, *args, **kwargs)

    return throttled
