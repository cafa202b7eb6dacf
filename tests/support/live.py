"""Live push helpers: WebSocket clients against the real ASGI application, readings to
push, and a thread or event loop of a test's own beside the browser tests' Playwright."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from iotsite.asgi import application
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest


def in_own_thread(function, *args, **kwargs):
    """Call a function in a thread of its own and return what it returns.

    The browser tests' session-wide Playwright keeps an event loop marked as running
    in the main thread, where pytest-asyncio (or a second Playwright) could then start
    none; a thread of the test's own leaves them both alone.
    """
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed to the test's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def in_own_loop(test):
    """An async test, run in an event loop of its own thread (see in_own_thread)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        in_own_thread(asyncio.run, test(*args, **kwargs))

    return run


# The origin validator wants an Origin among ALLOWED_HOSTS, as a browser sends.
ORIGIN = (b"origin", b"http://127.0.0.1")
RECEIVE_TIMEOUT = 2  # seconds; a message that comes at all comes within milliseconds


def access_token_for(user, *, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


def live_communicator(*, path: str = "/ws/live/", cookie: str | None = None, token: str | None = None):
    headers = [ORIGIN]
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    if token is not None:
        path = f"{path}?token={token}"
    return WebsocketCommunicator(application, path, headers=headers)


async def connected(**kwargs) -> WebsocketCommunicator:
    communicator = live_communicator(**kwargs)
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator


async def subscribe(communicator: WebsocketCommunicator, device) -> dict:
    await communicator.send_json_to({"action": "subscribe", "device": device})
    return await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)


async def close_code(communicator: WebsocketCommunicator) -> int | None:
    output = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
    assert output["type"] == "websocket.close", output
    return output.get("code")


def readings_at(count: int, *, sensor: str = "temperature", start: datetime | None = None) -> list[ParsedReading]:
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    return [ParsedReading(sensor, start + timedelta(seconds=i), float(i)) for i in range(count)]


def store_readings(device, readings: Sequence[ParsedReading]) -> None:
    readings_ingest(device=device, readings=readings, received_at=datetime.now(UTC))


store_readings_async = database_sync_to_async(store_readings)
