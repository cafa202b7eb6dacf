"""Live push: readings (and alerts) sent to the browsers watching, after commit.

Every message goes to two channel-layer groups: the owner's (`live.user.<id>`), which
every connection of that user joins, and, when it concerns a device, the device's
(`live.device.<id>`), which a connection joins when it subscribes to that device.
The message is encoded to JSON once here, not once per browser.

With Redis the message is published by a plain (synchronous) Redis client straight
to the channels the Redis pub/sub layer listens on: ingestion runs in sync code
(WSGI workers, the MQTT worker, sync views under ASGI), where the channel layer's
async API would cost an event loop and a new Redis connection per batch (~9 ms).

Readings message, one per stored batch however large:
    {"type": "reading", "device": 7,
     "readings": [{"sensor": "temperature", "ts": "2026-11-24T15:00:00.123000Z", "value": 21.5}, ...]}
A batch of exactly one reading also carries that reading's "sensor", "ts" and "value"
at the top level, so a client watching one slow sensor need not unpack a list.

A connection opened with a session cookie also joins its session's group
(`live.session.<hash>`): logging out sends it `live.session.ended`, and it closes
with 4401, as it would on a later connect.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import orjson
import redis
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from devices.models import Device
from devices.selectors import devices_of_user
from telemetry.payloads import ParsedReading
from telemetry.selectors import iso_utc

logger = logging.getLogger(__name__)

# Event types as the consumer's handlers see them (live.user → live_user).
USER_EVENT = "live.user"
DEVICE_EVENT = "live.device"
SESSION_ENDED_EVENT = "live.session.ended"


def live_group_for_device(device_id: int) -> str:
    return f"live.device.{device_id}"


def live_group_for_user(user_id: int) -> str:
    return f"live.user.{user_id}"


def live_send(*, user_id: int, device_id: int | None, message: dict) -> None:
    """Push a message to the user's live connections (and the device's watchers).

    Called from ingestion and alerting after their commit: it waits at most
    LIVE_SEND_TIMEOUT and never raises, since a live view going dark must never
    fail or stall the write that caused it.
    """
    try:
        text = orjson.dumps(message).decode()
        events = [(live_group_for_user(user_id), {"type": USER_EVENT, "device": device_id, "text": text})]
        if device_id is not None:
            events.append((live_group_for_device(device_id), {"type": DEVICE_EVENT, "device": device_id, "text": text}))
        _send_events(events)
    except Exception:
        logger.exception("Live push to user %s (device %s) failed", user_id, device_id)


def live_group_for_session(session_key: str) -> str:
    # Hashed: group names are visible in Redis, and a session key is a credential.
    return "live.session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def live_session_end(*, session_key: str) -> None:
    """Close the live connections opened with this session (it was logged out)."""
    try:
        _send_events([(live_group_for_session(session_key), {"type": SESSION_ENDED_EVENT})])
    except Exception:
        logger.exception("Closing the live connections of a logged-out session failed")


def _send_events(events: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    config: Any = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    if isinstance(layer, RedisPubSubChannelLayer) and isinstance(config["hosts"][0], str):
        _publish_to_redis(layer, url=config["hosts"][0], prefix=config.get("prefix", "asgi"), events=events)
        return
    if isinstance(layer, InMemoryChannelLayer):
        events = [(group, event) for group, event in events if _heard(layer, group)]
        if not events:
            return
    async_to_sync(_group_send_all)(layer, events)


def _heard(layer, group: str) -> bool:
    """Only this process's own connections hear an in-memory layer. With none in the
    group (a WSGI worker, a command), a send is skipped: from sync code it would cost
    an event loop and a thread every batch (~2 ms)."""
    return not isinstance(layer, InMemoryChannelLayer) or bool(layer.groups.get(group))


def live_has_listeners(*, user_id: int, device_id: int | None) -> bool:
    """False only when it is certain nobody would hear: then a message need not even be built."""
    layer = get_channel_layer()
    if layer is None:
        return False
    groups = [live_group_for_user(user_id)] + ([live_group_for_device(device_id)] if device_id is not None else [])
    return any(_heard(layer, group) for group in groups)


async def _group_send_all(layer, events: list[tuple[str, dict]]) -> None:
    sends = [layer.group_send(group, event) for group, event in events]
    await asyncio.wait_for(asyncio.gather(*sends), timeout=settings.LIVE_SEND_TIMEOUT)


# One client (a thread-safe connection pool) per Redis URL, for the process's life.
_redis_clients: dict[str, redis.Redis] = {}


def _publish_to_redis(layer: RedisPubSubChannelLayer, *, url: str, prefix: str, events: list[tuple[str, dict]]) -> None:
    client = _redis_clients.get(url)
    if client is None:
        timeout = settings.LIVE_SEND_TIMEOUT
        client = _redis_clients.setdefault(
            url, redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        )
    # The channel name and the serialization are those of channels_redis's group_send
    # (pinned in requirements/base.txt; the two-worker test proves they still match).
    with client.pipeline(transaction=False) as pipeline:
        for group, event in events:
            pipeline.publish(f"{prefix}__group__{group}", layer.serialize(event))
        pipeline.execute()


def readings_message(*, device_id: int, readings: Sequence[ParsedReading]) -> dict:
    items = [{"sensor": reading.sensor, "ts": iso_utc(reading.ts), "value": reading.value} for reading in readings]
    message: dict = {"type": "reading", "device": device_id, "readings": items}
    if len(items) == 1:
        message.update(items[0])
    return message


def readings_push(device: Device, readings: Sequence[ParsedReading]) -> None:
    """The after-commit readings hook: one message for the whole stored batch."""
    if not readings:  # every reading was a duplicate of one already pushed
        return
    if not live_has_listeners(user_id=device.owner_id, device_id=device.pk):
        return  # formatting 1,000 readings costs ~2 ms; nobody would read them
    live_send(
        user_id=device.owner_id, device_id=device.pk, message=readings_message(device_id=device.pk, readings=readings)
    )


def live_device_visible(*, user, device_id: int) -> bool:
    """Whether the user may watch the device; another user's device is not visible,
    exactly like a missing one."""
    return devices_of_user(user=user).filter(pk=device_id).exists()
