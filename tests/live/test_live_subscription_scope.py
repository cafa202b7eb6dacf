"""What a connection is sent: only the devices it subscribed to, all of them its own."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from devices.services import device_create
from live.push import live_send
from tests.support.live import RECEIVE_TIMEOUT, connected, in_own_loop, readings_at, store_readings_async, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_device(user):
    return device_create(owner=user, name="Heat pump", type="generic")[0]


@pytest.fixture
def bobs_device(other_user):
    return device_create(owner=other_user, name="Bob's boiler", type="generic")[0]


@in_own_loop
async def test_another_users_device_is_refused_exactly_like_a_missing_one(session_cookie, bobs_device):
    communicator = await connected(cookie=session_cookie)
    refused = await subscribe(communicator, bobs_device.pk)
    missing = await subscribe(communicator, bobs_device.pk + 1000)
    assert refused == missing == {"type": "error", "field": "device", "detail": "No such device."}
    await store_readings_async(bobs_device, readings_at(1))
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_subscribing_to_one_device_sends_that_device_only(session_cookie, device, second_device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await store_readings_async(second_device, readings_at(1))
    await store_readings_async(device, readings_at(1))
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert message["device"] == device.pk
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_star_sends_every_device_of_mine_and_none_of_anyone_else(
    session_cookie, device, second_device, bobs_device
):
    communicator = await connected(cookie=session_cookie)
    assert await subscribe(communicator, "*") == {"type": "subscribed", "device": "*"}
    for each in (device, bobs_device, second_device):
        await store_readings_async(each, readings_at(1))
    first = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    second = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert [first["device"], second["device"]] == [device.pk, second_device.pk]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_star_and_a_device_together_send_each_reading_once(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await subscribe(communicator, "*")
    await store_readings_async(device, readings_at(1))
    assert (await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT))["device"] == device.pk
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_unsubscribing_stops_the_device_s_readings(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await communicator.send_json_to({"action": "unsubscribe", "device": device.pk})
    assert await communicator.receive_json_from() == {"type": "unsubscribed", "device": device.pk}
    await store_readings_async(device, readings_at(1))
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@in_own_loop
async def test_a_message_about_no_device_reaches_every_connection_of_its_user(session_cookie, user, other_user):
    communicator = await connected(cookie=session_cookie)
    live_send_async = sync_to_async(live_send)
    await live_send_async(user_id=other_user.pk, device_id=None, message={"type": "alert", "for": "bob"})
    await live_send_async(user_id=user.pk, device_id=None, message={"type": "alert", "for": "alice"})
    assert await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT) == {"type": "alert", "for": "alice"}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
