"""A stored batch is one message, whatever its size; duplicates are not pushed again."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tests.support.live import RECEIVE_TIMEOUT, connected, in_own_loop, readings_at, store_readings_async, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@in_own_loop
async def test_a_batch_of_a_thousand_readings_arrives_as_one_message(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await store_readings_async(device, readings_at(1000))
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert message["type"] == "reading"
    assert message["device"] == device.pk
    assert len(message["readings"]) == 1000
    assert message["readings"][999] == {"sensor": "temperature", "ts": "2026-01-01T00:16:39Z", "value": 999.0}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_a_single_reading_also_carries_its_fields_at_the_top_level(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await store_readings_async(device, readings_at(1))
    reading = {"sensor": "temperature", "ts": "2026-01-01T00:00:00Z", "value": 0.0}
    assert await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT) == {
        "type": "reading",
        "device": device.pk,
        "readings": [reading],
        **reading,
    }
    await communicator.disconnect()


@in_own_loop
async def test_a_retried_batch_pushes_only_the_readings_not_stored_before(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await store_readings_async(device, readings_at(2))
    await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    await store_readings_async(device, readings_at(2))  # the same readings again: nothing new
    await store_readings_async(device, readings_at(3))  # one new reading
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert [reading["value"] for reading in message["readings"]] == [2.0]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_readings_posted_to_the_api_are_pushed(session_cookie, device, device_client):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    body = [{"ts": "2026-01-01T00:00:00Z", "values": {"pressure": 1.5, "temperature": 60}}]
    response = await sync_to_async(device_client.post)("/api/telemetry/", body, format="json")
    assert response.status_code == 201, response.content
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert sorted((reading["sensor"], reading["value"]) for reading in message["readings"]) == [
        ("pressure", 1.5),
        ("temperature", 60.0),
    ]
    await communicator.disconnect()
