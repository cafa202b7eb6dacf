"""Readings are pushed after their transaction commits, never before, never if it rolls back."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction

from tests.support.live import RECEIVE_TIMEOUT, connected, in_own_loop, readings_at, store_readings, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


@database_sync_to_async
def store_then_roll_back(device) -> None:
    try:
        with transaction.atomic():
            store_readings(device, readings_at(3))
            raise Rollback
    except Rollback:
        pass


@database_sync_to_async
def store_and_look_before_commit(device, communicator) -> bool:
    """Whether the browser had received nothing while the transaction was still open."""
    with transaction.atomic():
        store_readings(device, readings_at(3))
        return async_to_sync(communicator.receive_nothing)(timeout=0.2)


@in_own_loop
async def test_nothing_is_pushed_for_a_batch_that_rolled_back(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    await store_then_roll_back(device)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@in_own_loop
async def test_a_batch_is_pushed_only_once_its_transaction_commits(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    await subscribe(communicator, device.pk)
    assert await store_and_look_before_commit(device, communicator)
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert [reading["value"] for reading in message["readings"]] == [0.0, 1.0, 2.0]
    await communicator.disconnect()
