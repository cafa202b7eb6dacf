"""HTTP long-polls: a device waits for its next command or shared attribute change.

Async views, so that under ASGI (uvicorn) a waiting device costs a coroutine, not a
thread or a worker: between looks at the database (every DEVICE_LONG_POLL_CHECK_S)
nothing runs for it. Every wait is bounded by DEVICE_LONG_POLL_MAX_S whatever the
device asks. Under WSGI Django runs an async view to completion in the worker's
thread, which a long-poll would hold for the whole wait: deploy routes these paths to
the ASGI server (deploy/nginx.conf, which make serve runs too).

Our paths answer 204 when nothing came in time; ThingsBoard's answer 408, as
ThingsBoard does (its SDKs poll again on 408).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import APIException

from devicecomm import selectors, services
from devicecomm.models import Command
from devices.models import Device
from devices.selectors import device_by_token
from iotsite.throttling import DeviceRateThrottle
from telemetry.selectors import iso_utc

T = TypeVar("T")
MILLISECONDS = 0.001
SECONDS = 1.0


def _error(status: int, detail: Any, *, field: str | None = None) -> JsonResponse:
    body = {field: [detail]} if field else {"detail": detail}
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Device realm="api"'
    return response


def _quiet(response: HttpResponse) -> HttpResponse:
    # Django's request logger writes the path of every 4xx, and ThingsBoard's paths hold the token.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def timeout_param(request: HttpRequest, *, unit: float) -> float:
    """The wait the device asked for (`timeout`, in `unit`), within DEVICE_LONG_POLL_MAX_S."""
    raw = request.GET.get("timeout")
    if raw is None:
        return settings.DEVICE_LONG_POLL_DEFAULT_S
    try:
        wanted = float(raw) * unit
    except ValueError:
        raise ValueError("timeout must be a number") from None
    if not wanted >= 0:  # also refuses NaN
        raise ValueError("timeout must be a number of 0 or more")
    return min(wanted, settings.DEVICE_LONG_POLL_MAX_S)


async def wait_for(check: Callable[[], Awaitable[T | None]], *, timeout_s: float) -> T | None:
    """check() now and every DEVICE_LONG_POLL_CHECK_S until it finds something or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        await asyncio.sleep(min(settings.DEVICE_LONG_POLL_CHECK_S, remaining))


class _DeviceCall:
    """What DeviceRateThrottle looks at: the device, as request.auth."""

    def __init__(self, device: Device):
        self.auth = device


def _over_rate(device: Device) -> HttpResponse | None:
    """429 past the device's rate (THROTTLE_DEVICE, shared with its other requests): a
    device polling with timeout=0 in a loop must not cost a database query each time."""
    throttle = DeviceRateThrottle()
    # DRF's signature wants a Request and a view; the throttle reads request.auth only.
    if throttle.allow_request(cast(Any, _DeviceCall(device)), cast(Any, None)):
        return None
    response = JsonResponse({"detail": "Request was throttled."}, status=429)
    response["Retry-After"] = str(max(1, round(throttle.wait() or 1)))
    return response


async def _authorised(token: str) -> tuple[Device | None, HttpResponse | None]:
    """The device, or the answer that refuses the request (401, 429)."""
    device = await _device_by_token(token=token)
    if device is None:
        return None, _error(401, "Invalid or revoked device token.")
    return device, await sync_to_async(_over_rate)(device)


def _header_token(request: HttpRequest) -> str | None:
    parts = request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "device":
        return None
    return parts[1]


_device_by_token = sync_to_async(device_by_token)
_take_command = sync_to_async(services.command_take_for_http)
_shared_changed_since = sync_to_async(selectors.shared_changed_since)


async def _next_command(device: Device, timeout_s: float) -> Command | None:
    return await wait_for(lambda: _take_command(device=device), timeout_s=timeout_s)


async def _next_shared_change(device: Device, timeout_s: float) -> dict[str, Any] | None:
    # Changes made while the device waits: it reads all its attributes when it starts.
    since = timezone.now()
    return await wait_for(lambda: _shared_changed_since(device=device, since=since), timeout_s=timeout_s)


