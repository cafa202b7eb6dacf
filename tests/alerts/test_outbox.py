from unittest import mock

import pytest
from django.db import transaction

from alerts.models import AlertEvent, Notification
from alerts.services import alert_rule_create, notification_channel_create
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(user):
    return [
        notification_channel_create(owner=user, kind="email", address="alice@example.com"),
        notification_channel_create(owner=user, kind="webhook", url="http://127.0.0.1:9/hook"),
    ]


def test_each_transition_queues_exactly_one_notification_per_channel(device, channels):
    alert_rule_create(device=device, sensor="pressure", upper=10, channels=channels)
    ingest(device, ("pressure", 0, 11), ("pressure", 1, 12), ("pressure", 2, 3), ("pressure", 3, 4))
    events = list(AlertEvent.objects.order_by("ts"))
    assert [event.state for event in events] == ["firing", "resolved"]
    queued = sorted((n.event_id, n.channel_id, n.status) for n in Notification.objects.all())
    assert queued == sorted((event.pk, channel.pk, "pending") for event in events for channel in channels)


def test_a_rule_without_channels_queues_nothing(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 11))
    assert AlertEvent.objects.count() == 1
    assert Notification.objects.count() == 0


def test_the_in_app_message_is_sent_after_commit(device, django_capture_on_commit_callbacks):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    with mock.patch("live.push.live_send") as live_send, django_capture_on_commit_callbacks(execute=True):
        ingest(device, ("pressure", 0, 11))
    (call,) = [c for c in live_send.call_args_list if c.kwargs["message"]["type"] == "alert"]
    message = call.kwargs["message"]
    assert call.kwargs["user_id"] == device.owner_id
    assert call.kwargs["device_id"] is None  # to every connection of the owner
    assert message["device"] == device.pk
    assert (message["state"], message["sensor"], message["value"], message["upper"]) == ("firing", "pressure", 11, 10)
    assert message["device_name"] == "Boiler"


def test_nothing_is_pushed_for_a_batch_that_rolled_back(device, django_capture_on_commit_callbacks):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    with (
        mock.patch("live.push.live_send") as live_send,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ingest(device, ("pressure", 0, 11))
        raise RuntimeError("failed after ingest")
    assert not [c for c in live_send.call_args_list if c.kwargs["message"]["type"] == "alert"]
