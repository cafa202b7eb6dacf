"""A failing channel layer never reaches the code that stored the readings."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from live import push as live
from telemetry.models import Reading
from tests.support.live import readings_at, store_readings


class BrokenLayer:
    async def group_send(self, group, message):
        raise ConnectionError("Redis is down")


class StuckLayer:
    async def group_send(self, group, message):
        await asyncio.sleep(10)


def test_a_channel_layer_failure_is_logged_and_not_raised(monkeypatch, caplog):
    monkeypatch.setattr(live, "get_channel_layer", lambda: BrokenLayer())
    with caplog.at_level(logging.ERROR, logger="live.push"):
        live.live_send(user_id=1, device_id=2, message={"type": "alert"})
    assert "Live push to user 1 (device 2) failed" in caplog.text


def test_a_stuck_channel_layer_holds_the_caller_no_longer_than_the_send_timeout(monkeypatch, settings, caplog):
    settings.LIVE_SEND_TIMEOUT = 0.05
    monkeypatch.setattr(live, "get_channel_layer", lambda: StuckLayer())
    started = time.monotonic()
    live.live_send(user_id=1, device_id=None, message={"type": "alert"})
    assert time.monotonic() - started < 1
    assert "failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_ingestion_succeeds_while_the_channel_layer_is_down(monkeypatch, device):
    monkeypatch.setattr(live, "get_channel_layer", lambda: BrokenLayer())
    store_readings(device, readings_at(5))
    assert Reading.objects.filter(sensor__device=device).count() == 5


def test_an_unreachable_redis_is_logged_and_not_raised(settings, caplog):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    with caplog.at_level(logging.ERROR, logger="live.push"):
        live.live_send(user_id=1, device_id=2, message={"type": "alert"})
    assert "Live push to user 1 (device 2) failed" in caplog.text
