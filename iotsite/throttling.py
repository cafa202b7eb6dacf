"""Request rates per device token, per user and per address.

The counters live in the default cache: Redis when REDIS_URL is set, so a limit holds
across every worker; in-process otherwise. Rates are settings (THROTTLE_DEVICE,
THROTTLE_USER, THROTTLE_ANON); past one, DRF answers 429 with Retry-After.
"""

from __future__ import annotations

from typing import Any, cast

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


class _DeviceCall:
    """What DeviceRateThrottle reads of a request: the device it authenticated."""

    def __init__(self, device: Device):
        self.auth = device


def device_rate_allows(device: Device) -> bool:
    """Count one request of the device against THROTTLE_DEVICE, as the API's throttle
    does (the same counter): False when past the rate (the API would answer 429)."""
    return DeviceRateThrottle().allow_request(cast(Any, _DeviceCall(device)), cast(Any, None))


class UserRateThrottle(throttling.UserRateThrottle):
    """Keyed on the user; devices have their own throttle and anonymous callers theirs."""

    def get_cache_key(self, request, view) -> str | None:
        if is_device(request) or not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Keyed on the client address (the proxy's X-Forwarded-For when NUM_PROXIES says so)."""
