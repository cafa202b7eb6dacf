"""`/ws/live/`: a browser's live view of its devices; `/ws/live/demo/`: the demo signals.

The browser sends `{"action": "subscribe" | "unsubscribe", "device": <id> | "*"}` and
gets `{"type": "subscribed" | "unsubscribed", "device": ...}` back, then the pushed
messages of live/push.py. Mistakes get `{"type": "error", "field", "detail"}`;
a frame over LIVE_MAX_MESSAGE_BYTES closes with 4400, more than
LIVE_MESSAGES_PER_SECOND (burst of twice that) closes with 4429, no valid session or
token closes with 4401 (at once, or when the token expires).

Memory stays bounded however slow the browser: pushed messages wait in a queue of
LIVE_CLIENT_QUEUE per connection, and when it is full newer ones are dropped and the
browser is told how many (`{"type": "dropped", "count": n}`) once it catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from live import demo as live_demo
from live import push as live

CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY_MESSAGES = 4429
ALL_DEVICES = "*"
NO_SUCH_DEVICE = "No such device."
MAX_DEVICE_ID = 2**63 - 1  # a bigger number is no id the database could hold


class ClientRateLimit:
    """A token bucket over what one browser sends."""

    def __init__(self, *, per_second: float):
        self.per_second = per_second
        self.capacity = 2 * per_second
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class BoundedJsonConsumer(AsyncJsonWebsocketConsumer):
    """Size and rate limits on what the browser sends, and a bounded outbox for what
    the server pushes, written by one task so a slow socket never holds the channel
    layer's receive loop (whose own queue is unbounded with the Redis pub/sub layer)."""

    async def start_outbox(self) -> None:
        self.rate_limit = ClientRateLimit(per_second=settings.LIVE_MESSAGES_PER_SECOND)
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=settings.LIVE_CLIENT_QUEUE)
        self.dropped = 0
        self.writer = asyncio.create_task(self.write_outbox())

    async def stop_outbox(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def push(self, text: str) -> None:
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1

    async def write_outbox(self) -> None:
        while True:
            text = await self.outbox.get()
            await self.send(text_data=text)
            if self.dropped and self.outbox.empty():
                dropped, self.dropped = self.dropped, 0
                await self.send_json({"type": "dropped", "count": dropped})

    async def dispatch(self, message):
        # Pushed events touch no database: skip the per-message close_old_connections
        # hop to a worker thread that the base class makes, which would cost every
        # connection a thread switch per reading batch.
        if message["type"].startswith("live."):
            return await getattr(self, message["type"].replace(".", "_"))(message)
        return await super().dispatch(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not hasattr(self, "rate_limit"):  # closing already (not logged in)
            return
        if not self.rate_limit.allow():
            await self.close(code=CLOSE_TOO_MANY_MESSAGES, reason="Too many messages.")
            return
        if text_data is None:
            await self.send_error(field=None, detail="Send JSON text, not binary frames.")
            return
        if len(text_data) > settings.LIVE_MAX_MESSAGE_BYTES:
            await self.close(code=CLOSE_BAD_MESSAGE, reason="Message too large.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error(field=None, detail="Malformed JSON.")
            return
        if not isinstance(content, dict):
            await self.send_error(field=None, detail="Send a JSON object.")
            return
        await self.receive_json(content)

    async def send_error(self, *, field: str | None, detail: str) -> None:
        await self.send_json({"type": "error", "field": field, "detail": detail})

    async def disconnect(self, code):
        await self.stop_outbox()


class LiveConsumer(BoundedJsonConsumer):
    async def connect(self):
        # Accept first: a WebSocket refused before the handshake reaches the browser
        # as a bare failure, without the 4401 that tells it to log in again.
        await self.accept(subprotocol=self.scope.get("accepted_subprotocol"))
        self.user = self.scope.get("user")
        self.device_ids: set[int] = set()
        self.all_devices = False
        if self.user is None or not self.user.is_authenticated:
            await self.close(
                code=CLOSE_UNAUTHENTICATED, reason="Log in, or pass an access JWT (subprotocols bearer, <token>)."
            )
            return
        await self.start_outbox()
        self.user_group = live.live_group_for_user(self.user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        self.session_group = None
        session = self.scope.get("session")
        if "token_expires_at" not in self.scope and session is not None and session.session_key:
            # Opened with the session cookie: logging out of that session closes it.
            self.session_group = live.live_group_for_session(session.session_key)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        self.expiry_timer = None
        expires_at: datetime | None = self.scope.get("token_expires_at")
        if expires_at is not None:
            delay = max(0.0, (expires_at - datetime.now(UTC)).total_seconds())
            self.expiry_timer = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED, reason="Token expired."))
            )

    async def disconnect(self, code):
        if getattr(self, "user_group", None) is None:
            return
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
        await self.channel_layer.group_discard(self.user_group, self.channel_name)
        if getattr(self, "session_group", None) is not None:
            await self.channel_layer.group_discard(self.session_group, self.channel_name)
        for device_id in self.device_ids:
            await self.channel_layer.group_discard(live.live_group_for_device(device_id), self.channel_name)
        await super().disconnect(code)

    async def receive_json(self, content, **kwargs):
        action = content.get("action")
        if action not in ("subscribe", "unsubscribe"):
            await self.send_error(field="action", detail='Use "subscribe" or "unsubscribe".')
            return
        device = content.get("device")
        if device == ALL_DEVICES:
            self.all_devices = action == "subscribe"
            await self.send_json({"type": f"{action}d", "device": ALL_DEVICES})
            return
        if isinstance(device, bool) or not isinstance(device, int):
            await self.send_error(field="device", detail='A device id (an integer) or "*".')
            return
        if action == "subscribe":
            await self.subscribe_device(device)
        else:
            await self.unsubscribe_device(device)

    async def subscribe_device(self, device_id: int) -> None:
        if device_id not in self.device_ids:
            if len(self.device_ids) >= settings.LIVE_MAX_SUBSCRIPTIONS:
                await self.send_error(
                    field="device", detail=f'At most {settings.LIVE_MAX_SUBSCRIPTIONS} devices; subscribe to "*".'
                )
                return
            visible = 0 < device_id <= MAX_DEVICE_ID and await database_sync_to_async(live.live_device_visible)(
                user=self.user, device_id=device_id
            )
            if not visible:
                await self.send_error(field="device", detail=NO_SUCH_DEVICE)
                return
            self.device_ids.add(device_id)
            await self.channel_layer.group_add(live.live_group_for_device(device_id), self.channel_name)
        await self.send_json({"type": "subscribed", "device": device_id})

    async def unsubscribe_device(self, device_id: int) -> None:
        if device_id in self.device_ids:
            self.device_ids.discard(device_id)
            await self.channel_layer.group_discard(live.live_group_for_device(device_id), self.channel_name)
        await self.send_json({"type": "unsubscribed", "device": device_id})

    # A message reaches a connection once: through the user's group when it watches
    # all devices (or the message concerns no device), else through the device's.
    async def live_user(self, event):
        if self.all_devices or event["device"] is None:
            self.push(event["text"])

    async def live_device(self, event):
        if not self.all_devices and event["device"] in self.device_ids:
            self.push(event["text"])

    async def live_session_ended(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED, reason="Logged out.")


class LiveDemoConsumer(BoundedJsonConsumer):
    """Public: the demo signals, sent every `interval` seconds as the browser asks
    (`{"action": "rate", "interval": 0.05..5}`)."""

    async def connect(self):
        await self.accept()
        await self.start_outbox()
        self.interval = live_demo.DEFAULT_INTERVAL
        self.interval_changed = asyncio.Event()
        self.sender = asyncio.create_task(self.send_points())

    async def disconnect(self, code):
        sender = getattr(self, "sender", None)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        await super().disconnect(code)

    async def receive_json(self, content, **kwargs):
        if content.get("action") != "rate":
            await self.send_error(field="action", detail='Use "rate".')
            return
        interval = content.get("interval")
        valid = isinstance(interval, int | float) and not isinstance(interval, bool)
        if not valid or not live_demo.MIN_INTERVAL <= interval <= live_demo.MAX_INTERVAL:
            await self.send_error(
                field="interval",
                detail=f"A number of seconds from {live_demo.MIN_INTERVAL} to {live_demo.MAX_INTERVAL}.",
            )
            return
        self.interval = float(interval)
        self.interval_changed.set()
        await self.send_json({"type": "rate", "interval": self.interval})

    async def send_points(self) -> None:
        async with live_demo.demo_signals.watching() as signals:
            since = time.time() - live_demo.BACKLOG_SECONDS
            while True:
                readings, since = signals.readings_since(since)
                if readings:
                    self.push(json.dumps({"type": "demo", "interval": self.interval, "readings": readings}))
                self.interval_changed.clear()
                # A new rate takes effect at once, not after the old (maybe 5 s) wait.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.interval_changed.wait(), timeout=self.interval)