def _command_for_device(command: Command) -> dict[str, Any]:
    return {
        "id": command.pk,
        "method": command.method,
        "params": command.params,
        "oneway": command.oneway,
        "expires_at": iso_utc(command.expires_at),
    }


# --- ours: Authorization: Device <token>, timeout in seconds, 204 when nothing came ----------


async def _device_and_timeout(request: HttpRequest) -> tuple[Any, float] | HttpResponse:
    """The device of the Authorization header and the poll's timeout, or the error answer."""
    device, refused = await _authorised(_header_token(request) or "")
    if refused is not None or device is None:
        return refused or _error(401, "Invalid or revoked device token.")
    try:
        return device, timeout_param(request, unit=SECONDS)
    except ValueError as error:
        return _error(400, str(error), field="timeout")


@csrf_exempt
@require_GET
async def device_commands_poll(request: HttpRequest) -> HttpResponse:
    """GET /api/device/commands/?timeout=<s>: the next command, or 204."""
    polled = await _device_and_timeout(request)
    if isinstance(polled, HttpResponse):
        return polled
    device, timeout_s = polled
    command = await _next_command(device, timeout_s)
    if command is None:
        return HttpResponse(status=204)
    return JsonResponse(_command_for_device(command))


@csrf_exempt
@require_GET
async def device_attribute_updates_poll(request: HttpRequest) -> HttpResponse:
    """GET /api/device/attributes/updates/?timeout=<s>: shared attributes changed meanwhile, or 204."""
    polled = await _device_and_timeout(request)
    if isinstance(polled, HttpResponse):
        return polled
    device, timeout_s = polled
    changed = await _next_shared_change(device, timeout_s)
    if changed is None:
        return HttpResponse(status=204)
    return JsonResponse(changed)


# --- ThingsBoard's: the token in the path, timeout in milliseconds, 408 when nothing came -----


@csrf_exempt
@require_http_methods(["GET", "POST"])
async def thingsboard_rpc(request: HttpRequest, device_token: str) -> HttpResponse:
    """GET /api/v1/{token}/rpc?timeout=<ms>: the next server-side RPC ({"id", "method",
    "params"}), or 408. POST: a client-side RPC, answered at once."""
    device, refused = await _authorised(device_token)
    if refused is not None or device is None:
        return _quiet(refused or _error(401, "Invalid or revoked device token."))
    if request.method == "POST":
        return _quiet(await _client_rpc(request, device))
    try:
        timeout_s = timeout_param(request, unit=MILLISECONDS)
    except ValueError as error:
        return _quiet(_error(400, str(error), field="timeout"))
    command = await _next_command(device, timeout_s)
    if command is None:
        return _quiet(HttpResponse(status=408))
    return JsonResponse({"id": command.pk, "method": command.method, "params": command.params})


async def _client_rpc(request: HttpRequest, device: Device) -> HttpResponse:
    try:
        call = orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        return _error(400, f"Not JSON: {error}", field="body")
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _error(400, 'Send {"method": <name>, "params": {...}}.', field="method")
    try:
        answer = await sync_to_async(services.client_rpc_answer)(
            device=device, method=call["method"], params=call.get("params")
        )
    except APIException as error:
        return _error(error.status_code, error.detail)
    return JsonResponse(answer)


@csrf_exempt
@require_GET
async def thingsboard_attribute_updates(request: HttpRequest, device_token: str) -> HttpResponse:
    """GET /api/v1/{token}/attributes/updates?timeout=<ms>: shared attributes changed meanwhile, or 408."""
    device, refused = await _authorised(device_token)
    if refused is not None or device is None:
        return _quiet(refused or _error(401, "Invalid or revoked device token."))
    try:
        timeout_s = timeout_param(request, unit=MILLISECONDS)
    except ValueError as error:
        return _quiet(_error(400, str(error), field="timeout"))
    changed = await _next_shared_change(device, timeout_s)
    if changed is None:
        return _quiet(HttpResponse(status=408))
    return JsonResponse(changed)
