"""What a browser sends is checked: a clear error for a mistake, a close for abuse.

The consumer is driven directly with its user in the scope: none of these checks
reads the database, so no test here needs a committed user.
"""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from live.consumers import LiveConsumer
from tests.support.live import RECEIVE_TIMEOUT, close_code, in_own_loop

pytestmark = pytest.mark.django_db


async def connected_as(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator


async def answer_to(user, *, text: str | None = None, payload=None) -> dict:
    communicator = await connected_as(user)
    if text is not None:
        await communicator.send_to(text_data=text)
    else:
        await communicator.send_json_to(payload)
    answer = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    await communicator.disconnect()
    return answer


@in_own_loop
async def test_malformed_json_gets_an_error(user):
    assert await answer_to(user, text="{subscribe") == {"type": "error", "field": None, "detail": "Malformed JSON."}


@in_own_loop
async def test_json_that_is_not_an_object_gets_an_error(user):
    answer = await answer_to(user, payload=["subscribe", 1])
    assert answer == {"type": "error", "field": None, "detail": "Send a JSON object."}


@in_own_loop
async def test_an_unknown_action_gets_an_error_naming_the_field(user):
    answer = await answer_to(user, payload={"action": "delete", "device": 1})
    assert answer["field"] == "action"


@in_own_loop
@pytest.mark.parametrize("device", [None, "7", 1.5, True, [1], "all"])
async def test_a_device_that_is_not_an_id_or_star_gets_an_error_naming_the_field(user, device):
    answer = await answer_to(user, payload={"action": "subscribe", "device": device})
    assert answer == {"type": "error", "field": "device", "detail": 'A device id (an integer) or "*".'}


@in_own_loop
@pytest.mark.parametrize("device", [0, -3, 2**63, 10**40])
async def test_a_device_id_no_database_could_hold_is_refused_like_a_missing_device(user, device):
    answer = await answer_to(user, payload={"action": "subscribe", "device": device})
    assert answer == {"type": "error", "field": "device", "detail": "No such device."}


@in_own_loop
async def test_a_binary_frame_gets_an_error(user):
    communicator = await connected_as(user)
    await communicator.send_to(bytes_data=b"\x00\x01")
    answer = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert answer["type"] == "error" and "binary" in answer["detail"]
    await communicator.disconnect()


@in_own_loop
async def test_a_message_over_the_size_limit_closes_with_4400(user, settings):
    settings.LIVE_MAX_MESSAGE_BYTES = 100
    communicator = await connected_as(user)
    await communicator.send_json_to({"action": "subscribe", "device": "*", "padding": "x" * 100})
    assert await close_code(communicator) == 4400


@in_own_loop
async def test_too_many_messages_close_with_4429(user, settings):
    settings.LIVE_MESSAGES_PER_SECOND = 2
    communicator = await connected_as(user)
    for _ in range(12):
        await communicator.send_json_to({"action": "subscribe", "device": "*"})
    output = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
    answers = 0
    while output["type"] == "websocket.send":
        answers += 1
        output = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
    assert output["code"] == 4429
    assert answers < 12


@in_own_loop
async def test_subscriptions_past_the_limit_get_an_error(user, device, settings):
    settings.LIVE_MAX_SUBSCRIPTIONS = 0
    answer = await answer_to(user, payload={"action": "subscribe", "device": device.pk})
    assert answer["field"] == "device" and "At most 0 devices" in answer["detail"]
